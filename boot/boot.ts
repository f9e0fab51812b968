// The boot decision after every reset, and leaving DFU mode.
import { flag_get, flag_set, button, jump, system_reset, crc32_phys, time_us, flash_mapped } from "./hal";
import { flashBase, bootCrcCheck, doubleTapMs } from "./board";
import { flashMapAndCheck, flashInit } from "./flash/engine";
import { appStartOffset, layoutInit } from "./dfu/layout";
import { recordScan, recordLoad, recordLoadLegacy, recordStatus } from "./record-store";
import { recordBase, recordLength, recordCrc, RECORD_NONE, RECORD_VALID } from "./record";
import { vectorsScan, vectorsLookPlausible } from "./vectors";

// Values of the reset-surviving flag word (RTC backup register / watchdog scratch).
export const FLAG_STAY_IN_DFU: u32 = 0x51424446; // "FDBQ": the application asked for DFU mode
export const FLAG_TRAPPED: u32 = 0x51425450;     // "PTBQ": the core trapped; never run on after that
export const FLAG_DOUBLE_TAP: u32 = 0x51424454;  // "TDBQ": inside the double-tap window
export const FLAG_BOOT: u32 = 0x51424f42;        // "BOBQ": the full decision found an image to run (mapped boards)

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

// Optional double-tap window (off by default): a second reset within it stays in DFU mode.
function doubleTap(): void {
  const window = doubleTapMs();
  if (window != 0) {
    flag_set(FLAG_DOUBLE_TAP);
    const t = time_us();
    while (time_us() - t < window * 1000) {}
    flag_set(0);
  }
}

// Map the flash and hand over. Returns only if the mapped window does not read back right.
// A board mapped at reset hands over only from the mapped pass, on the map boot2 made: the full
// decision asks for it through the flag and a reset; finding its own flag again here means the
// mapped pass could not (the image CRC, say), so it stays.
// (flash_mapped() is a constant of the chip: each test of it on its own leaves one chip's branch.)
function start(): void {
  if (flash_mapped() && !mapped) {
    if (bootFlag != FLAG_BOOT) { flag_set(FLAG_BOOT); system_reset(); }
    return;
  }
  if (bootFlag != 0) flag_set(0);
  doubleTap();
  if (!flash_mapped() && flashMapAndCheck() != 0) { flashInit(); return; }
  jump(flashBase() + appStartOffset());
}

// What a 24-bit address reaches: the bound on a record's image while the chip is not identified
// (a record is only ever written for an image the chip held).
const MAPPED_CHIP_BYTES: u32 = 16 << 20;
// The sector size it assumes (the record sector's place and its slots depend on it): the one
// pico-sdk and the RP2040's boot ROM assume too (FLASH_SECTOR_SIZE, flash_range_erase).
export const MAPPED_SECTOR_BYTES: u32 = 4096;

// Where boot2 has left the flash memory-mapped (the RP2040), as the application will run it, the
// common case (nothing asks to stay, the record names a valid image) is decided on reads through
// that window alone (boot-read.ts): no command, no identification of the chip, no re-mapping,
// and none of DFU mode's code needed yet (hal/rp2040/startup.c loads it only when this
// returns). Everything else returns with nothing changed, and init()'s bootDecide starts over
// with the chip identified, on what this pass read. The record sector is the last 4 KiB of the
// bootloader's region (BoardInfo).
// Set for the mapped pass only.
let mapped: bool = false;
// The flag word as this boot found it.
let bootFlag: u32 = 0;
export function bootMapped(): void {
  if (!flash_mapped()) return;
  layoutInit(MAPPED_CHIP_BYTES, MAPPED_SECTOR_BYTES, 65536);
  scan();
  mapped = true;
  decide(true, recordLoad());
  mapped = false;
}

// What the decision reads from the flash, read once per reset (boot-read.ts).
// (The vectors only where the full decision cannot read them itself: elsewhere it reads them
// when there is no record, as an unrecorded image is the rare case.)
function scan(): void {
  recordScan();
  if (flash_mapped()) vectorsScan();
}

// After reset, in init(): returns when the bootloader should stay in DFU mode (bootReason says
// why). Only here may the record store write (a legacy record's move).
export function bootDecide(flashOk: bool): void {
  let rs = RECORD_NONE;
  if (flashOk) {
    if (!flash_mapped()) scan();
    recordLoad();
    rs = recordLoadLegacy();
  }
  decide(flashOk, rs);
}

// The decision on what was read. While `mapped` (bootMapped): returns at the first sign of
// staying, having changed nothing.
function decide(flashOk: bool, rs: i32): void {
  bootReason = STAY_NONE;
  const flag = bootFlag = flag_get();
  // The mapped pass leaves every flag to the full decision but its own request (kept set until
  // the jump, so that a mapped pass that fails is not asked again).
  if (flag != 0) { if (mapped) { if (flag != FLAG_BOOT) return; } else flag_set(0); }
  if (flag == FLAG_STAY_IN_DFU) { bootReason = STAY_REQUESTED; }
  else if (flag == FLAG_TRAPPED) { bootReason = STAY_TRAPPED; }
  else if (flag == FLAG_DOUBLE_TAP) { bootReason = STAY_DOUBLE_TAP; }
  else if (button() != 0) { if (mapped) return; bootReason = STAY_BUTTON; }
  if (!flashOk) { bootReason = STAY_NO_FLASH; return; }
  if (bootReason != STAY_NONE) return;
  if (rs == RECORD_VALID) {
    if (bootCrcCheck() && !imageCrcOk()) { bootReason = STAY_BAD_IMAGE; return; }
    start();
    bootReason = STAY_BAD_IMAGE;
    return;
  }
  if (rs == RECORD_NONE) {
    // No record at all: an image put there by other means runs if it looks like one; not on a
    // board with a key, where only a verified (recorded) image runs. While mapped, only when
    // the full decision asked: the record may still be in its old place (recordLoadLegacy).
    if (!isDefined(QSPIBOOT_SIGNED) && (!mapped || flag == FLAG_BOOT)) {
      if (!flash_mapped()) vectorsScan();
      if (vectorsLookPlausible()) start();
    }
    bootReason = STAY_NO_IMAGE;
    return;
  }
  bootReason = STAY_INTERRUPTED; // an update was started and not completed, or a torn record
}

function imageCrcOk(): bool {
  if (flash_mapped()) { if (!mapped) return true; } // checked by the mapped pass that runs it (start)
  else if (flashMapAndCheck() != 0) { flashInit(); return false; }
  const ok = crc32_phys(0, flashBase() + recordBase(), recordLength()) == recordCrc();
  if (!flash_mapped()) flashInit(); // back to command mode: the jump maps it again
  return ok;
}

// Leave DFU mode: a reset, after which the boot decision runs with nothing asking to stay.
export function leaveDfu(): void {
  system_reset();
}

export { recordStatus };
