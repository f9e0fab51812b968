// A USB host on the simulated bus: control transfers on endpoint 0, bus reset and enumeration,
// all in simulated time. Synchronous: each call runs the board until the transfer ends.
import type { SimBoard } from "./board";
import { DEFAULT_USB_TIMING, transactionUs, type UsbTiming } from "./usb-timing";
import type { InResult, OutResult } from "./usb-ep0";

export interface Setup { bmRequestType: number; bRequest: number; wValue: number; wIndex: number; wLength: number }
export type ControlStatus = "ok" | "stall" | "timeout" | "nodevice";
export interface ControlResult { status: ControlStatus; data: Uint8Array }
export interface BulkResult { status: ControlStatus; data: Uint8Array }

export function setupBytes(s: Setup): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, s.bmRequestType); dv.setUint8(1, s.bRequest);
  dv.setUint16(2, s.wValue, true); dv.setUint16(4, s.wIndex, true); dv.setUint16(6, s.wLength, true);
  return b;
}

/** What a USBDevice adapter (tools/usb/sim-device.ts) needs from a host on a simulated bus:
 *  this simulator's, or the one on the emulated RP2040 (sim/rp2040/usb-host.ts). */
export interface ControlHost {
  present(): boolean;
  control(setup: Setup, data?: Uint8Array, timeoutMs?: number): ControlResult;
  reset(): ControlStatus;
  sleep(ms: number): void;
  /** Bulk transfers, on a device that has bulk endpoints (the RP2040 ROM's PICOBOOT model). */
  bulkOut?(ep: number, data: Uint8Array, timeoutMs?: number): BulkResult;
  bulkIn?(ep: number, length: number, timeoutMs?: number): BulkResult;
}

/** Thrown by a host's packet operations to end a control transfer with a status. */
export class ControlAbort { constructor(readonly status: ControlStatus) {} }

/** What a host does on the bus for one control transfer, packet by packet. */
export interface PacketOps {
  setup(bytes: Uint8Array): void;
  /** The next IN data packet (the host retries NAKs itself); throws ControlAbort. */
  inPacket(): Uint8Array;
  /** One OUT data packet; throws ControlAbort. */
  outPacket(data: Uint8Array): void;
}

/** A host that breaks the rules of a control transfer, for fuzzing: it skips the status stage
 *  (the next SETUP comes instead), or sends an OUT data stage longer or shorter than wLength. */
export interface Misbehave { skipStatus?: boolean; outData?: Uint8Array }

/**
 * The stages of a control transfer (USB 2.0 8.5.3) over a host's packet operations: SETUP;
 * IN packets until a short one or wLength, then a zero-length OUT; or the OUT data in 64-byte
 * packets (length wLength), then a zero-length IN. Shared by every simulated host.
 */
export function controlStages(ops: PacketOps, setup: Setup, data?: Uint8Array, odd: Misbehave = {}): ControlResult {
  const received: Uint8Array[] = [];
  let total = 0;
  try {
    ops.setup(setupBytes(setup));
    if ((setup.bmRequestType & 0x80) && setup.wLength > 0) {
      while (total < setup.wLength) {
        const pkt = ops.inPacket();
        received.push(pkt);
        total += pkt.length;
        if (pkt.length < 64) break;
      }
      if (total > setup.wLength) throw new Error(`device sent ${total} bytes for wLength ${setup.wLength}`);
      if (!odd.skipStatus) ops.outPacket(new Uint8Array(0));
    } else {
      const out = odd.outData ?? data ?? new Uint8Array(0);
      if (!odd.outData && out.length !== setup.wLength) throw new Error("OUT data length differs from wLength");
      for (let off = 0; off < out.length; off += 64) ops.outPacket(out.subarray(off, off + 64));
      if (!odd.skipStatus) {
        const status = ops.inPacket();
        if (status.length !== 0) throw new Error(`status stage: device sent ${status.length} bytes`);
      }
    }
  } catch (e) {
    if (e instanceof ControlAbort) return { status: e.status, data: new Uint8Array(0) };
    throw e;
  }
  const dataOut = new Uint8Array(total);
  let o = 0;
  for (const p of received) { dataOut.set(p, o); o += p.length; }
  return { status: "ok", data: dataOut };
}

/** What an operating system does before any program sees a device: descriptors, address 7,
 *  configuration 1. */
export const ENUMERATION: readonly Setup[] = [
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 64 },
  { bmRequestType: 0x00, bRequest: 5, wValue: 7, wIndex: 0, wLength: 0 },
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 },
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 9 },
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 },
  { bmRequestType: 0x00, bRequest: 9, wValue: 1, wIndex: 0, wLength: 0 },
];

export function enumerate(host: Pick<ControlHost, "control">): ControlStatus {
  for (const s of ENUMERATION) {
    const r = host.control(s, undefined, 1000);
    if (r.status !== "ok") return r.status;
  }
  return "ok";
}

const Abort = ControlAbort;

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class SimUsbHost implements ControlHost {
  timing: UsbTiming;
  /** Control transfers done, for tests and benchmarks. */
  transfers = 0;
  /** Bulk packets whose DATA0/DATA1 was not the one the host expected (USB 2.0 8.6). */
  pidErrors: string[] = [];
  private toggles = new Map<number, 0 | 1>();

  constructor(readonly board: SimBoard, timing: Partial<UsbTiming> = {}) {
    this.timing = { ...DEFAULT_USB_TIMING, ...timing };
  }

  private get ep0() { return this.board.ep0; }
  private get clock() { return this.board.clock; }

  /** Whether a device is on the bus (the board runs its bootloader with USB up). */
  present(): boolean { return this.board.mode === "bootloader" && this.ep0.connected; }

  /** Repeat a transaction the device NAKs, letting the board run, until it answers or time runs out. */
  private until<T>(attempt: () => T | "nak", deadline: number): T {
    let wait = this.timing.nakRetryUs;
    for (;;) {
      if (!this.present()) throw new Abort("nodevice");
      const r = attempt();
      if (r !== "nak") return r;
      if (deadline && this.clock.now >= deadline) throw new Abort("timeout");
      const before = this.clock.now;
      const worked = this.board.step();
      if (!worked) {
        this.board.idleUntil(Math.min(deadline || Infinity, before + wait));
        wait = Math.min(wait * 2, 1000); // a device that keeps NAKing costs little host time
      } else {
        wait = this.timing.nakRetryUs;
      }
    }
  }

  private inToken(deadline: number): Uint8Array {
    const r = this.until<InResult>(() => {
      const x = this.ep0.hostIn();
      return x.kind === "nak" ? "nak" : x;
    }, deadline);
    if (r.kind === "stall") throw new Abort("stall");
    if (r.kind !== "data") throw new Error("unreachable");
    this.pass(transactionUs(r.data.length));
    return r.data;
  }

  private outToken(data: Uint8Array, deadline: number): void {
    const r = this.until<OutResult>(() => this.ep0.hostOut(data), deadline);
    if (r === "stall") throw new Abort("stall");
    this.pass(transactionUs(data.length));
  }

  /** Bus or host time passing: the board goes on working meanwhile. */
  private pass(us: number): void {
    this.board.runUntil(this.clock.now + us);
  }

  /**
   * One control transfer. `data` is the OUT data stage (length wLength). Returns the IN data
   * stage for device-to-host requests. timeoutMs 0 = no limit.
   */
  control(setup: Setup, data?: Uint8Array, timeoutMs = 5000, odd?: Misbehave): ControlResult {
    const deadline = timeoutMs ? this.clock.now + timeoutMs * 1000 : 0;
    this.transfers++;
    this.pass(this.timing.transferOverheadUs);
    const r = controlStages({
      setup: (bytes) => {
        if (!this.present()) throw new Abort("nodevice");
        this.ep0.hostSetup(bytes);
        this.pass(transactionUs(8));
      },
      inPacket: () => this.inToken(deadline),
      outPacket: (d) => this.outToken(d, deadline),
    }, setup, data, odd);
    // Let the device see the end of the status stage before the host's next move.
    if (r.status === "ok") this.board.step();
    // The host's bulk toggles start again at DATA0 after CLEAR_FEATURE(ENDPOINT_HALT) and
    // SET_CONFIGURATION (USB 2.0 9.4.5, 9.1.1.5), as the device's do.
    if (r.status === "ok" && setup.bmRequestType === 0x02 && setup.bRequest === 1 && setup.wValue === 0) this.toggles.delete(setup.wIndex & 0xff);
    if (r.status === "ok" && setup.bmRequestType === 0x00 && setup.bRequest === 9) this.toggles.clear();
    return r;
  }

  /** Host-side sleep: the board keeps running. */
  sleep(ms: number): void { this.board.runUntil(this.clock.now + ms * 1000); }

  /** One bulk OUT transfer: `data` in maxPacket (64) packets, a NAKed packet retried. The host
   *  keeps each endpoint's data toggle and checks the device answers it; a STALL ends the
   *  transfer (the host's toggle goes back to DATA0 when it clears the halt). */
  bulkOut(ep: number, data: Uint8Array, timeoutMs = 5000): BulkResult {
    const deadline = timeoutMs ? this.clock.now + timeoutMs * 1000 : 0;
    this.pass(this.timing.bulkOverheadUs);
    try {
      let off = 0;
      do {
        const pkt = data.subarray(off, off + 64);
        const pid = this.toggles.get(ep) ?? 0;
        const r = this.until<OutResult>(() => this.ep0.hostBulkOut(ep, pkt, pid), deadline);
        if (r === "stall") return { status: "stall", data: new Uint8Array(0) };
        this.toggles.set(ep, (pid ^ 1) as 0 | 1);
        this.pass(transactionUs(pkt.length));
        off += 64;
      } while (off < data.length);
    } catch (e) {
      if (e instanceof ControlAbort) return { status: e.status, data: new Uint8Array(0) };
      throw e;
    }
    this.board.step();
    return { status: "ok", data: new Uint8Array(0) };
  }

  /** One bulk IN transfer of up to `length` bytes: packets until a short one or `length`. */
  bulkIn(ep: number, length: number, timeoutMs = 5000): BulkResult {
    const deadline = timeoutMs ? this.clock.now + timeoutMs * 1000 : 0;
    this.pass(this.timing.bulkOverheadUs);
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const r = this.until(() => { const x = this.ep0.hostBulkIn(ep); return x.kind === "nak" ? "nak" : x; }, deadline);
        if (r.kind === "stall") return { status: "stall", data: concat(parts, total) };
        if (r.kind !== "data") throw new Error("unreachable");
        const want = this.toggles.get(ep) ?? 0;
        if (r.pid !== want) this.pidErrors.push(`bulk IN 0x${ep.toString(16)}: DATA${r.pid}, expected DATA${want}`);
        this.toggles.set(ep, (r.pid ^ 1) as 0 | 1);
        this.pass(transactionUs(r.data.length));
        if (total + r.data.length > length) throw new Error(`babble: device sent ${total + r.data.length} bytes for a ${length}-byte bulk IN`);
        parts.push(r.data);
        total += r.data.length;
        if (r.data.length < 64 || total >= length) break;
      }
    } catch (e) {
      if (e instanceof ControlAbort) return { status: e.status, data: concat(parts, total) };
      throw e;
    }
    this.board.step();
    return { status: "ok", data: concat(parts, total) };
  }

  /** USB bus reset, then the enumeration an operating system does. */
  reset(): ControlStatus {
    if (this.board.mode !== "bootloader" || !this.ep0.connected) return "nodevice";
    this.ep0.reset();
    this.toggles.clear();
    this.clock.advance(10000); // reset signalling: 10 ms (USB 2.0 7.1.7.5)
    this.board.step();
    return this.enumerate();
  }

  /** What the OS does before any program sees the device: descriptors, address, configuration. */
  enumerate(): ControlStatus { return enumerate(this); }

}
