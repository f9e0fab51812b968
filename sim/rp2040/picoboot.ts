// The RP2040 boot ROM's USB device in BOOTSEL mode, as far as a host uses its PICOBOOT vendor
// interface, written from the ROM's source (raspberrypi/pico-bootrom-rp2040:
// bootrom/usb_boot_device.c, bootrom/async_task.c, bootrom/program_flash_generic.c,
// usb_device_tiny/runtime.c watchdog_reboot()), pico-sdk's boot/picoboot.h and the RP2040
// datasheet 2.8.5. It runs on an emulated chip (sim/rp2040/emulator.ts) that the ROM stand-in
// left in "usb-boot" mode, so what it does lands in that chip: flash commands go through the
// chip's SSI and QSPI pins to the flash model, RAM writes into its SRAM, EXEC runs code on its
// core, REBOOT programs its watchdog.
//
// What the ROM does, and so the model:
// - 2e8a:0003, USB 1.1, interface 0 mass storage (EP 0x81/0x02), interface 1 vendor class
//   0xff/0/0 (EP 0x03 OUT, 0x84 IN), 64-byte packets; strings "Raspberry Pi", "RP2 Boot", serial.
// - A command is one 32-byte packet on EP 3 with PICOBOOT_MAGIC; anything else halts both
//   endpoints. bCmdSize must match the command (else INVALID_CMD_LENGTH), dTransferLength must be
//   0, or dSize for READ/WRITE (else INVALID_TRANSFER_LENGTH); unknown ids: UNKNOWN_CMD; all of
//   them halt both endpoints. The data stage follows on EP 3 (OUT) or EP 0x84 (IN), handled in
//   256-byte chunks; success ends with a zero-length packet in the direction opposite to the
//   data (IN commands: the host sends it on EP 3).
// - Checks per chunk (async_task.c _execute_task): flash erase address and size 4 KiB aligned
//   (BAD_ALIGNMENT), inside 0x10000000..0x20000000 (INVALID_ADDRESS), but a command without a
//   data stage is ACKed whatever its task returned (_atc_ack), so a refused erase looks done;
//   READ/WRITE either wholly
//   in SRAM (0x20000000..0x20042000) or XIP SRAM (0x15000000..0x15004000), or wholly in flash
//   with the address 256-byte aligned; writes to the ROM refused. A failed chunk sets the status
//   and halts the endpoint; the host reads the status (control IN 0x42, 16 bytes) and clears it
//   with PICOBOOT_IF_RESET (control OUT 0x41) or CLEAR_FEATURE(ENDPOINT_HALT).
// - A flash WRITE programs whole 256-byte pages from the ROM's page buffer: a last chunk shorter
//   than 256 bytes programs the rest of the page from whatever the buffer held (the host pads).
//   Flash commands work only after EXIT_XIP: in BOOTSEL mode the ROM never connected the QSPI
//   pins (connect_internal_flash), so before that the flash sees nothing, erases and writes do
//   nothing and reads return 0 (MISO: flash_abort() forces the SD1 input low at SET_CONFIGURATION).
// - REBOOT: watchdog_reboot(): scratch 4 cleared for dPC 0, LOAD = dDelayMS * 1000 (the watchdog
//   counts down twice per tick, RP2040-E1, so the reset comes after half of that), then the chip
//   restarts through the ROM (still BOOTSEL held: USB boot again). Commands after it: REBOOTING.
// - EXEC calls the code with lr in the ROM, on the worker's stack; it is ACKed when the code
//   returns; code that never returns leaves the command in progress (no ACK).
// Not modelled (they throw): the mass-storage drive, reading the ROM, ENTER_CMD_XIP,
// VECTORIZE_FLASH, REBOOT into RAM code (dPC != 0); EXCLUSIVE_ACCESS is recorded only, since no
// drive competes for the flash.
import type { BulkResult, ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";
import { enumerate } from "../usb-host";
import { transactionUs } from "../usb-timing";
import type { Rp2040Emu } from "./emulator";
import { connectInternalFlash, flashExitXip, romFlashOps } from "./boot-rom";
import { vendorReg } from "./vendor-regs";

export const PICOBOOT_MAGIC = 0x431fd10b;
export const ROM_USB = { vendorId: 0x2e8a, productId: 0x0003 } as const;
export const PICOBOOT_EP_OUT = 3, PICOBOOT_EP_IN = 4;
export const PC = { EXCLUSIVE_ACCESS: 0x01, REBOOT: 0x02, FLASH_ERASE: 0x03, READ: 0x84, WRITE: 0x05, EXIT_XIP: 0x06, ENTER_CMD_XIP: 0x07, EXEC: 0x08, VECTORIZE_FLASH: 0x09 } as const;
export const STATUS = { OK: 0, UNKNOWN_CMD: 1, INVALID_CMD_LENGTH: 2, INVALID_TRANSFER_LENGTH: 3, INVALID_ADDRESS: 4, BAD_ALIGNMENT: 5, INTERLEAVED_WRITE: 6, REBOOTING: 7, UNKNOWN_ERROR: 8 } as const;

const SRAM_BASE = 0x20000000, SRAM_END = 0x20042000, XIP_SRAM_BASE = 0x15000000, XIP_SRAM_END = 0x15004000;
const XIP_MAIN_BASE = 0x10000000;
const SECTOR = 4096, PAGE = 256;
// usb_boot_device.c cmd_mapping: bCmdSize per command id (low 7 bits), and whether dTransferLength is dSize.
const CMD_SIZE: Record<number, [number, boolean]> = { 1: [1, false], 2: [12, false], 3: [8, false], 4: [8, true], 5: [8, true], 6: [0, false], 7: [0, false], 8: [4, false], 9: [4, false] };
const WD = {
  CTRL: vendorReg("WATCHDOG", "CTRL").address, LOAD: vendorReg("WATCHDOG", "LOAD").address,
  SCRATCH4: vendorReg("WATCHDOG", "SCRATCH4").address, TICK: vendorReg("WATCHDOG", "TICK").address,
};
const PSM_WDSEL = vendorReg("PSM", "WDSEL").address;
// watchdog.h / psm.h field values watchdog_reboot() uses.
const WD_CTRL_ENABLE = 1 << 30, WD_CTRL_PAUSE_ALL = 7 << 24, WD_TICK_ENABLE = 1 << 9;
const PSM_WDSEL_ALL = 0x1ffff, PSM_WDSEL_ROSC_XOSC = 0x3;

const isRam = (a: number) => (a >= SRAM_BASE && a <= SRAM_END) || (a >= XIP_SRAM_BASE && a <= XIP_SRAM_END);
const isFlash = (a: number) => a >= XIP_MAIN_BASE && a <= SRAM_BASE;

/** The data stage's direction comes from the command (READ: IN), the ACK's from bCmdId's top bit. */
const isRead = (c: Command) => (c.id & 0x7f) === (PC.READ & 0x7f);

interface Command { id: number; token: number; addr: number; size: number; length: number; args: DataView }

export class PicobootRom implements ControlHost {
  /** Host software time per bulk or control transfer (a synchronous libusb call), microseconds. */
  transferOverheadUs = 125;
  /** What a test may want to see: every command the ROM executed, by name. */
  readonly executed: string[] = [];
  exclusive = 0;
  private readonly generation: number;
  private readonly xipSram = new Uint8Array(XIP_SRAM_END - XIP_SRAM_BASE);
  private readonly pageBuffer = new Uint8Array(PAGE); // the ROM's static _buffer[FLASH_PAGE_SIZE]
  private halted = { out: false, in: false };
  private status = { token: 0, code: 0, cmdId: 0, inProgress: false };
  private cmd: Command | null = null;
  private done = 0; // data bytes of the current command moved so far
  private ackPending = false;
  private rebooting = false;
  private flashConnected = false;

  constructor(readonly emu: Rp2040Emu, readonly serial = "E0C912D24340") {
    if (emu.mode !== "usb-boot") throw new Error("PicobootRom: the emulated chip is not in the ROM's USB boot (hold BOOTSEL at reset)");
    this.generation = emu.resets.length;
  }

  present(): boolean { return this.emu.mode === "usb-boot" && this.emu.resets.length === this.generation; }

  private pass(us: number): void {
    const end = this.emu.clock.nanos + us * 1000;
    while (this.emu.clock.nanos < end && this.emu.resets.length === this.generation) this.emu.step();
  }

  private busTime(bytes: number): void {
    let us = this.transferOverheadUs;
    for (let left = bytes; ; left -= 64) { us += transactionUs(Math.max(0, Math.min(64, left))); if (left <= 64) break; }
    this.pass(us);
  }

  sleep(ms: number): void { this.pass(ms * 1000); }

  reset(): ControlStatus {
    if (!this.present()) return "nodevice";
    this.pass(10_100);
    return enumerate(this);
  }

  // ---- endpoint 0 ----

  control(s: Setup, data?: Uint8Array): ControlResult {
    if (!this.present()) return { status: "nodevice", data: new Uint8Array(0) };
    this.busTime(8 + (data?.length ?? 0) + ((s.bmRequestType & 0x80) ? s.wLength : 0));
    const ok = (d: Uint8Array = new Uint8Array(0)): ControlResult => ({ status: "ok", data: d.subarray(0, s.wLength) });
    const stall: ControlResult = { status: "stall", data: new Uint8Array(0) };
    const type = (s.bmRequestType >> 5) & 3, recipient = s.bmRequestType & 0x1f, isIn = (s.bmRequestType & 0x80) !== 0;
    if (type === 0 && recipient === 0) {
      if (s.bRequest === 6 && isIn) {
        const d = this.descriptor(s.wValue >> 8, s.wValue & 0xff);
        return d ? ok(d) : stall;
      }
      if (s.bRequest === 5 || s.bRequest === 9) {
        // SET_CONFIGURATION: _usb_boot_on_configure(): flash_abort(), then _picoboot_reset().
        if (s.bRequest === 9) { this.flashConnected = false; this.picobootReset(); }
        return ok();
      }
      if (s.bRequest === 8 && isIn) return ok(Uint8Array.of(1));
      if (s.bRequest === 0 && isIn) return ok(Uint8Array.of(0, 0));
      return stall;
    }
    if (type === 0 && recipient === 2 && s.bRequest === 1 && s.wValue === 0) {
      // CLEAR_FEATURE(ENDPOINT_HALT) on a PICOBOOT endpoint: halts from errors are plain halts.
      if ((s.wIndex & 0x7f) === PICOBOOT_EP_OUT && !(s.wIndex & 0x80)) { this.halted.out = false; return ok(); }
      if ((s.wIndex & 0x7f) === PICOBOOT_EP_IN && (s.wIndex & 0x80)) { this.halted.in = false; return ok(); }
      return stall;
    }
    if (type === 0 && recipient === 1 && s.bRequest === 11) return s.wValue === 0 && s.wIndex <= 1 ? ok() : stall; // SET_INTERFACE
    if (type === 2 && recipient === 1 && (s.wIndex & 0xff) === 1) {
      if (isIn && s.bRequest === 0x42 && s.wLength === 16) {
        const b = new Uint8Array(16), dv = new DataView(b.buffer);
        dv.setUint32(0, this.status.token, true); dv.setUint32(4, this.status.code, true);
        b[8] = this.status.cmdId; b[9] = this.status.inProgress ? 1 : 0;
        return ok(b);
      }
      if (!isIn && s.bRequest === 0x41) { this.picobootReset(); return ok(); }
      return stall;
    }
    if (type === 1 && recipient === 1 && (s.wIndex & 0xff) === 0) throw new Error("PICOBOOT model: the mass-storage interface is not modelled");
    return stall;
  }

  /** _picoboot_reset(): endpoints unhalted, status cleared, exclusive access dropped. */
  private picobootReset(): void {
    this.halted = { out: false, in: false };
    this.status = { token: 0, code: 0, cmdId: 0, inProgress: false };
    this.cmd = null;
    this.ackPending = false;
    this.exclusive = 0;
  }

  private descriptor(type: number, index: number): Uint8Array | null {
    if (type === 1) {
      return Uint8Array.of(18, 1, 0x10, 0x01, 0, 0, 0, 64, ROM_USB.vendorId & 0xff, ROM_USB.vendorId >> 8,
        ROM_USB.productId & 0xff, ROM_USB.productId >> 8, 0x00, 0x01, 1, 2, 3, 1);
    }
    if (type === 2 && index === 0) {
      const itf = (n: number, cls: number, sub: number, proto: number, epA: number, epB: number) => [
        9, 4, n, 0, 2, cls, sub, proto, 0,
        7, 5, epA, 2, 64, 0, 0,
        7, 5, epB, 2, 64, 0, 0,
      ];
      const body = [...itf(0, 0x08, 0x06, 0x50, 0x81, 0x02), ...itf(1, 0xff, 0, 0, 0x03, 0x84)];
      const total = 9 + body.length;
      return Uint8Array.from([9, 2, total & 0xff, total >> 8, 2, 1, 0, 0x80, 0xfa, ...body]);
    }
    if (type === 3) {
      if (index === 0) return Uint8Array.of(4, 3, 0x09, 0x04);
      const text = ["", "Raspberry Pi", "RP2 Boot", this.serial][index];
      if (text === undefined) return null;
      const b = new Uint8Array(2 + 2 * text.length);
      b[0] = b.length; b[1] = 3;
      for (let i = 0; i < text.length; i++) b[2 + 2 * i] = text.charCodeAt(i);
      return b;
    }
    return null;
  }

  // ---- bulk endpoints ----

  bulkOut(ep: number, data: Uint8Array, timeoutMs = 5000): BulkResult {
    const none = new Uint8Array(0);
    if (!this.present()) return { status: "nodevice", data: none };
    if (ep !== PICOBOOT_EP_OUT) throw new Error(`PICOBOOT model: bulk OUT to endpoint ${ep} (only the PICOBOOT interface is modelled)`);
    this.busTime(data.length);
    if (this.halted.out) return { status: "stall", data: none };
    const c = this.cmd;
    if (c && this.ackPending && (c.id & 0x80)) {
      // The host's zero-length ACK of an IN command.
      if (data.length !== 0) return this.haltBoth();
      this.ackPending = false;
      this.cmd = null;
      this.status.inProgress = false;
      return { status: "ok", data: none };
    }
    if (c && !isRead(c) && this.done < c.length) return this.writeData(data);
    if (c && this.ackPending) { this.pass(timeoutMs * 1000); return { status: "timeout", data: none }; }
    return this.command(data);
  }

  bulkIn(ep: number, length: number, timeoutMs = 5000): BulkResult {
    const none = new Uint8Array(0);
    if (!this.present()) return { status: "nodevice", data: none };
    if (ep !== PICOBOOT_EP_IN) throw new Error(`PICOBOOT model: bulk IN from endpoint ${ep} (only the PICOBOOT interface is modelled)`);
    if (this.halted.in) { this.busTime(0); return { status: "stall", data: none }; }
    const c = this.cmd;
    if (c && isRead(c) && this.done < c.length) return this.readData(length);
    if (c && this.ackPending && !(c.id & 0x80)) {
      this.busTime(0);
      this.ackPending = false;
      this.cmd = null;
      this.status.inProgress = false;
      return { status: "ok", data: none };
    }
    // Nothing to send: the endpoint NAKs until the host gives up.
    this.pass(timeoutMs * 1000);
    return { status: this.present() ? "timeout" : "nodevice", data: none };
  }

  private haltBoth(): BulkResult {
    this.halted = { out: true, in: true };
    this.status.inProgress = false;
    this.cmd = null;
    this.ackPending = false;
    return { status: "stall", data: new Uint8Array(0) };
  }

  /** A refused command packet: the controller took the packet (ACK), then the ROM halts both
   *  endpoints, so it is the host's next transfer that stalls. */
  private refuse(): BulkResult {
    this.haltBoth();
    return { status: "ok", data: new Uint8Array(0) };
  }

  /** _picoboot_cmd_packet_internal(). */
  private command(p: Uint8Array): BulkResult {
    if (p.length !== 32) return this.refuse();
    const dv = new DataView(p.buffer, p.byteOffset, 32);
    if (dv.getUint32(0, true) !== PICOBOOT_MAGIC) return this.refuse();
    const c: Command = {
      token: dv.getUint32(4, true), id: p[8], size: p[9], length: dv.getUint32(12, true),
      addr: dv.getUint32(16, true), args: new DataView(p.buffer, p.byteOffset + 16, 16),
    };
    this.status = { token: c.token, code: STATUS.UNKNOWN_CMD, cmdId: c.id, inProgress: false };
    const entry = CMD_SIZE[c.id & 0x7f];
    if (!entry) return this.refuse();
    if (c.size !== entry[0]) { this.status.code = STATUS.INVALID_CMD_LENGTH; return this.refuse(); }
    this.status.code = STATUS.OK;
    const wantLength = entry[1] ? c.args.getUint32(4, true) : 0;
    if (c.length !== wantLength) { this.status.code = STATUS.INVALID_TRANSFER_LENGTH; return this.refuse(); }
    // REBOOT has no task type: only its exact id reboots, anything else ends as a bad length.
    if ((c.id & 0x7f) === PC.REBOOT && c.id !== PC.REBOOT) { this.status.code = STATUS.INVALID_TRANSFER_LENGTH; return this.refuse(); }
    this.cmd = c;
    this.done = 0;
    if (c.id === PC.REBOOT) {
      this.reboot(c.args.getUint32(0, true), c.args.getUint32(4, true), c.args.getUint32(8, true));
      this.ackPending = true;
      return { status: "ok", data: new Uint8Array(0) };
    }
    this.status.inProgress = true;
    if (c.length) return { status: "ok", data: new Uint8Array(0) }; // the data stage follows
    // queue_task(..., _atc_ack): the ACK follows whatever the task returned, and the status keeps
    // PICOBOOT_OK: a misaligned or out-of-range FLASH_ERASE is ACKed having erased nothing.
    const r = this.execute(c, c.addr, 0);
    if (r === "hung") return { status: "ok", data: new Uint8Array(0) }; // no ACK will come
    if (r !== STATUS.OK) this.executed.push(`(ignored: status ${r})`);
    this.ackPending = true;
    return { status: "ok", data: new Uint8Array(0) };
  }

  private writeData(data: Uint8Array): BulkResult {
    const c = this.cmd!;
    let off = 0;
    while (off < data.length) {
      const chunk = Math.min(PAGE, c.length - this.done, data.length - off);
      if (chunk <= 0) return this.haltBoth(); // more data than dTransferLength: babble
      this.pageBuffer.set(data.subarray(off, off + chunk));
      const r = this.execute(c, c.addr + this.done, chunk);
      if (r !== STATUS.OK) {
        this.status.code = r as number;
        this.status.inProgress = false;
        this.halted.out = true;
        this.cmd = null;
        return { status: "stall", data: new Uint8Array(0) };
      }
      this.done += chunk;
      off += chunk;
    }
    if (this.done === c.length) this.ackPending = true;
    return { status: "ok", data: new Uint8Array(0) };
  }

  private readData(length: number): BulkResult {
    const c = this.cmd!;
    const out: number[] = [];
    while (out.length < length && this.done < c.length) {
      const chunk = Math.min(PAGE, c.length - this.done);
      const r = this.execute(c, c.addr + this.done, chunk);
      if (r !== STATUS.OK) {
        this.status.code = r as number;
        this.status.inProgress = false;
        this.halted.in = true;
        this.cmd = null;
        this.busTime(out.length);
        return { status: out.length ? "ok" : "stall", data: Uint8Array.from(out) };
      }
      for (let i = 0; i < chunk; i++) out.push(this.pageBuffer[i]);
      this.done += chunk;
    }
    if (this.done === c.length) this.ackPending = true;
    this.busTime(out.length);
    return { status: "ok", data: Uint8Array.from(out) };
  }

  /** _execute_task() for one command, or one chunk of a READ/WRITE at `addr`. */
  private execute(c: Command, addr: number, len: number): number | "hung" {
    if (this.rebooting) return STATUS.REBOOTING;
    const id = (c.id & 0x7f) === (PC.READ & 0x7f) ? PC.READ : c.id & 0x7f;
    const name = Object.entries(PC).find(([, v]) => v === id)![0];
    if (id === PC.ENTER_CMD_XIP || id === PC.VECTORIZE_FLASH) throw new Error(`PICOBOOT model: ${name} is not modelled`);
    if (id === PC.EXCLUSIVE_ACCESS) { this.exclusive = c.args.getUint8(0); this.executed.push(name); return STATUS.OK; }
    if (id === PC.EXIT_XIP) {
      connectInternalFlash(this.emu.rom);
      flashExitXip(this.emu.rom);
      this.flashConnected = true;
      this.executed.push(name);
      return STATUS.OK;
    }
    if (id === PC.EXEC) {
      this.executed.push(name);
      const r = this.emu.execFromRom(addr);
      return r === "hung" ? "hung" : STATUS.OK;
    }
    if (id === PC.FLASH_ERASE) {
      const size = c.args.getUint32(4, true);
      if (addr & (SECTOR - 1) || size & (SECTOR - 1)) return STATUS.BAD_ALIGNMENT;
      if (!(isFlash(addr) && isFlash(addr + size))) return STATUS.INVALID_ADDRESS;
      this.executed.push(`${name} 0x${addr.toString(16)}+0x${size.toString(16)}`);
      const ops = romFlashOps(this.emu.rom);
      for (let a = addr; a < addr + size; a += SECTOR) if (this.flashConnected) ops.sectorErase((a - XIP_MAIN_BASE) & 0xffffff);
      return STATUS.OK;
    }
    // READ / WRITE, one chunk.
    const ram = isRam(addr) && isRam(addr + len);
    const write = id === PC.WRITE;
    if (!ram) {
      if (!write && addr < 8192 && addr + len <= 8192) throw new Error("PICOBOOT model: reading the boot ROM is not modelled");
      if (!(isFlash(addr) && isFlash(addr + len))) return STATUS.INVALID_ADDRESS;
      if (addr & (PAGE - 1)) return STATUS.BAD_ALIGNMENT;
    }
    if (this.done === 0) this.executed.push(`${name} 0x${addr.toString(16)}+0x${c.length.toString(16)}`);
    const m = this.emu.mcu;
    if (ram) {
      for (let i = 0; i < len; i++) {
        const a = addr + i;
        if (a >= XIP_SRAM_BASE && a < XIP_SRAM_END) {
          if (write) this.xipSram[a - XIP_SRAM_BASE] = this.pageBuffer[i]; else this.pageBuffer[i] = this.xipSram[a - XIP_SRAM_BASE];
        } else if (write) m.writeUint8(a, this.pageBuffer[i]);
        else this.pageBuffer[i] = m.readUint8(a);
      }
      return STATUS.OK;
    }
    const ops = romFlashOps(this.emu.rom);
    const off = (addr - XIP_MAIN_BASE) & 0xffffff;
    if (write) { if (this.flashConnected) ops.pageProgram(off, this.pageBuffer); }
    else if (this.flashConnected) ops.readData(off, this.pageBuffer);
    else this.pageBuffer.fill(0);
    return STATUS.OK;
  }

  /** safe_reboot() -> watchdog_reboot() (usb_device_tiny/runtime.c), on the chip's own registers. */
  private reboot(pc: number, sp: number, delayMs: number): void {
    if (pc) throw new Error("PICOBOOT model: REBOOT into RAM code (dPC != 0) is not modelled");
    void sp;
    const m = this.emu.mcu;
    this.executed.push(`REBOOT delay ${delayMs} ms`);
    m.writeUint32(PSM_WDSEL, PSM_WDSEL_ALL & ~PSM_WDSEL_ROSC_XOSC); // everything but the oscillators
    m.writeUint32(WD.CTRL, m.readUint32(WD.CTRL) & ~(WD_CTRL_ENABLE | WD_CTRL_PAUSE_ALL));
    m.writeUint32(WD.SCRATCH4, 0); // no vector to boot into
    m.writeUint32(WD.LOAD, delayMs * 1000);
    m.writeUint32(WD.TICK, 12 | WD_TICK_ENABLE); // 12 cycles of the 12 MHz clk_ref
    m.writeUint32(WD.CTRL, m.readUint32(WD.CTRL) | WD_CTRL_ENABLE);
    this.rebooting = true;
  }
}
