// DFU 1.1 class with ST's DfuSe extension (bcdDFUVersion 0x011A), on one interface.
// It does not know which chip it runs on: flash goes through boot/flash's write engine, the
// regions through boot/dfu/layout.ts, manifestation, leaving DFU mode and vendor requests
// through boot/bindings.ts.
import {
  bmRequestType, bRequest, wValue, wIndex, wLength, ctrlData, CTRL_PENDING, CTRL_STALL,
} from "../usb/control";
import { manifestStart, manifestPoll, leaveDfu as leave, vendorSetup } from "../bindings";
import { flashBase } from "../board";
import {
  flashEraseRequest, flashFlush, flashBusyUs, flashRead,
  FLASH_ERR_ERASE, FLASH_ERR_VERIFY, FLASH_ERR_PROG,
} from "../flash/engine";
import { writerQueue, writerSlotFree, writerTick, writerIdle, writerTakeError, DFU_BUFFERS } from "../writer";
import { updateBegin } from "../update";
import {
  offsetOf, writable, readableBytes, pageStart, pageSize, appStartOffset, appEndOffset,
} from "./layout";
import { time_us } from "../hal";
import * as S from "./states";

export const TRANSFER_SIZE: u32 = 4096;

// DFU 1.1 section 3: requests
const DETACH: u32 = 0;
const DNLOAD: u32 = 1;
const UPLOAD: u32 = 2;
const GETSTATUS: u32 = 3;
const CLRSTATUS: u32 = 4;
const GETSTATE: u32 = 5;
const ABORT: u32 = 6;

// DfuSe commands (first byte of a block-0 download)
const CMD_SET_ADDRESS: u8 = 0x21;
const CMD_ERASE: u8 = 0x41;
const CMD_READ_UNPROTECT: u8 = 0x92;

// Transfer buffers (writer slots 0 .. BUFFERS - 1): the host fills them while the flash works
// on earlier ones. A buffer is busy from its DNLOAD until the writer has finished with it.
// Eight: a 64 KiB erase (150 ms) starts when the block's first data arrives, and the host keeps
// sending while it runs until the buffers are full. dfu-util's sequence (set-address, two
// GETSTATUS, DNLOAD, GETSTATUS: about 9 ms per 4 KiB, slower than the 6.4 ms the flash needs to
// program it) then has eight blocks in hand when the erase ends instead of four (npm run bench,
// 1 MiB: dfu-util sequence 85% of the physical limit with four, 92% with eight or sixteen; our
// flasher 92% with any of them). 32 KiB of RAM; linear memory is two 64 KiB pages for it.
const BUFFERS: i32 = DFU_BUFFERS;
const bufs = memory.data(<i32>TRANSFER_SIZE * BUFFERS);

let state: u8 = S.dfuIDLE;
let status: u8 = S.OK;
let pointer: u32 = 0;        // DfuSe address pointer
let rxBuf: i32 = -1;         // buffer holding a block not yet run (DNLOAD-SYNC)
let rxBlock: u32 = 0;
let rxLen: u32 = 0;
let pendingErrStatus: u8 = S.OK; // a background write failed: reported at the next GETSTATUS
let lastDownloadUs: u32 = 0;
let unflushed: bool = false; // erase requests that may still be pending in the engine
let updating: bool = false;  // the record has been invalidated for this download
let leaveAfterStatus: bool = false;
// Manifestation (verify, then write the record) runs in the background from its trigger (a
// zero-length DNLOAD, the leave, DETACH) to its end, whatever the host does meanwhile: ABORT,
// CLRSTATUS and bus resets change what is reported, never the job. While it runs no request
// can change the flash, so the CRC that goes into the record is the flash's final content.
let manifesting: bool = false;
let detachAfterManifest: bool = false; // leave DFU mode when manifestation succeeds
let detachWhenRecorded: bool = false;  // ... by way of the DETACH wait below
// dfu-util -R sends DETACH and resets the bus straight after (libusb_reset_device), and that
// reset only succeeds if the device is still there when the OS has re-enumerated it: leaving at
// once made dfu-util exit 251 although the image was in. So after a DETACH we stay until the
// host has configured us again after its reset, and go on our own (bitWillDetach) after
// wDetachTimeOut if it never resets or never configures.
const DETACH_WAIT_RESET: u8 = 1;
const DETACH_WAIT_CONFIG: u8 = 2;
const DETACH_GOING: u8 = 3;
const DETACH_TIMEOUT_US: u32 = 255000; // wDetachTimeOut (boot/descriptors.ts)
const DETACH_SETTLE_US: u32 = 10000;   // the SET_CONFIGURATION status stage, and the host's ioctl returning
let detachPhase: u8 = 0;
let detachSinceUs: u32 = 0;

function detachWait(phase: u8): void {
  detachPhase = phase;
  detachSinceUs = time_us();
}
let leaveAfterManifest: bool = true;
let lo: u32 = 0xffffffff;    // range written during this download (flash offsets)
let hi: u32 = 0;

const statusReply = memory.data(6);

// manifestPoll(): 1 busy, 0 done ok, <0 negated DFU status code.
let manifestResult: i32 = 1;

// @ts-ignore: decorator
@inline function bufPtr(i: i32): usize { return bufs + <usize>i * TRANSFER_SIZE; }

function bufFree(i: i32): bool { return i != rxBuf && writerSlotFree(i); }

function freeBuffer(): i32 {
  for (let i = 0; i < BUFFERS; i++) if (bufFree(i)) return i;
  return -1;
}

function fail(st: u8): void {
  state = S.dfuERROR;
  status = st;
}

// A request that is not allowed in the current state: DFU 1.1 section 6.1.2.
function refuse(): i32 {
  fail(S.errSTALLEDPKT);
  return CTRL_STALL;
}

function engineStatus(e: i32): u8 {
  if (e == FLASH_ERR_ERASE) return S.errERASE;
  if (e == FLASH_ERR_VERIFY) return S.errVERIFY;
  if (e == FLASH_ERR_PROG) return S.errPROG;
  return S.errWRITE;
}

// Advance the flash writes. Called every main-loop pass.
export function dfuTick(): i32 {
  let worked = writerTick();
  // Only while this interface's own writes are out: a UF2 copy (boot/msc/uf2.ts) takes its own.
  if (!manifesting && (updating || unflushed)) {
    const e = writerTakeError();
    if (e < 0) pendingErrStatus = engineStatus(e);
  }
  // Erases the host asked for but never wrote over are done once the download is over
  // (the host aborted it) or the host has gone quiet.
  if (unflushed && state != S.dfuDNLOAD_SYNC && state != S.dfuDNBUSY && writerIdle() &&
      (state == S.dfuIDLE || time_us() - lastDownloadUs > 200000)) {
    flashFlush();
    unflushed = false;
    worked = 1;
  }
  if (manifesting) {
    manifestResult = manifestPoll();
    if (manifestResult != 1) {
      manifesting = false;
      if (detachAfterManifest) {
        detachAfterManifest = false;
        if (manifestResult != 0) fail(<u8>(-manifestResult));
        else if (detachWhenRecorded) detachWait(DETACH_WAIT_RESET);
        else leave();
        detachWhenRecorded = false;
      } else if (state == S.dfuMANIFEST) {
        // Manifestation tolerant (DFU 1.1 A.2.8): back to dfuMANIFEST-SYNC, whose next
        // GETSTATUS reports dfuIDLE, or the error.
        state = S.dfuMANIFEST_SYNC;
      } else if (manifestResult < 0 && state != S.dfuMANIFEST_SYNC) {
        // The host stopped waiting for it (ABORT, bus reset): it hears at the next GETSTATUS.
        pendingErrStatus = <u8>(-manifestResult);
      }
    }
    worked = 1;
  }
  if (detachPhase != 0) {
    const waited = time_us() - detachSinceUs;
    if (waited >= DETACH_TIMEOUT_US || (detachPhase == DETACH_GOING && waited >= DETACH_SETTLE_US)) {
      detachPhase = 0;
      leave();
    }
  }
  return worked;
}

// SET_CONFIGURATION: after a DETACH and the host's reset, the host has us back and we can go.
export function dfuConfigure(config: u32): void {
  if (config != 0 && (detachPhase == DETACH_WAIT_RESET || detachPhase == DETACH_WAIT_CONFIG)) detachWait(DETACH_GOING);
}

// The first change to flash in a download invalidates the update record first.
function beginChange(): void {
  if (!updating) { updateBegin(); updating = true; }
  unflushed = true;
}

// Run the block received in DNLOAD-SYNC: a DfuSe command or data. Returns false on error.
function runBlock(): bool {
  const i = rxBuf;
  const p = bufPtr(i);
  rxBuf = -1;
  if (rxBlock == 0) {
    const cmd = load<u8>(p);
    if (rxLen == 1 && cmd == CMD_ERASE) {
      // Mass erase: the application region only, never the bootloader or the record.
      beginChange();
      flashEraseRequest(appStartOffset(), appEndOffset() - appStartOffset());
      return true;
    }
    if (rxLen != 5 || cmd == CMD_READ_UNPROTECT) { fail(cmd == CMD_READ_UNPROTECT ? S.errTARGET : S.errSTALLEDPKT); return false; }
    const addr = load<u32>(p, 1);
    const off = offsetOf(addr);
    if (cmd == CMD_SET_ADDRESS) {
      // Any address: DfuSe hosts set one before the leave (dfu-util -s :leave sends 0) and the
      // leave starts the recorded image whatever it is. Data and reads check their own addresses.
      pointer = addr;
      return true;
    }
    if (cmd == CMD_ERASE) {
      if (off < 0 || !writable(<u32>off, 1)) { fail(S.errADDRESS); return false; }
      const page = pageStart(<u32>off);
      beginChange();
      flashEraseRequest(page, pageSize(page));
      return true;
    }
    fail(S.errSTALLEDPKT);
    return false;
  }
  // Data: block 2 goes to the pointer, each later block one transfer size further.
  const addr = pointer + (rxBlock - 2) * TRANSFER_SIZE;
  const off = offsetOf(addr);
  if (rxBlock < 2 || off < 0 || !writable(<u32>off, rxLen)) { fail(S.errADDRESS); return false; }
  beginChange();
  const o = <u32>off;
  if (o < lo) lo = o;
  if (o + rxLen > hi) hi = o + rxLen;
  writerQueue(i, p, o, rxLen);
  return true;
}

function reply(st: u8, pollMs: u32): i32 {
  if (pendingErrStatus != S.OK) { st = S.dfuERROR; status = pendingErrStatus; pendingErrStatus = S.OK; pollMs = 0; }
  if (st == S.dfuERROR) state = S.dfuERROR;
  store<u8>(statusReply, status);
  store<u8>(statusReply, <u8>pollMs, 1);
  store<u8>(statusReply, <u8>(pollMs >> 8), 2);
  store<u8>(statusReply, <u8>(pollMs >> 16), 3);
  store<u8>(statusReply, st, 4);
  store<u8>(statusReply, 0, 5);
  ctrlData(statusReply);
  return 6;
}

function busyPollMs(): u32 {
  const us = flashBusyUs();
  return us == 0 ? 0 : (us + 999) / 1000;
}

function getStatus(): i32 {
  if (state == S.dfuDNLOAD_SYNC) {
    // The first GETSTATUS after a block runs it and answers dfuDNBUSY (DfuSe hosts expect that
    // after a command); the block's data then sits in a queue while the next one arrives.
    const isCommand = rxBlock == 0;
    if (!runBlock()) return reply(S.dfuERROR, 0);
    // A data block that found room goes straight to dfuDNLOAD-IDLE: one GETSTATUS per block
    // instead of two, which is what keeps USB faster than the flash it feeds.
    if (!isCommand && freeBuffer() >= 0) { state = S.dfuDNLOAD_IDLE; return reply(S.dfuDNLOAD_IDLE, 0); }
    state = S.dfuDNBUSY;
    return reply(S.dfuDNBUSY, freeBuffer() >= 0 ? 0 : busyPollMs());
  }
  if (state == S.dfuDNBUSY) {
    if (freeBuffer() >= 0) { state = S.dfuDNLOAD_IDLE; return reply(S.dfuDNLOAD_IDLE, 0); }
    return reply(S.dfuDNBUSY, busyPollMs());
  }
  if (state == S.dfuMANIFEST_SYNC) {
    if (manifesting) {
      // DFU 1.1 A.2.7: dfuMANIFEST-SYNC answers with the state it enters, dfuMANIFEST while
      // manifestation runs, never with itself (dfu-util stops polling at dfuMANIFEST). A leave
      // needs nothing more from the host: the board starts the application once the image is
      // recorded, or reports the error to a host that asks again. Not before the host has this
      // answer, though (classDone): dfu-util stops at it, and fails if the device is gone first.
      state = S.dfuMANIFEST;
      if (leaveAfterManifest) leaveAfterStatus = true;
      return reply(S.dfuMANIFEST, busyPollMs() + 1);
    }
    if (manifestResult < 0) { fail(<u8>(-manifestResult)); return reply(S.dfuERROR, 0); }
    if (!leaveAfterManifest) {
      // Manifestation tolerant (DFU 1.1 fig. A.1): back to dfuIDLE, image recorded.
      state = S.dfuIDLE;
      return reply(S.dfuIDLE, 0);
    }
    // Manifestation succeeded: say so, then leave once the host has the answer.
    state = S.dfuMANIFEST;
    leaveAfterStatus = true;
    return reply(S.dfuMANIFEST, 0);
  }
  if (state == S.dfuMANIFEST) return reply(S.dfuMANIFEST, manifesting ? busyPollMs() + 1 : 0);
  return reply(state, 0);
}

// Verify what this download wrote and record it (boot/update.ts), in the background.
function startManifest(): void {
  flashFlush();
  unflushed = false;
  updating = false;
  manifestResult = 1;
  manifesting = true;
  manifestStart(lo, hi);
  lo = 0xffffffff;
  hi = 0;
}

function download(): i32 {
  const len = wLength();
  // dfuDNBUSY lasts only until the poll timeout (DFU 1.1 A.2.5): a host that did not ask again
  // (a dfu-util started after another was killed) finds the device idle once there is room.
  if (state == S.dfuDNBUSY) {
    if (freeBuffer() < 0) return CTRL_PENDING;
    state = S.dfuDNLOAD_IDLE;
  }
  if (state != S.dfuIDLE && state != S.dfuDNLOAD_IDLE) return refuse();
  if (len > TRANSFER_SIZE) return refuse();
  // Nothing reaches the flash while a manifestation runs: the host waits (NAK) for its end,
  // and the first write after it invalidates the record it wrote.
  if (manifesting) return CTRL_PENDING;
  if (len == 0) {
    // A zero-length download ends it: DfuSe "leave", DFU manifestation. DfuSe hosts also send
    // it in dfuIDLE (dfu-util -s :leave with a .dfu file, after its last element; ST's ROM
    // bootloader takes it there, AN3156 "leave"), where DFU 1.1 alone would stall it.
    if (!writerIdle()) return CTRL_PENDING;
    // Block 0: qspiboot's "manifest and stay" (verify and record, back to dfuIDLE); any other
    // block (DfuSe leave uses 2): manifest, then leave DFU mode.
    leaveAfterManifest = wValue() != 0;
    state = S.dfuMANIFEST_SYNC;
    startManifest();
    return 0;
  }
  if (wValue() == 1) return refuse();
  const i = freeBuffer();
  if (i < 0) return CTRL_PENDING; // the host did not wait for dfuDNLOAD-IDLE: let it wait here
  rxBuf = i;
  rxBlock = wValue();
  rxLen = len;
  ctrlData(bufPtr(i));
  lastDownloadUs = time_us();
  return <i32>len;
}

function upload(): i32 {
  const len = wLength();
  // Locked mode: the functional descriptor says bitCanUpload = 0, and no block is answered,
  // not even DfuSe's command list (DFU 1.1 6.2: an unsupported request stalls, errSTALLEDPKT).
  if (isDefined(QSPIBOOT_LOCKED)) return refuse();
  if (state != S.dfuIDLE && state != S.dfuUPLOAD_IDLE) return refuse();
  if (len > TRANSFER_SIZE) return refuse();
  const block = wValue();
  if (block == 0) {
    // DfuSe "get commands"
    store<u32>(bufs, 0x92412100);
    ctrlData(bufs);
    state = S.dfuUPLOAD_IDLE;
    return 4;
  }
  if (block == 1) return refuse();
  if (!writerIdle()) return CTRL_PENDING;
  const addr = pointer + (block - 2) * TRANSFER_SIZE;
  const off = offsetOf(addr);
  if (off < 0) { fail(S.errADDRESS); return CTRL_STALL; }
  // A read that runs past the readable region is cut short, which ends the upload.
  const room = readableBytes(<u32>off);
  const n = len < room ? len : room;
  if (n > 0 && flashRead(<u32>off, bufs, n) < 0) { fail(S.errUNKNOWN); return CTRL_STALL; }
  ctrlData(bufs);
  state = n < len ? S.dfuIDLE : S.dfuUPLOAD_IDLE;
  return <i32>n;
}

// Vendor requests on this interface go to boot/vendor.ts.
export function classSetup(): i32 {
  const rt = bmRequestType();
  const req = bRequest();
  if ((rt & 0x60) == 0x40) return vendorSetup();
  if ((rt & 0x1f) != 1 || wIndex() != 0 || (rt & 0x60) != 0x20) return CTRL_STALL;
  const isIn = (rt & 0x80) != 0;
  if (state != S.dfuDNLOAD_SYNC) rxBuf = -1; // a DNLOAD whose data never came
  if (state == S.dfuMANIFEST_WAIT_RESET) return CTRL_STALL;
  if (isIn) {
    if (req == GETSTATUS) return getStatus();
    if (req == GETSTATE) { store<u8>(statusReply, state); ctrlData(statusReply); return 1; }
  }
  // In dfuMANIFEST only the status requests are answered (DFU 1.1 A.2.8); the rest stall
  // without disturbing the manifestation.
  if (state == S.dfuMANIFEST) return CTRL_STALL;
  if (isIn) {
    if (req == UPLOAD) return upload();
    return refuse();
  }
  // Nothing new goes into the flash of a board on its way out after a DETACH.
  if (req == DNLOAD) return detachPhase != 0 ? refuse() : download();
  if (wLength() != 0) return refuse(); // CLRSTATUS, ABORT, DETACH carry no data
  if (req == CLRSTATUS) {
    if (state != S.dfuERROR) return refuse();
    state = S.dfuIDLE; status = S.OK;
    return 0;
  }
  if (req == ABORT) {
    if (state == S.dfuDNLOAD_SYNC) rxBuf = -1;
    if (state == S.dfuIDLE || state == S.dfuDNLOAD_SYNC || state == S.dfuDNLOAD_IDLE ||
        state == S.dfuMANIFEST_SYNC || state == S.dfuUPLOAD_IDLE || state == S.dfuDNBUSY) {
      state = S.dfuIDLE;
      return 0;
    }
    return refuse();
  }
  if (req == DETACH) {
    if (state != S.dfuIDLE) return refuse();
    // will-detach: we go on our own once the host has its answer. A download that was never
    // manifested (dfu-util -D ... -R) is verified and recorded first, then we leave.
    if (manifesting) {
      detachAfterManifest = true;
      detachWhenRecorded = true;
    } else if (updating) {
      if (!writerIdle()) return CTRL_PENDING;
      startManifest();
      detachAfterManifest = true;
      detachWhenRecorded = true;
    } else {
      detachWait(DETACH_WAIT_RESET);
    }
    return 0;
  }
  return refuse();
}

// The OUT data of a DNLOAD has arrived.
export function classData(): i32 {
  if (bRequest() == DNLOAD && rxBuf >= 0) state = S.dfuDNLOAD_SYNC;
  return 0;
}

export function classDone(): void {
  if (leaveAfterStatus) {
    leaveAfterStatus = false;
    // Still verifying: leave when it succeeds. Done: leave if it succeeded; a failure is for
    // the next GETSTATUS to report (dfuMANIFEST-SYNC goes to dfuERROR).
    if (manifesting) detachAfterManifest = true;
    else if (manifestResult == 0) leave();
  }
}

export function classReset(): void {
  // A reset after a finished download or a DETACH starts the application (DFU 1.1 fig. A.1);
  // so does one during the manifestation of a leave, once that has succeeded. Any other reset
  // just returns the class to dfuIDLE.
  if (detachPhase != 0) {
    detachWait(DETACH_WAIT_CONFIG);
  } else if (manifesting) {
    if (leaveAfterManifest && (state == S.dfuMANIFEST_SYNC || state == S.dfuMANIFEST)) detachAfterManifest = true;
  } else if (state == S.dfuMANIFEST || leaveAfterStatus) {
    leaveAfterStatus = false;
    leave();
  }
  rxBuf = -1;
  if (state != S.dfuERROR) state = S.dfuIDLE;
}

export function dfuInit(): void {
  state = S.dfuIDLE;
  status = S.OK;
  pointer = flashBase() + appStartOffset();
}

export function dfuState(): u8 { return state; }
