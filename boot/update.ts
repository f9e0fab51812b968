// An update from the record's point of view: invalidate before the first change to flash,
// and at manifestation read the image back, check it, and only then write a valid record.
import { crc32_buf } from "./hal";
import { flashRead } from "./flash/engine";
import { writerIdle, writerTakeError, writerSlotFree, RECORD_SLOT } from "./writer";
import {
  record, recordBuild, recordBase, recordLength, recordSequence,
  RECORD_NONE, RECORD_VALID, RECORD_UPDATING, RECORD_BAD, STATE_UPDATING, STATE_VALID,
} from "./record";
import {
  recordStatus, recordSetStatus, recordVersionFloor, recordSetVersionFloor, recordWrite, recordInvalidate, intact,
} from "./record-store";
import { appStartOffset, appEndOffset } from "./dfu/layout";
import { vectorsPlausible } from "./vectors";
import * as S from "./dfu/states";
import { sigBegin, sigChunk, sigFinish, sigVersion, sigAllowsDowngrade, sigRefuseDowngrade, SIG_OK } from "./sig/check";

const chunk = memory.data(1024);

export { recordStatus, recordVersionFloor } from "./record-store";

// Before the first erase or write of a download: make sure no record calls the image valid.
// The write is queued, so it reaches the flash before anything queued after it.
export function updateBegin(): void {
  const state = recordStatus();
  if (state == RECORD_VALID) {
    recordInvalidate();
    recordSetStatus(RECORD_UPDATING);
  } else if (state == RECORD_NONE) {
    recordBuild(STATE_UPDATING, appStartOffset(), 0, 0, 0, recordVersionFloor());
    recordWrite();
    recordSetStatus(RECORD_UPDATING);
  }
  // UPDATING already, or a damaged record: nothing vouches for the image; the final record
  // goes into the next slot anyway.
}

const M_IDLE: u8 = 0;
const M_WAIT_WRITES: u8 = 1;
const M_CRC: u8 = 2;
const M_WAIT_RECORD: u8 = 3;
let mState: u8 = M_IDLE;
let mBase: u32 = 0;
let mEnd: u32 = 0;
let mPos: u32 = 0;
let mCrc: u32 = 0;
let mWrote: bool = false;
let mFloor: u32 = 0;

// A manifestation is checking or recording an image (its SHA-256 state is in use).
export function manifestBusy(): bool { return mState != M_IDLE; }

// Manifestation of a download that wrote flash offsets [lo, hi) (lo > hi: nothing written).
export function manifestStart(lo: u32, hi: u32): void {
  mWrote = lo < hi;
  mBase = appStartOffset();
  // A download that wrote the application start wrote an image: it ends where the download
  // ended (a shorter image after a longer one is recorded short). Otherwise the image runs to
  // the end of what was written or of the previous image, if that was longer (a host may send
  // only the sectors that changed). Only a record whose checksum held says anything about a length.
  mEnd = mWrote ? hi : mBase;
  if (!(mWrote && lo == mBase) && intact(recordStatus()) &&
      recordBase() == mBase && recordBase() + recordLength() > mEnd) {
    mEnd = recordBase() + recordLength();
  }
  if (mEnd > appEndOffset()) mEnd = appEndOffset();
  mState = M_WAIT_WRITES;
}

// 1 while working, 0 when the image is verified and recorded (or already was), or a negated
// DFU status code.
export function manifestPoll(): i32 {
  if (mState == M_WAIT_WRITES) {
    if (!writerIdle()) return 1;
    if (writerTakeError() < 0) { mState = M_IDLE; return -<i32>S.errWRITE; }
    if (!mWrote && recordStatus() == RECORD_VALID) { mState = M_IDLE; return 0; }
    if (mEnd <= mBase || !vectorsPlausible()) { mState = M_IDLE; return -<i32>S.errFIRMWARE; }
    // A board with a key records only an image signed by it (boot/sig/check.ts): errFILE, the
    // file is not for this device, when the trailer is missing or malformed.
    if (isDefined(QSPIBOOT_SIGNED)) {
      const signedEnd = sigBegin(mBase, mEnd);
      if (signedEnd == 0) { mState = M_IDLE; return -<i32>S.errFILE; }
      mEnd = signedEnd; // the record covers the image and its trailer
    }
    mPos = mBase;
    mCrc = 0;
    mState = M_CRC;
    return 1;
  }
  if (mState == M_CRC) {
    // One chunk per main-loop pass: USB keeps being served while a large image is checked.
    let n = mEnd - mPos;
    if (n > 1024) n = 1024;
    if (flashRead(mPos, chunk, n) < 0) { mState = M_IDLE; return -<i32>S.errVERIFY; }
    mCrc = crc32_buf(mCrc, chunk, n);
    if (isDefined(QSPIBOOT_SIGNED)) sigChunk(mPos - mBase, chunk, n);
    mPos += n;
    if (mPos < mEnd) return 1;
    let floor: u32 = 0;
    if (isDefined(QSPIBOOT_SIGNED)) {
      if (sigFinish() != SIG_OK) { mState = M_IDLE; return -<i32>S.errFILE; }
      // Downgrade protection: an older version only with the signer's consent (trailer flag),
      // and the floor stays the highest version ever accepted, so such an image does not
      // open the way for other old images.
      const v = sigVersion();
      const f = recordVersionFloor();
      if (v < f && !sigAllowsDowngrade()) { sigRefuseDowngrade(); mState = M_IDLE; return -<i32>S.errFILE; }
      floor = v > f ? v : f;
    }
    const seq = intact(recordStatus()) ? recordSequence() + 1 : 1;
    recordBuild(STATE_VALID, mBase, mEnd - mBase, mCrc, seq, floor);
    mFloor = floor;
    recordWrite();
    mState = M_WAIT_RECORD;
    return 1;
  }
  if (mState == M_WAIT_RECORD) {
    if (!writerIdle() || !writerSlotFree(RECORD_SLOT)) return 1;
    mState = M_IDLE;
    if (writerTakeError() < 0) { recordSetStatus(RECORD_BAD); return -<i32>S.errWRITE; }
    recordSetStatus(RECORD_VALID);
    if (isDefined(QSPIBOOT_SIGNED)) recordSetVersionFloor(mFloor);
    return 0;
  }
  return 0;
}
