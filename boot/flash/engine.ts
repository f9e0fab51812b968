// The flash write engine: one write job at a time, advanced a step per flashPoll() from the
// main loop, so USB is served while the chip erases or programs.
// - Erases the host asks for are only marked pending; they run when a write needs them, or
//   at flashFlush(). A sector whose content already equals the data is neither erased nor
//   programmed (its pending erase is dropped), so an unchanged image costs reads only.
// - An erase covers a whole block (one command) when every sector of the block is pending,
//   otherwise single sectors, so sectors that were kept are never wiped.
// - A write into a sector with no pending erase programs in place when it only clears bits;
//   otherwise the sector is erased first, and its bytes outside the write become FFh.
// - Pages of all FFh and pages already holding the data are not programmed; every write is
//   read back and compared.
import { time_us, flash_mmap, mem_read32, mem_compare, crc32_buf } from "../hal";
import { flashBase } from "../board";
import * as chip from "./chip";

export const FLASH_IDLE: i32 = 0;
export const FLASH_BUSY: i32 = 1;
export const FLASH_ERR_ERASE: i32 = -2;
export const FLASH_ERR_PROG: i32 = -3;
export const FLASH_ERR_VERIFY: i32 = -4;
export const FLASH_ERR_TIMEOUT: i32 = -5;

const MAX_SECTORS: u32 = 4096;            // 16 MiB of 4 KiB sectors: the 24-bit address limit
const pending = memory.data(<i32>(MAX_SECTORS / 8));
// Sectors this engine erased and has not programmed since: blank without reading them. After a
// block erase the other fifteen sectors of the block were each read whole (4 KiB of FFh) only to
// learn that (npm run bench, 1 MiB: 2 MiB read during the writes, 1 MiB with this).
const knownBlank = memory.data(<i32>(MAX_SECTORS / 8));
// Reads go in pieces of this size: each is one command (on the RP2040 one DMA transfer), so a
// larger piece costs fewer set-ups (npm run bench: 256 -> 1024 B, CPU per block -7%).
export const READ_CHUNK: u32 = 1024;
const scratch = memory.data(<i32>READ_CHUNK);
let ready: bool = false;

export function flashInit(): i32 {
  const r = chip.chipInit();
  ready = r == 0 && chip.chipSize / chip.sectorSize <= MAX_SECTORS;
  memory.fill(pending, 0, MAX_SECTORS / 8);
  memory.fill(knownBlank, 0, MAX_SECTORS / 8);
  job = J_IDLE;
  return ready ? 0 : r < 0 ? r : -1;
}

export function flashSize(): u32 { return chip.chipSize; }
export function flashSectorSize(): u32 { return chip.sectorSize; }
export function flashBlockSize(): u32 { return chip.blockSize; }
export function flashJedecId(): u32 { return chip.jedecId; }
export function flashUniqueId(out: usize): i32 { return ready ? chip.uniqueId(out) : 0; }
export function flashRead(addr: u32, buf: usize, len: u32): i32 { return chip.read(addr, buf, len); }

// ---- pending erases ----
function bitOf(map: usize, s: u32): bool { return (load<u8>(map + (s >> 3)) & (<u8>1 << <u8>(s & 7))) != 0; }
function setBit(map: usize, s: u32, on: bool): void {
  const p = map + (s >> 3);
  const bit = <u8>1 << <u8>(s & 7);
  store<u8>(p, on ? load<u8>(p) | bit : load<u8>(p) & ~bit);
}
function isPending(s: u32): bool { return bitOf(pending, s); }
function touch(s: u32): void { setBit(knownBlank, s, false); }
function setPending(s: u32, on: bool): void { setBit(pending, s, on); }

export function flashEraseRequest(addr: u32, len: u32): i32 {
  if (!ready || addr + len > chip.chipSize || addr + len < addr) return -1;
  const sec = chip.sectorSize;
  for (let s = addr / sec; s * sec < addr + len; s++) setPending(s, true);
  return 0;
}

function sectorsPerBlock(): u32 { return chip.blockSize / chip.sectorSize; }
function blockAllPending(s: u32): bool {
  const n = sectorsPerBlock();
  const first = s - s % n;
  for (let i: u32 = 0; i < n; i++) if (!isPending(first + i)) return false;
  return true;
}

// ---- the job ----
const J_IDLE: u8 = 0;
const J_WRITE: u8 = 1;   // a write: sector by sector
const J_FLUSH: u8 = 2;   // pending erases without data

const P_SECTOR: u8 = 0;  // start the next sector (compare, decide)
const P_ERASE: u8 = 1;   // waiting for an erase
const P_PAGE: u8 = 2;    // start the next page
const P_PROGRAM: u8 = 3; // waiting for a page program
const P_VERIFY: u8 = 4;  // read back the sector's part

let job: u8 = J_IDLE;
let phase: u8 = P_SECTOR;
let jAddr: u32 = 0;      // the write
let jBuf: usize = 0;
let jLen: u32 = 0;
let secStart: u32 = 0;   // current part [a, b) of the current sector
let a: u32 = 0;
let b: u32 = 0;
let pos: u32 = 0;        // next page start inside [a, b)
let erased: bool = false; // the current sector was erased for this write
let eraseFirst: u32 = 0;  // the sectors of the erase running: known blank once it is done
let eraseCount: u32 = 0;
let opStart: u32 = 0;
let opLimit: u32 = 0;
let opTypical: u32 = 0;
let flushSector: u32 = 0;
let result: i32 = FLASH_IDLE;

function startOp(typical: u32): void {
  opStart = time_us();
  opTypical = typical;
  opLimit = typical * 16 + 10000;
}

// 1 while the running erase/program lasts, 0 when done, <0 on timeout or no answer.
function opDone(): i32 {
  const bsy = chip.busy();
  if (bsy == 0) return 0;
  if (bsy < 0 || time_us() - opStart > opLimit) return -1;
  return 1;
}

// Reads [from, from+n) of flash: is it equal to the buffer at p? Also: can it be programmed
// in place (no bit goes from 0 to 1)? Returns 0 different, 1 programmable, 2 equal; with p = 0
// it only reads (2). Notes in `wasBlank` whether the flash there was all FFh (then no page of it
// can hold data already, and the pages need no compare of their own before programming), and
// with p = 0 in `readCrc` the CRC-32 of what it read. Always reads all of it: a sector that differs is
// erased next, so stopping early would save little.
let wasBlank: bool = false;
let readCrc: u32 = 0;
function compare(from: u32, p: usize, n: u32): i32 {
  let result = 2;
  let crc: u32 = 0;
  wasBlank = true;
  for (let o: u32 = 0; o < n; o += READ_CHUNK) {
    const k = n - o < READ_CHUNK ? n - o : READ_CHUNK;
    if (chip.read(from + o, scratch, k) < 0) return -1;
    if (wasBlank && mem_compare(scratch, 0, k) != 2) wasBlank = false;
    if (p) {
      const c = mem_compare(scratch, p + o, k);
      if (c < result) result = c;
    } else crc = crc32_buf(crc, scratch, k);
  }
  readCrc = crc;
  return result;
}

// Sector `s` read whole: whether it is all FFh is noted. The host's scan (boot/vendor.ts) reads
// through here, so the write that follows it neither reads a blank sector again nor erases it
// (npm run bench, blank chip: the blank check had read each 64 KiB block once more).
function readSector(s: u32): bool {
  if (compare(s * chip.sectorSize, 0, chip.sectorSize) < 0) return false;
  if (wasBlank) setBit(knownBlank, s, true);
  return true;
}
// The host's scan: the sector's CRC-32, or -1 if the flash did not answer.
export function flashScanSector(s: u32): i64 { return readSector(s) ? <i64>readCrc : -1; }

// Is [from, from+n) (whole sectors) all FFh already? Then a pending erase of it has nothing to
// do, and its sectors are known blank: the writes that follow need not read them again.
function blank(from: u32, n: u32): bool {
  for (let s = from / chip.sectorSize; s < (from + n) / chip.sectorSize; s++) {
    if (!bitOf(knownBlank, s) && !(readSector(s) && wasBlank)) return false;
  }
  return true;
}

// The range an erase of sector `s` would cover (a whole block when all of it is pending).
function eraseSpan(s: u32): u32 {
  return chip.blockSize > chip.sectorSize && blockAllPending(s) ? chip.blockSize : chip.sectorSize;
}

// Drop the pending erase of the span holding sector `s`: it is blank already.
function dropPending(s: u32, span: u32): void {
  const n = span / chip.sectorSize;
  const first = s - s % n;
  for (let i: u32 = 0; i < n; i++) setPending(first + i, false);
}

export function flashWriteStart(addr: u32, buf: usize, len: u32): i32 {
  if (job != J_IDLE || !ready) return -1;
  if (addr + len > chip.chipSize || addr + len < addr) return -1;
  job = J_WRITE;
  jAddr = addr; jBuf = buf; jLen = len;
  secStart = addr - addr % chip.sectorSize;
  phase = P_SECTOR;
  result = FLASH_IDLE;
  if (len == 0) job = J_IDLE;
  return 0;
}

export function flashFlush(): i32 {
  if (job != J_IDLE || !ready) return -1;
  job = J_FLUSH;
  flushSector = 0;
  phase = P_SECTOR;
  return 0;
}

function finish(r: i32): i32 {
  job = J_IDLE;
  return r;
}

function startErase(s: u32): bool {
  // A whole block when all its sectors are pending (one command instead of many).
  if (chip.blockSize > chip.sectorSize && blockAllPending(s)) {
    const n = sectorsPerBlock();
    const first = s - s % n;
    for (let i: u32 = 0; i < n; i++) { setPending(first + i, false); touch(first + i); }
    eraseFirst = first; eraseCount = n;
    startOp(chip.tBlock);
    return chip.startErase(first * chip.sectorSize, chip.blockErase) == 0;
  }
  setPending(s, false);
  touch(s);
  eraseFirst = s; eraseCount = 1;
  startOp(chip.tSector);
  return chip.startErase(s * chip.sectorSize, chip.sectorErase) == 0;
}

function eraseDone(): void {
  for (let i: u32 = 0; i < eraseCount; i++) setBit(knownBlank, eraseFirst + i, true);
  eraseCount = 0;
}

function stepWrite(): i32 {
  const sec = chip.sectorSize;
  if (phase == P_SECTOR) {
    if (secStart >= jAddr + jLen) return finish(FLASH_IDLE);
    a = secStart > jAddr ? secStart : jAddr;
    const end = secStart + sec;
    b = end < jAddr + jLen ? end : jAddr + jLen;
    const s = secStart / sec;
    let c = 1;
    if (bitOf(knownBlank, s)) wasBlank = true; // erased since, or scanned blank: no read
    else c = compare(a, jBuf + (a - jAddr), b - a);
    if (c < 0) return finish(FLASH_ERR_TIMEOUT);
    erased = false;
    if (c == 2) {
      // Already there: keep the sector, whatever erase was asked for it.
      setPending(s, false);
      secStart = end;
      return FLASH_BUSY;
    }
    if (c == 1 && isPending(s)) {
      // Asked to erase, but already blank (a fresh chip, or erased before): skip the erase.
      const span = eraseSpan(s);
      const from = secStart - secStart % span;
      if (blank(from, span)) dropPending(s, span);
    }
    if (c == 0 || isPending(s)) {
      if (!startErase(s)) return finish(FLASH_ERR_ERASE);
      erased = true;
      phase = P_ERASE;
      return FLASH_BUSY;
    }
    // Blank already (erased with its block): like a sector erased for this write.
    erased = wasBlank;
    pos = a;
    phase = P_PAGE;
    return FLASH_BUSY;
  }
  if (phase == P_ERASE) {
    const d = opDone();
    if (d > 0) return FLASH_BUSY;
    if (d < 0) return finish(FLASH_ERR_TIMEOUT);
    eraseDone();
    pos = a;
    phase = P_PAGE;
    return FLASH_BUSY;
  }
  if (phase == P_PAGE) {
    if (pos >= b) { phase = P_VERIFY; return FLASH_BUSY; }
    const page = chip.pageSize;
    let n = page - pos % page;
    if (n > b - pos) n = b - pos;
    const p = jBuf + (pos - jAddr);
    const allFF = mem_compare(p, 0, n) == 2;
    // Nothing to do for FFh on an erased page, nor for a page that already holds the data.
    if (allFF || (!erased && compare(pos, p, n) == 2)) { pos += n; return FLASH_BUSY; }
    touch(pos / chip.sectorSize);
    startOp(chip.tPage);
    if (chip.startProgram(pos, p, n) < 0) return finish(FLASH_ERR_PROG);
    pos += n;
    phase = P_PROGRAM;
    return FLASH_BUSY;
  }
  if (phase == P_PROGRAM) {
    const d = opDone();
    if (d > 0) return FLASH_BUSY;
    if (d < 0) return finish(FLASH_ERR_TIMEOUT);
    phase = P_PAGE;
    return FLASH_BUSY;
  }
  // P_VERIFY
  if (compare(a, jBuf + (a - jAddr), b - a) != 2) return finish(FLASH_ERR_VERIFY);
  secStart += sec;
  phase = P_SECTOR;
  return FLASH_BUSY;
}

function stepFlush(): i32 {
  if (phase == P_ERASE) {
    const d = opDone();
    if (d > 0) return FLASH_BUSY;
    if (d < 0) return finish(FLASH_ERR_TIMEOUT);
    eraseDone();
    phase = P_SECTOR;
  }
  const count = chip.chipSize / chip.sectorSize;
  while (flushSector < count && !isPending(flushSector)) flushSector++;
  if (flushSector >= count) return finish(FLASH_IDLE);
  const span = eraseSpan(flushSector);
  if (blank(flushSector * chip.sectorSize - (flushSector * chip.sectorSize) % span, span)) {
    dropPending(flushSector, span);
    return FLASH_BUSY;
  }
  if (!startErase(flushSector)) return finish(FLASH_ERR_ERASE);
  phase = P_ERASE;
  return FLASH_BUSY;
}

// Advance the job one step. FLASH_IDLE when nothing runs, FLASH_BUSY, or an error (once).
export function flashPoll(): i32 {
  if (job == J_WRITE) return stepWrite();
  if (job == J_FLUSH) return stepFlush();
  return FLASH_IDLE;
}

// Expected microseconds until the job is done (typical timings): the host's poll timeout.
export function flashBusyUs(): u32 {
  if (job == J_IDLE) return 0;
  let t: u32 = 0;
  if (phase == P_ERASE || phase == P_PROGRAM) {
    const spent = time_us() - opStart;
    t = spent < opTypical ? opTypical - spent : 0;
  }
  if (job == J_WRITE) {
    let from: u32;
    if (phase == P_SECTOR) {
      // Not decided yet: count the erase the sector may need.
      from = secStart > jAddr ? secStart : jAddr;
      const s = secStart / chip.sectorSize;
      if (isPending(s)) t += eraseSpan(s) > chip.sectorSize ? chip.tBlock : chip.tSector;
    } else {
      from = phase == P_PAGE || phase == P_PROGRAM ? pos : a;
    }
    const end = jAddr + jLen;
    if (end > from) t += (end - from + chip.pageSize - 1) / chip.pageSize * chip.tPage;
  }
  return t;
}

// Memory-mapped mode with the quad read in continuous-read mode (mode bits M5-4 = 10b, the
// form XIP uses), then a few words through the window compared with the same words read by
// command. 0 when they agree.
const probe = memory.data(16);
export function flashMapAndCheck(): i32 {
  if (!ready) return -1;
  const half = chip.chipSize >> 1;
  if (chip.read(0, probe, 8) < 0 || chip.read(half, probe + 8, 8) < 0) return -1;
  if (flash_mmap(chip.readFmt(0x20)) < 0) return -1;
  const base = flashBase();
  for (let i: u32 = 0; i < 2; i++) {
    if (mem_read32(base + 4 * i) != load<u32>(probe + 4 * i)) return -1;
    if (mem_read32(base + half + 4 * i) != load<u32>(probe + 8 + 4 * i)) return -1;
  }
  return 0;
}
