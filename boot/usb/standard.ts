// Standard device requests (USB 2.0 chapter 9.4) for a device with one configuration and one
// interface. Descriptors come from boot/descriptors.ts, through boot/bindings.ts.
import { usb_set_address } from "../hal";
import { bmRequestType, bRequest, wValue, wIndex, ctrlData, CTRL_STALL } from "./control";
import { getDescriptor, getVendorDescriptor, classConfigure, classHalt, classHalted, interfaceCount } from "../bindings";

// USB 2.0 table 9-4
const GET_STATUS: u32 = 0;
const CLEAR_FEATURE: u32 = 1;
const SET_FEATURE: u32 = 3;
const SET_ADDRESS: u32 = 5;
const GET_DESCRIPTOR: u32 = 6;
const GET_CONFIGURATION: u32 = 8;
const SET_CONFIGURATION: u32 = 9;
const GET_INTERFACE: u32 = 10;
const SET_INTERFACE: u32 = 11;
const FEATURE_ENDPOINT_HALT: u32 = 0;


let configuration: u32 = 0;
const reply = memory.data(2);

function answer(value: u32, len: i32): i32 {
  store<u16>(reply, <u16>value);
  ctrlData(reply);
  return len;
}

export function standardSetup(): i32 {
  const rt = bmRequestType();
  const req = bRequest();
  const recipient = rt & 0x1f;
  // The vendor requests that fetch descriptors (MS OS 2.0, WebUSB) go where descriptors come from.
  if ((rt & 0x60) == 0x40) return getVendorDescriptor();
  if (req == GET_DESCRIPTOR && rt == 0x80) return getDescriptor(wValue() >> 8, wValue() & 0xff);
  if (req == SET_ADDRESS && rt == 0x00) {
    if (wValue() > 127 || configuration != 0) return CTRL_STALL;
    usb_set_address(wValue());
    return 0;
  }
  if (req == GET_CONFIGURATION && rt == 0x80) return answer(configuration, 1);
  if (req == SET_CONFIGURATION && rt == 0x00) {
    if (wValue() > 1) return CTRL_STALL;
    configuration = wValue();
    classConfigure(configuration);
    return 0;
  }
  if (req == GET_STATUS && (rt & 0x80) != 0) {
    // Bus powered, no remote wakeup, EP0 never halted; other endpoints say whether they are.
    if (recipient == 0 || (recipient == 1 && wIndex() < interfaceCount()) || (recipient == 2 && (wIndex() & 0x7f) == 0)) return answer(0, 2);
    if (recipient == 2 && configuration != 0) {
      const h = classHalted(wIndex());
      if (h >= 0) return answer(<u32>h, 2);
    }
    return CTRL_STALL;
  }
  if ((req == CLEAR_FEATURE || req == SET_FEATURE) && rt == 0x02 && wValue() == FEATURE_ENDPOINT_HALT) {
    if ((wIndex() & 0x7f) == 0) return req == CLEAR_FEATURE ? 0 : CTRL_STALL;
    if (configuration == 0) return CTRL_STALL;
    return classHalt(wIndex(), req == SET_FEATURE);
  }
  // Each interface has one alternate setting; they exist once the device is configured.
  if (configuration != 0 && wIndex() < interfaceCount()) {
    if (req == GET_INTERFACE && rt == 0x81) return answer(0, 1);
    if (req == SET_INTERFACE && rt == 0x01 && wValue() == 0) return 0;
  }
  return CTRL_STALL;
}

export function standardReset(): void { configuration = 0; }
