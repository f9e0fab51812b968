// A host for the RP2040 boot ROM's PICOBOOT interface (RP2040 datasheet 2.8.5; command layout
// from pico-sdk boot/picoboot.h): the vendor interface a Pico offers next to its RPI-RP2 drive
// when BOOTSEL is held at reset. Browser-safe: it needs only a WebUSB USBDevice with bulk
// transfers (the `usb` package, a browser, or tools/usb/sim-device.ts).
import type { USBDevice } from "../dfu/webusb";
import { DfuError } from "../dfu/client";

export const RP2040_ROM = { vendorId: 0x2e8a, productId: 0x0003 } as const;
export const PICOBOOT_MAGIC = 0x431fd10b;
const CMD = { EXCLUSIVE_ACCESS: 0x01, REBOOT: 0x02, FLASH_ERASE: 0x03, READ: 0x84, WRITE: 0x05, EXIT_XIP: 0x06, EXEC: 0x08 } as const;
const IF_RESET = 0x41, IF_CMD_STATUS = 0x42;
export const STATUS_NAMES = ["OK", "UNKNOWN_CMD", "INVALID_CMD_LENGTH", "INVALID_TRANSFER_LENGTH", "INVALID_ADDRESS",
  "BAD_ALIGNMENT", "INTERLEAVED_WRITE", "REBOOTING", "UNKNOWN_ERROR"];
/** The ROM's flash sector (erase unit) and page (program unit). */
export const ROM_SECTOR = 4096, ROM_PAGE = 256;
export const EXCLUSIVE = 1, EXCLUSIVE_AND_EJECT = 2;

/** A command the ROM refused (status from PICOBOOT_IF_CMD_STATUS; the flasher's exit status 5). */
export class PicobootError extends DfuError {
  constructor(readonly command: string, code: number | undefined, detail: string) {
    super(`the RP2040 boot ROM refused ${command}: ${detail}`, code ?? 0xff);
    this.name = "PicobootError";
  }
}

export function isRp2040Rom(d: Pick<USBDevice, "vendorId" | "productId">): boolean {
  return d.vendorId === RP2040_ROM.vendorId && d.productId === RP2040_ROM.productId;
}

export class PicobootDevice {
  private token = 1;
  private itf = -1;
  private epOut = 3;
  private epIn = 4;

  constructor(readonly usb: USBDevice) {}

  async open(): Promise<this> {
    if (!this.usb.opened) await this.usb.open();
    if (!this.usb.configuration) await this.usb.selectConfiguration(1);
    for (const i of this.usb.configuration?.interfaces ?? []) {
      const a = i.alternates[0];
      if (a.interfaceClass !== 0xff) continue;
      this.itf = i.interfaceNumber;
      for (const e of a.endpoints ?? []) {
        if (e.type !== "bulk") continue;
        if (e.direction === "out") this.epOut = e.endpointNumber; else this.epIn = e.endpointNumber;
      }
    }
    if (this.itf < 0) throw new Error("this RP2040 boot ROM offers no PICOBOOT interface (it was started with it disabled)");
    if (!this.usb.transferIn || !this.usb.transferOut) throw new Error("this USB back end has no bulk transfers");
    await this.usb.claimInterface(this.itf);
    await this.interfaceReset(); // whatever an earlier host left halted
    return this;
  }

  async close(): Promise<void> {
    try { await this.usb.releaseInterface(this.itf); } catch { /* gone already */ }
    await this.usb.close();
  }

  get serial(): string { return this.usb.serialNumber ?? ""; }

  /** PICOBOOT_IF_RESET: un-halt both endpoints, clear the status and exclusive access. */
  async interfaceReset(): Promise<void> {
    const r = await this.usb.controlTransferOut({ requestType: "vendor", recipient: "interface", request: IF_RESET, value: 0, index: this.itf });
    if (r.status !== "ok") throw new Error(`PICOBOOT interface reset: ${r.status}`);
  }

  /** PICOBOOT_IF_CMD_STATUS: the last command's token, status code, id and whether it runs. */
  async commandStatus(): Promise<{ token: number; code: number; cmdId: number; inProgress: boolean }> {
    const r = await this.usb.controlTransferIn({ requestType: "vendor", recipient: "interface", request: IF_CMD_STATUS, value: 0, index: this.itf }, 16);
    if (r.status !== "ok" || !r.data || r.data.byteLength < 16) throw new Error(`PICOBOOT status: ${r.status}`);
    return { token: r.data.getUint32(0, true), code: r.data.getUint32(4, true), cmdId: r.data.getUint8(8), inProgress: r.data.getUint8(9) !== 0 };
  }

  private async fail(name: string): Promise<never> {
    let code: number | undefined;
    try { code = (await this.commandStatus()).code; } catch { /* the status itself failed */ }
    try { await this.interfaceReset(); } catch { /* left halted */ }
    throw new PicobootError(name, code, code === undefined ? "no status" : `${STATUS_NAMES[code] ?? `status ${code}`}`);
  }

  /** One command: the 32-byte packet, its data stage, then the ACK in the other direction. */
  private async command(name: string, id: number, args: number[], argSize: number, data?: Uint8Array, inLength = 0): Promise<Uint8Array> {
    const p = new Uint8Array(32), dv = new DataView(p.buffer);
    dv.setUint32(0, PICOBOOT_MAGIC, true);
    dv.setUint32(4, this.token++, true);
    p[8] = id;
    p[9] = argSize;
    dv.setUint32(12, data ? data.length : inLength, true);
    args.forEach((v, i) => (argSize === 1 ? (p[16] = v) : dv.setUint32(16 + 4 * i, v >>> 0, true)));
    const usb = this.usb;
    if ((await usb.transferOut!(this.epOut, p)).status !== "ok") return this.fail(name);
    let back = new Uint8Array(0);
    if (data?.length) {
      if ((await usb.transferOut!(this.epOut, data)).status !== "ok") return this.fail(name);
    } else if (inLength) {
      const chunks: Uint8Array[] = [];
      let got = 0;
      while (got < inLength) {
        const r = await usb.transferIn!(this.epIn, inLength - got);
        if (r.status !== "ok" || !r.data) return this.fail(name);
        const c = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        if (!c.length) return this.fail(name);
        chunks.push(c.slice());
        got += c.length;
      }
      back = new Uint8Array(got);
      let o = 0;
      for (const c of chunks) { back.set(c, o); o += c.length; }
    }
    // The ACK: a zero-length packet, from the device for OUT commands, from us for IN ones.
    const ack = id & 0x80 ? await usb.transferOut!(this.epOut, new Uint8Array(0)) : await usb.transferIn!(this.epIn, 64);
    if (ack.status !== "ok") return this.fail(name);
    return back;
  }

  /** Keep the ROM's drive from writing the flash meanwhile (EXCLUSIVE_AND_EJECT also ejects it). */
  exclusive(mode = EXCLUSIVE): Promise<unknown> { return this.command("EXCLUSIVE_ACCESS", CMD.EXCLUSIVE_ACCESS, [mode], 1); }
  /** Connect the flash and take it out of XIP mode: needed before any flash command. */
  exitXip(): Promise<unknown> { return this.command("EXIT_XIP", CMD.EXIT_XIP, [], 0); }

  /** Erase whole 4 KiB sectors. The ROM ACKs a misaligned erase having done nothing: checked here. */
  async erase(addr: number, size: number): Promise<void> {
    if (addr % ROM_SECTOR || size % ROM_SECTOR) throw new PicobootError("FLASH_ERASE", undefined, `0x${addr.toString(16)}+0x${size.toString(16)} is not in whole 4 KiB sectors`);
    await this.command("FLASH_ERASE", CMD.FLASH_ERASE, [addr, size], 8);
  }

  /** Write RAM, or program erased flash (page aligned, whole pages: the ROM programs 256 bytes
   *  from its buffer whatever the last chunk held, so a short tail is padded with 0xFF here). */
  async write(addr: number, data: Uint8Array): Promise<void> {
    let d = data;
    if (addr >= 0x10000000 && addr < 0x20000000 && data.length % ROM_PAGE) {
      d = new Uint8Array(Math.ceil(data.length / ROM_PAGE) * ROM_PAGE).fill(0xff);
      d.set(data);
    }
    await this.command("WRITE", CMD.WRITE, [addr, d.length], 8, d);
  }

  read(addr: number, length: number): Promise<Uint8Array> {
    return this.command("READ", CMD.READ, [addr, length], 8, undefined, length);
  }

  /** Call Thumb code at `addr` (in RAM); the ACK comes when it returns. */
  exec(addr: number): Promise<unknown> { return this.command("EXEC", CMD.EXEC, [addr], 4); }

  /** Reboot through the normal boot path after `delayMs` (the watchdog; the ROM's erratum
   *  RP2040-E1 halves the delay). */
  reboot(delayMs = 100): Promise<unknown> { return this.command("REBOOT", CMD.REBOOT, [0, 0, delayMs], 12); }
}
