// What the flasher does with a Pico in BOOTSEL mode, through the boot ROM's PICOBOOT interface:
// install (or update) qspiboot in the first 56 KiB of its flash, and switch a Pico that already
// has qspiboot into qspiboot's DFU mode. Browser-safe: no Node imports.
import { crc32Mpeg2 } from "../build/crc32-mpeg2";
import { DfuError, hex, type Progress } from "../dfu/client";
import { PicobootDevice, ROM_SECTOR, EXCLUSIVE } from "./client";

/** qspiboot's own region on the RP2040 (link/rp2040.ld FLASH: boot2 + bootloader, 56 KiB); the
 *  region's last two 4 KiB sectors (0x1000E000, 0x1000F000) hold the update records (a core with
 *  signed updates uses both) and the application starts at 0x10010000: an install never erases them. */
export const RP2040_BOOT = { address: 0x10000000, size: 56 * 1024 } as const;
const BOOT2_SIZE = 256;
/** The bytes every qspiboot build carries (its USB manufacturer string). */
const MARKER = new TextEncoder().encode("qspiboot");

export class PicoVerifyError extends DfuError {
  constructor(readonly at: number, readonly want: number, readonly got: number) {
    super(`verify failed: the flash holds 0x${got.toString(16).padStart(2, "0")} at 0x${hex(at)} where qspiboot.bin has ` +
      `0x${want.toString(16).padStart(2, "0")}. Do not unplug: install again (the Pico stays in BOOTSEL mode)`);
  }
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** boot2 in the first 256 bytes, checked as the ROM checks it (CRC-32/MPEG-2 of 252 bytes). */
export function boot2Valid(bytes: Uint8Array): boolean {
  if (bytes.length < BOOT2_SIZE) return false;
  const crc = new DataView(bytes.buffer, bytes.byteOffset + 252, 4).getUint32(0, true);
  return crc32Mpeg2(bytes.subarray(0, 252)) === crc;
}

function fileError(message: string): DfuError {
  const e = new DfuError(message);
  e.fileProblem = true;
  return e;
}

/** Refuse what cannot go in before anything is erased. */
export function checkPicoInstallable(bin: Uint8Array): void {
  if (!bin.length) throw fileError("the bootloader file is empty");
  if (bin.length > RP2040_BOOT.size) {
    throw fileError(`the bootloader file is ${bin.length} bytes, more than qspiboot's ${RP2040_BOOT.size / 1024} KiB on the RP2040 ` +
      `(0x${hex(RP2040_BOOT.address)}-0x${hex(RP2040_BOOT.address + RP2040_BOOT.size)}): it would overwrite the update record`);
  }
  if (!boot2Valid(bin)) throw fileError("the file does not start with a boot2 whose CRC the RP2040 boot ROM accepts: it is not a qspiboot build for the Pico (build/rp2040/qspiboot.bin)");
  if (!contains(bin, MARKER)) throw fileError("the file has a boot2 but is not a qspiboot build (build/rp2040/qspiboot.bin); to flash an application, use flash.ts flash");
}

/** Whether this Pico's flash starts with qspiboot (a valid boot2 and qspiboot's marker). */
export async function hasQspiboot(dev: PicobootDevice): Promise<boolean> {
  await dev.exclusive(EXCLUSIVE);
  await dev.exitXip();
  const head = await dev.read(RP2040_BOOT.address, RP2040_BOOT.size);
  return boot2Valid(head) && contains(head, MARKER);
}

export interface PicoInstallReport { bytes: number; erasedSectors: number[]; verified: boolean; rebooted: boolean }

/**
 * Erase, write and read back `bin` at 0x10000000 through PICOBOOT, then reboot into it. Only the
 * sectors the file covers are erased: the update record at 0x1000F000 and the application from
 * 0x10010000 stay as they are. The first sector, which holds boot2, is erased first and written
 * last: an install cut short (cable pulled, power lost) leaves no valid boot2, so the ROM finds
 * nothing to boot and comes up in BOOTSEL mode by itself (RP2040 datasheet 2.8.1), never a boot2
 * that jumps into half a bootloader.
 */
export async function installPico(dev: PicobootDevice, bin: Uint8Array, opts: { reboot?: boolean; progress?: (p: Progress) => void } = {}): Promise<PicoInstallReport> {
  checkPicoInstallable(bin);
  const { address } = RP2040_BOOT;
  const length = Math.ceil(bin.length / ROM_SECTOR) * ROM_SECTOR;
  await dev.exclusive(EXCLUSIVE);
  await dev.exitXip();
  const sectors: number[] = [];
  const order = [...Array(length / ROM_SECTOR).keys()].slice(1).concat(0).map((i) => i * ROM_SECTOR);
  await dev.erase(address, ROM_SECTOR);
  sectors.push(address);
  for (const [n, off] of order.entries()) {
    opts.progress?.({ phase: "write", done: n * ROM_SECTOR, total: length });
    if (off) { await dev.erase(address + off, ROM_SECTOR); sectors.push(address + off); }
    const part = bin.subarray(off, Math.min(off + ROM_SECTOR, bin.length));
    if (part.length) await dev.write(address + off, part);
  }
  opts.progress?.({ phase: "write", done: length, total: length });
  opts.progress?.({ phase: "verify", done: 0, total: bin.length });
  const back = await dev.read(address, bin.length);
  for (let i = 0; i < bin.length; i++) if (back[i] !== bin[i]) throw new PicoVerifyError(address + i, bin[i], back[i]);
  opts.progress?.({ phase: "verify", done: bin.length, total: bin.length });
  let rebooted = false;
  if (opts.reboot !== false) { await dev.reboot(); rebooted = true; }
  return { bytes: bin.length, erasedSectors: sectors, verified: true, rebooted };
}

/** hal/app/qspiboot.h: the flag word an application leaves in WATCHDOG SCRATCH0/1 to ask qspiboot
 *  for DFU mode (RP2040 datasheet 4.7.6: the scratch registers survive a watchdog reset). */
const FLAG_STAY_IN_DFU = 0x51424446;
const WATCHDOG_SCRATCH0 = 0x4005800c;
/** Where the routine goes: the start of SRAM, which the ROM's USB boot leaves to the host (its own
 *  data and stack are in USB DPRAM, bootrom_main.c). */
export const SWITCH_ROUTINE_ADDR = 0x20000000;

/** Thumb code: SCRATCH0 = flag, SCRATCH1 = ~flag, return (EXEC calls it; REBOOT then resets). */
export function switchRoutine(): Uint8Array {
  const b = new Uint8Array(20), dv = new DataView(b.buffer);
  const code = [
    0x4802, // ldr  r0, [pc, #8]   @ =WATCHDOG_SCRATCH0
    0x4903, // ldr  r1, [pc, #12]  @ =FLAG_STAY_IN_DFU
    0x6001, // str  r1, [r0, #0]
    0x43c9, // mvns r1, r1
    0x6041, // str  r1, [r0, #4]
    0x4770, // bx   lr
  ];
  code.forEach((h, i) => dv.setUint16(2 * i, h, true));
  dv.setUint32(12, WATCHDOG_SCRATCH0, true);
  dv.setUint32(16, FLAG_STAY_IN_DFU, true);
  return b;
}

/**
 * A Pico in BOOTSEL mode with qspiboot installed: leave the "stay in DFU mode" flag that an
 * application would leave, and reboot; the flash is not touched. qspiboot then comes up in DFU
 * mode (boot reason "application asked"), unless BOOTSEL is still held, which brings the ROM back.
 */
export async function switchToQspiboot(dev: PicobootDevice): Promise<void> {
  if (!(await hasQspiboot(dev))) {
    throw new DfuError("this Pico (in BOOTSEL mode) has no qspiboot on it: install it first with `flash.ts install`, then flash again");
  }
  await dev.write(SWITCH_ROUTINE_ADDR, switchRoutine());
  await dev.exec(SWITCH_ROUTINE_ADDR);
  await dev.reboot(100);
}
