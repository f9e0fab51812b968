// A USB host on the emulated H750's OTG_FS model: control transfers on endpoint 0 as token
// sequences (SETUP, IN/OUT data packets, status), a NAKed token retried after letting the CPU
// run, bus reset and enumeration. Same interface as the other simulated hosts (ControlHost), so
// tools/dfu/client.ts runs on it unchanged. Bulk transfers on endpoints 1..3 (the UF2 drive) as
// SimUsbHost (sim/usb-host.ts) does them: 64-byte packets, a NAK retried after letting the CPU
// run, the host's own DATA0/DATA1 per endpoint (mismatches on IN recorded in pidErrors), STALL
// ending the transfer; the toggles start again at DATA0 after CLEAR_FEATURE(ENDPOINT_HALT),
// SET_CONFIGURATION and a bus reset (USB 2.0 9.4.5, 9.1.1.5).
import type { BulkResult, ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { ControlAbort as Abort, controlStages, enumerate } from "../usb-host";
import type { H750Emu } from "./emulator";

export class H750UsbHost implements ControlHost {
  transfers = 0;
  /** Bulk packets whose DATA0/DATA1 was not the one the host expected (USB 2.0 8.6). */
  pidErrors: string[] = [];
  private address = 0;
  private toggles = new Map<number, 0 | 1>();

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
    if (setup.bmRequestType === 0x02 && setup.bRequest === 1 && setup.wValue === 0) this.toggles.delete(setup.wIndex & 0xff);
    if (setup.bmRequestType === 0x00 && setup.bRequest === 9) this.toggles.clear();
    this.emu.step(200); // the firmware sees the status stage complete
    return r;
  }

  sleep(ms: number): void { this.emu.runForUs(ms * 1000); }

  reset(): ControlStatus {
    if (!this.present()) return "nodevice";
    this.otg.busReset();
    this.address = 0;
    this.toggles.clear();
    this.emu.runForUs(10_000); // reset signalling, 10 ms (USB 2.0 7.1.7.5)
    return enumerate(this);
  }

  /** One bulk OUT transfer: `data` in 64-byte packets (one zero-length packet for no data). */
  bulkOut(ep: number, data: Uint8Array, timeoutMs = 5000): BulkResult {
    const deadline = this.emu.nowUs + timeoutMs * 1000;
    const n = ep & 0x7f;
    try {
      let off = 0;
      do {
        const pkt = data.subarray(off, off + 64);
        const pid = this.toggles.get(ep) ?? 0;
        const r = this.retry(() => { const x = this.otg.bulkOut(this.address, n, pkt, pid); return x === "nak" ? "nak" : x; }, deadline);
        if (r === "stall") return { status: "stall", data: new Uint8Array(0) };
        this.toggles.set(ep, (pid ^ 1) as 0 | 1);
        off += 64;
      } while (off < data.length);
    } catch (e) {
      if (e instanceof Abort) return { status: e.status, data: new Uint8Array(0) };
      throw e;
    }
    this.emu.step(200);
    return { status: "ok", data: new Uint8Array(0) };
  }

  /** One bulk IN transfer of up to `length` bytes: packets until a short one or `length`. */
  bulkIn(ep: number, length: number, timeoutMs = 5000): BulkResult {
    const deadline = this.emu.nowUs + timeoutMs * 1000;
    const n = ep & 0x7f;
    const parts: Uint8Array[] = [];
    let total = 0;
    const result = (status: ControlStatus): BulkResult => {
      const out = new Uint8Array(total);
      let o = 0;
      for (const p of parts) { out.set(p, o); o += p.length; }
      return { status, data: out };
    };
    try {
      for (;;) {
        const r = this.retry(() => { const x = this.otg.bulkIn(this.address, n); return x.kind === "nak" ? "nak" : x; }, deadline);
        if (r.kind === "stall") return result("stall");
        if (r.kind !== "data") throw new Error("unreachable");
        const want = this.toggles.get(ep) ?? 0;
        if (r.pid !== want) this.pidErrors.push(`bulk IN 0x${ep.toString(16)}: DATA${r.pid}, expected DATA${want}`);
        this.toggles.set(ep, (r.pid ^ 1) as 0 | 1);
        if (total + r.data.length > length) throw new Error(`babble: device sent ${total + r.data.length} bytes for a ${length}-byte bulk IN`);
        parts.push(r.data);
        total += r.data.length;
        if (r.data.length < 64 || total >= length) break;
      }
    } catch (e) {
      if (e instanceof Abort) return result(e.status);
      throw e;
    }
    this.emu.step(200);
    return result("ok");
  }

  get deviceAddress(): number { return (this.otg.read(0x800) >>> 4) & 0x7f; }
}
