// The recipes for the tools people use (link/recipes/), each checked by linking something with
// it and running the result under qspiboot. STM32CubeMX/CubeIDE: the linker script with CubeMX's
// section and symbol names, a start-up file and SystemInit with CubeMX's contract, newlib's init
// arrays; flashed over DFU into the H750 firmware in the emulator, it starts and reports.
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

const dir = mkdtempSync(join(tmpdir(), "qspiboot-recipes-"));

test("STM32CubeMX/CubeIDE: an application linked with link/recipes/cubemx-stm32h750-qspi.ld boots under qspiboot", async () => {
  const app = join(root, "test/apps/cubemx-h750");
  const elf = join(dir, "cubemx.elf");
  const cc = spawnSync("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=soft", "-Os", "--specs=nano.specs", "--specs=nosys.specs",
    "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-T", join(root, "link/recipes/cubemx-stm32h750-qspi.ld"),
    join(app, "startup.S"), join(app, "system.c"), join(app, "main.c"), "-o", elf], { encoding: "utf8" });
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
  assert.match(emu.uart, /cubemx-style: vtor 90000000 data 1234abcd bss 0 ctor 42/,
    "VTOR from USER_VECT_TAB_ADDRESS, .data copied from QSPI, .bss cleared, constructors run");
});

test.run();
