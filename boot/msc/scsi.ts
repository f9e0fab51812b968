// SCSI commands of a removable direct-access device, as much as Linux, macOS and Windows send
// to a USB drive (SPC-4 and SBC-3 for the commands, the USB MSC UFI/SFF-8070i for READ FORMAT
// CAPACITIES, which Windows asks first): INQUIRY, TEST UNIT READY, READ CAPACITY(10),
// READ(10), WRITE(10), REQUEST SENSE, MODE SENSE(6/10), PREVENT ALLOW MEDIUM REMOVAL, START STOP
// UNIT, SYNCHRONIZE CACHE(10). Anything else fails with ILLEGAL REQUEST / INVALID COMMAND
// OPERATION CODE in the sense data. The transport (boot/msc/bot.ts) asks here what a command
// moves and in which direction, then pulls or pushes its data.
import { fatRead, fatWrite, SECTOR, TOTAL_SECTORS } from "./fat";
import { uf2Manifesting, uf2TakeComplete, uf2Result, UF2_WAIT, UF2_REFUSED } from "./uf2";
import { boardNamePtr, bcdDevice } from "../board";
import { decimal } from "../usb/strings";

export const DIR_NONE: u8 = 0;
export const DIR_IN: u8 = 1;
export const DIR_OUT: u8 = 2;

// SPC-4 4.5.6 sense keys, and the additional sense codes used here.
const KEY_NONE: u8 = 0x00;
const KEY_MEDIUM_ERROR: u8 = 0x03;
const KEY_ILLEGAL_REQUEST: u8 = 0x05;
const KEY_DATA_PROTECT: u8 = 0x07;
const ASC_WRITE_ERROR: u8 = 0x0c;
const ASC_READ_ERROR: u8 = 0x11;
const ASC_INVALID_OPCODE: u8 = 0x20;
const ASC_LBA_OUT_OF_RANGE: u8 = 0x21;
const ASC_INVALID_FIELD: u8 = 0x24;
const ASC_LUN_NOT_SUPPORTED: u8 = 0x25;
const ASC_WRITE_PROTECTED: u8 = 0x27;

const TEST_UNIT_READY: u8 = 0x00;
const REQUEST_SENSE: u8 = 0x03;
const INQUIRY: u8 = 0x12;
const MODE_SENSE_6: u8 = 0x1a;
const START_STOP_UNIT: u8 = 0x1b;
const PREVENT_ALLOW: u8 = 0x1e;
const READ_FORMAT_CAPACITIES: u8 = 0x23;
const READ_CAPACITY_10: u8 = 0x25;
const READ_10: u8 = 0x28;
const WRITE_10: u8 = 0x2a;
const SYNCHRONIZE_CACHE_10: u8 = 0x35;
const MODE_SENSE_10: u8 = 0x5a;

// The command being run, as the transport needs it.
export let dir: u8 = DIR_NONE;
export let length: u32 = 0;     // bytes the device means to move
export let exact: bool = false; // READ/WRITE: the host must move exactly `length` (else phase error)
let failed: bool = false;
let senseKey: u8 = KEY_NONE;
let senseAsc: u8 = 0;
let opcode: u8 = 0;
let lba: u32 = 0;               // next sector of a READ or WRITE
let refusedWrite: bool = false;
let reply: usize = 0;           // short replies are made at command time
// @ts-ignore: decorator
@lazy const replyBuf = memory.data(36);
// @ts-ignore: decorator
@lazy const VENDOR = memory.data<u8>([0x71, 0x73, 0x70, 0x69, 0x62, 0x6f, 0x6f, 0x74]); // "qspiboot"

function be32(p: usize): u32 { return bswap<u32>(load<u32>(p)); }
function be16(p: usize): u32 { return <u32>bswap<u16>(load<u16>(p)); }
function putBe32(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v)); }

function fail(key: u8, asc: u8): void {
  failed = true;
  senseKey = key;
  senseAsc = asc;
  dir = DIR_NONE;
  length = 0;
}

function answer(n: u32, alloc: u32): void {
  dir = DIR_IN;
  length = n < alloc ? n : alloc;
  reply = replyBuf;
}

// A new command block (`cb`, `cbLen` bytes) for logical unit `lun`.
export function scsiCommand(cb: usize, cbLen: i32, lun: u32): void {
  opcode = load<u8>(cb);
  dir = DIR_NONE;
  length = 0;
  exact = false;
  failed = false;
  refusedWrite = false;
  reply = 0;
  // REQUEST SENSE reports the last command's sense; every other command starts afresh.
  if (opcode != REQUEST_SENSE) { senseKey = KEY_NONE; senseAsc = 0; }
  if (lun != 0) { fail(KEY_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED); return; }
  if (cbLen < 6) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE); return; }
  memory.fill(replyBuf, 0, 36);
  if (opcode == TEST_UNIT_READY || opcode == PREVENT_ALLOW || opcode == START_STOP_UNIT || opcode == SYNCHRONIZE_CACHE_10) return;
  if (opcode == REQUEST_SENSE) {
    // Fixed format (SPC-4 4.5.3): current error, key, additional length 10, ASC, ASCQ 0.
    store<u8>(replyBuf, 0x70);
    store<u8>(replyBuf, senseKey, 2);
    store<u8>(replyBuf, 10, 7);
    store<u8>(replyBuf, senseAsc, 12);
    senseKey = KEY_NONE; senseAsc = 0;
    answer(18, load<u8>(cb, 4));
    return;
  }
  if (opcode == INQUIRY) {
    // Vital product data pages are not offered: hosts fall back to the standard data.
    if ((load<u8>(cb, 1) & 1) != 0 || load<u8>(cb, 2) != 0) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_FIELD); return; }
    // SPC-4 6.6.2: direct access, removable, SPC-2 (version 4), response format 2, 31 more bytes.
    store<u8>(replyBuf, 0x80, 1);
    store<u8>(replyBuf, 0x04, 2);
    store<u8>(replyBuf, 0x02, 3);
    store<u8>(replyBuf, 31, 4);
    memory.copy(replyBuf + 8, VENDOR, 8);
    memory.fill(replyBuf + 16, 0x20, 16);
    let n = 0;
    while (n < 16 && load<u8>(boardNamePtr() + n) != 0) n++;
    memory.copy(replyBuf + 16, boardNamePtr(), n);
    const v = bcdDevice();
    decimal(replyBuf + 32, v >> 8, 1);
    store<u8>(replyBuf + 33, 0x2e);
    decimal(replyBuf + 34, (v >> 4 & 15) * 10 + (v & 15), 2);
    answer(36, be16(cb + 3));
    return;
  }
  if (opcode == MODE_SENSE_6) {
    // Header only (SPC-4 7.5.5): data length 3, no write protection, no block descriptors.
    store<u8>(replyBuf, 3);
    answer(4, load<u8>(cb, 4));
    return;
  }
  if (opcode == MODE_SENSE_10) {
    if (cbLen < 10) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE); return; }
    store<u8>(replyBuf, 6, 1);
    answer(8, be16(cb + 7));
    return;
  }
  if (opcode == READ_CAPACITY_10) {
    if (cbLen < 10) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE); return; }
    putBe32(replyBuf, TOTAL_SECTORS - 1);
    putBe32(replyBuf + 4, SECTOR);
    answer(8, 8);
    return;
  }
  if (opcode == READ_FORMAT_CAPACITIES) {
    if (cbLen < 10) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE); return; }
    // UFI 4.10: list header (list length 8), one descriptor: blocks, code 2 (formatted), 512.
    store<u8>(replyBuf, 8, 3);
    putBe32(replyBuf + 4, TOTAL_SECTORS);
    putBe32(replyBuf + 8, SECTOR);
    store<u8>(replyBuf, 2, 8);
    answer(12, be16(cb + 7));
    return;
  }
  if (opcode == READ_10 || opcode == WRITE_10) {
    if (cbLen < 10) { fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE); return; }
    const first = be32(cb + 2);
    const count = be16(cb + 7);
    if (first >= TOTAL_SECTORS || count > TOTAL_SECTORS - first) { fail(KEY_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE); return; }
    lba = first;
    dir = count == 0 ? DIR_NONE : opcode == READ_10 ? DIR_IN : DIR_OUT;
    length = count * SECTOR;
    exact = true;
    return;
  }
  fail(KEY_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

// The next IN data, up to `max` bytes (a multiple of 512) at `dst`: how many were made, or -1
// when the data is not ready yet (the flash is busy).
export function scsiIn(dst: usize, max: u32): i32 {
  if (reply != 0) {
    memory.copy(dst, reply, length);
    return <i32>length;
  }
  let n: u32 = 0;
  while (n + SECTOR <= max) {
    const r = fatRead(lba, dst + n);
    if (r > 0) break;
    if (r < 0) { failed = true; senseKey = KEY_MEDIUM_ERROR; senseAsc = ASC_READ_ERROR; }
    lba++;
    n += SECTOR;
  }
  return n == 0 ? -1 : <i32>n;
}

// OUT data: `n` bytes at `src` (a multiple of 512), sector by sector from `done` on. Returns how
// many bytes it has taken; fewer than n means "call again with the rest later".
export function scsiOut(src: usize, n: u32): u32 {
  let done: u32 = 0;
  while (done < n) {
    const r = fatWrite(src + done);
    if (r == UF2_WAIT) break;
    if (r == UF2_REFUSED) refusedWrite = true;
    lba++;
    done += SECTOR;
  }
  return done;
}

// Called once all of a command's data has moved: true when its status is known (a WRITE that
// completed a UF2 copy waits for the image to be verified and recorded, so a failure reaches
// the host as a failed write). Sets `leave` when the new image should start.
export let leave: bool = false;
export function scsiFinish(): bool {
  if (opcode != WRITE_10) return true;
  if (uf2Manifesting()) return false;
  if (refusedWrite) { failed = true; senseKey = KEY_DATA_PROTECT; senseAsc = ASC_WRITE_PROTECTED; }
  if (uf2TakeComplete()) {
    if (uf2Result() < 0) { failed = true; senseKey = KEY_MEDIUM_ERROR; senseAsc = ASC_WRITE_ERROR; }
    else leave = true;
  }
  return true;
}

export function scsiFailed(): bool { return failed; }
