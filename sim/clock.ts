// Simulated time in microseconds (a float: bus transfers cost fractions of a microsecond).
// Nothing in the simulator reads the wall clock; every model advances or reads this one.
export class SimClock {
  now = 0;
  advance(us: number): void { if (us > 0) this.now += us; }
  advanceTo(t: number): void { if (t > this.now) this.now = t; }
  /** What the core's hal.time_us() returns: whole microseconds, wrapping at 2^32. */
  micros(): number { return Math.floor(this.now) >>> 0; }
}
