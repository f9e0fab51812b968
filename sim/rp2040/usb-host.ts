// A USB host for the emulated RP2040, on rp2040js's device-controller hooks: SETUP packets go
// in with sendSetupPacket, IN packets come out through onEndpointWrite when the firmware hands
// a buffer to the controller, OUT packets go in with endpointReadDone when the firmware has
// armed a buffer (onEndpointRead). rp2040js models neither STALL nor data toggles, so the host
// watches the firmware's buffer-control writes itself: a STALL bit ends the stage with a
// stall, and every packet's DATA0/DATA1 is checked against the toggle sequence of USB 2.0
// 8.5.3 (DATA1 first after SETUP, alternating per direction); mismatches are collected in
// `pidErrors`. Same interface as the Wasm simulator's host (sim/usb-host.ts), so the flasher's
// DFU client (tools/dfu/) runs unchanged on top.
import type { ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { ControlAbort as Abort, controlStages, enumerate } from "../usb-host";
import type { Rp2040Emu, UsbHooks } from "./emulator";

const BUF_STALL = 1 << 11, BUF_AVAILABLE = 1 << 10, BUF_DATA1 = 1 << 13;
const EP0_IN_CTRL = 0x80, EP0_OUT_CTRL = 0x84;

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

  constructor(readonly emu: Rp2040Emu) {
    emu.usb = this;
  }

  // ---- device side (hooks) ----
  enabled(): void { this.on = true; this.onSince = this.emu.resets.length; this.connects++; }
  endpointWrite(ep: number, data: Uint8Array): void { if (ep === 0) this.inPackets.push(data); }
  endpointRead(ep: number, len: number): void { if (ep === 0) this.outArmed = len; }
  bufferControl(offset: number, value: number): void {
    if (offset !== EP0_IN_CTRL && offset !== EP0_OUT_CTRL) return;
    if (value & BUF_STALL) { this.stalled = true; return; }
    if (!(value & BUF_AVAILABLE)) return;
    const pid = value & BUF_DATA1 ? 1 : 0;
    const isIn = offset === EP0_IN_CTRL;
    const want = isIn ? this.expectIn : this.expectOut;
    if (pid !== want) this.pidErrors.push(`${isIn ? "IN" : "OUT"} packet ${this.transfers}: DATA${pid}, expected DATA${want}`);
    if (isIn) this.expectIn ^= 1; else this.expectOut ^= 1;
  }

  // ---- host side ----
  /** The firmware has its controller on and the pull-up connected, the chip runs it, and
   *  clk_usb is within full speed's 48 MHz +-0.25% (sim/rp2040/oscillators.ts). */
  present(): boolean {
    if (!(this.on && this.onSince === this.emu.resets.length && this.emu.mode === "running")) return false;
    return Math.abs(this.emu.oscillators.clkUsbHz() - 48e6) <= 48e6 * 0.0025;
  }

  private run(done: () => boolean, deadlineNs: number): void {
    const emu = this.emu;
    const resets = emu.resets.length;
    while (!done()) {
      if (emu.resets.length !== resets) { this.on = false; throw new Abort("nodevice"); }
      if (this.stalled) throw new Abort("stall");
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
    return r;
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
    this.pass(10_100);
    return enumerate(this);
  }

  /** The address the firmware has applied (ADDR_ENDP), for checking SET_ADDRESS. */
  get deviceAddress(): number { return this.emu.mcu.usbCtrl.readUint32(0) & 0x7f; }
}
