// The update record: 32 bytes in a 64-byte slot of the reserved record sector (the sector is a
// log of such slots, boot/record-store.ts; the last one written is the current record).
//   +0  u32 magic "QSBR"           +4  u16 format version, u16 state (UPDATING / VALID)
//   +8  u32 image offset in flash  +12 u32 image length
//   +16 u32 CRC-32 of the image    +20 u32 sequence number (one more per valid record)
//   +24 u32 CRC-32 of bytes 0..23  +28 u32 invalidated: FFFFFFFF while the record stands
// A record is only ever made invalid by programming bits to 0 (the invalidated word), which
// NOR flash does without an erase: a power cut cannot leave an old image marked valid while
// it is being replaced. Erased (all FFh) means there is no record.
// A core with signed updates (QSPIBOOT_SIGNED) adds 8 bytes, written with the record:
//   +32 u32 version floor: the highest firmware version accepted so far (downgrade protection)
//   +36 u32 the floor's complement: a torn write (bits only go 1 -> 0) cannot pass as a floor;
//           a record whose floor pair does not hold counts as damaged (a write cut off after the
//           checksum but before the floor must not pass as a record without its floor)
// and keeps two record sectors (boot/record-store.ts), so that a floor stays in flash while
// one of them is erased.
import { crc32_buf } from "./hal";

export const RECORD_SIZE: u32 = isDefined(QSPIBOOT_SIGNED) ? 40 : 32;
export const RECORD_MAGIC: u32 = 0x52425351;
export const RECORD_VERSION: u16 = 1;
export const STATE_UPDATING: u16 = 1;
export const STATE_VALID: u16 = 2;

// What the sector holds, as read at boot and kept up to date by the update code.
export const RECORD_NONE: i32 = 0;     // erased: no record at all
export const RECORD_VALID: i32 = 1;
export const RECORD_UPDATING: i32 = 2; // an update started and has not been completed
export const RECORD_BAD: i32 = 3;      // anything else: torn write, bad checksum, impossible fields

export const record = memory.data(<i32>RECORD_SIZE);

export function recordBase(): u32 { return load<u32>(record, 8); }
export function recordLength(): u32 { return load<u32>(record, 12); }
export function recordCrc(): u32 { return load<u32>(record, 16); }
export function recordSequence(): u32 { return load<u32>(record, 20); }

// Classify the 32 bytes in `record`. `appStart`/`appEnd` bound a plausible image.
export function recordClassify(appStart: u32, appEnd: u32): i32 {
  let erased = true;
  for (let i: u32 = 0; i < RECORD_SIZE; i += 4) if (load<u32>(record + i) != 0xffffffff) erased = false;
  if (erased) return RECORD_NONE;
  if (load<u32>(record) != RECORD_MAGIC || load<u16>(record, 4) != RECORD_VERSION) return RECORD_BAD;
  if (crc32_buf(0, record, 24) != load<u32>(record, 24)) return RECORD_BAD;
  const state = load<u16>(record, 6);
  if (state == STATE_UPDATING) return RECORD_UPDATING;
  if (state != STATE_VALID) return RECORD_BAD;
  const base = recordBase();
  const len = recordLength();
  if (base < appStart || base >= appEnd || len == 0 || len > appEnd - base) return RECORD_BAD;
  return load<u32>(record, 28) == 0xffffffff ? RECORD_VALID : RECORD_UPDATING;
}

// The version floor the record carries (signed cores), or 0 when there is none or it is torn.
export function recordFloor(): u32 { return recordFloorIntact() ? load<u32>(record, 32) : 0; }
export function recordFloorIntact(): bool {
  return isDefined(QSPIBOOT_SIGNED) && load<u32>(record, 36) == ~load<u32>(record, 32);
}

// Fill `record` with a fresh record.
export function recordBuild(state: u16, base: u32, len: u32, crc: u32, sequence: u32, floor: u32 = 0): void {
  store<u32>(record, RECORD_MAGIC);
  store<u16>(record, RECORD_VERSION, 4);
  store<u16>(record, state, 6);
  store<u32>(record, base, 8);
  store<u32>(record, len, 12);
  store<u32>(record, crc, 16);
  store<u32>(record, sequence, 20);
  store<u32>(record, crc32_buf(0, record, 24), 24);
  store<u32>(record, 0xffffffff, 28);
  if (isDefined(QSPIBOOT_SIGNED)) {
    store<u32>(record, floor, 32);
    store<u32>(record, ~floor, 36);
  }
}
