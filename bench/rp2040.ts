// RP2040 figures from the real firmware in the emulator (sim/rp2040/): emulated cycles, which
// do not depend on this machine. Used by bench/run.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { buildBoard, buildExample } from "../tools/build";
import { loadImage } from "../tools/image/load";
import { fakeApp } from "../test/lib/images";
import type { FlashTiming } from "../sim/nor-flash";

const root = join(import.meta.dirname, "..");

async function firmware(bootCrc: boolean): Promise<Uint8Array> {
  const r = await buildBoard("rp2040", bootCrc ? { quiet: true, outDir: join(root, "build", "bench", "rp2040-bootcrc"), defines: ["BOARD_FLAGS=1"] } : { quiet: true });
  return readFileSync(r.bin);
}

async function pico(bin: Uint8Array, timing: FlashTiming, roscHz?: number) {
  const emu = new Rp2040Emu({ timing, roscHz });
  emu.program(0, bin);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  if (!host.waitForDevice(500) || host.reset() !== "ok") throw new Error("the emulated Pico did not enumerate");
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  return { emu, host, dev };
}

/** Cycles (and simulated microseconds) from power-on reset to the application's first
 *  instruction, with the example application flashed; boot2 and the ROSC phase included. The
 *  boot path runs on the ROSC (no crystal, no PLL): `roscHz` is the chip's ROSC at its power-up
 *  divisor, 6.5 MHz typical, 1.8-12 MHz over process, voltage and temperature (datasheet 2.17.4). */
export async function rp2040Boot(bootCrc: boolean, roscHz = 6.5e6): Promise<{ cycles: number; us: number }> {
  const { emu, dev } = await pico(await firmware(bootCrc), "typical", roscHz);
  const app = loadImage(buildExample("rp2040", { quiet: true }).elf).segments;
  await dev.flash(app, { leave: true });
  const d = emu.nor.data;
  const entry = (d[0x10004] | (d[0x10005] << 8) | (d[0x10006] << 16) | (d[0x10007] << 24)) & ~1;
  emu.powerOn();
  const t0 = emu.nowUs;
  if (!emu.runUntil(() => emu.pc === entry, 50_000_000)) throw new Error("the application did not start");
  return { cycles: emu.cycles, us: emu.nowUs - t0 };
}

/**
 * CPU cost of a 4 KiB DFU block: the cycles the firmware spends on it, without the cycles it
 * spends waiting. With an instant-timing flash chip and a host without overhead, every cycle is
 * either work or an idle pass of the main loop; each pass reads SIE_STATUS once, so the idle
 * passes are the SIE_STATUS reads that found no event, at a cost measured while fully idle.
 */
export async function rp2040CpuPerBlock(blocks = 32): Promise<{ cyclesPerBlock: number; idleCyclesPerPass: number; blocks: number }> {
  const { emu, host, dev } = await pico(await firmware(false), "instant");
  host.transferOverheadUs = 0;
  const ctrl = emu.mcu.usbCtrl as unknown as { readUint32(o: number): number };
  const read = ctrl.readUint32.bind(ctrl);
  let passes = 0;
  ctrl.readUint32 = (o: number) => { if (o === 0x50) passes++; return read(o); };
  // Idle cost: the main loop with nothing to do.
  let c0 = emu.totalCycles, p0 = passes;
  emu.runFor(2000);
  const idle = (emu.totalCycles - c0) / (passes - p0);
  // Events the firmware handles: one per SETUP, per data packet and per status stage.
  let events = 0;
  const { endpointWrite, endpointRead } = host;
  host.endpointWrite = (ep, data) => { events++; endpointWrite.call(host, ep, data); };
  host.endpointRead = (ep, len) => { events++; endpointRead.call(host, ep, len); };
  const transfers0 = host.transfers;
  c0 = emu.totalCycles; p0 = passes;
  await dev.flash([{ address: 0x10010000, data: fakeApp("rp2040", blocks * 4096, 5) }], { leave: false });
  events += host.transfers - transfers0; // the SETUPs
  const total = emu.totalCycles - c0;
  const idlePasses = Math.max(0, passes - p0 - events);
  return { cyclesPerBlock: (total - idlePasses * idle) / blocks, idleCyclesPerPass: idle, blocks };
}
