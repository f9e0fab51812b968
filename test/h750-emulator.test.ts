// The STM32H750 firmware as built (build/h750/qspiboot.bin: startup, HAL and the translated
// core as Cortex-M7 code) running under Unicorn with the register models of sim/h750/ (each
// following RM0433) and the project's NOR flash model behind QUADSPI. What a WeAct H750 user
// does: plug in, see the DFU device, download the example, watch it run from 0x90000000.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";
import { assertSameDescriptors } from "./lib/descriptor-requests";
import { usedSlots, SLOT } from "./lib/record";
import { DfuRequests, ST } from "./lib/dfu-requests";
import { buildBoard } from "../tools/build";
import type { ChipName } from "../sim/chips";
import { BOARDS } from "../sim/boards";

const BUILD = join(import.meta.dirname, "..", "build", "h750");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const example = loadImage(join(BUILD, "example.elf")).segments;
const exampleEntry = (new DataView(example[0].data.buffer, example[0].data.byteOffset).getUint32(4, true) & ~1) >>> 0;
const RECORD = (8 << 20) - 4096; // last sector of the W25Q64JV
/** Where the record the bootloader reads is: the last used slot of the record sector. */
const currentSlot = (nor: Uint8Array) => RECORD + (usedSlots(nor, RECORD) - 1) * SLOT;

function board(opts: { watch?: number[]; chip?: ChipName } = {}) {
  const emu = new H750Emu({ watch: opts.watch, chip: opts.chip });
  emu.loadFirmware(firmware);
  const host = new H750UsbHost(emu);
  return { emu, host };
}

async function dfu(host: H750UsbHost) {
  assert.ok(host.waitForDevice(100), "the DFU device connects");
  assert.is(host.reset(), "ok");
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

test("blank QSPI flash: the board comes up as the DFU device and stays there", async () => {
  const { emu, host } = board();
  const dev = await dfu(host);
  assert.is(dev.info!.bootReason, "no image");
  assert.is(dev.info!.jedecId, 0x1740ef, "W25Q64JV found through QUADSPI");
  assert.is(dev.info!.flashSize, 8 << 20);
  assert.is(host.deviceAddress, 7);
  assert.is(emu.m.rcc.sysclk(), 400e6, "running on PLL1 from the HSE");
  assert.is(emu.m.rcc.hclk(), 200e6, "HCLK 200 MHz, the most VOS1 allows");
  assert.equal(emu.m.rcc.violations, []);
  assert.ok(!emu.inApplication);
});

test("USB comes up the way ST's LL brings up the core: embedded FS PHY, pull-up only after the FIFOs are sized", async () => {
  const { emu, host } = board();
  await dfu(host);
  const otg = emu.m.otg;
  assert.ok(otg.read(0x00c) & (1 << 6), "GUSBCFG.PHYSEL: the embedded full-speed PHY (reset value 0: ULPI, which the board lacks)");
  assert.equal(otg.connects, [{ fifosSized: true }], "the pull-up came on once, after GRXFSIZ and DIEPTXF0 were written");
});

test("started with PLLs still running (as ST's ROM bootloader leaves them after install): DFU mode gets its own clocks", async () => {
  const { emu, host } = board();
  // What a ROM that jumps without a reset may leave: HSE, PLL1 and PLL3 on, SYSCLK from PLL1 at
  // other settings (here 5 MHz x 192 / 2 = 480 MHz, AHB /2 = 240 MHz: the datasheet's maximum,
  // so the boot path's QUADSPI, PRESCALER 1, runs at 120 MHz there, within the chip's 133).
  const rcc = emu.m.rcc;
  rcc.write(0x028, 2 | (5 << 4) | (5 << 20));
  rcc.write(0x030, (192 - 1) | ((2 - 1) << 9));
  rcc.write(0x018, 8);
  rcc.write(0x000, rcc.read(0x000) | (1 << 16) | (1 << 24) | (1 << 28));
  rcc.settle(); // running since long before our reset handler
  rcc.write(0x010, 3);
  assert.is(rcc.sysclk(), 480e6);
  const dev = await dfu(host);
  assert.is(dev.info!.bootReason, "no image");
  assert.is(rcc.sysclk(), 400e6, "PLL1 reprogrammed to the bootloader's 400 MHz");
  assert.is(emu.m.qspi.maxSckHz, 120e6);
});

test("every descriptor matches the Wasm simulator's for the same board", async () => {
  const { host } = board();
  await dfu(host);
  const sim = await SimBoard.create({ board: "h750" });
  sim.powerOn();
  const simHost = new SimUsbHost(sim);
  simHost.enumerate();
  assertSameDescriptors(host, simHost);
});

test("DFU download of the example, leave: the CPU runs its reset handler from the QSPI window", async () => {
  const { emu, host } = board({ watch: [exampleEntry] });
  const dev = await dfu(host);
  const r = await dev.flash(example, { leave: false });
  assert.is(r.sectorsSent, 1);
  const back = await dev.read(0x90000000, 4096);
  assert.equal([...back.subarray(0, example[0].data.length)], [...example[0].data], "read back over DFU upload");
  assert.is(emu.m.qspi.maxSckHz, 100e6, "the download ran QUADSPI at 100 MHz (HCLK3 200 MHz / 2), under the chip's 133 MHz");
  assert.is(emu.m.qspi.maxSckHz, BOARDS.h750.flashSckHz.dfu, "what the Wasm simulator charges DFU-mode bus time at");
  const resets = emu.resets;
  await dev.leave();
  assert.ok(emu.runUntil(() => emu.inApplication, 5_000_000), "in the application");
  assert.is(emu.resets, resets + 1, "left through one system reset (AIRCR)");
  // Hand-over (design: "Hand-over to the application"): the clocks of a cold chip, so CubeMX's
  // SystemInit/SystemClock_Config (which refuse to reprogram a PLL that drives SYSCLK) work.
  const rcc = (off: number) => emu.m.rcc.read(off);
  assert.is((rcc(0x010) >> 3) & 7, 0, "SYSCLK from HSI (RCC_CFGR.SWS)");
  assert.is(rcc(0x000) & ((1 << 16) | (1 << 24) | (1 << 28)), 0, "HSE, PLL1 and PLL3 off (RCC_CR)");
  assert.equal([rcc(0x018), rcc(0x01c), rcc(0x020)], [0, 0, 0], "every bus prescaler 1 (D1CFGR, D2CFGR, D3CFGR)");
  assert.is(emu.m.rcc.sysclk(), 64e6);
  assert.not.ok(emu.m.pwr.supplyWritten, "the supply configuration is left for the application to write (once)");
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 5_000_000), "its USART1 output (at the HSI's 64 MHz)");
  assert.match(emu.uart, /hello from the WeAct H750, running from QSPI flash/);
  const hit = emu.executed.get(exampleEntry);
  assert.ok(hit && hit.afterReset === emu.resets, `reset handler at 0x${exampleEntry.toString(16)} executed after the last reset`);
  assert.ok(emu.m.qspi.mapped, "QUADSPI left memory-mapped");
  const csht = (emu.m.qspi.dcr >>> 8) & 7;
  assert.ok(((csht + 1) * 1e9) / 120e6 >= 50, `DCR.CSHT ${csht} left to the application keeps nCS high for tSHSL2 (50 ns) even at 120 MHz SCK`);
  assert.ok(emu.m.qspi.minCsHighNs >= 50, "every command the bootloader sent had nCS high >= tSHSL2 before it");
  assert.is(emu.m.qspi.maxSckHz, BOARDS.h750.flashSckHz.boot, "the boot path ran QUADSPI at the HSI's 64 MHz / 2, as the Wasm simulator charges it");
  assert.ok(!host.present(), "the bootloader's USB device is gone");
});

test("the application's reboot-to-bootloader request (flag in DTCM) brings DFU back; a reset after boots it", async () => {
  const { emu, host } = board();
  await (await dfu(host)).flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000));
  emu.m.usart.feed("b".charCodeAt(0));
  assert.ok(host.waitForDevice(100), "DFU device back");
  assert.is((await dfu(host)).info!.bootReason, "application asked");
  emu.reset();
  assert.ok(emu.runUntil(() => emu.inApplication, 5_000_000), "the request is used up");
});

test("K1 held at reset keeps the bootloader; a corrupted record is not run", async () => {
  const { emu, host } = board();
  await (await dfu(host)).flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.inApplication, 5_000_000));
  emu.button = true;
  emu.reset();
  assert.ok(host.waitForDevice(100));
  assert.is((await dfu(host)).info!.bootReason, "button held");
  emu.button = false;
  const slot = currentSlot(emu.nor.data);
  emu.nor.data[slot + 24] ^= 1; // the current record's checksum
  emu.powerOn();
  assert.ok(host.waitForDevice(100), "stays in DFU mode");
  assert.ok(!emu.runUntil(() => emu.inApplication, 2_000_000), "the application never runs");
  const d = new DfuRequests(host);
  host.reset();
  assert.is(d.getStatus().state, ST.dfuIDLE);
});

for (const [chip, jedec] of [["IS25LP064A", 0x17609d], ["SFDP_ONLY_4M", 0x1640c8], ["PY25Q64HA", 0x172085]] as [ChipName, number][]) {
  test(`another chip on the QUADSPI pins (${chip}): found, written with quad page program, booted`, async () => {
    const { emu, host } = board({ chip });
    emu.nor.startState({ qe: false }); // shipped with quad I/O off: the driver must turn it on
    const instrs = new Set<number>();
    const transaction = emu.nor.transaction.bind(emu.nor);
    emu.nor.transaction = (t) => { instrs.add(t.instr); transaction(t); };
    const dev = await dfu(host);
    assert.is(dev.info!.jedecId, jedec);
    await dev.flash(example, { leave: true });
    assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000), "the example runs from it");
    assert.ok(emu.nor.quadEnabled(), "QE set the way this chip wants it");
    assert.ok(instrs.has(0x32) && !instrs.has(0x02), "programmed with 32h (1-1-4) only");
  });
}

test("image CRC checked at every boot (BOARD_FLAGS=1 build): a valid image boots, a corrupted one does not", async () => {
  const variant = await buildBoard("h750", { quiet: true, outDir: join(BUILD, "..", "test", "h750-bootcrc"), defines: ["BOARD_FLAGS=1"] });
  const emu = new H750Emu();
  emu.loadFirmware(readFileSync(variant.bin));
  const host = new H750UsbHost(emu);
  await (await dfu(host)).flash(example, { leave: true });
  // Boot: map, CRC over the window, back to commands (leaving continuous-read mode), map, jump.
  assert.ok(emu.runUntil(() => emu.inApplication, 5_000_000), "a valid image boots");
  emu.nor.data[0x100] ^= 0x01; // one bit of the image, behind the record's back
  emu.reset();
  assert.ok(host.waitForDevice(100), "stays in DFU mode");
  assert.is((await dfu(host)).info!.bootReason, "bad image");
});

test.run();
