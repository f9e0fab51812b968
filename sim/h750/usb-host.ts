// A USB host on the emulated H750's OTG_FS model: control transfers on endpoint 0 as token
// sequences (SETUP, IN/OUT data packets, status), a NAKed token retried after letting the CPU
// run, bus reset and enumeration. Same interface as the other simulated hosts (ControlHost), so
// tools/dfu/client.ts runs on it unchanged.
import type { ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { setupBytes } from "../usb-host";
import type { H750Emu } from "./emulator";

class Abort { constructor(readonly status: ControlStatus) {} }

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
    const received: Uint8Array[] = [];
    let total = 0;
    try {
      if (!this.present()) throw new Abort("nodevice");
      if (!this.otg.setup(this.address, setupBytes(setup))) throw new Abort("timeout");
      if ((setup.bmRequestType & 0x80) && setup.wLength > 0) {
        while (total < setup.wLength) {
          const pkt = this.inPacket(deadline);
          received.push(pkt);
          total += pkt.length;
          if (pkt.length < 64) break;
        }
        if (total > setup.wLength) throw new Error(`device sent ${total} bytes for wLength ${setup.wLength}`);
        this.outPacket(new Uint8Array(0), deadline);
      } else {
        const out = data ?? new Uint8Array(0);
        if (out.length !== setup.wLength) throw new Error("OUT data length differs from wLength");
        for (let off = 0; off < out.length; off += 64) this.outPacket(out.subarray(off, off + 64), deadline);
        const status = this.inPacket(deadline);
        if (status.length !== 0) throw new Error(`status stage: device sent ${status.length} bytes`);
        if (setup.bmRequestType === 0 && setup.bRequest === 5) this.address = setup.wValue & 0x7f;
      }
      this.emu.step(200); // the firmware sees the status stage complete
    } catch (e) {
      if (e instanceof Abort) return { status: e.status, data: new Uint8Array(0) };
      throw e;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of received) { out.set(p, o); o += p.length; }
    return { status: "ok", data: out };
  }

  sleep(ms: number): void { this.emu.runForUs(ms * 1000); }

  reset(): ControlStatus {
    if (!this.present()) return "nodevice";
    this.otg.busReset();
    this.address = 0;
    this.emu.runForUs(10_000); // reset signalling, 10 ms (USB 2.0 7.1.7.5)
    return this.enumerate();
  }

  enumerate(): ControlStatus {
    const steps: Setup[] = [
      { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 64 },
      { bmRequestType: 0x00, bRequest: 5, wValue: 7, wIndex: 0, wLength: 0 },
      { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 },
      { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 9 },
      { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 },
      { bmRequestType: 0x00, bRequest: 9, wValue: 1, wIndex: 0, wLength: 0 },
    ];
    for (const s of steps) {
      const r = this.control(s, undefined, 1000);
      if (r.status !== "ok") return r.status;
    }
    return "ok";
  }

  get deviceAddress(): number { return (this.otg.read(0x800) >>> 4) & 0x7f; }
}
