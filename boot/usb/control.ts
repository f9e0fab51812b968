// USB endpoint-0 control pipe: SETUP / DATA / STATUS stages over the HAL's packet primitives.
// Knows the standard requests (boot/usb/standard.ts) and hands everything else to the one class
// driver boot/bindings.ts names; it knows nothing of DFU or flash.
import { usb_ep0_in, usb_ep0_out, usb_ep0_stall, usb_poll, EV_IN, EV_OUT, EV_RESET, EV_SETUP, EV_EP_IN, EV_EP_OUT } from "../hal";
import {
  standardSetup, standardReset, isDescriptorVendorRequest, classSetup, classData, classDone, classReset, classEndpoint,
} from "../bindings";

export const EP0_SIZE: i32 = 64;

// What a request handler returns.
export const CTRL_STALL: i32 = -1;   // refuse: stall the pipe
export const CTRL_PENDING: i32 = -2; // not now: the handler is asked again on the next poll

// The current SETUP packet, read with the accessors below.
export const setupPkt = memory.data(8);
// @ts-ignore: decorator
@inline export function bmRequestType(): u32 { return load<u8>(setupPkt); }
// @ts-ignore: decorator
@inline export function bRequest(): u32 { return load<u8>(setupPkt, 1); }
// @ts-ignore: decorator
@inline export function wValue(): u32 { return load<u16>(setupPkt, 2); }
// @ts-ignore: decorator
@inline export function wIndex(): u32 { return load<u16>(setupPkt, 4); }
// @ts-ignore: decorator
@inline export function wLength(): u32 { return load<u16>(setupPkt, 6); }

// A setup handler (standardSetup, classSetup) sees the request in setupPkt. For IN requests it
// returns the reply length (the pipe truncates it to wLength) after calling ctrlData(ptr) with
// the reply's address. For OUT requests with data it calls ctrlData(ptr) with where the wLength
// bytes go and returns wLength; classData then runs when they have all arrived (CTRL_STALL
// refuses the request in its status stage). Any request may return CTRL_STALL or CTRL_PENDING.
// classDone runs when a class request's status stage has completed (the host has seen it
// succeed); classReset and standardReset at a bus reset.

const STAGE_IDLE: u8 = 0;
const STAGE_DATA_IN: u8 = 1;    // sending reply packets
const STAGE_DATA_OUT: u8 = 2;   // receiving request data
const STAGE_STATUS_IN: u8 = 3;  // our zero-length packet is queued
const STAGE_STATUS_OUT: u8 = 4; // waiting for the host's zero-length packet
const STAGE_PENDING: u8 = 5;    // the handler asked to be called again

let stage: u8 = STAGE_IDLE;
let dataPtr: usize = 0;   // next byte to send or receive
let dataLeft: u32 = 0;    // bytes still to send or receive
let zlpDue: bool = false; // the reply ends on a full packet and is shorter than wLength
let lastLen: i32 = 0;     // length of the IN packet in flight
let isClass: bool = false;

export function ctrlData(ptr: usize): void { dataPtr = ptr; }

function stall(): void {
  usb_ep0_stall();
  stage = STAGE_IDLE;
}

function sendNext(): void {
  let n = dataLeft > <u32>EP0_SIZE ? EP0_SIZE : <i32>dataLeft;
  lastLen = n;
  usb_ep0_in(dataPtr, n);
}

function dispatch(): void {
  // USB 2.0 table 9-2: type 0 standard, 1 class, 2 vendor. The device layer answers the standard
  // requests and the vendor requests that fetch its descriptors (MS OS 2.0, WebUSB).
  const type = (bmRequestType() >> 5) & 3;
  isClass = type == 1 || (type == 2 && !isDescriptorVendorRequest(bRequest()));
  dataPtr = 0;
  const r = isClass ? classSetup() : standardSetup();
  if (r == CTRL_PENDING) { stage = STAGE_PENDING; return; }
  if (r < 0) { stall(); return; }
  const len = wLength();
  if (len == 0) {
    // No data stage: the status stage is always IN (USB 2.0 8.5.3), whatever the direction bit.
    stage = STAGE_STATUS_IN;
    usb_ep0_in(0, 0);
  } else if (bmRequestType() & 0x80) {
    dataLeft = <u32>r < len ? <u32>r : len;
    zlpDue = dataLeft < len && (dataLeft & <u32>(EP0_SIZE - 1)) == 0;
    stage = STAGE_DATA_IN;
    sendNext();
  } else {
    // The handler must take all of it into a buffer it named; anything else is refused
    // before a byte of data lands anywhere.
    if (<u32>r != len || dataPtr == 0) { stall(); return; }
    dataLeft = len;
    stage = STAGE_DATA_OUT;
    usb_ep0_out(dataPtr, EP0_SIZE);
  }
}

// Handle one controller event. Returns 1 if there was one.
export function ctrlPoll(): i32 {
  if (stage == STAGE_PENDING) dispatch();
  const ev = usb_poll(setupPkt);
  const kind = ev & 0xff;
  if (kind == EV_SETUP) {
    // A host that took all of an IN reply and sent the next SETUP instead of the status stage
    // has the answer: what waits for it (DFU's leave after dfuMANIFEST) must not wait forever.
    if (stage == STAGE_STATUS_OUT && isClass) classDone();
    stage = STAGE_IDLE;
    dispatch();
  } else if (kind == EV_IN) {
    if (stage == STAGE_DATA_IN) {
      dataPtr += lastLen;
      dataLeft -= lastLen;
      if (dataLeft > 0) sendNext();
      else if (zlpDue) { zlpDue = false; lastLen = 0; usb_ep0_in(dataPtr, 0); }
      else { stage = STAGE_STATUS_OUT; usb_ep0_out(dataPtr, 0); }
    } else if (stage == STAGE_STATUS_IN) {
      stage = STAGE_IDLE;
      if (isClass) classDone();
    }
  } else if (kind == EV_OUT) {
    const n = <u32>(ev >> 8);
    if (stage == STAGE_DATA_OUT) {
      const got = n < dataLeft ? n : dataLeft;
      dataPtr += got;
      dataLeft -= got;
      if (dataLeft > 0 && n == <u32>EP0_SIZE) {
        usb_ep0_out(dataPtr, EP0_SIZE);
      } else if (dataLeft > 0) {
        stall(); // the host sent less than wLength announced
      } else if (isClass && classData() < 0) {
        stall();
      } else {
        stage = STAGE_STATUS_IN;
        usb_ep0_in(0, 0);
      }
    } else if (stage == STAGE_STATUS_OUT) {
      stage = STAGE_IDLE;
      if (isClass) classDone();
    }
  } else if (kind == EV_RESET) {
    stage = STAGE_IDLE;
    standardReset();
    classReset();
  } else if (kind == EV_EP_IN || kind == EV_EP_OUT) {
    classEndpoint(ev); // bulk endpoints belong to a class driver
  }
  return kind != 0 ? 1 : 0;
}

