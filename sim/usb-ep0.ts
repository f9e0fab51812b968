// A USB device controller's endpoint 0, as both the firmware (through sim/hal.ts) and the
// simulated host see it. It behaves like the real ones where the firmware can tell:
// - a SETUP is always accepted, replaces an unhandled earlier one, cancels queued IN/OUT
//   packets and clears a stall;
// - an IN token gets the queued packet, else NAK (or STALL); an OUT packet is taken only when
//   the firmware has armed a buffer, else NAKed;
// - events reach the firmware in the order they happened, one per usb_poll.
// Packet data moves straight between the host and the core's linear memory, as the C drivers do.
import type { Ep0Controller } from "./models";
import { EV_IN, EV_OUT, EV_RESET, EV_SETUP } from "./usb-events";

export type InResult = { kind: "data"; data: Uint8Array } | { kind: "nak" } | { kind: "stall" };
export type OutResult = "ack" | "nak" | "stall";

export class Ep0Model implements Ep0Controller {
  connected = false;
  address = 0;
  private pendingAddress = -1;
  private events: number[] = [];
  private setupBytes: Uint8Array | null = null;
  private inPacket: Uint8Array | null = null;
  private outArm: { ptr: number; max: number } | null = null;
  private stalled = false;
  /** Counters a test can read: packets the firmware queued, stalls it raised. */
  stats = { inPackets: 0, outPackets: 0, stalls: 0, setups: 0 };

  constructor(private readonly memory: () => Uint8Array) {}

  // ---- firmware side (hal.usb_*) ----
  init(): void {
    this.connected = true;
    this.reset();
  }

  poll(mem: Uint8Array, setupPtr: number): number {
    const ev = this.events.shift();
    if (ev === undefined) return 0;
    if ((ev & 0xff) === EV_SETUP) {
      mem.set(this.setupBytes!, setupPtr);
      this.setupBytes = null;
    }
    return ev;
  }

  in(mem: Uint8Array, ptr: number, len: number): void {
    if (len < 0 || len > 64) throw new Error(`usb_ep0_in: packet of ${len} bytes`);
    this.inPacket = mem.slice(ptr, ptr + len);
    this.stats.inPackets++;
  }

  out(ptr: number, max: number): void {
    this.outArm = { ptr, max };
  }

  stall(): void {
    this.stalled = true;
    this.inPacket = null;
    this.outArm = null;
    this.stats.stalls++;
  }

  setAddress(addr: number): void {
    // Applied when the status stage completes, as the RP2040 driver does.
    this.pendingAddress = addr;
  }

  // ---- host side ----
  /** USB bus reset: back to address 0, nothing queued. */
  reset(): void {
    this.address = 0;
    this.pendingAddress = -1;
    this.events = [EV_RESET];
    this.setupBytes = null;
    this.inPacket = null;
    this.outArm = null;
    this.stalled = false;
  }

  disconnect(): void {
    this.connected = false;
    this.events = [];
  }

  hostSetup(bytes: Uint8Array): void {
    this.events = this.events.filter((e) => (e & 0xff) === EV_RESET);
    this.setupBytes = bytes.slice(0, 8);
    this.inPacket = null;
    this.outArm = null;
    this.stalled = false;
    this.events.push(EV_SETUP);
    this.stats.setups++;
  }

  hostIn(): InResult {
    if (this.stalled) return { kind: "stall" };
    if (!this.inPacket) return { kind: "nak" };
    const data = this.inPacket;
    this.inPacket = null;
    this.events.push(EV_IN);
    if (data.length === 0 && this.pendingAddress >= 0) {
      this.address = this.pendingAddress;
      this.pendingAddress = -1;
    }
    return { kind: "data", data };
  }

  hostOut(data: Uint8Array): OutResult {
    if (this.stalled) return "stall";
    if (!this.outArm) return "nak";
    const { ptr, max } = this.outArm;
    if (data.length > max) return "stall"; // babble: more than the armed buffer takes
    this.memory().set(data, ptr);
    this.outArm = null;
    this.stats.outPackets++;
    this.events.push(EV_OUT | (data.length << 8));
    return "ack";
  }
}
