// Installing qspiboot into the STM32H750's internal flash through ST's system-memory DFU
// bootloader (plain DfuSe: ST AN3156), the way DfuSe hosts do it: erase the pages the image
// covers, write, read back, leave. Browser-safe: no Node imports.
import { DfuDevice, DfuError, hex, type Progress } from "./client";
import { segmentAt } from "./layout";

/** ST's ROM bootloader in DFU mode (AN2606: USB DFU, ST's IDs). */
export const ST_ROM = { vendorId: 0x0483, productId: 0xdf11 } as const;
/** Where qspiboot lives and what the H750 guarantees there (RM0433 4.2: one 128 KiB sector at
 *  0x08000000; its ROM advertises more, the die's, which ST does not specify for the H750). */
export const H750_BOOT = { address: 0x08000000, size: 128 * 1024 } as const;

export interface InstallReport { bytes: number; erasedPages: number[]; verified: boolean; started: boolean }

export class VerifyError extends DfuError {
  constructor(readonly at: number, readonly want: number, readonly got: number) {
    super(`verify failed: the flash holds 0x${got.toString(16).padStart(2, "0")} at 0x${hex(at)} where qspiboot.bin has ` +
      `0x${want.toString(16).padStart(2, "0")}. The board would not start it: it stays in the ROM bootloader; install again`);
  }
}

/** Refuse what cannot go in before anything is erased. */
export function checkInstallable(bin: Uint8Array): void {
  // The file's fault (exit status 4), found before any board is looked for.
  if (!bin.length) throw Object.assign(new DfuError("the bootloader file is empty"), { fileProblem: true });
  if (bin.length > H750_BOOT.size) {
    throw Object.assign(new DfuError(`the bootloader file is ${bin.length} bytes, larger than the H750's internal flash ` +
      `(${H750_BOOT.size} bytes at 0x${hex(H750_BOOT.address)}): it is not a qspiboot build for this board`), { fileProblem: true });
  }
}

/**
 * Erase, write, read back and start `bin` at 0x08000000 on an opened DfuSe device (the ROM).
 * Only internal flash is touched: the QSPI chip, the application and its record stay as they are.
 */
export async function installBootloader(dev: DfuDevice, bin: Uint8Array, opts: { leave?: boolean; progress?: (p: Progress) => void } = {}): Promise<InstallReport> {
  checkInstallable(bin);
  const { address } = H750_BOOT;
  dev.checkWritable([{ address, data: bin }]);
  await dev.recover();
  // Every page the image touches, with the page size of the device's own layout (DfuSe hosts
  // erase before writing: the ROM writes over whatever is there).
  const pages: number[] = [];
  for (let a = address; a < address + bin.length;) {
    const seg = segmentAt(dev.layout, a)!;
    const page = a - ((a - seg.start) % seg.pageSize);
    pages.push(page);
    a = page + seg.pageSize;
  }
  for (let i = 0; i < pages.length; i++) {
    opts.progress?.({ phase: "erase", done: i, total: pages.length });
    await dev.erasePage(pages[i]);
  }
  opts.progress?.({ phase: "erase", done: pages.length, total: pages.length });
  await dev.download(address, bin, opts.progress);
  await dev.abort();
  // Read whole transfers (AN3156 computes the address from the block number and the transfer
  // size), then compare what the image covers.
  const readLength = Math.ceil(bin.length / dev.transferSize) * dev.transferSize;
  const back = await dev.read(address, readLength, (p) => opts.progress?.({ ...p, phase: "verify" }));
  for (let i = 0; i < bin.length; i++) if (back[i] !== bin[i]) throw new VerifyError(address + i, bin[i], back[i]);
  let started = false;
  if (opts.leave !== false) {
    try {
      await dev.leave(opts.progress, address);
    } catch (e: any) {
      // The ROM may be gone before it answers the GETSTATUS that makes it leave (dfu-util
      // reports "Error during download get_status" on a WeAct H750): it has jumped.
      if (!deviceGone(e)) throw e;
    }
    started = true;
  }
  return { bytes: bin.length, erasedPages: pages, verified: true, started };
}

/** The device left the bus (WebUSB NotFoundError; libusb's words through the `usb` package). */
function deviceGone(e: any): boolean {
  return e?.name === "NotFoundError" || /disconnected|NO_DEVICE|LIBUSB_ERROR_IO/.test(String(e?.message));
}
