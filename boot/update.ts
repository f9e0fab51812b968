// An update from the record's point of view: invalidate before the first change to flash,
// and at manifestation read the image back, check it, and only then write a valid record.
import { crc32_buf } from "./hal";
import { flashRead } from "./flash/engine";
import { writerQueue, writerIdle, writerTakeError, writerSlotFree, RECORD_SLOT } from "./writer";
import {
  record, recordBuild, recordClassify, recordBase, recordLength, recordSequence, recordFloor, recordFloorIntact,
  RECORD_SIZE, RECORD_NONE, RECORD_VALID, RECORD_UPDATING, RECORD_BAD, STATE_UPDATING, STATE_VALID,
} from "./record";
import { appStartOffset, appEndOffset, recordOffset, recordOffset2, legacyRecordOffset } from "./dfu/layout";
import { legacyRecord } from "./board";
import { vectorsPlausible } from "./vectors";
import * as S from "./dfu/states";
import { sigBegin, sigChunk, sigFinish, sigVersion, sigAllowsDowngrade, sigRefuseDowngrade, SIG_OK } from "./sig/check";

const zero = memory.data(4);
const chunk = memory.data(1024);

let recordState: i32 = RECORD_NONE;
// Where the record in `record` came from: the sector the next record is NOT written to.
let recordAt: u32 = 0;
// Signed cores: the highest firmware version accepted so far, from either record sector.
let versionFloor: u32 = 0;

// Read the record sector (at boot, while the engine is idle) and classify it.
export function recordLoad(): i32 {
  recordAt = recordOffset();
  if (isDefined(QSPIBOOT_SIGNED)) return (recordState = loadEither());
  if (flashRead(recordOffset(), record, RECORD_SIZE) < 0) return (recordState = 3);
  recordState = recordClassify(appStartOffset(), appEndOffset());
  if (recordState == RECORD_NONE && legacyRecord()) recordState = legacyLoad();
  return recordState;
}

// @ts-ignore: decorator
@lazy const spare = memory.data(<i32>RECORD_SIZE);
function intact(kind: i32): bool { return kind == RECORD_VALID || kind == RECORD_UPDATING; }

// Signed cores keep two record sectors and write each new record into the one not holding the
// current record, so the current one (invalidated while an update runs, but with its floor)
// is still in flash while the other is erased and written. The current record is the intact
// one (checksum holds) with the higher sequence number; the floor is the higher of the two.
function loadEither(): i32 {
  const app0 = appStartOffset(), app1 = appEndOffset();
  if (flashRead(recordOffset2(), record, RECORD_SIZE) < 0) return 3;
  const k2 = classifySigned(app0, app1);
  const seq2 = recordSequence();
  versionFloor = recordFloor();
  memory.copy(spare, record, RECORD_SIZE);
  if (flashRead(recordOffset(), record, RECORD_SIZE) < 0) return 3;
  let k = classifySigned(app0, app1);
  const f = recordFloor();
  if (f > versionFloor) versionFloor = f;
  if (intact(k2) && (!intact(k) || seq2 > recordSequence())) {
    memory.copy(record, spare, RECORD_SIZE);
    recordAt = recordOffset2();
    return k2;
  }
  // No legacy record here: no qspiboot before signed updates could have recorded a signed image.
  return k == RECORD_NONE && k2 == RECORD_BAD ? RECORD_BAD : k;
}

function classifySigned(app0: u32, app1: u32): i32 {
  const k = recordClassify(app0, app1);
  return intact(k) && !recordFloorIntact() ? RECORD_BAD : k;
}

// The sector the next complete record goes to.
function recordTarget(): u32 {
  if (!isDefined(QSPIBOOT_SIGNED)) return recordOffset();
  return recordAt == recordOffset() ? recordOffset2() : recordOffset();
}

// The lowest firmware version a signed image needs unless it allows a downgrade.
export function recordVersionFloor(): u32 { return versionFloor; }

// qspiboot before 0.2 kept the record in the chip's last sector, which now belongs to the
// application. A record there whose checksum holds still counts while the new place is empty;
// a valid one is copied to the new place at once (one page program into the erased record
// sector), so from then on the application may use that sector as it likes. Anything else
// there is the application's data: as if there were no record. A power cut during the copy
// leaves a torn record in the new place: DFU mode ("update interrupted"), image intact.
function legacyLoad(): i32 {
  if (flashRead(legacyRecordOffset(), record, RECORD_SIZE) < 0) return 3;
  const legacy = recordClassify(appStartOffset(), appEndOffset());
  if (legacy == RECORD_VALID) {
    writerQueue(RECORD_SLOT, record, recordOffset(), RECORD_SIZE);
    while (!writerIdle()) {}
    return writerTakeError() < 0 ? 3 : RECORD_VALID;
  }
  if (legacy == RECORD_UPDATING) return RECORD_UPDATING;
  memory.fill(record, 0xff, RECORD_SIZE);
  return RECORD_NONE;
}

export function recordStatus(): i32 { return recordState; }

// Before the first erase or write of a download: make sure no record calls the image valid.
// The write is queued, so it reaches the flash before anything queued after it.
export function updateBegin(): void {
  if (recordState == RECORD_VALID) {
    store<u32>(zero, 0);
    writerQueue(RECORD_SLOT, zero, recordAt + 28, 4);
    recordState = RECORD_UPDATING;
  } else if (recordState == RECORD_NONE) {
    recordBuild(STATE_UPDATING, appStartOffset(), 0, 0, 0, versionFloor);
    writerQueue(RECORD_SLOT, record, recordAt, RECORD_SIZE);
    recordState = RECORD_UPDATING;
  }
  // UPDATING already, or a damaged record: nothing vouches for the image; the final record
  // write erases the sector anyway.
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
let mTarget: u32 = 0;
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
  if (!(mWrote && lo == mBase) && (recordState == RECORD_VALID || recordState == RECORD_UPDATING) &&
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
    if (!mWrote && recordState == RECORD_VALID) { mState = M_IDLE; return 0; }
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
      if (v < versionFloor && !sigAllowsDowngrade()) { sigRefuseDowngrade(); mState = M_IDLE; return -<i32>S.errFILE; }
      floor = v > versionFloor ? v : versionFloor;
    }
    const seq = intact(recordState) ? recordSequence() + 1 : 1;
    recordBuild(STATE_VALID, mBase, mEnd - mBase, mCrc, seq, floor);
    mTarget = recordTarget();
    mFloor = floor;
    writerQueue(RECORD_SLOT, record, mTarget, RECORD_SIZE);
    mState = M_WAIT_RECORD;
    return 1;
  }
  if (mState == M_WAIT_RECORD) {
    if (!writerIdle() || !writerSlotFree(RECORD_SLOT)) return 1;
    mState = M_IDLE;
    if (writerTakeError() < 0) { recordState = 3; return -<i32>S.errWRITE; }
    recordState = RECORD_VALID;
    recordAt = mTarget;
    versionFloor = mFloor;
    return 0;
  }
  return 0;
}
