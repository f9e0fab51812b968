// Entry points: the C main loop (hal/common/main.c) and the simulator call boot() and init()
// once after reset, then poll() forever.
import { loadBoardInfo } from "./board";
import { usb_init, flash_mapped } from "./hal";
import { ctrlPoll } from "./usb/control";
import { standardReset } from "./usb/standard";
import { descriptorsInit } from "./descriptors";
import { dfuInit, dfuTick } from "./dfu/dfu";
import { layoutInit, layoutClear } from "./dfu/layout";
import { flashInit, flashSize, flashSectorSize, flashBlockSize } from "./flash/engine";
import { bootDecide, bootMapped, MAPPED_SECTOR_BYTES } from "./boot";
import { ledTick } from "./led";
import { functionsInit, functionsTick } from "./functions";

// The boot decision's fast path: jumps to the application, or returns having changed nothing.
// Runs first, with only the boot path's code in SRAM on the RP2040 (hal/common/main.c).
export function boot(): void {
  loadBoardInfo();
  bootMapped();
}

// Decide: boot the application (hal.jump does not return) or stay in DFU mode.
export function init(): void {
  let flashOk = flashInit() == 0;
  if (flashOk) layoutInit(flashSize(), flashSectorSize(), flashBlockSize());
  // On a board mapped at reset the boot path read the record sector where it lies on a chip of
  // 4 KiB sectors (boot-read.ts, boot.ts's bootMapped); one laid out otherwise is not used.
  if (flashOk && flash_mapped() && flashSectorSize() != MAPPED_SECTOR_BYTES) flashOk = false;
  if (!flashOk) layoutClear();
  bootDecide(flashOk);
  descriptorsInit();
  standardReset();
  dfuInit();
  functionsInit();
  usb_init();
}

// One pass of DFU mode. Returns 1 if it did work, 0 if it only waited.
export function poll(): i32 {
  const usb = ctrlPoll();
  const flash = dfuTick() | functionsTick();
  ledTick(flash);
  return usb | flash;
}

// End of the core's static memory: the build sizes the C side's linear-memory array with it.
export function staticEnd(): usize { return __heap_base; }
