// USB Mass Storage Bulk-Only Transport 1.0 on interface 1 (endpoints 0x01 OUT, 0x81 IN):
// command block wrapper, data, status wrapper, with the thirteen host/device cases of BOT 6.7
// (a direction or length the command does not have is answered by a stall and the right CSW),
// reset recovery after an invalid CBW (BOT 6.6.1: both endpoints stay stalled until the
// Bulk-Only Mass Storage Reset), GET MAX LUN. The SCSI commands are in boot/msc/scsi.ts.
import { usb_ep_open, usb_ep_xfer, usb_ep_stall, time_us, EV_EP_IN, EV_EP_OUT } from "../hal";
import { bmRequestType, bRequest, wValue, wLength, ctrlData, CTRL_STALL } from "../usb/control";
import { leaveDfu } from "../boot";
import * as scsi from "./scsi";
import { uf2Init, uf2Tick } from "./uf2";

export const MSC_INTERFACE: u32 = 1;
export const EP_OUT: i32 = 0x01;
export const EP_IN: i32 = 0x81;
const MAX_PACKET: i32 = 64;
const CHUNK: u32 = 4096;
const CBW_SIGNATURE: u32 = 0x43425355; // "USBC"
const CSW_SIGNATURE: u32 = 0x53425355; // "USBS"
const GET_MAX_LUN: u32 = 0xfe;
const BOMS_RESET: u32 = 0xff;
const STATUS_PASSED: u8 = 0;
const STATUS_FAILED: u8 = 1;
const STATUS_PHASE_ERROR: u8 = 2;

const S_OFF: u8 = 0;        // not configured
const S_CBW: u8 = 1;        // waiting for a CBW
const S_IN: u8 = 2;         // a data chunk is going to the host
const S_IN_NEXT: u8 = 3;    // the next data chunk is not ready yet
const S_OUT: u8 = 4;        // a data chunk is coming from the host
const S_OUT_TAKE: u8 = 5;   // a chunk has come and is being taken
const S_FINISH: u8 = 6;     // all data moved: waiting for the command's status
const S_CSW_CLEAR: u8 = 7;  // IN stalled: the CSW goes once the host clears it
const S_CSW: u8 = 8;        // the CSW is going to the host
const S_RESET: u8 = 9;      // invalid CBW: stalled until the mass storage reset

let state: u8 = S_OFF;
let inHalted: bool = false;
let outHalted: bool = false;
let tag: u32 = 0;
let hostLen: u32 = 0;      // dCBWDataTransferLength
let devLen: u32 = 0;       // what the device moves
let moved: u32 = 0;
let chunkLen: u32 = 0;
let chunkTaken: u32 = 0;
let status: u8 = STATUS_PASSED;
let stallOutAfter: bool = false; // Ho > Do: stall OUT once the device's data is in
let leaveAt: u32 = 0;
let leaving: bool = false;
let lastCommand: u32 = 0;

// @ts-ignore: decorator
@lazy const cbw = memory.data(64);
// @ts-ignore: decorator
@lazy const csw = memory.data(16);
// @ts-ignore: decorator
@lazy const data = memory.data(<i32>CHUNK);
// @ts-ignore: decorator
@lazy const lun = memory.data(1);

function armCbw(): void {
  state = S_CBW;
  if (!outHalted) usb_ep_xfer(EP_OUT, cbw, MAX_PACKET);
}

function halt(ep: i32): void {
  usb_ep_stall(ep, 1);
  if (ep == EP_IN) inHalted = true; else outHalted = true;
}

function sendCsw(): void {
  store<u32>(csw, CSW_SIGNATURE);
  store<u32>(csw, tag, 4);
  store<u32>(csw, hostLen - moved, 8);
  store<u8>(csw, status, 12);
  state = S_CSW;
  usb_ep_xfer(EP_IN, csw, 13);
}

// The CSW after the host has cleared a stalled IN endpoint, or now.
function statusStage(): void {
  if (inHalted) state = S_CSW_CLEAR; else sendCsw();
}

function finish(): void {
  state = S_FINISH;
  if (!scsi.scsiFinish()) return;
  if (status == STATUS_PASSED && scsi.scsiFailed()) status = STATUS_FAILED;
  if (scsi.leave) { scsi.leave = false; leaving = true; leaveAt = time_us(); }
  if (stallOutAfter) { stallOutAfter = false; halt(EP_OUT); }
  statusStage();
}

function sendNext(): void {
  let max = devLen - moved;
  if (max > CHUNK) max = CHUNK;
  const n = scsi.scsiIn(data, max);
  if (n < 0) { state = S_IN_NEXT; return; }
  chunkLen = <u32>n;
  state = S_IN;
  usb_ep_xfer(EP_IN, data, n);
}

function receiveNext(): void {
  let n = devLen - moved;
  if (n > CHUNK) n = CHUNK;
  chunkLen = n;
  chunkTaken = 0;
  state = S_OUT;
  usb_ep_xfer(EP_OUT, data, n);
}

function take(): void {
  chunkTaken += scsi.scsiOut(data + chunkTaken, chunkLen - chunkTaken);
  if (chunkTaken < chunkLen) { state = S_OUT_TAKE; return; }
  moved += chunkLen;
  if (moved < devLen) receiveNext(); else finish();
}

function command(n: u32): void {
  // BOT 6.2.1: a CBW is valid when it is 31 bytes with the signature; it is meaningful when its
  // LUN and command length make sense. Neither: reset recovery.
  const cbLen = <i32>load<u8>(cbw, 14);
  if (n != 31 || load<u32>(cbw) != CBW_SIGNATURE || (load<u8>(cbw, 13) & 0xf0) != 0 || cbLen < 1 || cbLen > 16) {
    state = S_RESET;
    halt(EP_IN);
    halt(EP_OUT);
    return;
  }
  lastCommand = time_us();
  tag = load<u32>(cbw, 4);
  hostLen = load<u32>(cbw, 8);
  const hostIn = (load<u8>(cbw, 12) & 0x80) != 0;
  scsi.scsiCommand(cbw + 15, cbLen, load<u8>(cbw, 13));
  const d = scsi.dir;
  let len = scsi.length;
  moved = 0;
  status = STATUS_PASSED;
  stallOutAfter = false;
  if (hostLen == 0) {
    // Cases 1-3: the host expects no data; a command that has some is a phase error.
    if (d != scsi.DIR_NONE) status = STATUS_PHASE_ERROR;
    finish();
    return;
  }
  if (hostIn) {
    if (d == scsi.DIR_OUT) { status = STATUS_PHASE_ERROR; halt(EP_IN); statusStage(); return; } // case 8
    if (d == scsi.DIR_NONE) { halt(EP_IN); finish(); return; }                                  // case 4
    if (len > hostLen) {
      if (scsi.exact) { status = STATUS_PHASE_ERROR; halt(EP_IN); statusStage(); return; }      // case 7
      len = hostLen; // a reply cut to what the host has room for (its allocation length)
    }
    devLen = len;
    sendNext();
    return;
  }
  if (d == scsi.DIR_IN) { status = STATUS_PHASE_ERROR; halt(EP_OUT); statusStage(); return; }   // case 10
  if (d == scsi.DIR_NONE) { halt(EP_OUT); finish(); return; }                                   // case 9
  if (len > hostLen) { status = STATUS_PHASE_ERROR; halt(EP_OUT); statusStage(); return; }       // case 13
  stallOutAfter = len < hostLen;                                                                  // case 11
  devLen = len;
  receiveNext();
}

// A bulk transfer has ended (usb_poll's EV_EP_IN / EV_EP_OUT word).
export function mscEndpoint(ev: i32): void {
  const kind = ev & 0xff;
  const ep = (ev >> 8) & 0xff;
  const n = <u32>ev >>> 16;
  if (kind == EV_EP_OUT && ep == EP_OUT) {
    if (state == S_CBW) { command(n); return; }
    if (state == S_OUT) {
      if (n < chunkLen) {
        // The host ended its data early (a short packet): what it sent is not a whole command.
        moved += n;
        status = STATUS_PHASE_ERROR;
        statusStage();
        return;
      }
      take();
    }
    return;
  }
  if (kind == EV_EP_IN && ep == EP_IN) {
    if (state == S_IN) {
      moved += chunkLen;
      if (moved < devLen) { sendNext(); return; }
      // Less than the host asked for ends with a short packet, or with a stall when the data
      // ended on a packet boundary (BOT 6.7.2, case 5).
      if (moved < hostLen && (moved & <u32>(MAX_PACKET - 1)) == 0) halt(EP_IN);
      finish();
    } else if (state == S_CSW) {
      armCbw();
    }
  }
}

// Main-loop work: the UF2 copy's manifestation, data that was not ready, the leave.
export function mscTick(): i32 {
  let worked = uf2Tick();
  if (state == S_IN_NEXT) { sendNext(); worked = 1; }
  else if (state == S_OUT_TAKE) { take(); worked = 1; }
  else if (state == S_FINISH) { finish(); worked = 1; }
  // A copy is complete and recorded: start the image once the host has had the CSW and a
  // moment for the directory and FAT writes that follow the data (they are dropped anyway),
  // at most a second after the copy.
  if (leaving && state == S_CBW) {
    const now = time_us();
    if (now - lastCommand > 100000 || now - leaveAt > 1000000) { leaving = false; leaveDfu(); }
  }
  return worked;
}

// Class requests to interface 1 (BOT 3.1, 3.2).
export function mscSetup(): i32 {
  const rt = bmRequestType();
  if (rt == 0xa1 && bRequest() == GET_MAX_LUN && wValue() == 0 && wLength() == 1) {
    if (state == S_OFF) return CTRL_STALL;
    store<u8>(lun, 0);
    ctrlData(lun);
    return 1;
  }
  if (rt == 0x21 && bRequest() == BOMS_RESET && wValue() == 0 && wLength() == 0) {
    if (state == S_OFF) return CTRL_STALL;
    // Ready for the next CBW; the halts stay until the host clears them (BOT 5.3.4).
    if (state == S_IN || state == S_CSW) { usb_ep_stall(EP_IN, 1); if (!inHalted) usb_ep_stall(EP_IN, 0); }
    if (state == S_OUT && !outHalted) { usb_ep_stall(EP_OUT, 1); usb_ep_stall(EP_OUT, 0); }
    if (state != S_CBW) armCbw(); // waiting for a CBW already: its transfer is armed
    return 0;
  }
  return CTRL_STALL;
}

// SET_CONFIGURATION: open the endpoints (1) or close them (0).
export function mscConfigure(config: u32): void {
  inHalted = false;
  outHalted = false;
  if (config == 0) { state = S_OFF; return; }
  usb_ep_open(EP_OUT, MAX_PACKET);
  usb_ep_open(EP_IN, MAX_PACKET);
  armCbw();
}

// CLEAR_FEATURE / SET_FEATURE(ENDPOINT_HALT) on endpoint `ep`: 0, or CTRL_STALL when the
// endpoint does not exist (not configured, or another number).
export function mscHalt(ep: u32, set: bool): i32 {
  if (state == S_OFF || (ep != <u32>EP_IN && ep != <u32>EP_OUT)) return CTRL_STALL;
  const isIn = ep == <u32>EP_IN;
  if (set) { halt(<i32>ep); return 0; }
  // After an invalid CBW only the mass storage reset ends the stall (BOT 6.6.1).
  if (state == S_RESET) return 0;
  usb_ep_stall(<i32>ep, 0); // also DATA0 again, and nothing armed
  if (isIn) {
    inHalted = false;
    if (state == S_CSW_CLEAR || state == S_CSW) sendCsw();
    else if (state == S_IN) usb_ep_xfer(EP_IN, data, chunkLen);
  } else {
    outHalted = false;
    if (state == S_CBW) armCbw();
    else if (state == S_OUT) usb_ep_xfer(EP_OUT, data, chunkLen);
  }
  return 0;
}

// GET_STATUS(endpoint): 1 halted, 0 not, -1 no such endpoint.
export function mscHalted(ep: u32): i32 {
  if (state == S_OFF) return -1;
  if (ep == <u32>EP_IN) return inHalted ? 1 : 0;
  if (ep == <u32>EP_OUT) return outHalted ? 1 : 0;
  return -1;
}

// Bus reset: endpoints closed until the next SET_CONFIGURATION.
export function mscReset(): void {
  state = S_OFF;
  inHalted = false;
  outHalted = false;
}

export function mscInit(): void {
  uf2Init();
  mscReset();
}
