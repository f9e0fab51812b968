// ST's system-memory USB DFU bootloader of the STM32H750 (BOOT0 held at reset), as a device on
// a simulated bus: it answers control transfers at the request level (ControlHost), so
// tools/usb/sim-device.ts and tools/dfu/client.ts drive it as they drive the other devices.
//
// Sources, facts only:
// - ST AN3156 "USB DFU protocol used in the STM32 bootloader" (and its predecessor AN2662
//   chapter 4, the same protocol): section 2 (requests), 3 (DFU bootloader commands),
//   4 (DFU_UPLOAD: Get command, Read memory), 5 (DFU_DNLOAD: Write memory, Set Address Pointer,
//   Erase, Read Unprotect, Leave DFU mode).
// - USB DFU 1.1 (state machine, status codes, STALL -> dfuERROR/errSTALLEDPKT).
// - AN2606 (STM32H74x/75x: system memory boot with BOOT0 = 1, DFU on USB OTG FS PA11/PA12).
// - RM0433 4.3 (embedded flash: 128 KiB sectors, 256-bit flash words programmed at once with
//   their ECC, bits only go from 1 to 0, a flash word is programmed once per erase).
// - What the WeAct H750's ROM reports, observed by others (NuttX boards/arm/stm32h7/
//   weact-stm32h750 documentation, `dmesg` and `dfu-util -l`; the same strings in plugdata's
//   Daisy Seed (also an STM32H750) exporter): bcdDevice 2.00, "STMicroelectronics",
//   "DFU in FS Mode", serial "200000500000", wTransferSize 1024, two alternate settings
//   "@Internal Flash   /0x08000000/16*128Kg" and "@Option Bytes   /0x5200201C/01*128 e".
//   The ROM advertises 16 sectors (the H743 die's 2 MiB, which the H750 carries), although ST
//   specifies 128 KiB (one sector) for the H750. Newer ROM versions (bcdDevice 0x2200) add
//   "@OTP Memory" and "@Device Feature" alternates; this model is the 2.00 one.
// Not confirmed from any document, and chosen here (each says so where it is used): string
// indices 4/5 of the alternates, the functional descriptor's bmAttributes 0x0B and
// wDetachTimeOut 255, bwPollTimeout 0, serial derivation (fixed as observed), what happens
// on a write over a flash word already programmed (the ROM does not say; the flash does what
// RM0433 says), and option-byte / RAM targets (refused here; the real ROM accepts them).
import type { ControlHost, ControlResult, ControlStatus, Setup } from "../usb-host";

export const ROM_VID = 0x0483, ROM_PID = 0xdf11;
export const FLASH_BASE = 0x08000000;
export const SECTOR = 128 * 1024;
/** Sectors the ROM advertises (the layout string); the H750 datasheet guarantees the first one. */
export const SECTORS = 16;
export const FLASH_WORD = 32; // RM0433 4.3.9: 256 bits
export const TRANSFER_SIZE = 1024;
export const LAYOUT_FLASH = "@Internal Flash   /0x08000000/16*128Kg";
export const LAYOUT_OPTION_BYTES = "@Option Bytes   /0x5200201C/01*128 e";

const S = { dfuIDLE: 2, dfuDNLOAD_SYNC: 3, dfuDNBUSY: 4, dfuDNLOAD_IDLE: 5, dfuMANIFEST_SYNC: 6, dfuMANIFEST: 7, dfuUPLOAD_IDLE: 9, dfuERROR: 10 } as const;
const E = { OK: 0, errTARGET: 1, errVENDOR: 0x0b, errSTALLEDPKT: 0x0f } as const;
// AN3156 section 3: the bootloader's commands, as the Get command lists them.
const CMD = { GET: 0x00, SET_ADDRESS: 0x21, ERASE: 0x41, READ_UNPROTECT: 0x92 } as const;

type Pending =
  | { kind: "write"; block: number; data: Uint8Array }
  | { kind: "command"; bytes: Uint8Array }
  | { kind: "leave" };

export interface RomOptions {
  /** Flash contents at power-on (from 0x08000000); erased (FFh) elsewhere. */
  flash?: Uint8Array;
  /** RDP level 1: reads, writes and erases refused with errVENDOR (AN3156 5.x). */
  readProtected?: boolean;
  /** A fault for tests: the flash byte at this address comes out with its bits flipped when programmed. */
  corruptAt?: number;
  /** Leave without answering the GETSTATUS that triggers it, as dfu-util's "Error during
   *  download get_status" on a WeAct H750 suggests (NuttX's weact-stm32h750 page). */
  leavesBeforeStatus?: boolean;
}

export class StRomDfu implements ControlHost {
  /** The internal flash the ROM writes (the whole advertised 2 MiB). */
  readonly flash = new Uint8Array(SECTORS * SECTOR).fill(0xff);
  /** Flash words programmed since their sector's last erase (one bit each, RM0433 4.3.9). */
  private programmed = new Uint8Array((SECTORS * SECTOR) / FLASH_WORD);
  /** Flash words programmed twice since an erase: their ECC no longer matches (a read on silicon reports a double error). */
  readonly eccBroken = new Set<number>();
  readProtected: boolean;
  corruptAt?: number;
  /** Where the ROM jumped on leaving (undefined while it runs). */
  jumpedTo?: number;
  /** Requests served, erases done, for tests. */
  transfers = 0;
  erases: number[] = [];
  massErases = 0;
  nowMs = 0;

  private state: number = S.dfuIDLE;
  private status: number = E.OK;
  private pointer = FLASH_BASE; // AN3156 5.5: the default jump address is the flash start
  private alt = 0;
  private configured = false;
  private pending?: Pending;
  private gone = false;

  constructor(opts: RomOptions = {}) {
    if (opts.flash) this.flash.set(opts.flash.subarray(0, this.flash.length));
    // Words that hold data count as programmed; the FFh ones may be virgin or not: assume virgin.
    for (let w = 0; w < this.programmed.length; w++) {
      for (let i = 0; i < FLASH_WORD; i++) if (this.flash[w * FLASH_WORD + i] !== 0xff) { this.programmed[w] = 1; break; }
    }
    this.readProtected = !!opts.readProtected;
    this.corruptAt = opts.corruptAt;
    this.leavesBeforeStatus = !!opts.leavesBeforeStatus;
  }
  private leavesBeforeStatus: boolean;

  present(): boolean { return !this.gone; }
  sleep(ms: number): void { this.nowMs += ms; }

  /** A bus reset: the ROM stays in DFU mode (BOOT0 decides at chip reset only), its DFU state is reset. */
  reset(): ControlStatus {
    if (this.gone) return "nodevice";
    this.state = S.dfuIDLE; this.status = E.OK; this.pending = undefined; this.alt = 0; this.configured = true;
    return "ok";
  }

  /** Chip reset with BOOT0 still held: back in the ROM, flash kept (used after read unprotect). */
  private chipReset(): void {
    this.state = S.dfuIDLE; this.status = E.OK; this.pending = undefined; this.alt = 0;
    this.pointer = FLASH_BASE;
  }

  control(setup: Setup, data?: Uint8Array): ControlResult {
    if (this.gone) return { status: "nodevice", data: new Uint8Array(0) };
    this.transfers++;
    const r = this.request(setup, data ?? new Uint8Array(0));
    if (this.gone && this.leavesBeforeStatus) return { status: "nodevice", data: new Uint8Array(0) };
    if (r === "stall") return { status: "stall", data: new Uint8Array(0) };
    return { status: "ok", data: r.subarray(0, setup.wLength) };
  }

  private request(s: Setup, data: Uint8Array): Uint8Array | "stall" {
    const type = s.bmRequestType & 0x60;
    if (type === 0x00) return this.standard(s);
    if (type === 0x20 && (s.bmRequestType & 0x1f) === 1 && (s.wIndex & 0xff) === 0) return this.dfu(s, data);
    return "stall"; // no vendor requests: qspiboot's INFO/CRC requests are refused
  }

  // ---- USB 2.0 chapter 9 ----
  private standard(s: Setup): Uint8Array | "stall" {
    switch (s.bRequest) {
      case 6: return this.descriptor(s.wValue >> 8, s.wValue & 0xff);
      case 5: return new Uint8Array(0); // SET_ADDRESS
      case 9: this.configured = s.wValue === 1; return new Uint8Array(0);
      case 8: return Uint8Array.of(this.configured ? 1 : 0);
      case 11: // SET_INTERFACE: two alternates on interface 0
        if (s.wIndex !== 0 || s.wValue > 1) return "stall";
        this.alt = s.wValue; this.state = S.dfuIDLE; this.status = E.OK; this.pending = undefined;
        return new Uint8Array(0);
      case 10: return Uint8Array.of(this.alt);
      case 0: return Uint8Array.of(0, 0);
      default: return "stall";
    }
  }

  private descriptor(type: number, index: number): Uint8Array | "stall" {
    if (type === 1) {
      return Uint8Array.of(18, 1, 0x00, 0x02, 0, 0, 0, 64, ROM_VID & 0xff, ROM_VID >> 8, ROM_PID & 0xff, ROM_PID >> 8,
        0x00, 0x02, 1, 2, 3, 1);
    }
    if (type === 2) {
      const itf = (alt: number, str: number) => [9, 4, 0, alt, 0, 0xfe, 1, 2, str];
      // Functional descriptor after all alternates (DFU 1.1 4.2.1 puts it after the interface).
      // bmAttributes 0x0B: download, upload, will detach; not manifestation tolerant (AN3156
      // and AN2662 say the device cannot answer after manifestation). Chosen, not observed.
      const func = [9, 0x21, 0x0b, 0xff, 0x00, TRANSFER_SIZE & 0xff, TRANSFER_SIZE >> 8, 0x1a, 0x01];
      const body = [...itf(0, 4), ...itf(1, 5), ...func];
      const total = 9 + body.length;
      return Uint8Array.from([9, 2, total & 0xff, total >> 8, 1, 1, 0, 0xc0, 50, ...body]);
    }
    if (type === 3) {
      const strings = ["", "STMicroelectronics", "DFU in FS Mode", "200000500000", LAYOUT_FLASH, LAYOUT_OPTION_BYTES];
      if (index === 0) return Uint8Array.of(4, 3, 0x09, 0x04);
      const str = strings[index];
      if (!str) return "stall";
      const out = new Uint8Array(2 + 2 * str.length);
      out[0] = out.length; out[1] = 3;
      for (let i = 0; i < str.length; i++) out[2 + 2 * i] = str.charCodeAt(i);
      return out;
    }
    return "stall";
  }

  // ---- DFU class requests (DFU 1.1 chapter 6, AN3156 sections 2-5) ----
  private fail(status: number): "stall" { this.state = S.dfuERROR; this.status = status; return "stall"; }

  private dfu(s: Setup, data: Uint8Array): Uint8Array | "stall" {
    switch (s.bRequest) {
      case 3: return this.getStatus();
      case 5: return Uint8Array.of(this.state);
      case 4: // CLRSTATUS
        if (this.state !== S.dfuERROR) return this.fail(E.errSTALLEDPKT);
        this.state = S.dfuIDLE; this.status = E.OK;
        return new Uint8Array(0);
      case 6: // ABORT
        if (this.state === S.dfuERROR) return this.fail(E.errSTALLEDPKT);
        this.state = S.dfuIDLE; this.status = E.OK; this.pending = undefined;
        return new Uint8Array(0);
      case 1: return this.dnload(s, data);
      case 2: return this.upload(s);
      default: return this.fail(E.errSTALLEDPKT); // DETACH: the ROM has no run-time mode
    }
  }

  private dnload(s: Setup, data: Uint8Array): Uint8Array | "stall" {
    if (this.state !== S.dfuIDLE && this.state !== S.dfuDNLOAD_IDLE) return this.fail(E.errSTALLEDPKT);
    if (s.wLength > TRANSFER_SIZE) return this.fail(E.errSTALLEDPKT);
    if (s.wLength === 0) {
      // AN3156 5.5 Leave DFU mode: a zero-length download after data or a set-address; from
      // dfuIDLE a zero-length download is a protocol error (DFU 1.1 state table).
      if (this.state !== S.dfuDNLOAD_IDLE) return this.fail(E.errSTALLEDPKT);
      this.pending = { kind: "leave" };
      this.state = S.dfuMANIFEST_SYNC;
      return new Uint8Array(0);
    }
    if (s.wValue === 0) this.pending = { kind: "command", bytes: data.slice() };
    else if (s.wValue === 1) return this.fail(E.errSTALLEDPKT); // block 1 has no meaning in DfuSe
    else this.pending = { kind: "write", block: s.wValue, data: data.slice() };
    this.state = S.dfuDNLOAD_SYNC;
    return new Uint8Array(0);
  }

  /** AN3156: a command or write runs on the first GETSTATUS after it (which answers
   *  dfuDNBUSY); the second one reports the outcome. bwPollTimeout: 0, chosen (the work is done
   *  by the time the reply goes out here; ST documents no value). */
  private getStatus(): Uint8Array {
    const reply = (status: number, state: number) => Uint8Array.of(status, 0, 0, 0, state, 0);
    if (this.state === S.dfuDNLOAD_SYNC && this.pending) {
      const p = this.pending;
      this.pending = undefined;
      const outcome = p.kind === "write" ? this.write(p.block, p.data) : this.command(p.bytes);
      // The system reset after read unprotect: on silicon the device drops off the bus and
      // comes back (BOOT0 still held) in the ROM; here it is back in dfuIDLE at once.
      if (outcome === "reset") return reply(E.OK, S.dfuDNBUSY);
      this.after = outcome;
      this.state = S.dfuDNBUSY;
      return reply(E.OK, S.dfuDNBUSY);
    }
    if (this.state === S.dfuDNBUSY) {
      const outcome = this.after ?? E.OK;
      this.after = undefined;
      if (outcome !== E.OK) { this.state = S.dfuERROR; this.status = outcome; }
      else this.state = S.dfuDNLOAD_IDLE;
      return reply(this.status, this.state);
    }
    if (this.state === S.dfuMANIFEST_SYNC && this.pending?.kind === "leave") {
      // AN3156 5.5: the leave happens at this GETSTATUS, which reports dfuMANIFEST; then the
      // ROM frees its resources, disconnects and jumps to the address pointer.
      this.pending = undefined;
      this.jumpedTo = this.pointer;
      this.gone = true;
      return reply(E.OK, S.dfuMANIFEST);
    }
    return reply(this.status, this.state);
  }
  private after?: number;

  private inFlash(a: number, len = 1): boolean {
    return a >= FLASH_BASE && a + len <= FLASH_BASE + this.flash.length;
  }

  private command(b: Uint8Array): number | "reset" {
    if (this.alt !== 0) return E.errTARGET; // option bytes: not modelled (see the header)
    const addr = b.length >= 5 ? (b[1] | (b[2] << 8) | (b[3] << 16) | (b[4] << 24)) >>> 0 : undefined;
    switch (b[0]) {
      case CMD.SET_ADDRESS: // AN3156 5.2
        if (b.length !== 5 || !this.inFlash(addr!)) return E.errTARGET;
        this.pointer = addr!;
        return E.OK;
      case CMD.ERASE: // AN3156 5.3: one page (here a 128 KiB sector) or, with no address, all
        if (this.readProtected) return E.errVENDOR;
        if (b.length === 1) { this.eraseAll(); return E.OK; }
        if (b.length !== 5 || !this.inFlash(addr!)) return E.errTARGET;
        this.eraseSector(Math.floor((addr! - FLASH_BASE) / SECTOR));
        return E.OK;
      case CMD.READ_UNPROTECT: // AN3156 5.4: RDP back to level 0 (erasing the flash), then a system reset
        if (b.length !== 1) return E.errTARGET;
        this.eraseAll();
        this.readProtected = false;
        this.chipReset();
        return "reset";
      default:
        return E.errTARGET;
    }
  }

  private eraseSector(n: number): void {
    this.erases.push(n);
    this.flash.fill(0xff, n * SECTOR, (n + 1) * SECTOR);
    const per = SECTOR / FLASH_WORD;
    this.programmed.fill(0, n * per, (n + 1) * per);
    for (const w of [...this.eccBroken]) if (Math.floor(w / per) === n) this.eccBroken.delete(w);
  }

  private eraseAll(): void {
    this.massErases++;
    this.flash.fill(0xff);
    this.programmed.fill(0);
    this.eccBroken.clear();
  }

  /** AN3156 5.1 Write memory: at pointer + (block - 2) x wTransferSize. The flash takes whole
   *  256-bit words (RM0433 4.3.9): a partial first or last word is completed with FFh (the
   *  force-write path), and that word cannot take more data until its sector is erased. */
  private write(block: number, data: Uint8Array): number {
    if (this.alt !== 0) return E.errTARGET;
    if (this.readProtected) return E.errVENDOR;
    const at = this.pointer + (block - 2) * TRANSFER_SIZE;
    if (!this.inFlash(at, data.length)) return E.errTARGET;
    const off = at - FLASH_BASE;
    for (let w = Math.floor(off / FLASH_WORD); w * FLASH_WORD < off + data.length; w++) {
      // Programming a word twice: bits only clear, and the ECC written the first time no
      // longer matches. AN3156 lists no check the ROM makes here, so none is made.
      if (this.programmed[w]) this.eccBroken.add(w);
      this.programmed[w] = 1;
      for (let i = 0; i < FLASH_WORD; i++) {
        const o = w * FLASH_WORD + i;
        if (o < off || o >= off + data.length) continue;
        let v = data[o - off];
        if (this.corruptAt === FLASH_BASE + o) v ^= 0xff;
        this.flash[o] &= v;
      }
    }
    return E.OK;
  }

  private upload(s: Setup): Uint8Array | "stall" {
    if (this.state !== S.dfuIDLE && this.state !== S.dfuUPLOAD_IDLE) return this.fail(E.errSTALLEDPKT);
    if (s.wValue === 0) { // AN3156 4.1 Get command
      this.state = S.dfuIDLE;
      return Uint8Array.of(CMD.GET, CMD.SET_ADDRESS, CMD.ERASE, CMD.READ_UNPROTECT);
    }
    if (s.wValue === 1 || this.alt !== 0) return this.fail(E.errTARGET);
    if (this.readProtected) return this.fail(E.errVENDOR);
    // AN3156 4.2 Read memory: the same address formula as the write.
    const at = this.pointer + (s.wValue - 2) * TRANSFER_SIZE;
    if (!this.inFlash(at)) return this.fail(E.errTARGET);
    const len = Math.min(s.wLength, FLASH_BASE + this.flash.length - at);
    // DFU 1.1 6.2: a frame shorter than wLength ends the upload.
    this.state = len < s.wLength ? S.dfuIDLE : S.dfuUPLOAD_IDLE;
    return this.flash.slice(at - FLASH_BASE, at - FLASH_BASE + len);
  }
}
