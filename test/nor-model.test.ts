// The NOR flash model itself, checked against the datasheet behaviour every test relies on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimClock } from "../sim/clock";
import { NorFlash, type Transaction } from "../sim/nor-flash";
import { CHIPS } from "../sim/chips";
import { QspiBus, decodeFmt } from "../sim/qspi-bus";

function chip(timing: "typical" | "maximum" | "instant" = "typical") {
  const clock = new SimClock();
  return { clock, f: new NorFlash(CHIPS.W25Q64JV, clock, timing) };
}

function tx(instr: number, o: Partial<Transaction> = {}): Transaction {
  return { instr, instrLines: 1, addr: 0, addrBytes: 0, addrLines: 0, mode: 0, modeLines: 0, dummy: 0, dataLines: 0, write: false, data: new Uint8Array(0), ...o };
}
const sr1 = (f: NorFlash) => { const d = new Uint8Array(1); f.transaction(tx(0x05, { dataLines: 1, data: d })); return d[0]; };
const wren = (f: NorFlash) => f.transaction(tx(0x06));
const program = (f: NorFlash, addr: number, bytes: number[]) =>
  f.transaction(tx(0x02, { addr, addrBytes: 3, addrLines: 1, dataLines: 1, write: true, data: Uint8Array.from(bytes) }));
const erase = (f: NorFlash, instr: number, addr: number) => f.transaction(tx(instr, { addr, addrBytes: 3, addrLines: 1 }));
const read = (f: NorFlash, addr: number, n: number) => {
  const d = new Uint8Array(n);
  f.transaction(tx(0x0b, { addr, addrBytes: 3, addrLines: 1, dummy: 8, dataLines: 1, data: d }));
  return [...d];
};

test("program only clears bits, needs WEL, and WEL clears when the operation ends", () => {
  const { f, clock } = chip("instant");
  program(f, 0x100, [0x0f]);
  assert.equal(read(f, 0x100, 1), [0xff], "no WEL: ignored");
  wren(f);
  assert.is(sr1(f) & 2, 2, "WEL set by 06h");
  program(f, 0x100, [0xf3]);
  assert.is(sr1(f) & 2, 0, "WEL cleared");
  wren(f); program(f, 0x100, [0x3f]);
  assert.equal(read(f, 0x100, 1), [0x33], "AND of both");
  clock.advance(1);
});

test("a page program wraps at the page end", () => {
  const { f } = chip("instant");
  wren(f);
  program(f, 0x1fe, [1, 2, 3, 4]);
  assert.equal(read(f, 0x1fe, 2), [1, 2]);
  assert.equal(read(f, 0x100, 2), [3, 4], "bytes past the page end land at its start");
  assert.equal(read(f, 0x200, 2), [0xff, 0xff]);
});

test("erases set their aligned block to FFh: 4, 32 and 64 KiB", () => {
  const { f } = chip("instant");
  f.data.fill(0);
  wren(f); erase(f, 0x20, 0x1234);
  assert.ok(f.data.subarray(0x1000, 0x2000).every((x) => x === 0xff));
  assert.is(f.data[0xfff], 0); assert.is(f.data[0x2000], 0);
  wren(f); erase(f, 0x52, 0x9000);
  assert.ok(f.data.subarray(0x8000, 0x10000).every((x) => x === 0xff));
  wren(f); erase(f, 0xd8, 0x2ffff);
  assert.ok(f.data.subarray(0x20000, 0x30000).every((x) => x === 0xff));
  assert.is(f.data[0x30000], 0);
  assert.equal([f.stats.erase4k, f.stats.erase32k, f.stats.erase64k], [1, 1, 1]);
});

test("busy for the datasheet time; only status reads are answered meanwhile", () => {
  const { f, clock } = chip("typical");
  wren(f); erase(f, 0xd8, 0);
  assert.is(sr1(f) & 1, 1);
  f.data[5] = 0; // (backdoor) to see that the next erase is ignored
  wren(f); erase(f, 0x20, 0);
  assert.is(f.data[5], 0, "erase while busy ignored");
  const id = new Uint8Array(3);
  f.transaction(tx(0x9f, { dataLines: 1, data: id }));
  assert.equal([...id], [0xff, 0xff, 0xff], "JEDEC ID not answered while busy");
  clock.advance(149_999);
  assert.is(sr1(f) & 1, 1);
  clock.advance(2);
  assert.is(sr1(f) & 1, 0, "64 KiB erase: 150 ms typical");
  const m = chip("maximum");
  wren(m.f); program(m.f, 0, [0]);
  m.clock.advance(2999);
  assert.is(sr1(m.f) & 1, 1, "page program: 3 ms maximum");
});

test("JEDEC ID, SFDP signature and density, unique ID", () => {
  const { f } = chip();
  const id = new Uint8Array(3);
  f.transaction(tx(0x9f, { dataLines: 1, data: id }));
  assert.equal([...id], [0xef, 0x40, 0x17]);
  const s = new Uint8Array(16);
  f.transaction(tx(0x5a, { addr: 0, addrBytes: 3, addrLines: 1, dummy: 8, dataLines: 1, data: s }));
  assert.is(String.fromCharCode(...s.subarray(0, 4)), "SFDP");
  const bfpt = new Uint8Array(8);
  f.transaction(tx(0x5a, { addr: s[12], addrBytes: 3, addrLines: 1, dummy: 8, dataLines: 1, data: bfpt }));
  assert.is(new DataView(bfpt.buffer).getUint32(4, true), 64 * 1024 * 1024 - 1, "64 Mbit");
});

test("quad read needs QE; EBh with M5-4=10b enters continuous-read mode, other mode bits leave it", () => {
  const clock = new SimClock();
  const f = new NorFlash(CHIPS.IS25LP064A, clock, "instant"); // ships with QE clear
  f.data.set([1, 2, 3, 4], 0x40);
  const bus = new QspiBus(f, clock);
  const eb = (mode: number) => (0xeb | (1 << 8) | (3 << 10) | (2 << 12) | (3 << 14) | (mode << 16) | (4 << 24) | (3 << 29)) >>> 0;
  const d = new Uint8Array(4);
  bus.command(eb(0x00), 0x40, d);
  assert.not.equal([...d], [1, 2, 3, 4], "QE clear: IO2/IO3 are not data lines");
  f.startState({ qe: true });
  bus.command(eb(0x20), 0x40, d);
  assert.equal([...d], [1, 2, 3, 4]);
  assert.ok(f.continuous);
  // In continuous mode the controller leaves the instruction out (XIP) and still gets data.
  assert.is(bus.mmap(eb(0x20)), 0);
  assert.equal([...bus.readMapped(0x42, 2)], [3, 4]);
  assert.ok(f.continuous, "still in continuous-read mode");
  // FFh on all four lines for 8 clocks leaves it.
  bus.command((0xff | (3 << 8) | (3 << 10) | (2 << 12)) >>> 0, 0xffffff, new Uint8Array(0));
  assert.not.ok(f.continuous);
  const id = new Uint8Array(3);
  bus.command((0x9f | (1 << 8) | (1 << 29)) >>> 0, 0, id);
  assert.equal([...id], [0x9d, 0x60, 0x17]);
});

test("66h + 99h resets volatile state; a power cut at an operation throws and can leave it half done", () => {
  const { f } = chip("instant");
  f.transaction(tx(0x50));
  const w = Uint8Array.from([0]);
  f.transaction(tx(0x31, { dataLines: 1, write: true, data: w })); // volatile: QE off
  assert.not.ok(f.quadEnabled());
  f.transaction(tx(0x66)); f.transaction(tx(0x99));
  assert.ok(f.quadEnabled(), "back to the non-volatile value");
  f.data.fill(0);
  f.cutPowerAt(0, "during");
  wren(f);
  assert.throws(() => erase(f, 0x20, 0));
  const erased = f.data.subarray(0, 4096).filter((x) => x === 0xff).length;
  assert.ok(erased > 0 && erased < 4096, "part of the sector erased");
});

test("fmt decoding: every phase and its lines", () => {
  const t = decodeFmt((0xeb | (1 << 8) | (3 << 10) | (2 << 12) | (3 << 14) | (0x20 << 16) | (4 << 24) | (3 << 29)) >>> 0, 0x123456, new Uint8Array(4));
  assert.equal([t.instr, t.instrLines, t.addrBytes, t.addrLines, t.mode, t.modeLines, t.dummy, t.dataLines, t.write], [0xeb, 1, 3, 4, 0x20, 4, 4, 4, false]);
});

test.run();
