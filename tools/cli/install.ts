// `flash.ts install`: put qspiboot itself on a board through the chip's own ROM: a WeAct H750
// through ST's ROM DFU bootloader (BOOT0 held at reset; tools/dfu/rom-install.ts), a Pico
// through the RP2040 boot ROM's PICOBOOT interface (BOOTSEL held; tools/picoboot/install.ts).
// Finds the ROM among real USB devices, or uses a model (`--sim h750-rom`: sim/h750/st-rom-dfu.ts;
// `--sim pico-rom`: the RP2040 emulator with sim/rp2040/picoboot.ts).
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
import { installPico, checkPicoInstallable, RP2040_BOOT } from "../picoboot/install";
import { isRp2040Rom } from "../picoboot/client";
import { openPicoboot, SimPicoRom } from "./pico-rom";

export const DEFAULT_BIN = join(import.meta.dirname, "..", "..", "build", "h750", "qspiboot.bin");
export const DEFAULT_PICO_BIN = join(import.meta.dirname, "..", "..", "build", "rp2040", "qspiboot.bin");
export const NO_ROM_HINT = "no board in its ROM bootloader found (STM32: USB 0483:df11; RP2040: 2e8a:0003). On the WeAct H750: hold the BOOT0 button " +
  "while plugging the board in, or hold BOOT0 and press and release NRST, then release BOOT0. On a Pico: hold BOOTSEL while plugging it in. " +
  "Then run this again";

export interface InstallOptions { file?: string; sim?: string; simFlash?: string; json?: boolean; leave: boolean; serial?: string }

export function loadBin(file: string): Uint8Array {
  if (!existsSync(file)) {
    // The file's fault, whatever is plugged in: exit status 4, as for flash.
    const board = file.match(/build[/\\](h750|rp2040)[/\\]qspiboot\.bin$/)?.[1];
    throw Object.assign(new DfuError(board ? `${file} does not exist: build it first with npm run build:${board}` : `${file}: no such file`), { fileProblem: true });
  }
  return new Uint8Array(readFileSync(file));
}

/** Which ROMs are attached (nothing is opened). */
async function attachedRoms(serial?: string): Promise<{ st: USBDevice[]; pico: USBDevice[] }> {
  let all = (await usbDevices()).filter((d) => isRp2040Rom(d) || (d.vendorId === ST_ROM.vendorId && d.productId === ST_ROM.productId));
  if (serial) all = all.filter((d) => d.serialNumber === serial);
  return { st: all.filter((d) => !isRp2040Rom(d)), pico: all.filter(isRp2040Rom) };
}

export async function runInstall(o: InstallOptions): Promise<void> {
  if (o.sim === "pico-rom") return runPicoInstall(o, undefined);
  if (!o.sim) {
    const { st, pico } = await attachedRoms(o.serial);
    const n = st.length + pico.length;
    if (!n) throw new NoDeviceError(NO_ROM_HINT);
    if (n > 1) throw new UsageError(`${n} boards in their ROM bootloaders: pick one with --serial (${[...st, ...pico].map((d) => d.serialNumber).join(", ")})`);
    if (pico.length) return runPicoInstall(o, pico[0]);
  }
  const file = o.file ?? DEFAULT_BIN;
  const bin = loadBin(file);
  checkInstallable(bin); // before looking for a board: a wrong file never gets near one
  let usb: USBDevice;
  let rom: StRomDfu | undefined;
  if (o.sim) {
    if (o.sim !== "h750-rom") throw new UsageError(`--sim ${o.sim}: install runs against a ROM model, --sim h750-rom or --sim pico-rom`);
    rom = new StRomDfu({ flash: o.simFlash && existsSync(o.simFlash) ? new Uint8Array(readFileSync(o.simFlash)) : undefined });
    usb = new SimUsbDevice(rom);
  } else {
    usb = (await attachedRoms(o.serial)).st[0];
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

/** A Pico in BOOTSEL mode (real, or the emulated one for --sim pico-rom): write boot2 + qspiboot
 *  through PICOBOOT, read back, reboot. The update record and the application stay. */
async function runPicoInstall(o: InstallOptions, usb: USBDevice | undefined): Promise<void> {
  const file = o.file ?? DEFAULT_PICO_BIN;
  const bin = loadBin(file);
  checkPicoInstallable(bin); // before the board is opened
  const sim = usb ? undefined : new SimPicoRom(o.simFlash);
  const dev = await openPicoboot(usb ?? sim!.usb);
  const mode = o.json ? "json" : process.stdout.isTTY ? "tty" : "plain";
  const [reporter] = makeReporters([""], mode, sim ? () => sim.nowMs : () => performance.now());
  const t0 = performance.now();
  let report;
  try {
    report = await installPico(dev, bin, { reboot: o.leave, progress: (p) => reporter.update(p) });
  } finally {
    reporter.stop();
    await dev.close().catch(() => {});
  }
  let after: string | undefined;
  if (sim) {
    if (report.rebooted) {
      sim.releaseAndReboot();
      const runs = sim.whatRuns();
      after = runs === "dfu" ? "qspiboot is up in DFU mode" : runs === "application" ? "qspiboot started the application" : "nothing came up";
    }
    if (o.simFlash) writeFileSync(o.simFlash, sim.emu.nor.data);
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = { ...report, address: RP2040_BOOT.address, file, after, seconds };
  if (o.json) { console.log(JSON.stringify({ ok: true, result }, null, 2)); return; }
  console.log(`installed ${report.bytes} bytes of qspiboot at 0x${hex(RP2040_BOOT.address)} (${report.erasedSectors.length} sectors erased, read back and verified; ` +
    `the update record and the application from 0x10010000 are kept)` +
    (report.rebooted ? (after ? `; the Pico rebooted and ${after}` : "; the Pico reboots into qspiboot (let go of BOOTSEL)") : "; the Pico stays in BOOTSEL mode (--no-leave)"));
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
