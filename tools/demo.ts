// npm start: the whole story on a simulated WeAct H750, no hardware needed. It builds what is
// needed, starts a board running the real bootloader core, flashes the example application
// over DFU with the project's own flasher code, shows the board booting it, a re-flash that
// sends nothing, and a power cut in the middle of an update that the board survives.
import { readFileSync } from "node:fs";
import { buildBoard, buildExample } from "./build";
import { checkTools } from "./require-tools";
import { loadImage } from "./image/load";
import { imageSize } from "./image/segments";
import { DfuDevice } from "./dfu/client";
import { SimUsbDevice } from "./usb/sim-device";
import { makeReporters } from "./cli/progress";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { BOARDS } from "../sim/boards";

const say = (s = "") => console.log(s);
const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;

async function connect(b: SimBoard) {
  const host = new SimUsbHost(b);
  host.enumerate();
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (t) => host.sleep(t) }).open();
}

async function flash(b: SimBoard, segs: ReturnType<typeof loadImage>["segments"], label: string) {
  const dev = await connect(b);
  const [rep] = makeReporters([label], process.stdout.isTTY ? "tty" : "plain", () => b.clock.now / 1000);
  const t0 = b.clock.now;
  const r = await dev.flash(segs, { leave: true, progress: (p) => rep.update(p) });
  rep.stop();
  b.step();
  return { ...r, us: b.clock.now - t0 };
}

async function main() {
  checkTools(["wasm2c", "arm-none-eabi-gcc", "arm-none-eabi-objcopy"]);
  say("== building the H750 bootloader and the example application");
  await buildBoard("h750");
  const example = buildExample("h750");
  const { segments } = loadImage(example.elf);
  const resetHandler = readFileSync(example.bin).readUInt32LE(4);

  say("\n== a simulated WeAct H750: the real bootloader core (.wasm), a W25Q64JV model, USB endpoint 0");
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn();
  say(`power on with a blank flash chip: the board is in ${b.mode} mode (nothing to boot)`);

  say(`\n== flashing build/h750/example.elf (${imageSize(segments)} bytes) over DFU`);
  let r = await flash(b, segments, "example.elf");
  say(`sent ${r.sectorsSent} sector(s) in ${ms(r.us)} of simulated time`);
  say(`the board left DFU mode and ${b.mode === "app" ? `jumped to the application: vector table 0x${b.appEntry!.toString(16)}, reset handler 0x${(resetHandler >>> 0).toString(16)}` : "did NOT start the application"}`);

  say("\n== the application asks for the bootloader (qspiboot_reboot_to_bootloader), and the same file is flashed again");
  b.appRebootToBootloader(0x51424446);
  say(`after the reset the board is in ${b.mode} mode`);
  r = await flash(b, segments, "again");
  say(`the board already had every sector: ${r.sectorsSent} sent, ${ms(r.us)}; it runs the application again: ${b.mode === "app"}`);

  say("\n== power cut in the middle of an update to a new 256 KiB image");
  const big = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 0xff);
  big.set(readFileSync(example.bin).subarray(0, 8)); // the same vector table, so it looks like firmware
  b.appRebootToBootloader(0x51424446);
  b.flash.cutPowerAt(40, "during");
  try { await flash(b, [{ address: BOARDS.h750.flashBase, data: big }], "update"); } catch { /* the host sees the board vanish */ }
  say(`power was cut at the 40th flash operation; the board is ${b.mode}`);
  b.powerOn();
  say(`power back on: the board is in ${b.mode} mode, because the update record says the image is incomplete`);
  r = await flash(b, [{ address: BOARDS.h750.flashBase, data: big }], "retry");
  const ok = b.flash.data.subarray(0, big.length).every((x, i) => x === big[i]);
  say(`the repeated update sent ${r.sectorsSent} sectors (${r.sectorsTotal - r.sectorsSent} were already right) in ${ms(r.us)}; image intact: ${ok}; board in ${b.mode} mode`);
  say("\nDone. Flash a real board with: npx tsx tools/flash.ts flash build/h750/example.elf");
}

main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
