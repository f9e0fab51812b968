// The flasher and a Pico in BOOTSEL mode (the RP2040 boot ROM, USB 2e8a:0003): `install` puts
// qspiboot on it, and the board commands switch a Pico that has qspiboot into qspiboot's DFU
// mode first (tools/picoboot/). Real boards through the `usb` package, or an emulated Pico held
// in BOOTSEL (`--sim pico-rom`: the RP2040 emulator with the ROM's PICOBOOT model).
import { existsSync, readFileSync } from "node:fs";
import type { USBDevice } from "../dfu/webusb";
import { DfuDevice } from "../dfu/client";
import { PicobootDevice, isRp2040Rom } from "../picoboot/client";
import { switchToQspiboot } from "../picoboot/install";
import { SimUsbDevice } from "../usb/sim-device";
import { usbDevices, UDEV_HINT, type Target } from "./targets";
import { NoDeviceError } from "./exit-codes";
import { Rp2040Emu } from "../../sim/rp2040/emulator";
import { PicobootRom } from "../../sim/rp2040/picoboot";
import { Rp2040UsbHost } from "../../sim/rp2040/usb-host";

export const BOOTSEL_STILL_HELD = "the Pico came back in BOOTSEL mode: BOOTSEL was still held at the reset. Let go of it and run this again";

export async function picoRomDevices(): Promise<USBDevice[]> {
  return (await usbDevices()).filter(isRp2040Rom);
}

export async function openPicoboot(usb: USBDevice): Promise<PicobootDevice> {
  return new PicobootDevice(usb).open().catch((e: any) => {
    if (/ACCESS|permission/i.test(e.message)) throw new Error(UDEV_HINT);
    throw e;
  });
}

/** A Pico in BOOTSEL mode as a watch target: PICOBOOT, no DFU interface to open. */
export function picoRomTarget(usb: USBDevice): Target {
  return {
    label: `${usb.productName ?? "RP2 Boot"} (Pico in BOOTSEL mode)`,
    serial: usb.serialNumber ?? "",
    open: async () => { throw new Error("a Pico in BOOTSEL mode has no DFU interface: it is switched or installed through PICOBOOT"); },
    openPicoboot: () => openPicoboot(usb),
  };
}

/** An emulated Pico plugged in with BOOTSEL held, its flash from `flashFile` (blank without). */
export class SimPicoRom {
  readonly emu = new Rp2040Emu();
  readonly rom: PicobootRom;
  readonly usb: SimUsbDevice;

  constructor(flashFile?: string) {
    if (flashFile && existsSync(flashFile)) this.emu.program(0, readFileSync(flashFile).subarray(0, this.emu.nor.data.length));
    this.emu.bootsel = true;
    this.emu.powerOn();
    this.rom = new PicobootRom(this.emu);
    this.rom.reset();
    this.usb = new SimUsbDevice(this.rom);
  }

  /** The person lets go of BOOTSEL; the chip goes on until the ROM's reboot has happened. */
  releaseAndReboot(): void {
    const resets = this.emu.resets.length;
    this.emu.bootsel = false;
    this.emu.runUntil(() => this.emu.resets.length > resets, 100_000_000);
  }

  get nowMs(): number { return this.emu.nowUs / 1000; }

  /** After a reboot: qspiboot up in DFU mode, or running the application (its code at 0x10010000
   *  and up executes), whichever comes first. */
  whatRuns(): "dfu" | "application" | "nothing" {
    const host = new Rp2040UsbHost(this.emu);
    const inApp = () => this.emu.pc >= 0x10010000 && this.emu.pc < 0x11000000;
    this.emu.runUntil(() => host.present() || inApp(), 200_000_000);
    return host.present() ? "dfu" : inApp() ? "application" : "nothing";
  }
}

/** The switch; a Pico without qspiboot is "no board in DFU mode" (exit status 3). */
async function switchOne(dev: PicobootDevice): Promise<void> {
  try { await switchToQspiboot(dev); } catch (e: any) {
    if (/no qspiboot on it/.test(e.message)) throw new NoDeviceError(e.message);
    throw e;
  }
}

/** After the switch on an emulated Pico: qspiboot's DFU device on the same chip. */
async function simSwitched(sim: SimPicoRom): Promise<Target> {
  const dev = await openPicoboot(sim.usb);
  await switchOne(dev);
  sim.releaseAndReboot();
  const host = new Rp2040UsbHost(sim.emu);
  if (sim.emu.mode !== "running" || !host.waitForDevice(1000)) throw new Error("the emulated Pico did not come up in qspiboot's DFU mode after the switch");
  host.reset();
  const usb = new SimUsbDevice(host);
  await usb.open();
  return {
    label: `${usb.productName} (emulated Pico, switched from BOOTSEL)`,
    serial: usb.serialNumber ?? "",
    open: () => new DfuDevice(usb, { sleep: async (ms) => host.sleep(ms), now: () => sim.nowMs }).open(),
    // Manifestation (the record) is over before the flasher returns: the flash is final.
    flashData: () => sim.emu.nor.data,
  };
}

export interface SwitchOptions {
  sim?: SimPicoRom;
  log: (line: string) => void;
  /** The qspiboot boards attached now (real ones: tools/cli/targets.ts realTargets). */
  listDfu: () => Promise<Target[]>;
  /** The Picos in BOOTSEL mode attached now (default: picoRomDevices). */
  listRoms?: () => Promise<unknown[]>;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * No board in qspiboot's DFU mode, but Picos in BOOTSEL mode: switch each into qspiboot (the
 * flash is not touched) and return the qspiboot boards that appear.
 */
export async function switchFromBootsel(roms: USBDevice[], o: SwitchOptions): Promise<Target[]> {
  if (o.sim) {
    o.log("a Pico in BOOTSEL mode (RP2040 boot ROM): switching it to qspiboot's DFU mode; its flash is kept");
    return [await simSwitched(o.sim)];
  }
  if (!roms.length) return [];
  o.log(`${roms.length === 1 ? "a Pico" : `${roms.length} Picos`} in BOOTSEL mode (RP2040 boot ROM): switching to qspiboot's DFU mode; the flash is kept`);
  const before = new Set((await o.listDfu()).map((t) => t.serial));
  for (const usb of roms) {
    const dev = await openPicoboot(usb);
    try { await switchOne(dev); } finally { await dev.close().catch(() => {}); }
  }
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (let waited = 0; ; waited += 200) {
    await sleep(200);
    const fresh = (await o.listDfu()).filter((t) => !before.has(t.serial));
    if (fresh.length >= roms.length) return fresh;
    if (waited >= (o.timeoutMs ?? 5000)) {
      if ((await (o.listRoms ?? picoRomDevices)()).length) throw new Error(BOOTSEL_STILL_HELD);
      if (fresh.length) return fresh;
      throw new Error("the Pico was switched out of BOOTSEL mode but qspiboot's DFU device did not appear within 5 s");
    }
  }
}
