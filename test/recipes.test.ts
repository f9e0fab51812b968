// The recipes for the tools people use (link/recipes/), each checked by linking something with
// it and running the result under qspiboot. STM32CubeMX/CubeIDE: the linker script with CubeMX's
// section and symbol names, a start-up file and SystemInit with CubeMX's contract, newlib's init
// arrays; flashed over DFU into the H750 firmware in the emulator, it starts and reports.
// pico-sdk: link/recipes/pico-sdk-qspiboot.ld with a stand-in for crt0 and runtime_init (resets,
// clocks_init moving clk_sys off PLL_SYS before touching the PLLs), in the RP2040 firmware.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { loadImage } from "../tools/image/load";
import { whyNotBootable } from "../tools/image/bootable";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-recipes-"));

test("STM32CubeMX/CubeIDE: an application linked with link/recipes/cubemx-stm32h750-qspi.ld boots under qspiboot", async () => {
  const app = join(root, "test/apps/cubemx-h750");
  const elf = join(dir, "cubemx.elf");
  const cc = spawnSync("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=soft", "-Os", "--specs=nano.specs", "--specs=nosys.specs",
    "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-T", join(root, "link/recipes/cubemx-stm32h750-qspi.ld"),
    join(app, "startup.S"), join(app, "system.c"), join(app, "clock.c"), join(app, "main.c"), "-o", elf], { encoding: "utf8" });
  assert.is(cc.status, 0, cc.stderr);
  const { segments } = loadImage(elf);
  assert.is(segments[0].address, 0x90000000, "the vector table at the start of QSPI");
  assert.ok(segments.every((s) => s.address >= 0x90000000 && s.address + s.data.length <= 0x907ff000), "everything loadable in the application region");
  assert.is(whyNotBootable(segments, { flashBase: 0x90000000, appStart: 0x90000000, appEnd: 0x907ff000, ramStart: 0x20000000, ramEnd: 0x24080000, boardId: 1 }), null);

  const emu = new H750Emu({});
  emu.loadFirmware(readFileSync(join(root, "build/h750/qspiboot.bin")));
  const host = new H750UsbHost(emu);
  assert.ok(host.waitForDevice(100));
  assert.is(host.reset(), "ok");
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  await dev.flash(segments, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("\n"), 20_000_000), `it reports: ${JSON.stringify(emu.uart)}`);
  assert.match(emu.uart, /cubemx-style: vtor 90000000 data 1234abcd bss 0 ctor 42 clock 0 /,
    "VTOR from USER_VECT_TAB_ADDRESS, .data copied from QSPI, .bss cleared, constructors run, SystemClock_Config returned HAL_OK");
  // SystemClock_Config after our hand-over (HSI, PLLs off, supply unwritten): 480 MHz at VOS0.
  const { rcc, pwr, usart, acr } = emu.m;
  assert.is(rcc.sysclk(), 480_000_000, "SYSCLK 480 MHz from PLL1");
  assert.is(rcc.hclk(), 240_000_000, "HCLK 240 MHz");
  assert.is(pwr.scale, 0, "VOS0 (scale 1 and the SYSCFG overdrive)");
  assert.equal(rcc.violations, [], "never faster than the voltage scale allowed");
  assert.is(acr.acr & 0xf, 4, "flash latency 4");
  const baud = rcc.usart1KernelHz() / usart.brr;
  assert.ok(Math.abs(baud - 115200) / 115200 < 0.01, `USART1 at ${Math.round(baud)} baud`);
  const sck = rcc.qspiKernelHz() / (((emu.m.qspi.cr >>> 24) & 0xff) + 1);
  assert.is(sck, 120_000_000, "QUADSPI SCK as qspiboot left it (HCLK3, PRESCALER 1): 120 MHz, within the W25Q64JV's 133 MHz");
});

function armGcc(cpu: string, script: string, files: string[], out: string, gcSections = true) {
  const cc = spawnSync("arm-none-eabi-gcc", [`-mcpu=${cpu}`, "-mthumb", "-Os", "-ffunction-sections", "-fdata-sections",
    "--specs=nano.specs", "--specs=nosys.specs", "-Wall", "-Wextra", "-Werror",
    ...(gcSections ? ["-Wl,--gc-sections"] : []), "-Wl,--no-warn-rwx-segments", "-Wl,-z,max-page-size=4096", "-T", script, ...files, "-o", out], { encoding: "utf8" });
  assert.is(cc.status, 0, cc.stderr);
}

test("pico-sdk: an application linked with link/recipes/pico-sdk-qspiboot.ld boots under qspiboot and its runtime_init starts the clocks from a cold chip's", async () => {
  const app = join(root, "test/apps/pico-sdk-rp2040");
  const script = join(root, "link/recipes/pico-sdk-qspiboot.ld");
  const elf = join(dir, "pico-sdk.elf");
  const sources = ["boot2.S", "crt0.S", "runtime.c", "main.c"].map((f) => join(app, f));
  armGcc("cortex-m0plus", script, sources, elf);
  // With PICO_NO_GC_SECTIONS the SDK's boot2 is not collected as garbage: the script drops it.
  const boot2 = (segs: { data: Uint8Array }[]) => segs.some((s) => s.data.some((b, k) => b === 0xb2 && s.data.subarray(k, k + 256).every((x) => x === 0xb2)));
  armGcc("cortex-m0plus", script, sources, join(dir, "pico-sdk-nogc.elf"), false);
  assert.not.ok(boot2(loadImage(join(dir, "pico-sdk-nogc.elf")).segments), "no boot2 in the image without --gc-sections either");
  // pico_set_linker_script (pico_standard_link/CMakeLists.txt) looks for these two strings and
  // otherwise builds crt0 with PICO_CRT0_ALLOCATE_SPACERS=0, with a warning.
  const text = readFileSync(script, "utf8");
  assert.ok(text.includes("KEEP(*(.stack*))") && text.includes("KEEP(*(.heap*))"), "the script KEEPs .stack and .heap as the SDK checks");

  // pico-sdk reads USBCTRL's SIE_CTRL while USBCTRL is still held in reset (every cold boot).
  const emu = new Rp2040Emu({ ungatedResets: ["USBCTRL"] });
  emu.program(0, readFileSync(join(root, "build/rp2040/qspiboot.bin")));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  host.reset();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  const { segments } = loadImage(elf);
  const i = dev.info!;
  const appStart = i.flashBase + i.appStart;
  assert.is(Math.min(...segments.map((s) => s.address)), appStart, "the image starts at the board's application start, no boot2 before it");
  assert.ok(segments.every((s) => s.address + s.data.length <= i.flashBase + i.appEnd), "everything loadable in the application region");
  assert.not.ok(boot2(segments), "the SDK's boot2 is not in the image");
  assert.is(whyNotBootable(segments, { flashBase: i.flashBase, appStart, appEnd: i.flashBase + i.appEnd, ramStart: i.ramStart, ramEnd: i.ramEnd, boardId: i.boardId }), null,
    "the flasher's plausibility check accepts it");
  await dev.flash(segments, { leave: true });

  // clk_sys as the emulator sees it from the jump into the application on.
  const clkSys: number[] = [];
  let started = false;
  const watch = () => {
    if (!started && emu.pc >= appStart && emu.pc < i.flashBase + i.appEnd) {
      started = true;
      clkSys.push(emu.mcu.clkSys);
      emu.mcu.addClockListener((hz: number) => clkSys.push(hz));
    }
    return emu.uart.includes("\n");
  };
  assert.ok(emu.runUntil(watch, 50_000_000), `it reports: ${JSON.stringify(emu.uart)} ${emu.log.slice(0, 5).join("; ")}`);
  const m = /pico-sdk-style: entry sp (\w+) vtor (\w+), vtor (\w+) vec (\w+) (\w+) data (\w+) bss (\d+) scratch (\w+) (\w+) ctor (\d+) pll-kept (\d+) fbdiv (\d+) clk_sys (\d+)/.exec(emu.uart);
  assert.ok(m, emu.uart);
  const elfWord = (a: number) => { const s = segments.find((x) => a >= x.address && a + 4 <= x.address + x.data.length)!; return new DataView(s.data.buffer, s.data.byteOffset).getUint32(a - s.address, true); };
  const [, entrySp, entryVtor, vtor, sp, reset, data, bss, sx, sy, ctor, kept] = m!;
  // crt0's _reset_handler sets neither: on a flash build the boot2 has, here qspiboot's jump.
  assert.is(parseInt(entryVtor, 16), appStart, "VTOR at the application's vector table on entry");
  assert.is(parseInt(entrySp, 16), elfWord(appStart), "SP loaded from the vector table on entry");
  assert.is(vtor, "20000000", "runtime_init moved VTOR to the RAM vector table");
  assert.is(parseInt(sp, 16), elfWord(appStart), "copied from __vectors at the image start: initial SP");
  assert.is(parseInt(reset, 16), elfWord(appStart + 4), "and _reset_handler");
  assert.is(data, "1234abcd", ".data copied from flash");
  assert.is(bss, "0", ".bss cleared");
  assert.is([sx, sy].join(" "), "05c7a7c4 05c7a7c5", ".scratch_x and .scratch_y copied");
  assert.is(ctor, "42", "constructors run after the preinit steps");
  // qspiboot hands over the clocks of a cold chip (clk_sys on clk_ref on the ROSC, the PLLs held
  // in reset, the crystal off): pll_init finds neither PLL running and starts both, as on a
  // chip without a bootloader.
  assert.is(clkSys[0], emu.mcu.roscFreq, `the application starts on the ROSC: ${clkSys.join(", ")}`);
  assert.is(kept, "0", "pll_init found no PLL to keep and set both up");
  assert.is(emu.mcu.clkSys, 125_000_000, "clk_sys 125 MHz after runtime_init");
  assert.is(emu.mcu.clkPeri, 125_000_000, "clk_peri = clk_sys");
  // XIP keeps the SSI divider qspiboot's boot2 set (BAUDR 2): SCK follows clk_sys.
  const sck = emu.mcu.clkSys / (emu.flash.baudr & 0xfffe);
  assert.is(sck, 62_500_000, "XIP SCK = clk_sys / 2 after runtime_init");
  assert.ok(sck <= 133e6, "within the W25Q16JV's 133 MHz (it would be up to clk_sys 266 MHz, twice the RP2040's rated 133)");
  assert.ok(Math.abs(emu.mcu.uart[0].baudRate - 115200) / 115200 < 0.01, `UART0 at ${emu.mcu.uart[0].baudRate} baud`);
  assert.equal(emu.log, [], "no access to unmodelled registers");

  // And from a cold start: power off and on, qspiboot boots it straight away.
  emu.uart = "";
  emu.powerOn();
  assert.ok(emu.runUntil(() => emu.uart.includes("\n"), 50_000_000), `after a power cycle: ${JSON.stringify(emu.uart)}`);
  assert.match(emu.uart, new RegExp(`entry sp ${entrySp} vtor ${entryVtor}, vtor 20000000 .* data 1234abcd bss 0 .* ctor 42 .* clk_sys 125000000`));
  assert.is(emu.mcu.clkSys, 125_000_000);
  assert.equal(emu.log, []);
});

test.run();
