// Where update records live in flash, and which one counts (boot/record.ts has the format).
// A record sector holds a log of records in 64-byte slots, filled in order: the current record
// is the last slot that is not erased, the next one goes into the slot after it, and only a
// full sector is erased (the write into its first slot does it). So recording an image costs a
// page program, not a 4 KiB erase (45 ms typical, 400 ms at worst on a W25Q64JV) every time.
// Slots never straddle a page (64 divides 256), and the used slots are always a prefix of the
// sector, so a binary search finds the last one in 6 reads.
// Signed cores keep two such sectors: when one is full the next record goes into the other,
// which is erased for it while the full one still holds the version floor.
import { flashRead, flashEraseRequest } from "./flash/engine";
import { bootRead } from "./boot-read";
import { writerQueue, writerIdle, writerTakeError, RECORD_SLOT } from "./writer";
import {
  record, recordClassify, recordSequence, recordFloor, recordFloorIntact,
  RECORD_SIZE, RECORD_NONE, RECORD_VALID, RECORD_UPDATING, RECORD_BAD,
} from "./record";
import { appStartOffset, appEndOffset, recordOffset, recordOffset2, legacyRecordOffset, sectorBytes } from "./dfu/layout";
import { legacyRecord } from "./board";

export const SLOT_SIZE: u32 = 64;

let state: i32 = RECORD_NONE;
// The slot the record in `record` came from (the one an update invalidates), and the slot the
// next record is written to.
let at: u32 = 0;
let next: u32 = 0;
// Signed cores: the highest firmware version accepted so far, from either record sector.
let floor: u32 = 0;

// @ts-ignore: decorator
@lazy const probe = memory.data(<i32>RECORD_SIZE);
// @ts-ignore: decorator
@lazy const other = memory.data(<i32>RECORD_SIZE);
// @ts-ignore: decorator
@lazy const keep = memory.data(<i32>RECORD_SIZE);

export function intact(kind: i32): bool { return kind == RECORD_VALID || kind == RECORD_UPDATING; }
function slots(): u32 { return sectorBytes() / SLOT_SIZE; }

function erased(p: usize): bool {
  for (let i: u32 = 0; i < RECORD_SIZE; i += 4) if (load<u32>(p + i) != 0xffffffff) return false;
  return true;
}

// The number of used slots of the sector at `sec` (-1: the flash did not answer); the last of
// them is left in `record`.
function usedSlots(sec: u32): i32 {
  let lo: u32 = 0, hi = slots();
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bootRead(sec + mid * SLOT_SIZE, probe, RECORD_SIZE) < 0) return -1;
    if (erased(probe)) hi = mid; else lo = mid + 1;
  }
  if (lo > 0 && bootRead(sec + (lo - 1) * SLOT_SIZE, record, RECORD_SIZE) < 0) return -1;
  if (lo == 0) memory.fill(record, 0xff, RECORD_SIZE);
  return <i32>lo;
}

// The floor of the newest slot of a sector whose floor pair holds (a torn last slot leaves the
// floor in the one before it).
function sectorFloor(sec: u32, used: i32): u32 {
  for (let i = used - 1; i >= 0; i--) {
    if (bootRead(sec + <u32>i * SLOT_SIZE, probe, RECORD_SIZE) < 0) return 0;
    memory.copy(keep, record, RECORD_SIZE);
    memory.copy(record, probe, RECORD_SIZE);
    const ok = recordFloorIntact();
    const f = recordFloor();
    memory.copy(record, keep, RECORD_SIZE);
    if (ok) return f;
  }
  return 0;
}

function classify(): i32 {
  const k = recordClassify(appStartOffset(), appEndOffset());
  return isDefined(QSPIBOOT_SIGNED) && intact(k) && !recordFloorIntact() ? RECORD_BAD : k;
}

// Place `at` on slot `used - 1` of `sec` (its first slot when there is none) and `next` after it.
function place(sec: u32, used: i32, otherSec: u32): void {
  at = sec + (used > 0 ? <u32>(used - 1) * SLOT_SIZE : 0);
  next = <u32>used < slots() ? sec + <u32>used * SLOT_SIZE : otherSec;
}

// What the record sector(s) held at reset: read once (boot-read.ts), and classified again when
// a pass of the boot decision has another layout (the end of the application region it knew).
let found: i32 = RECORD_NONE;
let foundEnd: u32 = 0;

// Read the record sector(s), at reset while the engine is idle.
export function recordScan(): void {
  found = isDefined(QSPIBOOT_SIGNED) ? loadEither() : loadOne();
  foundEnd = appEndOffset();
}

function loadOne(): i32 {
  const sec = recordOffset();
  const used = usedSlots(sec);
  if (used < 0) return RECORD_BAD;
  place(sec, used, sec);
  return classify();
}

// The current record's status under the current layout (an image the chip assumed could hold
// may not fit the chip there is).
export function recordLoad(): i32 { return (state = intact(found) && foundEnd != appEndOffset() ? classify() : found); }

// After recordLoad, in DFU mode's decision only (it may write): no record, but one in the old
// place (legacyLoad).
export function recordLoadLegacy(): i32 {
  if (state == RECORD_NONE && legacyRecord()) state = legacyLoad();
  return state;
}

// Signed cores: the current record is the intact one (checksum holds) of the two sectors' last
// slots with the higher sequence number; the floor is the higher of the two sectors'.
function loadEither(): i32 {
  const a = recordOffset(), b = recordOffset2();
  const usedB = usedSlots(b);
  if (usedB < 0) return RECORD_BAD;
  const kB = classify();
  const seqB = recordSequence();
  const floorB = sectorFloor(b, usedB);
  memory.copy(other, record, RECORD_SIZE);
  const usedA = usedSlots(a);
  if (usedA < 0) return RECORD_BAD;
  const kA = classify();
  const floorA = sectorFloor(a, usedA);
  floor = floorA > floorB ? floorA : floorB;
  if (intact(kB) && (!intact(kA) || seqB > recordSequence())) {
    memory.copy(record, other, RECORD_SIZE);
    place(b, usedB, a);
    return kB;
  }
  place(a, usedA, b);
  // No legacy record here: no qspiboot before signed updates could have recorded a signed image.
  return kA == RECORD_NONE && kB == RECORD_BAD ? RECORD_BAD : kA;
}

// qspiboot before 0.2 kept the record in the chip's last sector, which now belongs to the
// application. A record there whose checksum holds still counts while the new place is empty;
// a valid one is copied to the new place at once (one page program into the erased record
// sector), so from then on the application may use that sector as it likes. Anything else
// there is the application's data: as if there were no record. A power cut during the copy
// leaves a torn record in the new place: DFU mode ("update interrupted"), image intact.
function legacyLoad(): i32 {
  if (flashRead(legacyRecordOffset(), record, 32) < 0) return RECORD_BAD;
  const legacy = recordClassify(appStartOffset(), appEndOffset());
  if (legacy == RECORD_VALID) {
    recordWrite();
    while (!writerIdle()) {}
    return writerTakeError() < 0 ? RECORD_BAD : RECORD_VALID;
  }
  if (legacy == RECORD_UPDATING) return RECORD_UPDATING;
  memory.fill(record, 0xff, RECORD_SIZE);
  return RECORD_NONE;
}

// Queue `record` for the next slot; from then on it is the current record (writes reach the
// flash in the order they are queued). Returns where it goes.
export function recordWrite(): u32 {
  const to = next;
  // A first slot is written into an empty sector: say so, rather than trust that the new bytes
  // cannot happen to be programmable over the old first slot (the engine skips a blank one).
  if (to % sectorBytes() == 0) flashEraseRequest(to, sectorBytes());
  writerQueue(RECORD_SLOT, record, to, RECORD_SIZE);
  const sec = to - to % sectorBytes();
  const otherSec = !isDefined(QSPIBOOT_SIGNED) ? sec : sec == recordOffset() ? recordOffset2() : recordOffset();
  place(sec, <i32>((to - sec) / SLOT_SIZE) + 1, otherSec);
  return to;
}

// Queue the invalidation of the current record (its +28 word to zero: programming only).
// @ts-ignore: decorator
@lazy const zero = memory.data(4);
export function recordInvalidate(): void {
  store<u32>(zero, 0);
  writerQueue(RECORD_SLOT, zero, at + 28, 4);
}

export function recordStatus(): i32 { return state; }
export function recordSetStatus(s: i32): void { state = s; }
// The lowest firmware version a signed image needs unless it allows a downgrade.
export function recordVersionFloor(): u32 { return floor; }
export function recordSetVersionFloor(f: u32): void { floor = f; }
