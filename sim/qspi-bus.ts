// A QSPI controller with a NOR chip behind it: decodes the `fmt` word of hal.flash_cmd
// (boot/flash/cmd.ts) into the phases of one transaction, charges the bus time to the shared
// clock, and runs the memory-mapped (XIP) mode, in which the controller issues the read
// command itself for every access — and leaves out the instruction once the chip is in
// continuous-read mode, as XIP controllers do.
import type { FlashBus } from "./models";
import type { NorFlash, Transaction } from "./nor-flash";
import type { SimClock } from "./clock";

const LINES = [0, 1, 2, 4];
const ADDR_BYTES = [0, 1, 3, 4];

export function decodeFmt(fmt: number, addr: number, data: Uint8Array): Transaction {
  const addrBytes = ADDR_BYTES[(fmt >>> 12) & 3];
  return {
    instr: fmt & 0xff, instrLines: LINES[(fmt >>> 8) & 3],
    addr: addrBytes === 4 ? addr >>> 0 : addr & ((1 << (8 * addrBytes)) - 1),
    addrBytes, addrLines: LINES[(fmt >>> 10) & 3],
    modeLines: LINES[(fmt >>> 14) & 3], mode: (fmt >>> 16) & 0xff,
    dummy: (fmt >>> 24) & 31,
    dataLines: LINES[(fmt >>> 29) & 3], write: (fmt >>> 31) === 1, data,
  };
}

/** Clocks of a transaction: each phase's bits over its lines. */
export function clocksOf(t: Transaction): number {
  const c = (bits: number, lines: number) => (lines ? Math.ceil(bits / lines) : 0);
  return c(8, t.instrLines) + c(8 * t.addrBytes, t.addrLines) + c(8, t.modeLines) + t.dummy +
    (t.dataLines ? c(8 * t.data.length, t.dataLines) : 0);
}

export class QspiBus implements FlashBus {
  mapped = false;
  private mapFmt = 0;
  /** Controller overhead per command (register setup, flag polling by the CPU), microseconds. */
  commandOverheadUs = 0.5;

  constructor(readonly chip: NorFlash, readonly clock: SimClock, public hz = 60e6) {}

  setSckHz(hz: number): void { this.hz = hz; }

  command(fmt: number, addr: number, data: Uint8Array): number {
    this.mapped = false;
    const t = decodeFmt(fmt, addr, data);
    if ((t.dataLines === 0) !== (data.length === 0)) return -1; // the controller refuses a malformed command
    this.clock.advance(this.commandOverheadUs + clocksOf(t) / (this.hz / 1e6));
    this.chip.transaction(t);
    return 0;
  }

  mmap(fmt: number): number {
    const t = decodeFmt(fmt, 0, new Uint8Array(0));
    if (t.write || t.dataLines === 0 || t.addrBytes === 0) return -1;
    this.mapFmt = fmt;
    this.mapped = true;
    return 0;
  }

  readMapped(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const t = decodeFmt(this.mapFmt, offset, out);
    if (this.chip.continuous) { t.instrLines = 0; t.instr = 0; }
    this.clock.advance(clocksOf(t) / (this.hz / 1e6));
    this.chip.transaction(t);
    return out;
  }

  readyAt(): number { return this.chip.readyAt(); }
}
