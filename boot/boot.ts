// The boot decision after every reset, and leaving DFU mode.
import { flag_get, flag_set, button, jump, system_reset, crc32_phys, time_us } from "./hal";
import { flashBase, bootCrcCheck, doubleTapMs } from "./board";
import { flashMapAndCheck, flashInit } from "./flash/engine";
import { appStartOffset } from "./dfu/layout";
import { recordLoad, recordStatus } from "./update";
import { recordBase, recordLength, recordCrc, RECORD_NONE, RECORD_VALID } from "./record";
import { vectorsPlausible } from "./vectors";

// Values of the reset-surviving flag word (RTC backup register / watchdog scratch).
export const FLAG_STAY_IN_DFU: u32 = 0x51424446; // "FDBQ": the application asked for DFU mode
export const FLAG_TRAPPED: u32 = 0x51425450;     // "PTBQ": the core trapped; never run on after that
export const FLAG_DOUBLE_TAP: u32 = 0x51424454;  // "TDBQ": inside the double-tap window

// Why the bootloader stayed (reported in GETSTATUS's iString-less world through `bootReason`).
export const STAY_NONE: u8 = 0;
export const STAY_REQUESTED: u8 = 1;
export const STAY_BUTTON: u8 = 2;
export const STAY_NO_FLASH: u8 = 3;
export const STAY_NO_IMAGE: u8 = 4;
export const STAY_INTERRUPTED: u8 = 5;
export const STAY_BAD_IMAGE: u8 = 6;
export const STAY_TRAPPED: u8 = 7;
export const STAY_DOUBLE_TAP: u8 = 8;
export let bootReason: u8 = STAY_NONE;

// Map the flash and hand over. Returns only if the mapped window does not read back right.
function start(): void {
  // Optional double-tap window (off by default): a second reset within it stays in DFU mode.
  const window = doubleTapMs();
  if (window != 0) {
    flag_set(FLAG_DOUBLE_TAP);
    const t = time_us();
    while (time_us() - t < window * 1000) {}
    flag_set(0);
  }
  if (flashMapAndCheck() != 0) { flashInit(); return; }
  jump(flashBase() + appStartOffset());
}

// After reset: returns when the bootloader should stay in DFU mode (bootReason says why).
export function bootDecide(flashOk: bool): void {
  const flag = flag_get();
  if (flag != 0) flag_set(0);
  if (flag == FLAG_STAY_IN_DFU) { bootReason = STAY_REQUESTED; }
  else if (flag == FLAG_TRAPPED) { bootReason = STAY_TRAPPED; }
  else if (flag == FLAG_DOUBLE_TAP) { bootReason = STAY_DOUBLE_TAP; }
  else if (button() != 0) { bootReason = STAY_BUTTON; }
  if (!flashOk) { bootReason = STAY_NO_FLASH; return; }
  const rs = recordLoad();
  if (bootReason != STAY_NONE) return;
  if (rs == RECORD_VALID) {
    if (bootCrcCheck() && !imageCrcOk()) { bootReason = STAY_BAD_IMAGE; return; }
    start();
    bootReason = STAY_BAD_IMAGE;
    return;
  }
  if (rs == RECORD_NONE) {
    // No record at all: an image put there by other means runs if it looks like one; not on a
    // board with a key, where only a verified (recorded) image runs.
    if (!isDefined(QSPIBOOT_SIGNED) && vectorsPlausible()) start();
    bootReason = STAY_NO_IMAGE;
    return;
  }
  bootReason = STAY_INTERRUPTED; // an update was started and not completed, or a torn record
}

function imageCrcOk(): bool {
  if (flashMapAndCheck() != 0) { flashInit(); return false; }
  const ok = crc32_phys(0, flashBase() + recordBase(), recordLength()) == recordCrc();
  flashInit(); // back to command mode: the jump maps it again
  return ok;
}

// Leave DFU mode: a reset, after which the boot decision runs with nothing asking to stay.
export function leaveDfu(): void {
  system_reset();
}

export { recordStatus };
