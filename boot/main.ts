// Entry points the C main loop (hal/common/main.c) and the simulator call.
import { loadBoardInfo } from "./board";
import { usb_init, usb_poll, EV_NONE } from "./hal";

const setupBuf = memory.data(8);

// Decide: boot the application or stay in DFU mode. Returns only in DFU mode.
export function init(): void {
  loadBoardInfo();
  usb_init();
}

// One step of DFU mode. Returns 1 if it did work, 0 if it only waited.
export function poll(): i32 {
  const ev = usb_poll(setupBuf);
  return (ev & 0xff) != EV_NONE ? 1 : 0;
}
