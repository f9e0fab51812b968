// The NOR flash chip (sim/nor-flash.ts) driven one byte at a time on a single line, as a
// standard-SPI controller drives it with chip select held low: the chip decodes the
// instruction from the first byte, takes address and dummy bytes, then either shifts data out
// (reads, status, IDs) or latches the bytes it is sent and acts when chip select rises
// (program, erase, status writes), as the W25Q datasheets describe.
// Reads are served in chunks from one NorFlash transaction each, so the model's read counters
// count chunks, not commands.
import type { NorFlash } from "./nor-flash";

// Bytes before data, per instruction the chip shifts data out for (instruction included).
const READS: Record<number, number> = {
  0x03: 4, 0x0b: 5, 0x5a: 5, 0x4b: 5, 0x9f: 1, 0x05: 1, 0x35: 1, 0x15: 1,
};
// Instructions with a 24-bit address after them (programs and erases): the rest is data.
const ADDRESSED = new Set([0x02, 0x20, 0x52, 0xd8]);
const STATUS = new Set([0x05, 0x35, 0x15]);
const CHUNK = 256;

export class NorSpiSession {
  private bytes: number[] = [];
  private chunk: Uint8Array | null = null;
  private chunkAt = 0;
  /** A session the chip does not take as a command: it is in continuous-read mode. */
  private continuous = false;

  constructor(private readonly chip: NorFlash) {
    this.continuous = chip.continuous;
  }

  /** One byte out on IO0; returns the byte the chip drove on IO1 meanwhile. */
  exchange(out: number): number {
    const i = this.bytes.length;
    this.bytes.push(out & 0xff);
    if (this.continuous) return 0xff;
    const ins = this.bytes[0];
    const header = READS[ins];
    if (header === undefined || i < header) return 0xff; // nobody drives IO1: pulled high
    if (STATUS.has(ins)) return this.readChunk(ins, 0, 1)[0]; // live: BUSY changes as time passes
    const k = i - header;
    if (!this.chunk || k < this.chunkAt || k >= this.chunkAt + this.chunk.length) {
      this.chunkAt = k - (k % CHUNK);
      this.chunk = this.readChunk(ins, this.chunkAt, CHUNK);
    }
    return this.chunk[k - this.chunkAt];
  }

  private readChunk(ins: number, offset: number, length: number): Uint8Array {
    const b = this.bytes;
    const addrBytes = ins === 0x4b ? 4 : header3(ins) ? 3 : 0;
    let addr = 0;
    for (let j = 1; j <= addrBytes; j++) addr = (addr << 8) | b[j];
    const data = new Uint8Array(offset + length);
    // IDs and SFDP come out from their start; a chunk past the first is the same bytes
    // continued, which the chip gives by incrementing its internal address.
    const fixed = ins === 0x9f || ins === 0x4b;
    this.chip.transaction({
      instr: ins, instrLines: 1, addr: (addr >>> 0) + (fixed ? 0 : offset), addrBytes, addrLines: addrBytes ? 1 : 0,
      mode: 0, modeLines: 0, dummy: ins === 0x0b || ins === 0x5a ? 8 : 0,
      dataLines: 1, write: false, data: fixed ? data : data.subarray(0, length),
    });
    return fixed ? data.subarray(offset) : data.subarray(0, length);
  }

  /** Chip select rises: a write-type command takes effect now. */
  end(): void {
    const b = this.bytes;
    if (b.length === 0) return;
    if (this.continuous) {
      // The chip takes the clocks as address and mode nibbles on four lines, IO1-IO3 pulled
      // up: the model's continuous-mode decoder sees exactly that from a single-line
      // transaction (all-ones bytes end the mode; nothing else on one line reads data).
      let addr = 0;
      for (let j = 1; j <= 3; j++) addr = (addr << 8) | (b[j] ?? 0xff);
      this.chip.transaction({
        instr: b[0], instrLines: 1, addr, addrBytes: 3, addrLines: 1, mode: 0, modeLines: 0, dummy: 0,
        dataLines: 0, write: true, data: new Uint8Array(0),
      });
      return;
    }
    const ins = b[0];
    if (READS[ins] !== undefined) return;
    const addressed = ADDRESSED.has(ins);
    let addr = 0;
    if (addressed) for (let j = 1; j <= 3; j++) addr = (addr << 8) | (b[j] ?? 0);
    const data = Uint8Array.from(b.slice(addressed ? 4 : 1));
    this.chip.transaction({
      instr: ins, instrLines: 1, addr, addrBytes: addressed ? 3 : 0, addrLines: addressed ? 1 : 0,
      mode: 0, modeLines: 0, dummy: 0, dataLines: data.length ? 1 : 0, write: true, data,
    });
  }
}

function header3(ins: number): boolean { return ins === 0x03 || ins === 0x0b || ins === 0x5a; }
