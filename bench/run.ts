// npm run bench: the numbers users compare bootloaders by, in simulated time (independent of
// how busy this machine is). Writes bench/results.json and prints a table. See bench/README.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { transactionUs, DEFAULT_USB_TIMING } from "../sim/usb-timing";
import { CHIPS } from "../sim/chips";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { buildBoard, buildWithUf2, buildOption, signedOption, lockedOption } from "../tools/build";
import { TEST_PUBLIC_KEY, TEST_LOCK_KEY } from "../test/lib/test-key";
import { BOARDS as BUILD_BOARDS } from "../tools/build/boards";
import { uf2Copy, uf2LimitUs } from "./uf2";
import { verifyCost } from "./signed";
import { DfuRequests, randomBytes } from "../test/lib/dfu-requests";
import { fakeApp, pageSizeAt } from "../test/lib/images";
import { rp2040Boot, rp2040CpuPerBlock } from "./rp2040";
import { h750Boot } from "./h750";
import { webPage } from "./web";

const chip = CHIPS.W25Q64JV;
const KiB = 1024, MiB = 1 << 20;
const APP_END = chip.size - 4096;

/** What a perfect device would take: the larger of the flash's busy time for the best plan
 *  (64 KiB erases, 256-byte programs, typical timings) and the USB time to move the bytes once
 *  (one DNLOAD and one GETSTATUS per 4 KiB, with the host's per-transfer overhead). */
function physicalLimitUs(bytes: number): { us: number; flashUs: number; usbUs: number } {
  const e64 = chip.erases.find((e) => e.size === 65536)!;
  const flashUs = Math.ceil(bytes / 65536) * e64.typMs * 1000 + Math.ceil(bytes / 256) * chip.pageProgram.typMs * 1000;
  const blocks = Math.ceil(bytes / 4096);
  const perBlock = 2 * (DEFAULT_USB_TIMING.transferOverheadUs + transactionUs(8) + transactionUs(0)) + 64 * transactionUs(64) + transactionUs(6);
  const usbUs = blocks * perBlock;
  return { us: Math.max(flashUs, usbUs), flashUs, usbUs };
}

async function board(old: number) {
  const b = await SimBoard.create({ board: "h750" });
  b.flash.data.set(randomBytes(Math.min(old, b.flash.data.length), 99)); // an old image: erases needed
  b.powerOn({ button: true });
  return b;
}

async function client(b: SimBoard) {
  if (b.mode !== "bootloader") b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

async function flashTs(bytes: number) {
  const b = await board(bytes);
  const d = await client(b);
  const t = b.clock.now;
  await d.flash([{ address: 0x90000000, data: fakeApp("h750", bytes, 7) }], { leave: true });
  return b.clock.now - t;
}

async function dfuUtil(bytes: number) {
  const b = await board(bytes);
  const host = new SimUsbHost(b);
  host.enumerate();
  const t = b.clock.now;
  new DfuRequests(host).dfuUtilDownload(0x90000000, fakeApp("h750", bytes, 7), pageSizeAt("h750", chip.size));
  return b.clock.now - t;
}

async function reflash() {
  const b = await board(MiB);
  const app = fakeApp("h750", MiB, 7);
  let d = await client(b);
  let t = b.clock.now;
  await d.flash([{ address: 0x90000000, data: app }], { leave: true });
  const fresh = b.clock.now - t;
  d = await client(b);
  t = b.clock.now;
  await d.flash([{ address: 0x90000000, data: app }], { leave: true });
  const same = b.clock.now - t;
  const one = app.slice();
  one[MiB / 2] ^= 1;
  d = await client(b);
  t = b.clock.now;
  await d.flash([{ address: 0x90000000, data: one }], { leave: true });
  return { fresh, same, one: b.clock.now - t };
}

async function bootTime(crc: boolean) {
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn();
  const d = await client(b);
  await d.flash([{ address: 0x90000000, data: fakeApp("h750", MiB, 7) }], { leave: true });
  if (crc) b.facts.bootCrc = true;
  const t = b.clock.now;
  b.powerOn();
  if (b.mode !== "app") throw new Error("did not boot");
  return b.clock.now - t;
}

const kibps = (bytes: number, us: number) => bytes / KiB / (us / 1e6);

async function main() {
  const rows: string[][] = [];
  const results: Record<string, unknown> = { assumptions: { chip: chip.name, timings: "typical", usb: DEFAULT_USB_TIMING } };
  const throughput: unknown[] = [];
  for (const [label, bytes] of [["64 KiB", 64 * KiB], ["1 MiB", MiB], ["full chip", APP_END]] as const) {
    const limit = physicalLimitUs(bytes);
    const ours = await flashTs(bytes);
    const du = await dfuUtil(bytes);
    throughput.push({ image: label, bytes, limitUs: limit, flashTsUs: ours, dfuUtilUs: du });
    // Issue 22's targets: tools/flash.ts 95% for 1 MiB and the full chip, 85% for any download
    // of 64 KiB or more; the dfu-util sequence 90% for 1 MiB.
    const target = label === "64 KiB" ? "target 85%" : label === "1 MiB" ? "targets 95% / 90%" : "target 95%";
    rows.push([`download ${label}`, `${kibps(bytes, ours).toFixed(0)} KiB/s (${(100 * limit.us / ours).toFixed(1)}%)`,
      `${kibps(bytes, du).toFixed(0)} KiB/s (${(100 * limit.us / du).toFixed(1)}%)`, `${kibps(bytes, limit.us).toFixed(0)} KiB/s limit, ${target}`]);
  }
  results.throughput = throughput;
  // The UF2 drive: the same flash limit, and the bus carrying twice the bytes (bench/uf2.ts).
  const uf2: unknown[] = [];
  for (const [label, bytes] of [["64 KiB", 64 * KiB], ["1 MiB", MiB], ["full chip", APP_END]] as const) {
    const limit = uf2LimitUs(bytes);
    const us = await uf2Copy(bytes);
    uf2.push({ image: label, bytes, limitUs: limit, copyUs: us, percent: (100 * limit.us) / us });
    rows.push([`UF2 copy ${label}`, `${kibps(bytes, us).toFixed(0)} KiB/s (${(100 * limit.us / us).toFixed(0)}%)`, "",
      `${kibps(bytes, limit.us).toFixed(0)} KiB/s limit, target 90%`]);
  }
  results.uf2Copy = uf2;
  // Signed updates: the check at manifestation for a 1 MiB image on each emulated chip.
  const verify: Record<string, unknown> = {};
  for (const chip of ["rp2040", "h750"] as const) {
    const v = await verifyCost(chip, MiB);
    verify[chip] = v;
    rows.push([`verify signed 1 MiB (${chip})`, `${(v.verifyUs / 1000).toFixed(0)} ms`, "emulated firmware", "SHA-256 + Ed25519"]);
  }
  results.signedVerify = { ...verify, note: "simulated time of the manifestation phase, signed build minus default build, same image (bench/signed.ts)" };
  const r = await reflash();
  results.reflash = r;
  rows.push(["re-flash 1 MiB unchanged", `${(r.same / 1000).toFixed(0)} ms (${(100 * r.same / r.fresh).toFixed(1)}% of fresh)`, "", "target < 5%"]);
  rows.push(["re-flash 1 MiB, 1 byte changed", `${(r.one / 1000).toFixed(0)} ms (${(100 * r.one / r.fresh).toFixed(1)}% of fresh)`, "", "target < 10%"]);
  const boot = await bootTime(false), bootCrc = await bootTime(true);
  const rpBoot = await rp2040Boot(false), rpBootCrc = await rp2040Boot(true);
  const rpBootSlow = await rp2040Boot(false, 1.8e6), rpBootFast = await rp2040Boot(false, 12e6);
  const h7Boot = await h750Boot(false), h7BootCrc = await h750Boot(true);
  results.boot = {
    simulatedUs: { default: boot, crc: bootCrc, note: "Wasm simulator, H750 board: HAL-call and bus time, not CPU cycles" },
    rp2040: { default: rpBoot, crc: rpBootCrc, slowRosc: rpBootSlow, fastRosc: rpBootFast, note: "emulated cycles from power-on reset to the example application's first instruction (boot2, ROSC sped up to divisor 2, copy to SRAM, core; no crystal, no PLL); ROSC 6.5 MHz at divisor 16 (typical), slow/fast corners 1.8/12 MHz" },
    h750: { default: h7Boot, crc: h7BootCrc, note: "instructions executed (Unicorn) from reset to the example application's first instruction, on the HSI; fetchWaits: the flash wait states if every 64-bit instruction fetch from the internal flash waited FLASH_ACR.LATENCY (caches off, as at reset; data loads from flash and bus latencies not counted); the models give the HSE its 2 ms start-up and PLLs their 50 us lock (DS12556 typical), which the boot path never waits for (test/h750-oscillators.test.ts)" },
  };
  rows.push(["boot RP2040, valid image", `${rpBoot.cycles} cycles`, `${(rpBoot.us / 1000).toFixed(2)} ms`, "target 1 ms (typical ROSC)"]);
  rows.push(["boot RP2040, image CRC on", `${rpBootCrc.cycles} cycles`, `${(rpBootCrc.us / 1000).toFixed(2)} ms`, ""]);
  rows.push(["boot RP2040, slowest ROSC (1.8 MHz)", `${rpBootSlow.cycles} cycles`, `${(rpBootSlow.us / 1000).toFixed(2)} ms`, "datasheet corner"]);
  rows.push(["boot RP2040, fastest ROSC (12 MHz)", `${rpBootFast.cycles} cycles`, `${(rpBootFast.us / 1000).toFixed(2)} ms`, "datasheet corner"]);
  // The boot path runs on the reset clock, HSI 64 MHz (hal/stm32h750/clocks.c).
  // One instruction a cycle, and that plus every 64-bit instruction fetch from the flash waiting
  // its wait states (caches off, as at reset; sim/h750/emulator.ts fetchWaits).
  const h7Us = (b: { instructions: number; fetchWaits: number }) =>
    `${(b.instructions / 64).toFixed(0)}-${((b.instructions + b.fetchWaits) / 64).toFixed(0)} us at HSI 64 MHz`;
  rows.push(["boot H750, valid image", `${h7Boot.instructions} instructions`, h7Us(h7Boot), "target < 1 ms"]);
  rows.push(["boot H750, image CRC on", `${h7BootCrc.instructions} instructions`, h7Us(h7BootCrc), ""]);
  rows.push(["boot (Wasm sim), valid 1 MiB", `${(boot / 1000).toFixed(2)} ms simulated`, "", ""]);
  rows.push(["boot (Wasm sim), CRC on", `${(bootCrc / 1000).toFixed(2)} ms simulated`, "", ""]);
  const sizes: Record<string, unknown> = {};
  for (const name of ["h750", "rp2040"]) {
    const s = await buildBoard(name, { quiet: true });
    const total = Object.values(s.sizes).reduce((a, v) => ({ flash: a.flash + v.flash, ram: a.ram + v.ram }), { flash: 0, ram: 0 });
    sizes[name] = { parts: s.sizes, total };
    const core = s.sizes["core (translated)"]?.flash ?? 0;
    rows.push([`code size ${name}`, `${total.flash} B flash, ${total.ram} B RAM`, `core ${core} B`, "budget 16384 B"]);
    const u = await buildWithUf2(name, { quiet: true });
    const uTotal = Object.values(u.sizes).reduce((a, v) => ({ flash: a.flash + v.flash, ram: a.ram + v.ram }), { flash: 0, ram: 0 });
    (sizes[name] as Record<string, unknown>).uf2Drive = { total: uTotal, cost: u.optionCost };
    rows.push([`  option: UF2 drive`, `+${u.optionCost!.flash} B flash, +${u.optionCost!.ram} B RAM`, `total ${uTotal.flash} B`,
      `region ${BUILD_BOARDS[name].flashRegion} B`]);
    // Signed updates, and locked mode over them (built for the public test key).
    for (const [key, label, option] of [
      ["signed", "signed updates", signedOption(name, TEST_PUBLIC_KEY)],
      ["signedLocked", "signed + locked", lockedOption(name, TEST_PUBLIC_KEY, TEST_LOCK_KEY)],
    ] as const) {
      const o = await buildOption(name, option, { quiet: true });
      const oTotal = Object.values(o.sizes).reduce((a, v) => ({ flash: a.flash + v.flash, ram: a.ram + v.ram }), { flash: 0, ram: 0 });
      (sizes[name] as Record<string, unknown>)[key] = { total: oTotal, cost: o.optionCost };
      rows.push([`  option: ${label}`, `+${o.optionCost!.flash} B flash, +${o.optionCost!.ram} B RAM`, `total ${oTotal.flash} B`,
        `region ${BUILD_BOARDS[name].flashRegion} B`]);
    }
  }
  results.codeSize = sizes;
  const cpu = await rp2040CpuPerBlock();
  // Flash time of a 4 KiB block on the Pico's W25Q16JV, typical: its share of a 64 KiB erase
  // and 16 page programs.
  const w25 = CHIPS.W25Q16JV;
  const blockFlashUs = (w25.erases.find((e) => e.size === 65536)!.typMs * 1000) / 16 + 16 * w25.pageProgram.typMs * 1000;
  const cpuUs = cpu.cyclesPerBlock / 125;
  results.cpuCostPerBlock = { ...cpu, cpuUsAt125MHz: cpuUs, blockFlashUs, percent: (100 * cpuUs) / blockFlashUs,
    note: "RP2040 emulator, instant-timing flash, host without overhead: all cycles minus idle main-loop passes" };
  rows.push(["CPU per 4 KiB block (RP2040)", `${Math.round(cpu.cyclesPerBlock)} cycles`, `${(100 * cpuUs / blockFlashUs).toFixed(2)}% of ${(blockFlashUs / 1000).toFixed(1)} ms flash`, "target < 10%"]);
  const web = await webPage();
  results.webPage = web;
  rows.push(["web page (HTML + CSS + bundle)", `${(web.bytes / 1024).toFixed(1)} KiB, ${(web.gzipBytes / 1024).toFixed(1)} KiB gzipped`,
    web.firstLoadMs === null ? web.note : `first load ${web.firstLoadMs.toFixed(0)} ms`, "chromium, localhost"]);
  const w = [38, 30, 32, 20];
  console.log(["", "tools/flash.ts", "dfu-util sequence", ""].map((c, i) => c.padEnd(w[i])).join(""));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(w[i])).join(""));
  writeFileSync(join(import.meta.dirname, "results.json"), JSON.stringify(results, null, 2));
  console.log("\nwritten: bench/results.json");
}

main().catch((e) => { console.error(e); process.exit(1); });
