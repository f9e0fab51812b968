// A USB host on the emulated H750's OTG_FS model: control transfers on endpoint 0 as token
// sequences (SETUP, IN/OUT data packets, status), a NAKed token retried after letting the CPU
// run, bus reset and enumeration. Same interface as the other simulated hosts (ControlHost), so
// tools/dfu/client.ts runs on it unchanged.
import type { ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { ControlAbort as Abort, controlStages, enumerate } from "../usb-host";
import type { H750Emu } from "./emulator";

export class H750UsbHost implements ControlHost {
  transfers = 0;
  private address = 0;

  constructor(readonly emu: H750Emu) {}

  private get otg() { return this.emu.m.otg; }

  present(): boolean { return this.otg.connected; }

  /** Let the CPU run (in simulated time) until the device connects. */
  waitForDevice(timeoutMs = 100): boolean {
    const end = this.emu.nowUs + timeoutMs * 1000;
    while (!this.present() && this.emu.nowUs < end) this.emu.step();
    return this.present();
  }

  private retry<T>(attempt: () => T | "nak", deadlineUs: number): T {
    const resets = this.emu.resets;
    for (;;) {
      if (this.emu.resets !== resets || !this.present()) throw new Abort("nodevice");
      const r = attempt();
      if (r !== "nak") return r;
      if (this.emu.nowUs >= deadlineUs) throw new Abort("timeout");
      this.emu.step(500);
    }
  }

  private inPacket(deadline: number): Uint8Array {
    const r = this.retry(() => { const x = this.otg.in(this.address); return x.kind === "nak" ? "nak" : x; }, deadline);
    if (r.kind === "stall") throw new Abort("stall");
    return (r as { kind: "data"; data: Uint8Array }).data;
  }

  private outPacket(data: Uint8Array, deadline: number): void {
    const r = this.retry(() => { const x = this.otg.out(this.address, data); return x === "nak" ? "nak" : x; }, deadline);
    if (r === "stall") throw new Abort("stall");
  }

  control(setup: Setup, data?: Uint8Array, timeoutMs = 5000): ControlResult {
    this.transfers++;
    const deadline = this.emu.nowUs + timeoutMs * 1000;
    const r = controlStages({
      setup: (bytes) => {
        if (!this.present()) throw new Abort("nodevice");
        if (!this.otg.setup(this.address, bytes)) throw new Abort("timeout");
      },
      inPacket: () => this.inPacket(deadline),
      outPacket: (d) => this.outPacket(d, deadline),
    }, setup, data);
    if (r.status !== "ok") return r;
    if (setup.bmRequestType === 0 && setup.bRequest === 5) this.address = setup.wValue & 0x7f;
    this.emu.step(200); // the firmware sees the status stage complete
    return r;
  }

  sleep(ms: number): void { this.emu.runForUs(ms * 1000); }

  reset(): ControlStatus {
    if (!this.present()) return "nodevice";
    this.otg.busReset();
    this.address = 0;
    this.emu.runForUs(10_000); // reset signalling, 10 ms (USB 2.0 7.1.7.5)
    return enumerate(this);
  }

  get deviceAddress(): number { return (this.otg.read(0x800) >>> 4) & 0x7f; }
}
