// UF2 blocks written to the drive (microsoft/uf2 README: 512-byte blocks, 32-byte header,
// 476 bytes of data, final magic) become flash writes with the guarantees of a DFU download:
// - only blocks of this chip's family (BoardInfo.uf2Family), for the main flash, carrying 256
//   bytes at a 256-aligned address inside the application region are taken; blocks of other
//   families are ignored (one file may carry several chips' images), bad blocks of ours refused;
//   a file's last block may carry fewer bytes (the spec allows any payload size; tools that do
//   not pad end so): the rest of its 256 bytes stays erased;
// - the first block of a copy invalidates the update record (boot/update.ts) before anything is
//   written, and the image is verified and recorded only when every block of the file has
//   arrived, so a copy cut short leaves no recorded image;
// - blocks are gathered into whole flash sectors before the write engine sees them: the engine
//   keeps a sector whose content is unchanged and erases one only when its data needs it, which
//   it can decide only for the whole sector (a lone 256-byte write into a changed sector would
//   erase the blocks next to it);
// - a flash block (64 KiB) whose first two sectors both differ from the flash is erased with one
//   block erase instead of sector by sector (a 4 KiB erase takes nearly a third of a 64 KiB
//   one): a host copies files in order, so those two sectors stand for the block. The block's
//   sectors are held back until both are here, and the block is asked for only if no sector of
//   it has been written yet in this copy and the file covers all of it; a wrong guess (a block where only its first
//   two sectors changed) costs time, never data: its other sectors are written when they come;
// - blocks may come in any order and more than once; the same block with other data is a new
//   file copied over an unfinished one, and starts the copy again.
import { writerQueue, writerSlotFree, writerIdle, writerTakeError, UF2_SLOT0, UF2_BUFFERS } from "../writer";
import { updateBegin, manifestStart, manifestPoll } from "../update";
import { flashBase, uf2Family } from "../board";
import { appStartOffset, appEndOffset, sectorBytes } from "../dfu/layout";
import { flashRead, flashBlockSize, flashEraseRequest } from "../flash/engine";
import { mem_compare } from "../hal";
import { errWRITE } from "../dfu/states";

export const UF2_MAGIC0: u32 = 0x0a324655; // "UF2\n"
export const UF2_MAGIC1: u32 = 0x9e5d5157;
export const UF2_MAGIC_END: u32 = 0x0ab16f30;
const FLAG_NOT_MAIN_FLASH: u32 = 0x00000001;
const FLAG_FILE_CONTAINER: u32 = 0x00001000;
const FLAG_FAMILY_ID: u32 = 0x00002000;
const PAYLOAD: u32 = 256;

// What uf2Block() says about a 512-byte sector the host wrote.
export const UF2_TAKEN: i32 = 0;    // a block of ours (stored), or not a block for this board
export const UF2_WAIT: i32 = 1;     // no room yet: offer the same sector again later
export const UF2_REFUSED: i32 = -1; // a block of ours that may not be written (address, size)

const SECTOR_MAX: u32 = 4096;
const BLOCKS_MAX: u32 = 65536;      // 16 MiB of 256-byte blocks: the engine's limit too
// @ts-ignore: decorator
@lazy const bufs = memory.data(<i32>(SECTOR_MAX * UF2_BUFFERS));
// @ts-ignore: decorator
@lazy const bufSector = memory.data(UF2_BUFFERS * 4); // flash sector index, or NONE
// @ts-ignore: decorator
@lazy const bufFilling = memory.data(UF2_BUFFERS);   // 1 while blocks are being gathered in it
// @ts-ignore: decorator
@lazy const got = memory.data(<i32>(BLOCKS_MAX / 8)); // blocks of this copy received, by address
// @ts-ignore: decorator
@lazy const touched = memory.data(<i32>(BLOCKS_MAX / 8 / 16)); // sectors of this copy already queued
// @ts-ignore: decorator
@lazy const decided = memory.data(<i32>(BLOCKS_MAX / 8 / 256)); // 64 KiB blocks whose erase is settled
// @ts-ignore: decorator
@lazy const scratch = memory.data(<i32>PAYLOAD);
// bufFilling: 0 with the writer or free, 1 gathering blocks, 2 complete and held for the
// block-erase decision.
const HELD: u8 = 2;
const NONE: u32 = 0xffffffff;

let total: u32 = 0;      // numBlocks of the copy in progress (0: none)
let count: u32 = 0;      // distinct blocks received
let lo: u32 = NONE;      // flash range the copy covers
let hi: u32 = 0;
let complete: bool = false;
let manifesting: bool = false;
let result: i32 = 0;     // of the last manifestation: 0 ok, negative DFU status; 1 while running
let failed: bool = false; // a flash write of this copy failed
let fileLo: u32 = 0;     // where the file's blocks go, if it is one run of blocks (its first
let fileHi: u32 = 0;     // block tells: its address less blockNo blocks, numBlocks long)

function bit(map: usize, i: u32): bool { return (load<u8>(map + (i >> 3)) & (<u8>1 << <u8>(i & 7))) != 0; }
function setBit(map: usize, i: u32): void { store<u8>(map + (i >> 3), load<u8>(map + (i >> 3)) | (<u8>1 << <u8>(i & 7))); }
// @ts-ignore: decorator
@inline function bufPtr(i: i32): usize { return bufs + <usize>i * SECTOR_MAX; }

export function uf2Init(): void {
  for (let i = 0; i < UF2_BUFFERS; i++) { store<u32>(bufSector + 4 * i, NONE); store<u8>(bufFilling + i, 0); }
  total = 0;
  complete = false;
  manifesting = false;
  result = 0;
  failed = false;
}

// A new copy: forget what the last one received (its queued writes finish on their own).
function startCopy(n: u32, off: u32, no: u32): void {
  memory.fill(got, 0, BLOCKS_MAX / 8);
  memory.fill(touched, 0, BLOCKS_MAX / 8 / 16);
  memory.fill(decided, 0, BLOCKS_MAX / 8 / 256);
  fileLo = no * PAYLOAD <= off - appStartOffset() ? off - no * PAYLOAD : appStartOffset();
  fileHi = fileLo + n * PAYLOAD;
  for (let i = 0; i < UF2_BUFFERS; i++) {
    store<u8>(bufFilling + i, 0);
    if (writerSlotFree(UF2_SLOT0 + i)) store<u32>(bufSector + 4 * i, NONE);
  }
  total = n;
  count = 0;
  lo = NONE;
  hi = 0;
  complete = false;
  failed = false;
  writerTakeError(); // an error of an earlier copy is not this one's
  updateBegin();
}

// Hand buffer i to the writer: the whole sector, so the engine can keep it if unchanged.
function flush(i: i32): void {
  const sec = load<u32>(bufSector + 4 * i);
  const size = sectorBytes();
  store<u8>(bufFilling + i, 0);
  setBit(touched, sec);
  writerQueue(UF2_SLOT0 + i, bufPtr(i), sec * size, size);
}

function bufferOf(sec: u32): i32 {
  for (let i = 0; i < UF2_BUFFERS; i++) if (load<u32>(bufSector + 4 * i) == sec) return i;
  return -1;
}

// A buffer for sector `sec`, or -1 while none is free. A sector written earlier in this copy
// (its buffer was needed before it was full) starts from what the flash holds, so the blocks
// already written there stay; any other starts erased.
function allocate(sec: u32): i32 {
  let free = -1;
  for (let i = 0; i < UF2_BUFFERS; i++) {
    if (load<u8>(bufFilling + i) == 0 && writerSlotFree(UF2_SLOT0 + i)) { free = i; break; }
  }
  if (free < 0) {
    // All gathering: the host sends more sectors at once than there are buffers. Write out the
    // fullest one; its missing blocks come later into a buffer that starts from the flash.
    let best = -1;
    let most = -1;
    for (let i = 0; i < UF2_BUFFERS; i++) {
      if (load<u8>(bufFilling + i) == 0) continue;
      const n = filledBlocks(i);
      if (n > most) { most = n; best = i; }
    }
    if (best >= 0) flush(best);
    return -1;
  }
  const size = sectorBytes();
  if (bit(touched, sec)) {
    if (!writerIdle()) return -1;
    if (flashRead(sec * size, bufPtr(free), size) < 0) return -1;
  } else {
    memory.fill(bufPtr(free), 0xff, size);
  }
  store<u32>(bufSector + 4 * free, sec);
  store<u8>(bufFilling + free, 1);
  return free;
}

function filledBlocks(i: i32): i32 {
  const size = sectorBytes();
  const first = (load<u32>(bufSector + 4 * i) * size - appStartOffset()) / PAYLOAD;
  let n = 0;
  for (let b: u32 = 0; b < size / PAYLOAD; b++) if (bit(got, first + b)) n++;
  return n;
}

function sectorComplete(i: i32): bool { return filledBlocks(i) == <i32>(sectorBytes() / PAYLOAD); }

// Is the block already stored with these bytes? 1 yes, 0 other bytes, -1 not known yet.
function sameAsStored(off: u32, data: usize): i32 {
  const size = sectorBytes();
  const i = bufferOf(off / size);
  if (i >= 0) return mem_compare(bufPtr(i) + off % size, data, PAYLOAD) == 2 ? 1 : 0;
  if (!writerIdle()) return -1;
  if (flashRead(off, scratch, PAYLOAD) < 0) return 0;
  return mem_compare(scratch, data, PAYLOAD) == 2 ? 1 : 0;
}

// Does buffer i hold other bytes than the flash? (The flash must be idle.)
function differs(i: i32): bool {
  const size = sectorBytes();
  const off = load<u32>(bufSector + 4 * i) * size;
  for (let o: u32 = 0; o < size; o += PAYLOAD) {
    if (flashRead(off + o, scratch, PAYLOAD) < 0) return true;
    if (mem_compare(scratch, bufPtr(i) + o, PAYLOAD) != 2) return true;
  }
  return false;
}

// Write out the held buffers of the block starting at sector `first`, in sector order.
function flushHeld(first: u32, spb: u32): void {
  for (let k: u32 = 0; k < spb; k++) {
    const j = bufferOf(first + k);
    if (j >= 0 && load<u8>(bufFilling + j) == HELD) flush(j);
  }
}

// The block-erase decision for the block of held buffer i, once its first two sectors are here
// (and the flash is idle, to compare them): 1 made and the block's held buffers written, 0 not yet.
function decide(i: i32): i32 {
  const sec = load<u32>(bufSector + 4 * i);
  const spb = flashBlockSize() / sectorBytes();
  const first = sec - sec % spb;
  const i0 = bufferOf(first), i1 = bufferOf(first + 1);
  const both = i0 >= 0 && i1 >= 0 && load<u8>(bufFilling + i0) == HELD && load<u8>(bufFilling + i1) == HELD;
  if (!both && !bit(touched, first) && !bit(touched, first + 1)) return 0;
  if (both) {
    if (!writerIdle()) return 0;
    let clean = true;
    for (let k: u32 = 0; k < spb; k++) if (bit(touched, first + k)) clean = false;
    if (clean && differs(i0) && differs(i1)) flashEraseRequest(first * sectorBytes(), flashBlockSize());
  }
  // (One of the two went out alone, pushed out for room: sector by sector then.)
  setBit(decided, first / spb);
  flushHeld(first, spb);
  return 1;
}

// A buffer has all its blocks: write it, or hold it until its block's erase is decided.
function sectorDone(i: i32): void {
  const size = sectorBytes();
  const block = flashBlockSize();
  const spb = block / size;
  const sec = load<u32>(bufSector + 4 * i);
  const first = sec - sec % spb;
  if (spb < 2 || bit(decided, first / spb) || first * size < fileLo || first * size + block > fileHi ||
      first * size + block > appEndOffset()) {
    flush(i);
    return;
  }
  store<u8>(bufFilling + i, HELD);
  decide(i);
}

// One 512-byte sector written by the host, at `p`.
export function uf2Block(p: usize): i32 {
  if (load<u32>(p) != UF2_MAGIC0 || load<u32>(p, 4) != UF2_MAGIC1 || load<u32>(p, 508) != UF2_MAGIC_END) return UF2_TAKEN;
  const flags = load<u32>(p, 8);
  if ((flags & (FLAG_NOT_MAIN_FLASH | FLAG_FILE_CONTAINER)) != 0) return UF2_TAKEN;
  // Without a family a block could be for any chip: only blocks that say they are ours count.
  if ((flags & FLAG_FAMILY_ID) == 0 || load<u32>(p, 28) != uf2Family()) return UF2_TAKEN;
  if (manifesting) return UF2_WAIT;
  const addr = load<u32>(p, 12);
  const size = load<u32>(p, 16);
  const no = load<u32>(p, 20);
  const n = load<u32>(p, 24);
  const start = appStartOffset(), end = appEndOffset();
  if (size == 0 || size > PAYLOAD || (addr & (PAYLOAD - 1)) != 0 || n == 0 || no >= n || n > (end - start) / PAYLOAD) return UF2_REFUSED;
  if (addr < flashBase()) return UF2_REFUSED;
  const off = addr - flashBase();
  if (off < start || off >= end || end - off < PAYLOAD) return UF2_REFUSED;
  const data = p + 32;
  // The host's sector is ours to change: pad a short payload as erased flash.
  if (size < PAYLOAD) memory.fill(data + size, 0xff, PAYLOAD - size);
  const index = (off - start) / PAYLOAD;
  if (n != total) startCopy(n, off, no);
  else if (bit(got, index)) {
    const same = sameAsStored(off, data);
    if (same < 0) return UF2_WAIT;
    if (same == 1) return UF2_TAKEN; // a duplicate: hosts rewrite sectors
    startCopy(n, off, no);           // another file of the same length copied over this one
  }
  const sec = off / sectorBytes();
  let i = bufferOf(sec);
  if (i >= 0 && load<u8>(bufFilling + i) == 0) {
    // That sector's earlier buffer is still with the writer: wait until it is written.
    if (!writerSlotFree(UF2_SLOT0 + i)) return UF2_WAIT;
    store<u32>(bufSector + 4 * i, NONE);
    i = -1;
  }
  if (i < 0) i = allocate(sec);
  if (i < 0) return UF2_WAIT;
  memory.copy(bufPtr(i) + off % sectorBytes(), data, PAYLOAD);
  setBit(got, index);
  count++;
  if (off < lo) lo = off;
  if (off + size > hi) hi = off + size;
  if (sectorComplete(i)) sectorDone(i);
  if (count == total) {
    for (let k = 0; k < UF2_BUFFERS; k++) if (load<u8>(bufFilling + k) != 0) flush(k);
    complete = true;
    if (failed) {
      result = -<i32>errWRITE; // a write of this copy failed: nothing to verify
    } else {
      manifesting = true;
      result = 1;
      manifestStart(lo, hi);
    }
  }
  return UF2_TAKEN;
}

// Called every main-loop pass: runs the manifestation of a finished copy, watches the writes.
export function uf2Tick(): i32 {
  if (manifesting) {
    const r = manifestPoll();
    if (r == 1) return 1;
    manifesting = false;
    result = r;
    return 1;
  }
  if (total != 0 && !complete && writerTakeError() < 0) failed = true;
  let worked = 0;
  for (let i = 0; i < UF2_BUFFERS; i++) if (load<u8>(bufFilling + i) == HELD) worked |= decide(i);
  return worked;
}

// The copy's state, for the SCSI layer: 1 while its image is being verified and recorded.
export function uf2Manifesting(): bool { return manifesting; }
// After a copy has completed: 0 recorded, a negative DFU status if verification or a write failed.
export function uf2Result(): i32 { return result; }
export function uf2Complete(): bool { return complete && !manifesting; }
// Take the news of a completed copy (once).
export function uf2TakeComplete(): bool {
  if (!complete || manifesting) return false;
  complete = false;
  return true;
}
