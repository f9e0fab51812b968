// The Zephyr recipes (link/recipes/zephyr/): a devicetree overlay and a Kconfig fragment per board.
// No west build runs here (no Zephyr tree, no SDK). What is checked instead:
// - the numbers in the overlays and fragments agree with the board's own layout, as the simulated
//   board reports it over INFO (the same core and board facts the firmware is built from);
// - a stand-in with Zephyr's start-up contract after our jump (test/apps/zephyr/: vector table
//   at the code partition's start, z_arm_reset -> z_prep_c setting VTOR, .bss/.data, the SoC's
//   early hook and clock driver as Zephyr's sources do them, the console UART) is linked the way
//   Zephyr's Cortex-M linker script places an XIP image, from the recipe's values, flashed over
//   DFU into each chip's built qspiboot firmware in its emulator, and must report on the UART.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { loadImage } from "../tools/image/load";
import { whyNotBootable } from "../tools/image/bootable";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, type Segment } from "../tools/dfu/client";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-zephyr-"));
const recipes = join(root, "link/recipes/zephyr");
const app = join(root, "test/apps/zephyr");

// Facts of Zephyr's boards that the recipe builds on (not ours to choose): where the chosen
// zephyr,flash sits (mini_stm32h750-common.dtsi: the QSPI controller's ranges put ext_flash at
// 0x90000000; rp2040.dtsi/rpi_pico-common.dtsi: flash0 at 0x10000000), the chosen zephyr,sram
// (AXI SRAM 0x24000000 512 KiB; SRAM 0x20000000 264 KiB), the board's PLL1 dividers.
const ZEPHYR = {
  h750: { overlay: "mini_stm32h750.overlay", conf: "qspiboot-h750.conf", partition: "slot0_partition", flashBase: 0x90000000,
    sram: [0x24000000, 512], cpu: "cortex-m7", file: "h750.c" },
  rp2040: { overlay: "rpi_pico.overlay", conf: "qspiboot-rp2040.conf", partition: "code_partition", flashBase: 0x10000000,
    sram: [0x20000000, 264], cpu: "cortex-m0plus", file: "rp2040.c" },
} as const;
const H750_BOARD_PLL = { M: 5, N: 192, P: 2, Q: 4, R: 2 }; // mini_stm32h750-common.dtsi &pll

type Board = keyof typeof ZEPHYR;
function recipe(board: Board) {
  const z = ZEPHYR[board];
  const overlay = readFileSync(join(recipes, z.overlay), "utf8");
  const conf = readFileSync(join(recipes, z.conf), "utf8");
  const m = new RegExp(`&${z.partition} \\{\\s*reg = <(0x[0-9a-f]+) (0x[0-9a-f]+)>;`).exec(overlay);
  assert.ok(m, `${z.overlay} sets ${z.partition}'s reg`);
  const settings = new Map(conf.split("\n").filter((l) => /^CONFIG_\w+=/.test(l)).map((l) => l.split("=") as [string, string]));
  return { overlay, settings, offset: parseInt(m![1], 16), size: parseInt(m![2], 16) };
}

async function boardInfo(board: Board) {
  const b = await SimBoard.create({ board });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  return (await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open()).info!;
}

// Zephyr's linker script is preprocessed with the Kconfig values; so is the stand-in's.
function link(board: Board, flashLoadOffset: number, flashLoadSize: number, out: string, defines: string[] = []) {
  const z = ZEPHYR[board];
  const ld = join(dir, `${out}.ld`);
  const kconfig = [`-DCONFIG_FLASH_BASE_ADDRESS=${z.flashBase}`, `-DCONFIG_FLASH_LOAD_OFFSET=${flashLoadOffset}`,
    `-DCONFIG_FLASH_LOAD_SIZE=${flashLoadSize}`, `-DCONFIG_SRAM_BASE_ADDRESS=${z.sram[0]}`, `-DCONFIG_SRAM_SIZE=${z.sram[1]}`];
  const pp = spawnSync("arm-none-eabi-gcc", ["-E", "-P", "-x", "c", ...kconfig, join(app, "link.ld.S"), "-o", ld], { encoding: "utf8" });
  assert.is(pp.status, 0, pp.stderr);
  const elf = join(dir, `${out}.elf`);
  const cc = spawnSync("arm-none-eabi-gcc", [`-mcpu=${z.cpu}`, "-mthumb", "-mfloat-abi=soft", "-Os", "-ffunction-sections", "-fdata-sections",
    "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles", "-Wall", "-Wextra", "-Werror", ...defines,
    "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-T", ld,
    join(app, "reset.S"), join(app, "prep_c.c"), join(app, z.file), "-o", elf], { encoding: "utf8" });
  assert.is(cc.status, 0, cc.stderr);
  const nm = spawnSync("arm-none-eabi-nm", [elf], { encoding: "utf8" }).stdout;
  const sym = (name: string) => parseInt(new RegExp(`^([0-9a-f]{8}) \\w ${name}$`, "m").exec(nm)![1], 16);
  return { segments: loadImage(elf).segments, sym };
}

function check(board: Board, i: Awaited<ReturnType<typeof boardInfo>>, segments: Segment[]) {
  const appStart = i.flashBase + i.appStart;
  assert.is(Math.min(...segments.map((s) => s.address)), appStart, "the image starts at the board's application start");
  assert.ok(segments.every((s) => s.address + s.data.length <= i.flashBase + i.appEnd), "everything loadable in the application region");
  assert.is(whyNotBootable(segments, { flashBase: i.flashBase, appStart, appEnd: i.flashBase + i.appEnd, ramStart: i.ramStart, ramEnd: i.ramEnd, boardId: i.boardId }), null,
    "the flasher's plausibility check accepts it");
}

for (const board of ["h750", "rp2040"] as Board[]) {
  test(`Zephyr ${board}: ${ZEPHYR[board].overlay} and ${ZEPHYR[board].conf} put the code partition where the board's application region is`, async () => {
    const r = recipe(board), i = await boardInfo(board);
    assert.is(ZEPHYR[board].flashBase, i.flashBase, "Zephyr's zephyr,flash is the flash window qspiboot reports");
    assert.is(r.offset, i.appStart, "code partition offset (CONFIG_FLASH_LOAD_OFFSET) = the application start");
    assert.is(r.offset + r.size, i.appEnd, "code partition end = the application region's end");
    assert.is(r.settings.get("CONFIG_USE_DT_CODE_PARTITION"), "y", "FLASH_LOAD_OFFSET/SIZE taken from the code partition");
    const [ramBase, ramK] = ZEPHYR[board].sram;
    assert.ok(ramBase >= i.ramStart! && ramBase + ramK * 1024 <= i.ramEnd!, "Zephyr's zephyr,sram lies where the board lets a stack point");
    if (board === "rp2040") {
      // soc/raspberrypi/rpi_pico/rp2040/Kconfig: RP2_REQUIRES_SECOND_STAGE_BOOT default y if
      // FLASH_LOAD_OFFSET = 0x100; only then is .boot2 linked.
      assert.is.not(r.offset, 0x100, "no boot2 linked into the image");
    } else {
      assert.is(r.settings.get("CONFIG_FLASH"), "n", "no QUADSPI NOR driver re-initialising the flash the code runs from");
    }
  });
}

test("Zephyr h750: the stand-in linked with the recipe runs under qspiboot: VTOR, .data/.bss, the clock driver from HSI to 400 MHz within VOS1, USART1", async () => {
  const r = recipe("h750"), i = await boardInfo("h750");
  const n = Number(/&pll \{\s*mul-n = <(\d+)>;/.exec(r.overlay)![1]);
  const sysclk = Number(/&rcc \{\s*clock-frequency = <(\d+)>;/.exec(r.overlay)![1]);
  const { M, P, Q, R } = H750_BOARD_PLL;
  assert.is(25e6 / M * n / P, sysclk, "the overlay's PLL1 gives the SYSCLK it states");
  const { segments, sym } = link("h750", r.offset, r.size, "h750", [`-DPLL_M=${M}`, `-DPLL_N=${n}`, `-DPLL_P=${P}`, `-DPLL_Q=${Q}`, `-DPLL_R=${R}`, `-DSYSCLK_HZ=${sysclk}`]);
  check("h750", i, segments);
  assert.is(sym("_vector_table"), i.flashBase + i.appStart, "the vector table is the code partition's first byte");
  const run = await h750(segments);
  const m = /zephyr-style h750: entry sp (\w+) vtor (\w+), vtor (\w+) data (\w+) bss (\d+) hsi-detour (\d) latency (\d+)\/(\d) sysclk (\d+)/.exec(run.emu.uart);
  assert.ok(m, run.emu.uart);
  const [, entrySp, entryVtor, vtor, data, bss, detour, latency, latencyStatus] = m!;
  assert.is(parseInt(entrySp, 16), sym("z_main_stack") + 1024, "MSP from the vector table (z_main_stack + CONFIG_MAIN_STACK_SIZE) on entry");
  assert.is(parseInt(entryVtor, 16), sym("_vector_table"), "VTOR at the vector table on entry");
  assert.is(parseInt(vtor, 16), sym("_vector_table"), "z_prep_c's relocate_vector_table keeps it there");
  assert.is(data, "1234abcd", ".data copied from QSPI");
  assert.is(bss, "0", ".bss cleared");
  assert.is(detour, "0", "qspiboot hands over on HSI: set_up_plls has no PLL1 to leave");
  const { rcc, pwr, usart } = run.emu.m;
  assert.is(rcc.sysclk(), sysclk, "SYSCLK from PLL1 as the overlay asks");
  assert.is(rcc.hclk(), sysclk / 2, "HCLK = SYSCLK / hpre 2");
  assert.is(pwr.scale, 1, "Zephyr's \"scale 0\" is VOS1 on the H750");
  assert.equal(rcc.violations, [], "never faster than VOS1 allows");
  assert.is([latency, latencyStatus].join("/"), "2/0", "LL_SetFlashLatency: 2 wait states for 200 MHz HCLK at VOS1");
  const baud = rcc.usart1KernelHz() / usart.brr;
  assert.ok(Math.abs(baud - 115200) / 115200 < 0.01, `USART1 at ${Math.round(baud)} baud`);
  const sck = rcc.qspiKernelHz() / (((run.emu.m.qspi.cr >>> 24) & 0xff) + 1);
  assert.is(sck, rcc.hclk() / 2, "QUADSPI as qspiboot left it: HCLK3 / 2");
  assert.ok(sck <= 133e6, `QUADSPI SCK ${sck / 1e6} MHz within the W25Q64JV's 133 MHz`);
});

test("Zephyr h750: with the board's own 480 MHz PLL1 the same start-up runs above VOS1's limit (why the overlay lowers it)", async () => {
  const r = recipe("h750");
  const { M, N, P, Q, R } = H750_BOARD_PLL;
  const { segments } = link("h750", r.offset, r.size, "h750-480", [`-DPLL_M=${M}`, `-DPLL_N=${N}`, `-DPLL_P=${P}`, `-DPLL_Q=${Q}`, `-DPLL_R=${R}`, `-DSYSCLK_HZ=480000000`]);
  const run = await h750(segments);
  assert.match(run.emu.uart, /zephyr-style h750: .* latency \d+\/1 sysclk 480000000/, "LL_SetFlashLatency refuses 240 MHz HCLK at VOS1");
  assert.is(run.emu.m.pwr.scale, 1);
  assert.equal(run.emu.m.rcc.violations, ["SYSCLK 480 MHz above the voltage scale's 400 MHz"]);
});

test("Zephyr rp2040: the stand-in linked with the recipe runs under qspiboot: no boot2, VTOR, the clock driver starts both PLLs from a cold chip's clocks, UART0", async () => {
  const r = recipe("rp2040"), i = await boardInfo("rp2040");
  const { segments, sym } = link("rp2040", r.offset, r.size, "rp2040");
  check("rp2040", i, segments);
  assert.is(sym("_vector_table"), i.flashBase + i.appStart, "the vector table is the first byte at the application start, no boot2 before it");
  const emu = new Rp2040Emu();
  emu.program(0, readFileSync(join(root, "build/rp2040/qspiboot.bin")));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  host.reset();
  await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open().then((d) => d.flash(segments, { leave: true }));
  const appStart = i.flashBase + i.appStart;
  let handover = 0;
  const watch = () => {
    if (!handover && emu.pc >= appStart && emu.pc < i.flashBase + i.appEnd) handover = emu.mcu.clkSys;
    return emu.uart.includes("\n");
  };
  assert.ok(emu.runUntil(watch, 50_000_000), `it reports: ${JSON.stringify(emu.uart)} ${emu.log.slice(0, 5).join("; ")}`);
  const m = /zephyr-style rp2040: entry sp (\w+) vtor (\w+), vtor (\w+) data (\w+) bss (\d+) pll-kept (\d) clk_sys (\d+)/.exec(emu.uart);
  assert.ok(m, emu.uart);
  const [, entrySp, entryVtor, vtor, data, bss, kept] = m!;
  assert.is(parseInt(entrySp, 16), sym("z_main_stack") + 1024, "MSP from the vector table on entry");
  assert.is(parseInt(entryVtor, 16), appStart, "VTOR at the vector table on entry");
  assert.is(parseInt(vtor, 16), appStart, "relocate_vector_table keeps it there");
  assert.is(data, "1234abcd", ".data copied from flash");
  assert.is(bss, "0", ".bss cleared");
  // qspiboot hands over the clocks of a cold chip: the clock driver finds no PLL running and
  // starts both from the crystal, as without a bootloader.
  assert.is(handover, emu.mcu.roscFreq, "the application starts on the ROSC");
  assert.is(kept, "0", "pll_init found no PLL to keep and set both up");
  assert.is(emu.mcu.clkSys, 125_000_000, "clk_sys 125 MHz");
  assert.is(emu.mcu.clkPeri, 125_000_000, "clk_peri = clk_sys");
  assert.ok(Math.abs(emu.mcu.uart[0].baudRate - 115200) / 115200 < 0.01, `UART0 at ${emu.mcu.uart[0].baudRate} baud`);
  assert.equal(emu.log, [], "no access to unmodelled registers");
});

async function h750(segments: Segment[]) {
  const emu = new H750Emu({});
  emu.loadFirmware(readFileSync(join(root, "build/h750/qspiboot.bin")));
  const host = new H750UsbHost(emu);
  assert.ok(host.waitForDevice(100));
  assert.is(host.reset(), "ok");
  await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open().then((d) => d.flash(segments, { leave: true }));
  assert.ok(emu.runUntil(() => emu.uart.includes("\n"), 20_000_000), `it reports: ${JSON.stringify(emu.uart)}`);
  return { emu };
}

test.run();
