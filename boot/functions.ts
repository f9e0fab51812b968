// The device's functions: the DFU interface (0), and in a core built with the UF2 drive
// (QSPIBOOT_UF2) the mass-storage interface (1). Class requests go to the interface they name;
// endpoint events and halts to the one function that has bulk endpoints. In the default core the
// mass-storage branches are compiled out.
import { bmRequestType, wIndex, CTRL_STALL } from "./usb/control";
import { classSetup as dfuSetup, classReset as dfuReset, dfuConfigure } from "./dfu/dfu";
import { mscSetup, mscReset, mscConfigure, mscEndpoint, mscHalt, mscHalted, mscTick, mscInit, MSC_INTERFACE } from "./msc/bot";

export function interfaceCount(): u32 { return isDefined(QSPIBOOT_UF2) ? 2 : 1; }

export function classSetup(): i32 {
  if (isDefined(QSPIBOOT_UF2)) {
    const rt = bmRequestType();
    if ((rt & 0x60) == 0x20 && (rt & 0x1f) == 1 && (wIndex() & 0xff) == MSC_INTERFACE) return mscSetup();
  }
  return dfuSetup();
}

export function classReset(): void {
  if (isDefined(QSPIBOOT_UF2)) mscReset();
  dfuReset();
}

export function classConfigure(config: u32): void {
  if (isDefined(QSPIBOOT_UF2)) mscConfigure(config);
  dfuConfigure(config);
}

export function classEndpoint(ev: i32): void {
  if (isDefined(QSPIBOOT_UF2)) mscEndpoint(ev);
}

// ENDPOINT_HALT on a non-zero endpoint: 0 done, CTRL_STALL no such endpoint.
export function classHalt(ep: u32, set: bool): i32 {
  if (isDefined(QSPIBOOT_UF2)) return mscHalt(ep, set);
  return CTRL_STALL;
}

// GET_STATUS of a non-zero endpoint: 1 halted, 0 not, -1 no such endpoint.
export function classHalted(ep: u32): i32 {
  if (isDefined(QSPIBOOT_UF2)) return mscHalted(ep);
  return -1;
}

export function functionsInit(): void {
  if (isDefined(QSPIBOOT_UF2)) mscInit();
}

export function functionsTick(): i32 {
  if (isDefined(QSPIBOOT_UF2)) return mscTick();
  return 0;
}
