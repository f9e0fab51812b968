// The flash chip itself: bring-up, geometry and timings (from SFDP, JESD216, or the table of
// known chips), and the single commands everything else is built from. Every command goes
// through hal.flash_cmd; every wait is bounded by hal.time_us.
import { flash_cmd, time_us } from "../hal";
import { fmt, LINES_1, LINES_4, ADDR_NONE, ADDR_24, ADDR_32, FMT_WRITE } from "./cmd";
import { knownChip, hasQuadPageProgram } from "./known-chips";

// Instructions (W25Q64JV datasheet section 8.1; the same on every SFDP-era serial NOR).
const WRITE_ENABLE: u32 = 0x06;
const VOLATILE_SR_WRITE_ENABLE: u32 = 0x50;
const READ_SR1: u32 = 0x05;
const READ_SR2: u32 = 0x35;
const WRITE_SR1: u32 = 0x01;
const WRITE_SR2: u32 = 0x31;
const READ_JEDEC_ID: u32 = 0x9f;
const READ_SFDP: u32 = 0x5a;
const READ_UNIQUE_ID: u32 = 0x4b;
const RESET_ENABLE: u32 = 0x66;
const RESET: u32 = 0x99;
const FAST_READ: u32 = 0x0b;
const PAGE_PROGRAM: u32 = 0x02;
const QUAD_PAGE_PROGRAM: u32 = 0x32;   // 1-1-4: data on four lines once QE is set
const SR1_BUSY: u8 = 1;

// Quad-enable requirement, JESD216 DWORD 15 bits 22:20, the cases this driver supports.
export const QER_NONE: u8 = 0;
export const QER_SR2_BIT1_WRITE_SR1_2BYTES: u8 = 1; // also 4 and 5
export const QER_SR1_BIT6: u8 = 2;
export const QER_SR2_BIT1_WRITE_SR2: u8 = 6;

// The chip as found at bring-up.
export let jedecId: u32 = 0;
export let chipSize: u32 = 0;
export let sectorSize: u32 = 4096;
export let sectorErase: u32 = 0x20;
export let blockSize: u32 = 65536;      // the largest erase up to 64 KiB: hosts erase by it
export let blockErase: u32 = 0xd8;
export let pageSize: u32 = 256;
export let qer: u8 = QER_SR2_BIT1_WRITE_SR1_2BYTES;
export let volatileSr: bool = false;    // 50h makes status writes volatile (no wear)
export let quadRead: u32 = 0xeb;        // 1-4-4 fast read instruction, 0 when not usable
export let quadDummy: u32 = 4;          // wait clocks after the mode byte
export let quadProgram: bool = false;   // 32h usable (QE set, a maker known to have it)
// Typical times in microseconds (SFDP DWORDs 10-11 or the known-chip table).
export let tSector: u32 = 45000;
export let tBlock: u32 = 150000;
export let tPage: u32 = 400;
export let tStatus: u32 = 10000;
export let fromSfdp: bool = false;

const io = memory.data(64);

// @ts-ignore: decorator
@inline function simple(instr: u32): u32 { return fmt(instr, LINES_1, 0, ADDR_NONE, 0, 0, 0, 0); }
// @ts-ignore: decorator
@inline function readReg(instr: u32): u32 { return fmt(instr, LINES_1, 0, ADDR_NONE, 0, 0, 0, LINES_1); }

export function command(instr: u32): i32 { return flash_cmd(simple(instr), 0, 0, 0); }

export function readStatus(instr: u32): i32 {
  if (flash_cmd(readReg(instr), 0, io, 1) < 0) return -1;
  return load<u8>(io);
}

export function busy(): i32 {
  const s = readStatus(READ_SR1);
  return s < 0 ? -1 : s & SR1_BUSY;
}

// Wait until the chip is not busy, at most `limitUs`. 0 = ready, -1 = timed out or no answer.
export function waitReady(limitUs: u32): i32 {
  const start = time_us();
  let b = busy();
  while (b > 0 && time_us() - start <= limitUs) b = busy();
  return b == 0 ? 0 : -1;
}

// The read command used for everything: 1-4-4 with the mode byte `mode` when quad works.
export function readFmt(mode: u32): u32 {
  if (quadRead != 0) return fmt(quadRead, LINES_1, LINES_4, ADDR_24, LINES_4, mode, quadDummy, LINES_4);
  return fmt(FAST_READ, LINES_1, LINES_1, ADDR_24, 0, 0, 8, LINES_1);
}

export function read(addr: u32, buf: usize, len: u32): i32 {
  return len == 0 ? 0 : flash_cmd(readFmt(0x00), addr, buf, len);
}

export function writeEnable(): i32 { return command(WRITE_ENABLE); }

// Start an erase of `size` (sectorSize or blockSize) at `addr`. The caller polls busy().
export function startErase(addr: u32, instr: u32): i32 {
  if (writeEnable() < 0) return -1;
  return flash_cmd(fmt(instr, LINES_1, LINES_1, ADDR_24, 0, 0, 0, 0), addr, 0, 0);
}

// Start programming `len` bytes (inside one page) at `addr`.
export function startProgram(addr: u32, buf: usize, len: u32): i32 {
  if (writeEnable() < 0) return -1;
  // The data phase is most of a program's bus time: four lines when the chip can take them.
  const f = quadProgram ? fmt(QUAD_PAGE_PROGRAM, LINES_1, LINES_1, ADDR_24, 0, 0, 0, LINES_4)
    : fmt(PAGE_PROGRAM, LINES_1, LINES_1, ADDR_24, 0, 0, 0, LINES_1);
  return flash_cmd(f | FMT_WRITE, addr, buf, len);
}

export function uniqueId(out: usize): i32 {
  // 4Bh, four dummy bytes (sent as a 32-bit address of 0), then the 64-bit ID.
  if (flash_cmd(fmt(READ_UNIQUE_ID, LINES_1, LINES_1, ADDR_32, 0, 0, 0, LINES_1), 0, out, 8) < 0) return 0;
  return 8;
}

function le24(p: usize): u32 { return load<u8>(p) | (<u32>load<u8>(p, 1) << 8) | (<u32>load<u8>(p, 2) << 16); }

// JESD216 erase/program time fields: count+1 units.
function eraseTime(bits: u32): u32 {
  const count = (bits & 31) + 1;
  const unit = (bits >> 5) & 3;
  return count * (unit == 0 ? 1000 : unit == 1 ? 16000 : unit == 2 ? 128000 : 1000000);
}

// Parse the SFDP basic flash parameter table. Returns false if there is none usable.
function readSfdp(): bool {
  const sfdp = fmt(READ_SFDP, LINES_1, LINES_1, ADDR_24, 0, 0, 8, LINES_1);
  if (flash_cmd(sfdp, 0, io, 16) < 0) return false;
  if (load<u32>(io) != 0x50444653) return false; // "SFDP"
  // First parameter header (JESD216 6.3): ID 00h/FFh = basic flash parameter table.
  if (load<u8>(io, 8) != 0 || load<u8>(io, 15) != 0xff) return false;
  let dwords = <u32>load<u8>(io, 11);
  if (dwords < 9) return false;
  if (dwords > 16) dwords = 16;
  const ptr = le24(io + 12);
  memory.fill(io, 0, 64);
  if (flash_cmd(sfdp, ptr, io, dwords * 4) < 0) return false;
  const dw1 = load<u32>(io);
  const dw2 = load<u32>(io, 4);
  if (dw2 & 0x80000000) return false;           // 2^N bits: larger than 24-bit addressing
  chipSize = (dw2 + 1) >> 3;
  const dw3 = load<u32>(io, 8);
  quadRead = 0;
  if (dw1 & (1 << 21)) {                          // 1-4-4 supported
    quadRead = (dw3 >> 8) & 0xff;
    quadDummy = dw3 & 31;
    if (((dw3 >> 5) & 7) != 2) quadRead = 0;      // this driver sends the mode byte in 2 clocks
  }
  // Erase types (DWORDs 8-9): the smallest is the sector, the largest up to 64 KiB the block.
  sectorSize = 0; blockSize = 0;
  const dw10 = dwords >= 10 ? load<u32>(io, 36) : 0;
  for (let i = 0; i < 4; i++) {
    const n = <u32>load<u8>(io + 28 + 2 * i);
    const instr = <u32>load<u8>(io + 29 + 2 * i);
    if (n == 0 || n > 16) continue;
    const size: u32 = 1 << n;
    const t = dw10 != 0 ? eraseTime(dw10 >> (4 + 7 * i)) : 0;
    if (sectorSize == 0 || size < sectorSize) { sectorSize = size; sectorErase = instr; if (t) tSector = t; }
    if (size > blockSize) { blockSize = size; blockErase = instr; if (t) tBlock = t; }
  }
  if (sectorSize == 0) return false;
  if (dwords >= 11) {
    const dw11 = load<u32>(io, 40);
    pageSize = 1 << ((dw11 >> 4) & 15);
    tPage = (((dw11 >> 8) & 31) + 1) * ((dw11 & (1 << 13)) ? 64 : 8);
  }
  if (dwords >= 15) {
    const q = <u8>((load<u32>(io, 56) >> 20) & 7);
    qer = q == 4 || q == 5 ? QER_SR2_BIT1_WRITE_SR1_2BYTES : q;
  }
  if (dwords >= 16) volatileSr = (load<u32>(io, 60) & 8) != 0;
  fromSfdp = true;
  return true;
}

function quadEnabled(): i32 {
  if (qer == QER_SR1_BIT6) { const s = readStatus(READ_SR1); return s < 0 ? -1 : (s >> 6) & 1; }
  const s = readStatus(READ_SR2);
  return s < 0 ? -1 : (s >> 1) & 1;
}

// Set QE, volatile where the chip allows it so the non-volatile register is not worn.
function enableQuad(): i32 {
  if (qer == QER_NONE) return 0;
  const q = quadEnabled();
  if (q != 0) return q < 0 ? -1 : 0;
  if (command(volatileSr ? VOLATILE_SR_WRITE_ENABLE : WRITE_ENABLE) < 0) return -1;
  const sr1 = readStatus(READ_SR1);
  const sr2 = readStatus(READ_SR2);
  if (sr1 < 0 || sr2 < 0) return -1;
  let r: i32;
  if (qer == QER_SR1_BIT6) {
    store<u8>(io, <u8>(sr1 | 0x40));
    r = flash_cmd(fmt(WRITE_SR1, LINES_1, 0, ADDR_NONE, 0, 0, 0, LINES_1) | FMT_WRITE, 0, io, 1);
  } else if (qer == QER_SR2_BIT1_WRITE_SR2) {
    store<u8>(io, <u8>(sr2 | 2));
    r = flash_cmd(fmt(WRITE_SR2, LINES_1, 0, ADDR_NONE, 0, 0, 0, LINES_1) | FMT_WRITE, 0, io, 1);
  } else {
    store<u8>(io, <u8>sr1);
    store<u8>(io, <u8>(sr2 | 2), 1);
    r = flash_cmd(fmt(WRITE_SR1, LINES_1, 0, ADDR_NONE, 0, 0, 0, LINES_1) | FMT_WRITE, 0, io, 2);
  }
  if (r < 0 || waitReady(tStatus * 16 + 10000) < 0) return -1;
  return quadEnabled() == 1 ? 0 : -1;
}

// Error codes of chipInit.
export const INIT_NO_CHIP: i32 = -1;
export const INIT_TIMEOUT: i32 = -2;
export const INIT_UNKNOWN: i32 = -3;

export function chipInit(): i32 {
  quadProgram = false;
  // An application or an interrupted boot may have left the chip in continuous-read mode:
  // eight clocks with IO0-3 high end it (mode bits FFh), then a software reset.
  flash_cmd(fmt(0xff, LINES_4, LINES_4, ADDR_24, 0, 0, 0, 0), 0xffffff, 0, 0);
  // Nothing drives the bus: SR1 reads all ones (a real chip never has every protection bit
  // set while busy). Don't wait seconds for it.
  const sr = readStatus(READ_SR1);
  if (sr < 0 || sr == 0xff) return INIT_NO_CHIP;
  // A program or erase may still be running (the reset is ignored while busy).
  if (waitReady(3000000) < 0) return INIT_TIMEOUT;
  command(RESET_ENABLE);
  command(RESET);
  const t = time_us();
  while (time_us() - t < 30) {} // tRST
  if (flash_cmd(readReg(READ_JEDEC_ID), 0, io, 3) < 0) return INIT_NO_CHIP;
  jedecId = load<u8>(io) | (<u32>load<u8>(io, 1) << 8) | (<u32>load<u8>(io, 2) << 16);
  if (jedecId == 0 || jedecId == 0xffffff) return INIT_NO_CHIP;
  if (!readSfdp() && !knownChip(jedecId)) return INIT_UNKNOWN;
  if (waitReady(1000) < 0) return INIT_TIMEOUT;
  if (quadRead != 0 && enableQuad() < 0) quadRead = 0; // fall back to single-line reads
  quadProgram = quadRead != 0 && hasQuadPageProgram(jedecId);
  return 0;
}

// Used by known-chips.ts to describe a chip without SFDP.
export function setGeometry(size: u32, q: u8, vol: bool, dummy: u32): void {
  chipSize = size; qer = q; volatileSr = vol;
  sectorSize = 4096; sectorErase = 0x20; blockSize = 65536; blockErase = 0xd8; pageSize = 256;
  quadRead = 0xeb; quadDummy = dummy;
  tSector = 45000; tBlock = 150000; tPage = 400; tStatus = 10000;
  fromSfdp = false;
}
