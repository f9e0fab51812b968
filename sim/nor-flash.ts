// A serial NOR flash chip, as the Winbond W25Q16JV/W25Q64JV datasheets describe it (and the
// other chips of sim/chips.ts): erase sets bytes to FFh, programming only clears bits and wraps
// at the page end, WEL is set by 06h and cleared when an operation ends, the busy bit lasts the
// operation's time on the shared clock, commands other than status reads are ignored while
// busy, status registers with QE (non-volatile, or volatile after 50h), JEDEC ID, unique ID,
// SFDP, 66h/99h reset, continuous-read mode of the 1-4-4 EBh read.
// It counts operations and busy time, and can lose power at a chosen operation.
import type { SimClock } from "./clock";
import { PowerCut } from "./halt";
import { buildSfdp, type ChipParams } from "./chips";

export type FlashTiming = "typical" | "maximum" | "instant";

/** One transaction on the bus, phase by phase, as the QSPI controller clocks it out. */
export interface Transaction {
  instr: number; instrLines: number;      // instrLines 0: no instruction phase
  addr: number; addrBytes: number; addrLines: number;
  mode: number; modeLines: number;        // modeLines 0: no mode byte
  dummy: number;                          // clocks
  dataLines: number; write: boolean; data: Uint8Array;
}

export interface FlashStats {
  erase4k: number; erase32k: number; erase64k: number; chipErases: number;
  pagePrograms: number; statusWrites: number; volatileStatusWrites: number;
  reads: number; bytesRead: number; busyUs: number;
}

type CutWhen = "before" | "after" | "during";

export class NorFlash {
  readonly data: Uint8Array;
  readonly sfdp: Uint8Array;
  readonly uid: Uint8Array;
  stats: FlashStats = NorFlash.zeroStats();
  /** Flash-modifying operations so far (erases, programs, status writes). */
  ops = 0;
  /** Variants for bring-up tests: nothing on the bus, or a chip that never gets ready. */
  fault: "none" | "absent-ff" | "absent-00" | "never-ready" = "none";

  private nv = [0, 0, 0];    // non-volatile status registers 1-3
  private sr = [0, 0, 0];    // what the chip runs with (volatile copies)
  private wel = false;
  private volatileWe = false;
  private resetEnabled = false;
  private busyUntil = 0;
  continuous = false;        // continuous-read mode of EBh
  private cut: { at: number; when: CutWhen } | null = null;
  /** Sees every flash-modifying operation the chip accepts, before it runs (tests that check
   *  where the bootloader writes). `start`/`length` are the bytes it may change. */
  observer?: (op: { kind: "program" | "erase" | "status"; start: number; length: number }) => void;

  constructor(readonly params: ChipParams, readonly clock: SimClock, public timing: FlashTiming = "typical", serial = 0) {
    this.data = new Uint8Array(params.size).fill(0xff);
    this.sfdp = params.hasSfdp ? buildSfdp(params) : new Uint8Array(0);
    this.uid = Uint8Array.from([0xd1, 0x64, 0x38, 0x25, 0x13, 0x2a, 0x7f, 0x10]);
    new DataView(this.uid.buffer).setUint32(4, (0x102a7f10 ^ serial) >>> 0, false);
    if (params.qeDefault) this.setQe(this.nv, true);
    this.powerOn();
  }

  static zeroStats(): FlashStats {
    return { erase4k: 0, erase32k: 0, erase64k: 0, chipErases: 0, pagePrograms: 0, statusWrites: 0, volatileStatusWrites: 0, reads: 0, bytesRead: 0, busyUs: 0 };
  }

  /** Power applied: volatile state from the non-volatile registers, nothing running. */
  powerOn(): void {
    this.sr = this.nv.slice();
    this.wel = false;
    this.volatileWe = false;
    this.resetEnabled = false;
    this.busyUntil = 0;
    this.continuous = false;
  }

  /** Lose power at the n-th flash-modifying operation from now (n < 0: never). */
  cutPowerAt(n: number, when: CutWhen): void {
    this.cut = n < 0 ? null : { at: this.ops + n, when };
  }

  busy(): boolean { return this.fault === "never-ready" || this.clock.now < this.busyUntil; }
  readyAt(): number { return this.fault === "never-ready" ? Infinity : Math.max(this.busyUntil, this.clock.now); }
  quadEnabled(): boolean { return this.qe(this.sr); }

  /** Set up a starting state for bring-up tests. */
  startState(s: { busyUs?: number; continuous?: boolean; qe?: boolean }): void {
    if (s.busyUs) this.busyUntil = this.clock.now + s.busyUs;
    if (s.continuous !== undefined) this.continuous = s.continuous;
    if (s.qe !== undefined) { this.setQe(this.nv, s.qe); this.setQe(this.sr, s.qe); }
  }

  private qe(r: number[]): boolean { return this.params.qe === "sr2.1" ? (r[1] & 2) !== 0 : (r[0] & 0x40) !== 0; }
  private setQe(r: number[], on: boolean): void {
    if (this.params.qe === "sr2.1") r[1] = on ? r[1] | 2 : r[1] & ~2;
    else r[0] = on ? r[0] | 0x40 : r[0] & ~0x40;
  }

  private time(t: { typMs: number; maxMs: number }): number {
    return this.timing === "instant" ? 0 : (this.timing === "maximum" ? t.maxMs : t.typMs) * 1000;
  }

  /** Run a flash-modifying operation, honouring a planned power cut. */
  private modify(durationUs: number, apply: (fraction: number) => void, kind: "program" | "erase" | "status", start = 0, length = 0): void {
    this.observer?.({ kind, start, length });
    const n = this.ops++;
    const cut = this.cut && this.cut.at === n ? this.cut : null;
    if (cut) this.cut = null;
    if (cut?.when === "before") { this.ops--; throw new PowerCut(`before operation ${n}`); }
    if (cut?.when === "during") { apply(0.5); throw new PowerCut(`during operation ${n}`); }
    apply(1);
    this.busyUntil = this.clock.now + durationUs;
    this.stats.busyUs += durationUs;
    this.wel = false;
    if (cut?.when === "after") throw new PowerCut(`after operation ${n}`);
  }

  private statusByte(i: number): number {
    if (this.fault === "never-ready") return (this.sr[0] | 1) & 0xff;
    return i === 0 ? (this.sr[0] & 0xfc) | (this.wel ? 2 : 0) | (this.busy() ? 1 : 0) : this.sr[i];
  }

  /** The nibble on IO3..IO0 at each clock of the transaction's leading phases. */
  private nibbles(t: Transaction): number[] {
    const out: number[] = [];
    const phase = (value: number, bits: number, lines: number) => {
      for (let b = bits - lines; b >= 0; b -= lines) {
        const v = (value >>> b) & ((1 << lines) - 1);
        out.push(v | (0xf & ~((1 << lines) - 1))); // undriven lines are pulled high
      }
    };
    if (t.instrLines) phase(t.instr, 8, t.instrLines);
    if (t.addrBytes) phase(t.addr, 8 * t.addrBytes, t.addrLines);
    if (t.modeLines) phase(t.mode, 8, t.modeLines);
    return out;
  }

  transaction(t: Transaction): void {
    if (this.fault === "absent-ff" || this.fault === "absent-00") {
      if (!t.write) t.data.fill(this.fault === "absent-ff" ? 0xff : 0x00);
      return;
    }
    if (this.continuous) {
      // The chip takes the first 6 clocks as address and the next 2 as mode bits (4 lines).
      const n = this.nibbles(t);
      if (n.length < 8) return;
      const addr = (n[0] << 20) | (n[1] << 16) | (n[2] << 12) | (n[3] << 8) | (n[4] << 4) | n[5];
      const mode = (n[6] << 4) | n[7];
      this.continuous = (mode & 0x30) === 0x20;
      if (this.continuous && !t.write) this.readInto(addr, t.data, 0);
      return;
    }
    if (t.instrLines !== 1) return; // no QPI mode on these chips
    const ins = t.instr;
    if (this.resetEnabled && ins !== 0x99) this.resetEnabled = false;
    if (this.busy() && ins !== 0x05 && ins !== 0x35 && ins !== 0x15) {
      if (!t.write) t.data.fill(0xff);
      return;
    }
    switch (ins) {
      case 0x06: this.wel = true; return;
      case 0x04: this.wel = false; return;
      case 0x50: this.volatileWe = this.params.volatileSrWrite; return;
      case 0x05: t.data.fill(this.statusByte(0)); return;
      case 0x35: t.data.fill(this.statusByte(1)); return;
      case 0x15: t.data.fill(this.statusByte(2)); return;
      case 0x01: return this.writeStatus(0, t.data);
      case 0x31: return this.params.qe === "sr2.1" ? this.writeStatus(1, t.data) : undefined;
      case 0x11: return this.writeStatus(2, t.data);
      case 0x9f: return this.fill(t.data, Uint8Array.from(this.params.jedec));
      case 0x4b: return this.fill(t.data, this.uid);
      case 0x5a: {
        if (!this.params.hasSfdp || t.dummy !== 8 || t.addrBytes !== 3) return void t.data.fill(0xff);
        for (let i = 0; i < t.data.length; i++) t.data[i] = this.sfdp[t.addr + i] ?? 0xff;
        return;
      }
      case 0x03: case 0x0b: case 0x6b: case 0xeb: return this.read(t);
      case 0x02: case 0x32: return this.program(t);
      case 0x20: case 0x52: case 0xd8: return this.erase(t);
      case 0xc7: case 0x60: return this.chipErase();
      case 0x66: this.resetEnabled = true; return;
      case 0x99:
        if (this.resetEnabled) { this.sr = this.nv.slice(); this.wel = false; this.volatileWe = false; this.continuous = false; }
        this.resetEnabled = false;
        return;
      default: return;
    }
  }

  private fill(dst: Uint8Array, src: Uint8Array): void {
    for (let i = 0; i < dst.length; i++) dst[i] = i < src.length ? src[i] : 0xff;
  }

  private readInto(addr: number, dst: Uint8Array, from: number): void {
    const size = this.params.size;
    for (let i = from; i < dst.length; i++) dst[i] = this.data[(addr + i - from) % size];
    this.stats.reads++;
    this.stats.bytesRead += dst.length;
  }

  private read(t: Transaction): void {
    const ins = t.instr;
    // What each read expects: address and data lines, dummy clocks, a mode byte.
    const shape = ins === 0x03 ? { a: 1, d: 1, dummy: 0, mode: 0 }
      : ins === 0x0b ? { a: 1, d: 1, dummy: 8, mode: 0 }
      : ins === 0x6b ? { a: 1, d: 4, dummy: 8, mode: 0 }
      : { a: 4, d: 4, dummy: this.params.quadDummy, mode: 4 };
    const quad = ins === 0x6b || ins === 0xeb;
    const ok = t.addrBytes === 3 && t.addrLines === shape.a && t.dataLines === shape.d &&
      t.dummy === shape.dummy && t.modeLines === shape.mode && (!quad || this.quadEnabled());
    if (!ok) {
      // Sampled at the wrong clocks, or IO2/IO3 still WP/HOLD: the host reads noise.
      for (let i = 0; i < t.data.length; i++) t.data[i] = (i * 37 + 0x5a) & 0xff;
      return;
    }
    this.readInto(t.addr, t.data, 0);
    if (ins === 0xeb) this.continuous = (t.mode & 0x30) === 0x20;
  }

  private program(t: Transaction): void {
    const quad = t.instr === 0x32;
    if (!this.wel || t.addrBytes !== 3 || t.addrLines !== 1 || t.dataLines !== (quad ? 4 : 1) || (quad && !this.quadEnabled())) return;
    const page = t.addr & ~0xff;
    const src = t.data.slice(-256); // more than a page: only the last 256 bytes stay latched
    this.stats.pagePrograms++;
    this.modify(this.time(this.params.pageProgram), (fraction) => {
      const n = Math.floor(src.length * fraction);
      for (let i = 0; i < n; i++) {
        const a = page | ((t.addr + i) & 0xff); // wraps at the page end
        this.data[a] &= src[i];
      }
    }, "program", page, 256);
  }

  private erase(t: Transaction): void {
    const type = this.params.erases.find((e) => e.instr === t.instr);
    if (!type || !this.wel || t.addrBytes !== 3 || t.addrLines !== 1) return;
    const start = (t.addr % this.params.size) & ~(type.size - 1);
    if (type.size === 4096) this.stats.erase4k++;
    else if (type.size === 32768) this.stats.erase32k++;
    else this.stats.erase64k++;
    this.modify(this.time(type), (fraction) => {
      // An erase cut short leaves part of the range erased and the rest as it was.
      this.data.fill(0xff, start, start + Math.floor(type.size * fraction));
    }, "erase", start, type.size);
  }

  private chipErase(): void {
    if (!this.wel) return;
    this.stats.chipErases++;
    this.modify(this.time(this.params.chipErase), (f) => this.data.fill(0xff, 0, Math.floor(this.params.size * f)), "erase", 0, this.params.size);
  }

  private writeStatus(first: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const volatileWrite = this.volatileWe;
    if (!this.wel && !volatileWrite) return;
    this.volatileWe = false;
    const apply = (r: number[]) => {
      for (let i = 0; i < bytes.length && first + i < 3; i++) r[first + i] = bytes[i] & (first + i === 0 ? 0xfc : 0xff);
    };
    if (volatileWrite) {
      apply(this.sr);
      this.wel = false;
      this.stats.volatileStatusWrites++;
      return;
    }
    this.stats.statusWrites++;
    this.modify(this.time(this.params.statusWrite), (fraction) => {
      if (fraction === 1) { apply(this.nv); apply(this.sr); }
    }, "status");
  }
}
