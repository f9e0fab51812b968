// A USB device controller's endpoint 0, as both the firmware (through sim/hal.ts) and the
// simulated host see it. It behaves like the real ones where the firmware can tell:
// - a SETUP is always accepted, replaces an unhandled earlier one, cancels queued IN/OUT
//   packets and clears a stall;
// - an IN token gets the queued packet, else NAK (or STALL); an OUT packet is taken only when
//   the firmware has armed a buffer, else NAKed;
// - events reach the firmware in the order they happened, one per usb_poll.
// Packet data moves straight between the host and the core's linear memory, as the C drivers do.
// Bulk endpoints (the UF2 drive) behave as the hal.usb_ep_* contract says: a transfer armed by
// the firmware is cut into maxPacket packets; an IN token with nothing armed, or an OUT packet
// with no room armed, is NAKed; a stalled endpoint answers STALL until the firmware clears it;
// each endpoint keeps a DATA0/DATA1 toggle, reset by open and by clearing a stall, which the host
// side reports with each packet so a host can check it.
import type { Ep0Controller } from "./models";
import { EV_EP_IN, EV_EP_OUT, EV_IN, EV_OUT, EV_RESET, EV_SETUP } from "./usb-events";

interface BulkEp {
  maxPacket: number;
  stalled: boolean;
  toggle: 0 | 1;
  /** The armed transfer: where it is in linear memory, its length, how far it has got. */
  xfer: { ptr: number; len: number; done: number } | null;
}

export type BulkInResult = { kind: "data"; data: Uint8Array; pid: 0 | 1 } | { kind: "nak" } | { kind: "stall" };

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
  stats = { inPackets: 0, outPackets: 0, stalls: 0, setups: 0, bulkIn: 0, bulkOut: 0, bulkStalls: 0 };
  private eps = new Map<number, BulkEp>();

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

  epOpen(ep: number, maxPacket: number): void {
    if ((ep & 0x7f) < 1 || (ep & 0x7f) > 3 || ![8, 16, 32, 64].includes(maxPacket)) throw new Error(`usb_ep_open(0x${ep.toString(16)}, ${maxPacket})`);
    this.eps.set(ep, { maxPacket, stalled: false, toggle: 0, xfer: null });
  }

  epXfer(_mem: Uint8Array, ep: number, ptr: number, len: number): void {
    const e = this.eps.get(ep);
    if (!e) throw new Error(`usb_ep_xfer on endpoint 0x${ep.toString(16)}, which is not open`);
    if (len < 0 || len > 4096) throw new Error(`usb_ep_xfer: ${len} bytes`);
    if (!(ep & 0x80) && len % e.maxPacket) throw new Error(`usb_ep_xfer: OUT length ${len} is not a multiple of ${e.maxPacket}`);
    if (e.xfer) throw new Error(`usb_ep_xfer on endpoint 0x${ep.toString(16)} while a transfer is armed`);
    e.xfer = { ptr, len, done: 0 };
  }

  epStall(ep: number, on: boolean): void {
    const e = this.eps.get(ep);
    if (!e) throw new Error(`usb_ep_stall on endpoint 0x${ep.toString(16)}, which is not open`);
    e.stalled = on;
    e.xfer = null;
    if (on) this.stats.bulkStalls++;
    else e.toggle = 0;
  }

  // ---- host side ----
  /** Whether the firmware has bulk endpoint `ep` stalled (undefined: not open). */
  bulkHalted(ep: number): boolean | undefined { return this.eps.get(ep)?.stalled; }

  /** An IN token on bulk endpoint `ep` (address with bit 7). */
  hostBulkIn(ep: number): BulkInResult {
    const e = this.eps.get(ep);
    if (!e || !this.connected) return { kind: "nak" };
    if (e.stalled) return { kind: "stall" };
    const x = e.xfer;
    if (!x) return { kind: "nak" };
    const n = Math.min(e.maxPacket, x.len - x.done);
    const data = this.memory().slice(x.ptr + x.done, x.ptr + x.done + n);
    x.done += n;
    const pid = e.toggle;
    e.toggle ^= 1;
    this.stats.bulkIn++;
    if (x.done >= x.len) { e.xfer = null; this.events.push(EV_EP_IN | (ep << 8)); }
    return { kind: "data", data, pid };
  }

  /** An OUT packet on bulk endpoint `ep`, sent with data toggle `pid` (a repeated packet, whose
   *  ACK the host missed, carries the old toggle: it is acknowledged and dropped, USB 2.0 8.6.4). */
  hostBulkOut(ep: number, data: Uint8Array, pid?: 0 | 1): OutResult {
    const e = this.eps.get(ep);
    if (!e || !this.connected) return "nak";
    if (e.stalled) return "stall";
    const x = e.xfer;
    if (!x) return "nak";
    if (data.length > e.maxPacket || data.length > x.len - x.done) return "stall"; // babble
    if (pid !== undefined && pid !== e.toggle) return "ack";
    e.toggle ^= 1;
    this.memory().set(data, x.ptr + x.done);
    x.done += data.length;
    this.stats.bulkOut++;
    if (x.done >= x.len || data.length < e.maxPacket) {
      e.xfer = null;
      this.events.push(EV_EP_OUT | (ep << 8) | (x.done << 16));
    }
    return "ack";
  }

  /** The toggle the next packet on `ep` carries (what a host that keeps its own expects). */
  bulkToggle(ep: number): 0 | 1 { return this.eps.get(ep)?.toggle ?? 0; }

  /** USB bus reset: back to address 0, nothing queued. */
  reset(): void {
    this.eps.clear();
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
