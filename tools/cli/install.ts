// `flash.ts install`: put qspiboot itself on a WeAct H750, through ST's ROM DFU bootloader
// (BOOT0 held at reset). Finds the ROM among real USB devices, or uses the ROM model
// (`--sim h750-rom`, sim/h750/st-rom-dfu.ts), and runs tools/dfu/rom-install.ts.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { USBDevice } from "../dfu/webusb";
import { DfuDevice, DfuError, hex } from "../dfu/client";
import { NoDeviceError, UsageError } from "./exit-codes";
import { installBootloader, checkInstallable, ST_ROM, H750_BOOT } from "../dfu/rom-install";
import { makeReporters } from "./progress";
import { UDEV_HINT, usbDevices, type Target } from "./targets";
import { SimUsbDevice } from "../usb/sim-device";
import { StRomDfu } from "../../sim/h750/st-rom-dfu";

export const DEFAULT_BIN = join(import.meta.dirname, "..", "..", "build", "h750", "qspiboot.bin");
export const NO_ROM_HINT = "no STM32 in its ROM bootloader found (USB 0483:df11). On the WeAct H750: hold the BOOT0 button " +
  "while plugging the board in, or hold BOOT0 and press and release NRST, then release BOOT0; then run this again";

export interface InstallOptions { file?: string; sim?: string; simFlash?: string; json?: boolean; leave: boolean; serial?: string }

export function loadBin(file: string): Uint8Array {
  if (!existsSync(file)) {
    // The file's fault, whatever is plugged in: exit status 4, as for flash.
    throw Object.assign(new DfuError(/build[/\\]h750[/\\]qspiboot\.bin$/.test(file)
      ? `${file} does not exist: build it first with npm run build:h750`
      : `${file}: no such file`), { fileProblem: true });
  }
  return new Uint8Array(readFileSync(file));
}

async function romDevices(): Promise<USBDevice[]> {
  return (await usbDevices()).filter((d) => d.vendorId === ST_ROM.vendorId && d.productId === ST_ROM.productId);
}

export async function runInstall(o: InstallOptions): Promise<void> {
  const file = o.file ?? DEFAULT_BIN;
  const bin = loadBin(file);
  checkInstallable(bin); // before looking for a board: a wrong file never gets near one
  let usb: USBDevice;
  let rom: StRomDfu | undefined;
  if (o.sim) {
    if (o.sim !== "h750-rom") throw new UsageError(`--sim ${o.sim}: install runs against the ROM model, --sim h750-rom`);
    rom = new StRomDfu({ flash: o.simFlash && existsSync(o.simFlash) ? new Uint8Array(readFileSync(o.simFlash)) : undefined });
    usb = new SimUsbDevice(rom);
  } else {
    let found = await romDevices();
    if (o.serial) found = found.filter((d) => d.serialNumber === o.serial);
    if (!found.length) throw new NoDeviceError(NO_ROM_HINT);
    if (found.length > 1) throw new UsageError(`${found.length} boards in the ROM bootloader: pick one with --serial (${found.map((d) => d.serialNumber).join(", ")})`);
    usb = found[0];
  }
  const sim = rom;
  const dev = await new DfuDevice(usb, sim ? { sleep: async (ms) => sim.sleep(ms), now: () => sim.nowMs } : {}).open().catch((e: any) => {
    if (/ACCESS|permission/i.test(e.message)) throw new Error(UDEV_HINT);
    throw e;
  });
  const mode = o.json ? "json" : process.stdout.isTTY ? "tty" : "plain";
  const [reporter] = makeReporters([""], mode, sim ? () => sim.nowMs : () => performance.now());
  const t0 = performance.now();
  let report;
  try {
    report = await installBootloader(dev, bin, { leave: o.leave, progress: (p) => reporter.update(p) });
  } finally {
    reporter.stop();
    await dev.close();
    if (sim && o.simFlash) writeFileSync(o.simFlash, sim.flash);
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = { ...report, address: H750_BOOT.address, file, jumpedTo: sim?.jumpedTo, seconds };
  if (o.json) { console.log(JSON.stringify({ ok: true, result }, null, 2)); return; }
  console.log(`installed ${report.bytes} bytes of qspiboot at 0x${hex(H750_BOOT.address)} (sector erased, read back and verified)` +
    (report.started ? (sim ? `; the ROM left DFU mode and jumped to 0x${hex(sim.jumpedTo!)}` : "; the board starts qspiboot (release BOOT0 if you still hold it)")
      : "; the board stays in the ROM bootloader (--no-leave)"));
}

/** The ROM model as a flasher target (`--sim h750-rom` for the other commands). */
export async function romSimTarget(): Promise<Target> {
  const rom = new StRomDfu();
  const usb = new SimUsbDevice(rom);
  await usb.open();
  return {
    label: `${usb.productName} (ST ROM model)`, serial: usb.serialNumber ?? "",
    open: () => new DfuDevice(usb, { sleep: async (ms) => rom.sleep(ms), now: () => rom.nowMs }).open(),
  };
}

/** qspiboot's commands on a board that runs ST's ROM instead: say what the user has in hand. */
export function isStRom(dev: DfuDevice): boolean {
  return dev.usb.vendorId === ST_ROM.vendorId && dev.usb.productId === ST_ROM.productId;
}

export function refuseRom(dev: DfuDevice): void {
  if (isStRom(dev)) {
    throw new Error("this board is in ST's ROM bootloader (BOOT0 held at reset, USB 0483:df11), not in qspiboot: " +
      "`flash.ts install` puts qspiboot on it; if qspiboot is installed, release BOOT0 and reset the board");
  }
}
