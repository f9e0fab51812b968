// The RP2040's flash interface for rp2040js, whose own SSI is a stub and which has no IO_QSPI:
// the SSI (Synopsys DW_apb_ssi, RP2040 datasheet 4.10), the chip-select override of IO_QSPI
// (2.19.6.4), the XIP cache controls (2.6.3) and reads through the XIP window (2.6.3.1),
// with the project's NOR flash model (sim/nor-flash.ts) on the wires. Modelled:
// - registers that only take writes while SSIENR = 0 (4.10.13: CTRLR0, CTRLR1, BAUDR,
//   SPI_CTRLR0 and the sample delay); disabling clears both FIFOs;
// - standard SPI (SPI_FRF 0) with TMOD 0 (transmit and receive), 8-bit frames: every frame
//   pushed to DR0 clocks one byte each way; the chip select is the override when IO_QSPI
//   forces it, else the SSI's own, which rises whenever the TX FIFO runs dry;
// - quad (SPI_FRF 2) EEPROM reads (TMOD 3): the FIFO's first entry is the instruction
//   (INST_L 8 bits), the next the address (ADDR_L nibbles; with 32 bits, a 24-bit address and a
//   mode byte, the form W25Q chips take), then WAIT_CYCLES and NDF + 1 frames in;
// - quad TX-only transfers (TMOD 1): instruction and address entries, then data frames; the
//   transfer ends when the TX FIFO runs dry, and the next entry starts a new one as its
//   instruction (a driver that does not keep the FIFO fed corrupts its command, as on silicon);
// - FIFOs of 16 entries with the time each frame takes at SCK = clk_sys / BAUDR: SR's BUSY,
//   TFNF, TFE and RFNE, TXFLR and RXFLR follow simulated time; a frame that arrives while 16
//   received frames wait unread is lost (counted in `rxOverflows`, as the RXOI interrupt would);
// - the DMA handshake (DW_apb_ssi databook, DMA controller interface; registers DMACR, DMATDLR,
//   DMARDLR): the transmit request is up while TDMAE is set and the TX FIFO holds at most
//   DMATDL entries, the receive request while RDMAE is set and the RX FIFO holds at least
//   DMARDL + 1. On the RP2040 they are DREQ_XIP_SSITX (38) and DREQ_XIP_SSIRX (39) (datasheet
//   2.5.3.1, pico-sdk dreq.h); sim/rp2040/ssi-dreq.ts paces DMA channels by them. Only the
//   level request is modelled, not DW_apb_ssi's single-frame one: with DMARDL above 0 the last
//   few frames of a transfer raise nothing here (the firmware uses 0);
// - XIP: with SSIENR = 1 and TMOD 3, a read of the window is a transaction built from
//   SPI_CTRLR0 (XIP_CMD as instruction, or, with INST_L 0, as the mode bits after the address).
//   A 16 KiB cache of 8-byte lines is modelled for its timing only (a miss stalls the CPU for
//   the transfer; FLUSH empties it). Stores to the window raise an error: flash cannot be
//   written that way.
// - SER (slave enable): the SSI asserts its select only with SER bit 0 set; with SER = 0 a
//   transfer does not start (DW_apb_ssi: a master transfer needs a selected slave), its frames
//   stay in the TX FIFO and the flash sees nothing;
// - the pins (sim/rp2040/qspi-pins.ts): the chip select is the QSPI_SS pad, and a transfer
//   with SCLK/SD pins not on the XIP function throws (nothing would reach the flash).
// Reset values and the registers not modelled beyond storage (interrupt masks and their
// thresholds) come from pico-sdk's ssi.h through vendor-regs.json. Not modelled: CPOL/CPHA
// (SCPOL/SCPH are stored; every setting reads the same), interrupts.
// Anything else (other frame sizes, TX-only quad, DDR) throws: the driver would be relying
// on behaviour nobody has checked.
import { clocksOf } from "../qspi-bus";
import type { QspiPins } from "./qspi-pins";
import { RegFile, VENDOR, accessMask, resetOf } from "./vendor-regs";

// Writable bits per register offset (RW fields in ssi.h): what a write can change.
const WRITABLE = new Map(Object.values(VENDOR.blocks.SSI.registers).map((r) => [r.address - VENDOR.blocks.SSI.base, accessMask(r, "RW")]));
import type { NorFlash, Transaction } from "../nor-flash";
import { NorSpiSession } from "../nor-spi";

export interface SsiHost {
  /** Simulated time in nanoseconds. */
  nanos(): number;
  /** clk_sys in Hz. */
  clkSys(): number;
  /** The CPU waits `cycles` of clk_sys (an XIP cache miss). */
  stall(cycles: number): void;
  /** The SSI's state changed in a way that may raise a DMA request (sim/rp2040/ssi-dreq.ts). */
  dreqChanged?(): void;
}

const FIFO_DEPTH = 16;
const SR_BUSY = 1, SR_TFNF = 2, SR_TFE = 4, SR_RFNE = 8, SR_RFF = 16;

export class SsiError extends Error {}

interface Frame { value: number; at: number }

export class Rp2040Flash {
  // SSI registers with behaviour; the rest is storage (`regs`). Reset values: ssi.h.
  ctrlr0 = resetOf("SSI", "CTRLR0"); ctrlr1 = resetOf("SSI", "CTRLR1"); ssienr = resetOf("SSI", "SSIENR");
  baudr = resetOf("SSI", "BAUDR"); rxSampleDly = resetOf("SSI", "RX_SAMPLE_DLY"); spiCtrlr0 = resetOf("SSI", "SPI_CTRLR0");
  ser = resetOf("SSI", "SER");
  readonly regs = new RegFile("SSI");
  /** Frames lost to a full RX FIFO (the driver took data too slowly or asked for too much). */
  rxOverflows = 0;
  txOverflows = 0;
  /** XIP statistics: accesses, cache misses. */
  xip = { reads: 0, misses: 0 };

  private rx: Frame[] = [];        // received, not read yet (at most 16)
  private incoming: Frame[] = [];  // still on the wires: `at` is when each lands in the FIFO
  private txStarts: number[] = []; // when each pushed TX frame starts shifting
  private lastDone = 0;            // when the last frame finishes (ns)
  private pending: number[] = [];  // quad EEPROM read: instruction/address entries so far
  private txWrite: number[] | null = null; // quad TX-only transfer in progress: its entries
  private session: NorSpiSession | null = null;
  private ssiSelect = false;       // the SSI's own chip select
  private stuck = 0;               // frames pushed while SER = 0: never sent
  private cache = new Int32Array(2048).fill(-1); // tag (line address) per line
  private xipFast = false;         // the configured XIP read was checked to return the array

  constructor(readonly chip: NorFlash, private readonly host: SsiHost, readonly pins: QspiPins) {}

  // ---- chip select: the QSPI_SS pad ----
  /** Held low whatever the SSI does (the IO_QSPI override, or BOOTSEL on an undriven pad). */
  private get forcedLow(): boolean { return !this.pins.ssLevel(true) && !this.pins.ssLevel(false); }
  private get forcedHigh(): boolean { return this.pins.ssLevel(true) && this.pins.ssLevel(false); }
  private csLow(): boolean { return !this.pins.ssLevel(this.ssiSelect); }
  private needPins(lines: 1 | 4): void {
    if (!this.pins.connected(lines)) throw new SsiError("SSI transfer with the QSPI pins not on the XIP function (IO_QSPI FUNCSEL): the flash sees nothing");
  }

  private endSession(): void {
    const s = this.session;
    this.session = null;
    if (s) s.end();
  }

  private updateSelect(): void {
    if (!this.csLow()) this.endSession();
  }

  // ---- timing ----
  private sckNs(): number {
    if (this.baudr < 2) throw new SsiError(`SSI: BAUDR ${this.baudr} gives no SCK (datasheet 4.10.13: even, at least 2)`);
    return (1e9 / this.host.clkSys()) * (this.baudr & 0xfffe);
  }
  private now(): number { return this.host.nanos(); }
  private busy(): boolean { return this.now() < this.lastDone; }

  private schedule(clocks: number): { start: number; done: number } {
    const start = Math.max(this.now(), this.lastDone);
    const done = start + clocks * this.sckNs();
    this.lastDone = done;
    return { start, done };
  }

  private pushRx(value: number, at: number): void {
    this.incoming.push({ value: value >>> 0, at });
  }

  // Frames that have landed by now join the FIFO in order; one that finds it full is lost.
  // Exact: nothing leaves the FIFO between two register accesses, and every access lands first.
  private land(): void {
    const now = this.now();
    let i = 0;
    for (; i < this.incoming.length && this.incoming[i].at <= now; i++) {
      if (this.rx.length >= FIFO_DEPTH) this.rxOverflows++;
      else this.rx.push(this.incoming[i]);
    }
    if (i) this.incoming.splice(0, i);
  }

  private txLevel(): number {
    const now = this.now();
    this.txStarts = this.txStarts.filter((t) => t > now);
    return this.txStarts.length + this.stuck;
  }

  /** Nanoseconds from now until DMA request `dreq` (38 TX, 39 RX) is up; null while it stays
   *  down until the CPU does something (DMACR, an empty transfer, a disabled SSI). */
  dreqDelayNs(dreq: number): number | null {
    this.settle();
    const dmacr = this.regs.read(0x4c) ?? 0;
    if (!(this.ssienr & 1)) return null;
    if (dreq === 39) {
      if (!(dmacr & 1)) return null;
      this.land();
      const want = ((this.regs.read(0x54) ?? 0) & 0xff) + 1;
      if (this.rx.length >= want) return 0;
      const k = want - this.rx.length - 1;
      return k < this.incoming.length ? this.incoming[k].at - this.now() : null;
    }
    if (dreq === 38) {
      if (!(dmacr & 2)) return null;
      const thr = (this.regs.read(0x50) ?? 0) & 0xff;
      const level = this.txLevel();
      if (level <= thr) return 0;
      if (this.stuck) return null; // frames that never leave (SER = 0)
      return this.txStarts[level - thr - 1] - this.now(); // sorted: they leave in order
    }
    return null;
  }

  // ---- registers (offsets from 0x18000000) ----
  read(offset: number): number {
    this.settle();
    this.land();
    const now = this.now();
    switch (offset) {
      case 0x00: return this.ctrlr0;
      case 0x04: return this.ctrlr1;
      case 0x08: return this.ssienr;
      case 0x14: return this.baudr;
      case 0x10: return this.ser;
      case 0x20: return this.txStarts.filter((t) => t > now).length + this.stuck;
      case 0x24: return this.rx.length;
      case 0x28: {
        this.txStarts = this.txStarts.filter((t) => t > now);
        const ready = this.rx.length;
        const tx = this.txStarts.length + this.stuck;
        return (this.busy() ? SR_BUSY : 0) | (tx < FIFO_DEPTH ? SR_TFNF : 0) |
          (tx === 0 ? SR_TFE : 0) | (ready ? SR_RFNE : 0) | (ready >= FIFO_DEPTH ? SR_RFF : 0);
      }
      case 0x60: {
        const f = this.rx.shift();
        return f ? f.value : 0; // underflow: nothing there yet
      }
      case 0xf0: return this.rxSampleDly;
      case 0xf4: return this.spiCtrlr0;
      default: return this.regs.read(offset) ?? 0;
    }
  }

  write(offset: number, value: number): void {
    const raw = value >>> 0;
    value = (raw & (WRITABLE.get(offset) ?? 0)) >>> 0;
    this.settle();
    this.land();
    const locked = this.ssienr & 1;
    switch (offset) {
      case 0x00: if (!locked) this.ctrlr0 = value; break;
      case 0x04: if (!locked) this.ctrlr1 = value; break;
      case 0x08:
        this.ssienr = value & 1;
        this.xipFast = false;
        if (!this.ssienr) {
          // Disabling stops everything at once: FIFOs cleared, the SSI's select released.
          this.rx = []; this.incoming = []; this.txStarts = []; this.pending = []; this.stuck = 0;
          this.txWrite = null; // a transfer cut off by disabling never completes
          this.lastDone = Math.min(this.lastDone, this.now());
          this.ssiSelect = false;
          this.updateSelect();
        }
        break;
      case 0x10: this.ser = value; break;
      case 0x14: if (!locked) this.baudr = value; break;
      case 0xf0: if (!locked) this.rxSampleDly = value; break;
      case 0xf4: if (!locked) this.spiCtrlr0 = value; break;
      case 0x60: this.push(raw); break;
      default: this.regs.write(offset, raw); break; // interrupt masks; DMACR and the DMA levels (dreqDelayNs)
    }
    this.host.dreqChanged?.();
  }

  /** IO_QSPI or PADS_QSPI were written: the chip select may have moved. */
  pinsChanged(): void {
    this.settle();
    this.xipFast = false;
    if (this.csLow() && !this.session) this.session = new NorSpiSession(this.chip);
    this.updateSelect();
  }

  // ---- transfers ----
  private get frf(): number { return (this.ctrlr0 >>> 21) & 3; }
  private get tmod(): number { return (this.ctrlr0 >>> 8) & 3; }
  private get dfs(): number { return ((this.ctrlr0 >>> 16) & 31) + 1; }

  private push(value: number): void {
    if (!(this.ssienr & 1)) return; // a disabled SSI ignores its FIFO
    this.xipFast = false;
    const now = this.now();
    this.txStarts = this.txStarts.filter((t) => t > now);
    if (this.txStarts.length + this.stuck >= FIFO_DEPTH) { this.txOverflows++; return; }
    if (!(this.ser & 1)) { this.stuck++; return; } // no slave selected: the transfer never starts
    this.needPins(this.frf === 0 ? 1 : 4);
    if (this.frf === 0 && this.tmod === 0) return this.pushStandard(value);
    if (this.frf === 2 && this.tmod === 3) return this.pushQuadRead(value);
    if (this.frf === 2 && this.tmod === 1) return this.pushQuadWrite(value);
    throw new SsiError(`SSI model: SPI_FRF ${this.frf} with TMOD ${this.tmod} is not modelled`);
  }

  private pushStandard(value: number): void {
    if (this.dfs !== 8) throw new SsiError(`SSI model: standard SPI with ${this.dfs}-bit frames is not modelled`);
    // The SSI's own select rises when its FIFO ran dry before this frame.
    if (this.ssiSelect && this.now() >= this.lastDone && !this.forcedLow) {
      this.ssiSelect = false;
      this.updateSelect();
    }
    this.ssiSelect = true;
    if (this.csLow() && !this.session) this.session = new NorSpiSession(this.chip);
    const { start, done } = this.schedule(8);
    this.txStarts.push(start);
    const back = this.session ? this.session.exchange(this.pins.io0(value & 0xff)) : 0xff;
    this.pushRx(back, done);
  }

  private pushQuadRead(value: number): void {
    const spi = this.spiCtrlr0;
    const instL = (spi >>> 8) & 3;
    const addrL = (spi >>> 2) & 15;
    const need = (instL ? 1 : 0) + (addrL ? 1 : 0);
    this.pending.push(value);
    const now = this.now();
    this.txStarts.push(Math.max(now, this.lastDone));
    if (this.pending.length < need) return;
    const [first, second] = this.pending;
    this.pending = [];
    const t = this.transaction(instL ? first & 0xff : -1, instL ? second : first, ((this.ctrlr1 & 0xffff) + 1) * (this.dfs / 8));
    const frameBytes = this.dfs / 8;
    // Chip select for the whole transfer: a forced-high select means the chip sees nothing.
    if (!this.forcedHigh) this.chip.transaction(t);
    else t.data.fill(0xff);
    const { start } = this.schedule(clocksOf(t));
    this.txStarts = [start]; // instruction and address leave the FIFO as the transfer starts
    // Frames land one by one after the instruction, address, mode and wait clocks.
    const frames = t.data.length / frameBytes;
    const sck = this.sckNs();
    const head = clocksOf({ ...t, data: new Uint8Array(0), dataLines: 0 }) * sck;
    const perFrame = ((8 * frameBytes) / t.dataLines) * sck;
    for (let i = 0; i < frames; i++) {
      let v = 0;
      for (let j = 0; j < frameBytes; j++) v = (v << 8) | t.data[i * frameBytes + j]; // first byte is the MSB
      this.pushRx(v, start + head + perFrame * (i + 1));
    }
  }

  private pushQuadWrite(value: number): void {
    const spi = this.spiCtrlr0;
    const tt = spi & 3, instL = (spi >>> 8) & 3, addrL = (spi >>> 2) & 15;
    if (instL !== 2 || addrL !== 6) throw new SsiError("SSI model: quad writes with an 8-bit instruction and a 24-bit address only");
    if (!this.txWrite) this.txWrite = [];
    const k = this.txWrite.length;
    this.txWrite.push(value >>> 0);
    const clocks = k === 0 ? (tt === 2 ? 2 : 8) : k === 1 ? (tt >= 1 ? 6 : 24) : this.dfs / 4;
    const { start } = this.schedule(clocks);
    this.txStarts.push(start);
  }

  /** A quad TX-only transfer whose FIFO has run dry is over: the chip gets it now. */
  private settle(): void {
    const w = this.txWrite;
    if (!w || this.now() < this.lastDone) return;
    this.txWrite = null;
    if (w.length < 2) return;
    const tt = this.spiCtrlr0 & 3;
    const bytes = this.dfs / 8;
    const data = new Uint8Array((w.length - 2) * bytes);
    for (let i = 2; i < w.length; i++) for (let j = 0; j < bytes; j++) data[(i - 2) * bytes + j] = (w[i] >>> (8 * (bytes - 1 - j))) & 0xff;
    if (!this.csLow() && !this.forcedLow) return;
    this.chip.transaction({
      instr: w[0] & 0xff, instrLines: tt === 2 ? 4 : 1, addr: w[1] & 0xffffff, addrBytes: 3, addrLines: tt >= 1 ? 4 : 1,
      mode: 0, modeLines: 0, dummy: 0, dataLines: 4, write: true, data,
    });
  }

  /** A read as SPI_CTRLR0 describes it; `instr` -1 = no instruction phase. */
  private transaction(instr: number, addrEntry: number, bytes: number): Transaction {
    const spi = this.spiCtrlr0;
    const tt = spi & 3, addrL = (spi >>> 2) & 15, wait = (spi >>> 11) & 31;
    if (spi & (3 << 16)) throw new SsiError("SSI model: DDR is not modelled");
    const quad = this.frf === 2;
    const lines = (phaseQuad: boolean) => (quad && phaseQuad ? 4 : 1);
    if (addrL !== 6 && addrL !== 8) throw new SsiError(`SSI model: ADDR_L ${addrL} (only 24 bits, or 24 + 8 mode bits)`);
    const withMode = addrL === 8;
    return {
      instr: instr < 0 ? 0 : instr, instrLines: instr < 0 ? 0 : lines(tt === 2),
      addr: withMode ? (addrEntry >>> 8) & 0xffffff : addrEntry & 0xffffff, addrBytes: 3, addrLines: lines(tt >= 1),
      mode: withMode ? addrEntry & 0xff : 0, modeLines: withMode ? lines(tt >= 1) : 0,
      dummy: wait, dataLines: quad ? 4 : 1, write: false, data: new Uint8Array(bytes),
    };
  }

  // ---- XIP window ----
  private xipReady(): boolean {
    // The pad follows the SSI's select (no override), a slave is enabled, the pins are on XIP.
    const followsSsi = this.pins.ssLevel(true) === false && this.pins.ssLevel(false) === true;
    return (this.ssienr & 1) === 1 && this.tmod === 3 && (this.ser & 1) === 1 && followsSsi &&
      this.pins.connected(this.frf === 0 ? 1 : 4) && !this.session;
  }

  /** A 32-bit read of flash offset `offset` through the XIP window. */
  readXip32(offset: number, cached: boolean): number {
    this.xip.reads++;
    const line = offset >>> 3;
    const slot = line & (this.cache.length - 1);
    const hit = cached && this.cache[slot] === line;
    if (!hit) {
      this.xip.misses++;
      if (cached) this.cache[slot] = line;
    }
    if (!this.xipReady()) throw new SsiError(`XIP read at 0x${(0x10000000 + offset).toString(16)} while the SSI is not set up for XIP (the bus would stall)`);
    if (!hit) {
      // The controller reads the whole 8-byte line (two 32-bit frames) on a miss.
      const t = this.transaction(((this.spiCtrlr0 >>> 8) & 3) ? this.spiCtrlr0 >>> 24 : -1, 0, 8);
      this.host.stall(Math.ceil((clocksOf(t) * this.sckNs()) / (1e9 / this.host.clkSys())) + 4);
    }
    const size = this.chip.params.size;
    const aligned = offset & ~3;
    if (this.xipFast && !this.chip.busy()) {
      const d = this.chip.data;
      const o = aligned % size;
      return (d[o] | (d[(o + 1) % size] << 8) | (d[(o + 2) % size] << 16) | (d[(o + 3) % size] << 24)) >>> 0;
    }
    // The real transaction: the chip may answer garbage (wrong mode, quad not enabled, busy).
    const withInstr = ((this.spiCtrlr0 >>> 8) & 3) !== 0;
    const mode = this.spiCtrlr0 >>> 24;
    const addrL = (this.spiCtrlr0 >>> 2) & 15;
    const entry = addrL === 8 && !withInstr ? ((aligned % size) << 8) | mode : aligned % size;
    const t = this.transaction(withInstr ? mode : -1, entry >>> 0, 4);
    this.chip.transaction(t);
    const v = (t.data[0] | (t.data[1] << 8) | (t.data[2] << 16) | (t.data[3] << 24)) >>> 0;
    const d = this.chip.data;
    const o = aligned % size;
    const truth = (d[o] | (d[(o + 1) % size] << 8) | (d[(o + 2) % size] << 16) | (d[(o + 3) % size] << 24)) >>> 0;
    // Once the configured read has returned the array, the next reads can skip the bus model
    // until anything about the SSI or the chip select changes.
    if (v === truth && !this.chip.busy()) this.xipFast = true;
    return v;
  }

  flushCache(): void { this.cache.fill(-1); }

  /** The level of the QSPI_SS pad (SIO GPIO_HI_IN bit 1). */
  ssPadLevel(): boolean { return this.pins.ssLevel(this.ssiSelect); }
}
