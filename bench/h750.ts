// H750 figures from the real firmware under Unicorn (sim/h750/): instructions executed, which
// do not depend on this machine. Used by bench/run.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { buildBoard, buildExample } from "../tools/build";
import { loadImage } from "../tools/image/load";

const root = join(import.meta.dirname, "..");

/** Instructions from reset to the example application's first instruction, with the example
 *  flashed over DFU (by an emulator without the per-instruction hook, then handed over). */
export async function h750Boot(bootCrc: boolean): Promise<{ instructions: number; fetchWaits: number }> {
  const r = await buildBoard("h750", bootCrc ? { quiet: true, outDir: join(root, "build", "bench", "h750-bootcrc"), defines: ["BOARD_FLAGS=1"] } : { quiet: true });
  const bin = readFileSync(r.bin);
  const app = loadImage(buildExample("h750", { quiet: true }).elf).segments;
  const loader = new H750Emu();
  loader.loadFirmware(bin);
  const host = new H750UsbHost(loader);
  if (!host.waitForDevice(100) || host.reset() !== "ok") throw new Error("the emulated H750 did not enumerate");
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  await dev.flash(app, { leave: true });
  const emu = new H750Emu({ exactCount: true });
  emu.nor.data.set(loader.nor.data);
  emu.loadFirmware(bin);
  const entry = new DataView(app[0].data.buffer, app[0].data.byteOffset).getUint32(4, true);
  const n = emu.countUntil(entry, 20_000_000);
  if (n < 0) throw new Error("the application did not start");
  return { instructions: n, fetchWaits: emu.fetchWaits };
}
