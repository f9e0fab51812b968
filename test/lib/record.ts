// The update record as a test reads it straight off the flash model, written from the format
// documented in boot/record.ts and boot/record-store.ts (not from the core's code): 32 bytes in
// a 64-byte slot; a record sector is a log of 64 slots filled in order, the current record is the
// last slot that is not erased (first 40 bytes not all FFh).
//   +0 "QSBR"  +4 u16 version 1, u16 state (1 updating, 2 valid)  +8 image offset  +12 length
//   +16 image CRC-32  +20 sequence  +24 CRC-32 of bytes 0..23  +28 FFFFFFFF unless invalidated
// A core with signed updates adds +32 u32 version floor, +36 its complement (a floor only counts
// when both hold), and keeps two record sectors: the current record is the intact one (checksum
// holds, valid or updating) with the higher sequence; a sector's floor is its newest slot's whose
// pair holds, the board's the higher of the two sectors'. A record whose floor pair does not hold
// counts as bad there.
import { crc32 } from "../../tools/dfu/crc32";

export type RecordKind = "none" | "valid" | "updating" | "bad";
export interface FlashRecord { kind: RecordKind; base: number; length: number; crc: number; sequence: number; floor: number; at: number }

export const SLOT = 64;
const SECTOR = 4096;

/** How many slots of the record sector at `sector` are used (a prefix). */
export function usedSlots(flash: Uint8Array, sector: number): number {
  let n = 0;
  while (n < SECTOR / SLOT && !flash.subarray(sector + n * SLOT, sector + n * SLOT + 40).every((x) => x === 0xff)) n++;
  return n;
}

/** The current record of the record sector at `sector`: its last used slot. */
export function readRecord(flash: Uint8Array, sector: number, appStart: number, appEnd: number): FlashRecord {
  const n = usedSlots(flash, sector);
  return readRecordAt(flash, sector + Math.max(0, n - 1) * SLOT, appStart, appEnd);
}

/** The record in the slot at `recordOffset` (or in an old qspiboot's single place). */
export function readRecordAt(flash: Uint8Array, recordOffset: number, appStart: number, appEnd: number): FlashRecord {
  const r = flash.subarray(recordOffset, recordOffset + 32);
  const dv = new DataView(r.buffer, r.byteOffset, 32);
  const u32 = (o: number) => dv.getUint32(o, true);
  const out: FlashRecord = { kind: "bad", base: u32(8), length: u32(12), crc: u32(16), sequence: u32(20), floor: floorAt(flash, recordOffset), at: recordOffset };
  if (r.every((x) => x === 0xff)) return { ...out, kind: "none" };
  if (u32(0) !== 0x52425351 || dv.getUint16(4, true) !== 1) return out;
  if (crc32(0, r.subarray(0, 24)) !== u32(24)) return out;
  const state = dv.getUint16(6, true);
  if (state === 1) return { ...out, kind: "updating" };
  if (state !== 2) return out;
  if (out.base < appStart || out.base >= appEnd || out.length === 0 || out.length > appEnd - out.base) return out;
  return { ...out, kind: u32(28) === 0xffffffff ? "valid" : "updating" };
}

function floorPairHolds(flash: Uint8Array, recordOffset: number): boolean {
  const dv = new DataView(flash.buffer, flash.byteOffset + recordOffset + 32, 8);
  return dv.getUint32(4, true) === (~dv.getUint32(0, true) >>> 0);
}

function floorAt(flash: Uint8Array, recordOffset: number): number {
  const dv = new DataView(flash.buffer, flash.byteOffset + recordOffset + 32, 8);
  const f = dv.getUint32(0, true);
  return dv.getUint32(4, true) === (~f >>> 0) ? f : 0;
}

export interface RecordPlace { recordOffset: number; recordOffset2: number; appStart: number; appEnd: number; signed: boolean }

/** A sector's floor: that of its newest slot whose floor pair holds. */
function sectorFloor(flash: Uint8Array, sector: number): number {
  for (let i = usedSlots(flash, sector) - 1; i >= 0; i--) if (floorPairHolds(flash, sector + i * SLOT)) return floorAt(flash, sector + i * SLOT);
  return 0;
}

/** The board's current record, from one record sector or (signed cores) the better of two. */
export function readBoardRecord(flash: Uint8Array, g: RecordPlace): FlashRecord {
  const a = readRecord(flash, g.recordOffset, g.appStart, g.appEnd);
  if (!g.signed) return { ...a, floor: 0 };
  const b = readRecord(flash, g.recordOffset2, g.appStart, g.appEnd);
  const intact = (r: FlashRecord) => r.kind === "valid" || r.kind === "updating";
  for (const r of [a, b]) if (intact(r) && !floorPairHolds(flash, r.at)) r.kind = "bad";
  const floor = Math.max(sectorFloor(flash, g.recordOffset), sectorFloor(flash, g.recordOffset2));
  const cur = intact(b) && (!intact(a) || b.sequence > a.sequence) ? b : a;
  return { ...cur, floor };
}

/** Does the flash hold exactly the image a VALID record describes? */
export function recordMatchesFlash(flash: Uint8Array, rec: FlashRecord): boolean {
  return crc32(0, flash.subarray(rec.base, rec.base + rec.length)) === rec.crc;
}

/** The 32 bytes of a record in that format (for boards set up as an older qspiboot left them). */
export function makeRecord(state: 1 | 2, base: number, length: number, crc: number, sequence: number): Uint8Array {
  const r = new Uint8Array(32).fill(0xff);
  const dv = new DataView(r.buffer);
  dv.setUint32(0, 0x52425351, true);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, state, true);
  dv.setUint32(8, base, true);
  dv.setUint32(12, length, true);
  dv.setUint32(16, crc >>> 0, true);
  dv.setUint32(20, sequence, true);
  dv.setUint32(24, crc32(0, r.subarray(0, 24)), true);
  return r;
}
