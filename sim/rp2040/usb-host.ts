// A USB host for the emulated RP2040, on rp2040js's device-controller hooks: SETUP packets go
// in with sendSetupPacket, IN packets come out through onEndpointWrite when the firmware hands
// a buffer to the controller, OUT packets go in with endpointReadDone when the firmware has
// armed a buffer (onEndpointRead). rp2040js models neither STALL nor data toggles, so the host
// watches the firmware's buffer-control writes itself: a STALL bit ends the stage with a
// stall, and every packet's DATA0/DATA1 is checked against the toggle sequence of USB 2.0
// 8.5.3 (DATA1 first after SETUP, alternating per direction); mismatches are collected in
// `pidErrors`. Same interface as the Wasm simulator's host (sim/usb-host.ts), so the flasher's
// DFU client (tools/dfu/) runs unchanged on top.
//
// Bulk endpoints 1..15 (bulkOut / bulkIn, the UF2 drive's mass storage), with what rp2040js
// does for them: an IN buffer handed over (AVAILABLE) reaches onEndpointWrite 10 us later, an
// OUT buffer armed calls onEndpointRead, and endpointReadDone fills it (FULL, LENGTH) and sets
// its BUFF_STATUS bit. What rp2040js does not model, the host does from the DPRAM words the
// controller would read at each token (RP2040 datasheet 4.1.2.5, usb_device_dpram.h):
// - EPx_CONTROL.ENABLE clear: "the device will not reply to any packets for this endpoint", so
//   the host gets no answer and retries until its timeout;
// - the buffer control's STALL bit: the endpoint answers STALL (for endpoints other than 0 the
//   bit alone does it; EP_STALL_ARM is EP0's, usb.h), which ends the transfer with "stall";
// - the PID bit (DATA0/DATA1): an IN packet carries the PID of the buffer-control word it was
//   armed with; an OUT packet is compared with the armed word's PID (a mismatch is what
//   SIE_STATUS.DATA_SEQ_ERROR reports, usb.h). The host keeps its own toggle per endpoint
//   (USB 2.0 8.6), records every mismatch in `pidErrors`, and resets its toggles as the device
//   must: CLEAR_FEATURE(ENDPOINT_HALT) for that endpoint, SET_CONFIGURATION, bus reset;
// - an IN buffer is done (BUFF_STATUS) when the host's token takes it (emulator.ts usbInTaken),
//   not when it is armed; a firmware write to the buffer control without AVAILABLE takes an
//   armed packet back.
import type { BulkResult, ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { ControlAbort as Abort, controlStages, enumerate } from "../usb-host";
import { transactionUs } from "../usb-timing";
import type { Rp2040Emu, UsbHooks } from "./emulator";

const BUF_STALL = 1 << 11, BUF_AVAILABLE = 1 << 10, BUF_DATA1 = 1 << 13;
const EP_CTRL_ENABLE = 1 << 31;
const EP0_IN_CTRL = 0x80, EP0_OUT_CTRL = 0x84;
const MAX_PACKET = 64;

/** What the host sees of one direction of a bulk endpoint (index: 2 * number + OUT). */
interface BulkSide {
  /** IN: packets handed over, with the PID of the word that armed them. */
  inPackets: { data: Uint8Array; pid: 0 | 1 }[];
  /** IN: PIDs of buffers armed whose data rp2040js has not delivered yet. */
  inPids: (0 | 1)[];
  /** OUT: the armed buffer's length and PID, or null. */
  outArmed: { len: number; pid: 0 | 1 } | null;
}

export class Rp2040UsbHost implements ControlHost, UsbHooks {
  /** Host time per control transfer (scheduling, the OS), microseconds. */
  transferOverheadUs = 50;
  /** Send each SETUP as soon as the previous status stage is on the wire, without waiting for
   *  the controller to report it: the firmware then finds a status completion and a new SETUP
   *  pending together, as on a fast host. */
  backToBack = false;
  transfers = 0;
  /** Times firmware has enabled the controller: each is a new device on the bus for the host. */
  connects = 0;
  pidErrors: string[] = [];
  private on = false;
  private onSince = -1; // which reset (emu.resets.length) the firmware enabled USB after
  private inPackets: Uint8Array[] = [];
  private outArmed = -1;
  private stalled = false;
  private expectIn = 1;
  private expectOut = 1;
  private bulk = new Map<number, BulkSide>();
  /** The host's own DATA0/DATA1 per bulk endpoint address. */
  private toggles = new Map<number, 0 | 1>();
  /** Bulk packets moved, for tests and benchmarks. */
  bulkPackets = 0;

  constructor(readonly emu: Rp2040Emu) {
    emu.usb = this;
  }

  // ---- device side (hooks) ----
  enabled(): void { this.on = true; this.onSince = this.emu.resets.length; this.connects++; }
  endpointWrite(ep: number, data: Uint8Array): void {
    if (ep === 0) { this.inPackets.push(data); return; }
    const side = this.side(2 * ep);
    const pid = side.inPids.shift();
    if (pid !== undefined) side.inPackets.push({ data, pid }); // else taken back before it went
  }
  endpointRead(ep: number, len: number): void { if (ep === 0) this.outArmed = len; }
  bufferControl(offset: number, value: number): void {
    if (offset >= 0x88) { this.bulkBufferControl((offset - 0x80) >> 2, value); return; }
    if (offset !== EP0_IN_CTRL && offset !== EP0_OUT_CTRL) return;
    if (value & BUF_STALL) { this.stalled = true; return; }
    if (!(value & BUF_AVAILABLE)) return;
    const pid = value & BUF_DATA1 ? 1 : 0;
    const isIn = offset === EP0_IN_CTRL;
    const want = isIn ? this.expectIn : this.expectOut;
    if (pid !== want) this.pidErrors.push(`${isIn ? "IN" : "OUT"} packet ${this.transfers}: DATA${pid}, expected DATA${want}`);
    if (isIn) this.expectIn ^= 1; else this.expectOut ^= 1;
  }

  private side(i: number): BulkSide {
    let b = this.bulk.get(i);
    if (!b) { b = { inPackets: [], inPids: [], outArmed: null }; this.bulk.set(i, b); }
    return b;
  }

  // A firmware write to endpoint i's buffer control (i = 2 * number + OUT). With AVAILABLE the
  // buffer goes to the controller; without, whatever was armed is the firmware's again.
  private bulkBufferControl(i: number, value: number): void {
    const side = this.side(i), out = (i & 1) === 1;
    const pid: 0 | 1 = value & BUF_DATA1 ? 1 : 0;
    if (!(value & BUF_AVAILABLE)) {
      side.inPackets = []; side.inPids = []; side.outArmed = null;
      return;
    }
    if (out) side.outArmed = { len: value & 0x3ff, pid };
    else side.inPids.push(pid);
  }

  private dpram(offset: number): number { return this.emu.mcu.usbDPRAMView.getUint32(offset, true) >>> 0; }
  /** Endpoint i as the controller finds it at a token: "off" (ENABLE clear: no reply), "stall". */
  private epState(i: number): "off" | "stall" | "ok" {
    if (!(this.dpram(4 * i) & EP_CTRL_ENABLE)) return "off";
    return this.dpram(0x80 + 4 * i) & BUF_STALL ? "stall" : "ok";
  }

  // ---- host side ----
  /** The firmware has its controller on and the pull-up connected, the chip runs it, and
   *  clk_usb is within full speed's 48 MHz +-0.25% (sim/rp2040/oscillators.ts). */
  present(): boolean {
    if (!(this.on && this.onSince === this.emu.resets.length && this.emu.mode === "running")) return false;
    return Math.abs(this.emu.oscillators.clkUsbHz() - 48e6) <= 48e6 * 0.0025;
  }

  /** Run the chip until `done()`; `ep0`: an EP0 stall ends the wait (a control transfer's). */
  private run(done: () => boolean, deadlineNs: number, ep0 = true): void {
    const emu = this.emu;
    const resets = emu.resets.length;
    while (!done()) {
      if (emu.resets.length !== resets) { this.on = false; throw new Abort("nodevice"); }
      if (ep0 && this.stalled) throw new Abort("stall");
      if (emu.clock.nanos >= deadlineNs) throw new Abort("timeout");
      emu.step();
    }
  }

  private pass(us: number): void {
    const end = this.emu.clock.nanos + us * 1000;
    const resets = this.emu.resets.length;
    while (this.emu.clock.nanos < end) {
      this.emu.step();
      if (this.emu.resets.length !== resets) { this.on = false; return; }
    }
  }

  private inPacket(deadline: number): Uint8Array {
    this.run(() => this.inPackets.length > 0, deadline);
    return this.inPackets.shift()!;
  }

  private outPacket(data: Uint8Array, deadline: number): void {
    this.run(() => this.outArmed >= 0, deadline);
    if (data.length > this.outArmed) throw new Abort("stall"); // babble: more than the buffer takes
    this.outArmed = -1;
    this.emu.mcu.usbCtrl.endpointReadDone(0, data, this.backToBack ? 0 : undefined);
  }

  control(setup: Setup, data?: Uint8Array, timeoutMs = 5000): ControlResult {
    this.transfers++;
    if (!this.backToBack) this.pass(this.transferOverheadUs);
    const deadline = this.emu.clock.nanos + timeoutMs * 1e6;
    const r = controlStages({
      setup: (bytes) => {
        if (!this.present()) throw new Abort("nodevice");
        // A SETUP clears whatever the previous transfer left: stalls, queued packets.
        this.inPackets = [];
        this.outArmed = -1;
        this.stalled = false;
        this.expectIn = 1;
        this.expectOut = 1;
        this.emu.mcu.usbCtrl.sendSetupPacket(bytes);
      },
      inPacket: () => this.inPacket(deadline),
      outPacket: (d) => this.outPacket(d, deadline),
    }, setup, data);
    // The controller reports the status stage's completion a little later (rp2040js: 10 us);
    // the next SETUP must not overtake it (back-to-back: it arrives together with it).
    if (r.status === "ok") this.pass(this.backToBack ? 0.01 : 20);
    // The host's bulk toggles start again at DATA0 after CLEAR_FEATURE(ENDPOINT_HALT) and
    // SET_CONFIGURATION (USB 2.0 9.4.5, 9.1.1.5), as the device's must.
    if (r.status === "ok" && setup.bmRequestType === 0x02 && setup.bRequest === 1 && setup.wValue === 0) this.toggles.delete(setup.wIndex & 0xff);
    if (r.status === "ok" && setup.bmRequestType === 0x00 && setup.bRequest === 9) this.toggles.clear();
    return r;
  }

  private bulkCatch(run: () => BulkResult, partial: () => Uint8Array): BulkResult {
    try {
      return run();
    } catch (e) {
      if (e instanceof Abort) return { status: e.status, data: partial() };
      throw e;
    }
  }

  /** One bulk OUT transfer on endpoint `ep` (1..15): `data` in 64-byte packets (at least one,
   *  so an empty `data` is one zero-length packet), each sent once the device has a buffer
   *  armed (until then the device NAKs). A STALL ends it with status "stall". */
  bulkOut(ep: number, data: Uint8Array, timeoutMs = 5000): BulkResult {
    const num = ep & 0x0f, i = 2 * num + 1;
    const deadline = this.emu.clock.nanos + timeoutMs * 1e6;
    return this.bulkCatch(() => {
      if (!this.present()) throw new Abort("nodevice");
      this.pass(this.transferOverheadUs);
      const side = this.side(i);
      let off = 0;
      do {
        const pkt = data.subarray(off, off + MAX_PACKET);
        let st: "off" | "stall" | "ok" = "off";
        this.run(() => (st = this.epState(i)) === "stall" || (st === "ok" && side.outArmed !== null), deadline, false);
        if (st === "stall") return { status: "stall", data: new Uint8Array(0) };
        const armed = side.outArmed!;
        if (pkt.length > armed.len) return { status: "stall", data: new Uint8Array(0) }; // babble
        const pid = this.toggles.get(num) ?? 0;
        if (armed.pid !== pid) this.pidErrors.push(`bulk OUT 0x${num.toString(16)}: host sent DATA${pid}, device armed DATA${armed.pid}`);
        this.toggles.set(num, (pid ^ 1) as 0 | 1);
        side.outArmed = null;
        this.emu.mcu.usbCtrl.endpointReadDone(num, pkt.slice());
        this.bulkPackets++;
        this.pass(transactionUs(pkt.length));
        off += MAX_PACKET;
      } while (off < data.length);
      return { status: "ok", data: new Uint8Array(0) };
    }, () => new Uint8Array(0));
  }

  /** One bulk IN transfer of up to `length` bytes on endpoint `ep` (0x81..0x8f): packets until a
   *  short one or `length`. The device NAKs while it has no buffer armed. */
  bulkIn(ep: number, length: number, timeoutMs = 5000): BulkResult {
    const num = ep & 0x0f, i = 2 * num;
    const addr = 0x80 | num;
    const deadline = this.emu.clock.nanos + timeoutMs * 1e6;
    const parts: Uint8Array[] = [];
    let total = 0;
    const joined = () => { const o = new Uint8Array(total); let k = 0; for (const p of parts) { o.set(p, k); k += p.length; } return o; };
    return this.bulkCatch(() => {
      if (!this.present()) throw new Abort("nodevice");
      this.pass(this.transferOverheadUs);
      const side = this.side(i);
      for (;;) {
        let st: "off" | "stall" | "ok" = "off";
        this.run(() => (st = this.epState(i)) === "stall" || (st === "ok" && side.inPackets.length > 0), deadline, false);
        if (st === "stall") return { status: "stall", data: joined() };
        const { data, pid } = side.inPackets.shift()!;
        const want = this.toggles.get(addr) ?? 0;
        if (pid !== want) this.pidErrors.push(`bulk IN 0x${addr.toString(16)}: DATA${pid}, expected DATA${want}`);
        this.toggles.set(addr, (pid ^ 1) as 0 | 1);
        this.emu.usbInTaken(num);
        this.bulkPackets++;
        this.pass(transactionUs(data.length));
        if (total + data.length > length) throw new Error(`babble: device sent ${total + data.length} bytes for a ${length}-byte bulk IN`);
        parts.push(data);
        total += data.length;
        if (data.length < MAX_PACKET || total >= length) break;
      }
      return { status: "ok", data: joined() };
    }, joined);
  }

  /** Host-side sleep: the chip keeps running. */
  sleep(ms: number): void { this.pass(ms * 1000); }

  /** Wait (in simulated time) for the firmware to connect. */
  waitForDevice(timeoutMs = 1000): boolean {
    const end = this.emu.clock.nanos + timeoutMs * 1e6;
    while (!this.present() && this.emu.clock.nanos < end) this.emu.step();
    return this.present();
  }

  /** USB bus reset (10 ms of SE0, USB 2.0 7.1.7.5), then what the OS does to enumerate. */
  reset(): ControlStatus {
    if (!this.present()) return "nodevice";
    this.emu.mcu.usbCtrl.resetDevice();
    this.toggles.clear();
    this.bulk.clear();
    this.pass(10_100);
    return enumerate(this);
  }

  /** The address the firmware has applied (ADDR_ENDP), for checking SET_ADDRESS. */
  get deviceAddress(): number { return this.emu.mcu.usbCtrl.readUint32(0) & 0x7f; }
}
