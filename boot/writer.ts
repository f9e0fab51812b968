// The order flash writes happen in. Writes wait in slots and reach the flash engine strictly
// first-come first-served, which is what update safety rests on: the record is invalidated
// (a write queued first) before any erase of the image can run (erases run inside later writes
// or in a flush, which only starts when the queue is empty).
import { flashWriteStart, flashPoll, FLASH_BUSY } from "./flash/engine";

// Slots 0 .. DFU_BUFFERS - 1 are the DFU transfer buffers (boot/dfu/dfu.ts), then the update
// record (boot/update.ts), then, in a core with the UF2 drive, its sector buffers (boot/msc/uf2.ts).
export const DFU_BUFFERS: i32 = 8;
export const RECORD_SLOT: i32 = DFU_BUFFERS;
export const UF2_SLOT0: i32 = RECORD_SLOT + 1;
export const UF2_BUFFERS: i32 = 6;
export const SLOT_COUNT: i32 = isDefined(QSPIBOOT_UF2) ? UF2_SLOT0 + UF2_BUFFERS : RECORD_SLOT + 1;

const FREE: u8 = 0;
const QUEUED: u8 = 1;
const WRITING: u8 = 2;

const slotState = memory.data(SLOT_COUNT);
const slotPtr = memory.data(SLOT_COUNT * 4);
const slotOff = memory.data(SLOT_COUNT * 4);
const slotLen = memory.data(SLOT_COUNT * 4);
const slotSeq = memory.data(SLOT_COUNT * 4);
let seq: u32 = 0;
let engineBusy: bool = false;
let error: i32 = 0;
// Counted, not scanned for: the main loop asks on every pass (npm run bench: the scans of the
// slot states were a tenth of the RP2040's cycles per block).
let queued: i32 = 0;
let writing: i32 = -1;

export function writerSlotFree(slot: i32): bool { return load<u8>(slotState + slot) == FREE; }

// Queue `len` bytes at `ptr` for flash offset `off`. The caller leaves the bytes alone until
// writerSlotFree(slot).
export function writerQueue(slot: i32, ptr: usize, off: u32, len: u32): void {
  store<u32>(slotPtr + 4 * slot, ptr);
  store<u32>(slotOff + 4 * slot, off);
  store<u32>(slotLen + 4 * slot, len);
  store<u32>(slotSeq + 4 * slot, seq++);
  store<u8>(slotState + slot, QUEUED);
  queued++;
  writerTick();
}

// Advance the engine; start the oldest queued write when it is free. Returns 1 if anything
// changed. A failed write drops everything queued behind it and is kept for writerTakeError().
export function writerTick(): i32 {
  const r = flashPoll();
  engineBusy = r == FLASH_BUSY;
  if (engineBusy) return 0;
  let changed: i32 = 0;
  if (writing >= 0) { store<u8>(slotState + writing, FREE); writing = -1; changed = 1; }
  if (r < 0) {
    for (let i = 0; i < SLOT_COUNT; i++) store<u8>(slotState + i, FREE);
    queued = 0;
    error = r;
    return 1;
  }
  if (queued == 0) return changed;
  let next: i32 = -1;
  for (let i = 0; i < SLOT_COUNT; i++) {
    if (load<u8>(slotState + i) == QUEUED && (next < 0 || load<u32>(slotSeq + 4 * i) < load<u32>(slotSeq + 4 * next))) next = i;
  }
  if (flashWriteStart(load<u32>(slotOff + 4 * next), load<u32>(slotPtr + 4 * next), load<u32>(slotLen + 4 * next)) == 0) {
    store<u8>(slotState + next, WRITING);
    queued--;
    writing = next;
    engineBusy = true;
    changed = 1;
  }
  return changed;
}

// Nothing queued, nothing writing, engine idle (erase flushes included).
export function writerIdle(): bool {
  writerTick();
  return queued == 0 && writing < 0 && !engineBusy;
}

// The engine error (negative FLASH_ERR_*) of a failed write since the last call, or 0.
export function writerTakeError(): i32 {
  const e = error;
  error = 0;
  return e;
}
