// QUADSPI of the STM32H750 (RM0433 23) with the project's NOR flash model (sim/nor-flash.ts) on
// its pins. Modelled, from the manual:
// - CR.EN gates everything; CR.ABORT stops the current command or memory-mapped mode, clears
//   BUSY and then clears itself (23.3.14); CR.FTHRES is the FIFO threshold - 1 (32-byte FIFO);
// - indirect mode (23.3.9): the command starts on the CCR write when it needs neither address
//   nor (for writes) data, else on the AR write, except writes with data, which start when the
//   first data reaches DR; DLR + 1 bytes are transferred; SR.FTF (threshold reached, or data
//   left after the last read), SR.TCF (all bytes transferred), SR.BUSY (until TCF and, for
//   reads, an empty FIFO), SR.FLEVEL; FCR clears flags; DR access width takes that many bytes;
// - an address at or beyond 2^(FSIZE+1) sets TEF and the command does not run (23.3.12);
// - memory-mapped mode (FMODE 11, 23.3.11): the emulator serves the 0x90000000 window from one
//   transaction built from CCR and ABR over the whole chip, so what the CPU reads is what the
//   configured read returns from the chip (noise when the format does not suit it); BUSY stays
//   set until ABORT;
// - the flash only sees the bus when the six pins are routed to QUADSPI (GPIO alternate
//   functions of the WeAct board); otherwise reads return FFh and nothing reaches the chip.
// - nCS is high for at least DCR.CSHT + 1 SCK cycles between commands (23.5.2), SCK being the
//   kernel clock / (CR.PRESCALER + 1): the model checks that this meets the chip's tSHSL1, and
//   its tSHSL2 after a command that starts an erase, a program or a status write, and throws
//   when it does not (the chip may then miss the command); and that SCK is within the chip's
//   clock limit (fR; 50 MHz for 03h, W25Q64JV 9.6).
// Bus timing is not modelled otherwise (transfers complete at once); the chip's busy time is.
import type { NorFlash, Transaction } from "../nor-flash";
import { resetOf } from "./vendor";

const LINES = [0, 1, 2, 4];
// Commands after which the chip needs tSHSL2: program (02h, 32h), erase (20h, 52h, D8h, C7h,
// 60h), status write (01h, 31h, 11h).
const WRITE_OPS = new Set([0x02, 0x32, 0x20, 0x52, 0xd8, 0xc7, 0x60, 0x01, 0x31, 0x11]);
const ADDR_BYTES = [1, 2, 3, 4];

export class QuadspiModel {
  // Reset values from ST's SVD (sim/h750/vendor.ts); SR is computed.
  cr = resetOf("QSPI_CR"); dcr = resetOf("QSPI_DCR"); dlr = resetOf("QSPI_DLR"); ccr = resetOf("QSPI_CCR");
  ar = resetOf("QSPI_AR"); abr = resetOf("QSPI_ABR"); psmkr = resetOf("QSPI_PSMKR"); psmar = resetOf("QSPI_PSMAR");
  pir = resetOf("QSPI_PIR"); lptr = resetOf("QSPI_LPTR");
  private tef = false; private tcf = false;
  private fifo: number[] = [];
  private writeBuf: number[] = [];
  private active: "none" | "read" | "write" | "mmap" = "none";
  /** Called when memory-mapped mode starts (with the window's bytes) and ends (null). */
  onMapped: (window: Uint8Array | null) => void = () => {};
  commands = 0;

  /** Shortest chip-select high time seen before a command, in ns (for tests). */
  minCsHighNs = Infinity;
  /** Fastest SCK any command ran at, Hz (for tests). */
  maxSckHz = 0;
  private lastInstr = -1;

  constructor(readonly chip: NorFlash, private readonly pinsOk: () => boolean, private readonly kernelHz: () => number = () => 100e6) {}

  private checkCsHigh(instr: number): void {
    const sck = this.kernelHz() / (((this.cr >>> 24) & 0xff) + 1);
    const maxHz = instr === 0x03 ? 50e6 : this.chip.params.maxSckHz;
    if (sck > maxHz) throw new Error(`QUADSPI: SCK ${(sck / 1e6).toFixed(1)} MHz for ${instr.toString(16)}h, the chip allows ${maxHz / 1e6} MHz`);
    this.maxSckHz = Math.max(this.maxSckHz, sck);
    const prev = this.lastInstr;
    this.lastInstr = instr;
    if (prev < 0) return;
    const ns = ((((this.dcr >>> 8) & 7) + 1) * 1e9) / sck;
    this.minCsHighNs = Math.min(this.minCsHighNs, ns);
    const need = WRITE_OPS.has(prev) ? this.chip.params.csHighNs.write : this.chip.params.csHighNs.read;
    if (ns + 1e-9 < need) {
      throw new Error(`QUADSPI: nCS high ${ns.toFixed(1)} ns (CSHT ${(this.dcr >>> 8) & 7}, SCK ${(sck / 1e6).toFixed(1)} MHz) after ${prev.toString(16)}h, the chip needs ${need} ns`);
    }
  }

  private get fmode(): number { return (this.ccr >>> 26) & 3; }
  private get fthres(): number { return ((this.cr >>> 8) & 31) + 1; }
  private get enabled(): boolean { return (this.cr & 1) === 1; }

  private busy(): boolean {
    if (this.active === "mmap") return true;
    if (this.active === "write") return true;
    return this.active === "read" && (!this.tcf || this.fifo.length > 0);
  }

  read(off: number, size: number): number {
    switch (off) {
      case 0x00: return this.cr;
      case 0x04: return this.dcr;
      case 0x08: {
        // Writes: bytes leave the FIFO for the bus as soon as they arrive (no bus timing here), so
        // there is always room. Reads: the threshold, or data left after the last read.
        const ftf = this.active === "write" ? true
          : this.fifo.length >= this.fthres || (this.tcf && this.fifo.length > 0);
        return (this.tef ? 1 : 0) | (this.tcf ? 2 : 0) | (ftf ? 4 : 0) | (this.busy() ? 1 << 5 : 0) |
          (Math.min(this.fifo.length, 32) << 8);
      }
      case 0x10: return this.dlr;
      case 0x14: return this.ccr;
      case 0x18: return this.ar;
      case 0x1c: return this.abr;
      case 0x20: {
        let v = 0;
        for (let i = 0; i < size; i++) v |= (this.fifo.shift() ?? 0) << (8 * i);
        if (this.active === "read" && this.tcf && this.fifo.length === 0) this.active = "none";
        return v >>> 0;
      }
      case 0x24: return this.psmkr;
      case 0x28: return this.psmar;
      case 0x2c: return this.pir;
      case 0x30: return this.lptr;
      default: return 0;
    }
  }

  write(off: number, size: number, value: number): void {
    value >>>= 0;
    switch (off) {
      case 0x00:
        if (value & 2) { this.abort(); value &= ~2; }
        this.cr = value;
        return;
      case 0x04: if (!this.busy()) this.dcr = value; return;
      case 0x0c: if (value & 1) this.tef = false; if (value & 2) this.tcf = false; return;
      case 0x10: if (!this.busy()) this.dlr = value; return;
      case 0x14:
        if (this.busy()) return; // 23.5.6: CCR is read-only while BUSY
        this.ccr = value;
        if (!this.enabled) return;
        if (this.fmode === 3) return this.startMapped();
        if (this.admode === 0 && (this.fmode === 1 || this.dmode === 0)) this.start();
        else if (this.admode === 0 && this.fmode === 0) this.active = "write";
        return;
      case 0x18:
        if (this.busy() && this.active !== "write") return;
        this.ar = value;
        if (!this.enabled || this.fmode === 3) return;
        if (this.fmode === 1 || this.dmode === 0) this.start();
        else this.active = "write";
        return;
      case 0x1c: if (!this.busy()) this.abr = value; return;
      case 0x20:
        if (!this.enabled || this.fmode !== 0 || this.dmode === 0) return;
        this.active = "write";
        for (let i = 0; i < size; i++) this.writeBuf.push((value >>> (8 * i)) & 0xff);
        if (this.writeBuf.length >= this.dlr + 1) this.start();
        return;
      case 0x24: this.psmkr = value; return;
      case 0x28: this.psmar = value; return;
      case 0x2c: this.pir = value & 0xffff; return;
      case 0x30: this.lptr = value & 0xffff; return;
    }
  }

  private get admode(): number { return (this.ccr >>> 10) & 3; }
  private get dmode(): number { return (this.ccr >>> 24) & 3; }

  private abort(): void {
    if (this.active === "mmap") this.onMapped(null);
    this.active = "none";
    this.fifo = [];
    this.writeBuf = [];
  }

  /** The transaction CCR/AR/ABR describe, with `n` data bytes. */
  private transaction(addr: number, data: Uint8Array): Transaction {
    const c = this.ccr;
    const absize = (c >>> 16) & 3;
    if (((c >>> 14) & 3) && absize !== 0) throw new Error("QUADSPI model: only 8-bit alternate bytes are modelled");
    if (c & (1 << 31)) throw new Error("QUADSPI model: DDR mode is not modelled");
    const admode = (c >>> 10) & 3;
    return {
      instr: c & 0xff, instrLines: LINES[(c >>> 8) & 3],
      addr: admode ? addr >>> 0 : 0, addrBytes: admode ? ADDR_BYTES[(c >>> 12) & 3] : 0, addrLines: LINES[admode],
      mode: this.abr & 0xff, modeLines: LINES[(c >>> 14) & 3],
      dummy: (c >>> 18) & 31, dataLines: LINES[(c >>> 24) & 3], write: this.fmode === 0, data,
    };
  }

  private outOfRange(addr: number): boolean {
    const fsize = (this.dcr >>> 16) & 31;
    return this.admode !== 0 && fsize < 31 && addr >>> 0 >= 2 ** (fsize + 1);
  }

  private start(): void {
    this.commands++;
    this.checkCsHigh(this.ccr & 0xff);
    if (this.outOfRange(this.ar)) { this.tef = true; this.active = "none"; return; }
    const n = this.dmode ? this.dlr + 1 : 0;
    const write = this.fmode === 0;
    const data = write ? Uint8Array.from(this.writeBuf.slice(0, n)) : new Uint8Array(n);
    const t = this.transaction(this.ar, data);
    if (this.pinsOk()) this.chip.transaction(t);
    else if (!write) data.fill(0xff);
    this.writeBuf = [];
    this.tcf = true;
    if (write || n === 0) { this.active = "none"; return; }
    this.fifo = Array.from(data);
    this.active = "read";
  }

  private startMapped(): void {
    this.checkCsHigh(this.ccr & 0xff);
    this.active = "mmap";
    const data = new Uint8Array(this.chip.params.size);
    const t = this.transaction(0, data);
    if (this.pinsOk()) this.chip.transaction(t);
    else data.fill(0xff);
    this.onMapped(data);
  }

  get mapped(): boolean { return this.active === "mmap"; }
}
