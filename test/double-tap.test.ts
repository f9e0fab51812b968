// The double tap of RUN on the Pico (build option --double-tap[=MS], off by default), on the
// real firmware in the RP2040 emulator with its model of a RUN-pin reset (sim/rp2040/emulator.ts
// runReset: the watchdog scratch registers are cleared, SRAM is kept). A second press of RUN
// within the window after a reset puts qspiboot in DFU mode, reported as "double reset"; one
// press boots the application after the window; a power cycle forgets a press.
// The behaviour is checked on a 100 ms build (the emulator runs ~20x slower than the chip), the
// default 500 ms window's cost once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";
import { buildBoard, buildWithOption, DOUBLE_TAP_DEFAULT_MS } from "../tools/build";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";

const example = loadImage(join(import.meta.dirname, "..", "build", "rp2040", "example.elf")).segments;
const ENTRY = (new DataView(example[0].data.buffer, example[0].data.byteOffset).getUint32(4, true) & ~1) >>> 0;
const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;

let flashed: Uint8Array | null = null; // the flash after the example's download, bootloader aside

/** A Pico with `bin` as its bootloader and the example application (flashed over DFU once,
 *  then copied) running. */
async function picoWithApp(bin: string) {
  const emu = new Rp2040Emu();
  const host = new Rp2040UsbHost(emu);
  if (!flashed) {
    emu.program(0, readFileSync(bin));
    emu.powerOn();
    assert.ok(host.waitForDevice(200), "blank: DFU mode");
    host.reset();
    const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (t) => host.sleep(t) }).open();
    await dev.flash(example, { leave: true });
    flashed = emu.nor.data.slice();
  }
  emu.program(0, flashed);
  emu.program(0, readFileSync(bin));
  emu.powerOn();
  assert.ok(emu.runUntil(() => emu.pc === ENTRY, 100_000_000), "the application starts");
  return { emu, host };
}

/** Time from now to the application's first instruction (-1: it does not start within `maxUs`). */
function bootsIn(emu: Rp2040Emu, maxUs = 1_000_000): number {
  const t0 = emu.nowUs;
  const cycles = Math.ceil(maxUs * 125); // clk_sys 125 MHz from the first instructions (hal/rp2040/startup.c)
  return emu.runUntil(() => emu.pc === ENTRY, cycles) ? emu.nowUs - t0 : -1;
}

async function reasonOf(host: Rp2040UsbHost) {
  assert.ok(host.waitForDevice(300), "the DFU device connects");
  host.reset();
  return (await new DfuDevice(new SimUsbDevice(host), { sleep: async (t) => host.sleep(t) }).open()).info!.bootReason;
}

const WINDOW = 100;
const fast = await buildWithOption("rp2040", WINDOW, { quiet: true });

test("RUN pressed twice within the window: qspiboot stays in DFU mode and says \"double reset\"", async () => {
  const { emu, host } = await picoWithApp(fast.bin);
  emu.runReset();
  emu.runFor(30_000); // 30 ms into the window
  emu.runReset();
  assert.is(await reasonOf(host), "double reset");
  assert.not.ok(emu.runUntil(() => emu.pc === ENTRY, 20_000_000), "the application does not run");
  emu.runReset();
  assert.ok(bootsIn(emu) > 0, "used up: the next single press boots the application");
});

test("RUN pressed once: the application starts after the window; pressed again later: the same", async () => {
  const { emu } = await picoWithApp(fast.bin);
  emu.runReset();
  const t = bootsIn(emu);
  assert.ok(t >= WINDOW * 1000 && t < WINDOW * 1000 + 20_000, `after the ${WINDOW} ms window: ${ms(t)}`);
  emu.runFor(20_000); // the application runs a while
  emu.runReset();
  assert.ok(bootsIn(emu) > 0, "the second press is a single press: the window had ended, its token cleared");
});

test("a power cycle forgets a press: no DFU mode after power comes back", async () => {
  const { emu } = await picoWithApp(fast.bin);
  emu.runReset();
  emu.runFor(30_000); // inside the window: the token is set
  emu.powerOn();
  assert.ok(bootsIn(emu) > 0, "the application starts");
});

test("the default build has no window: a double tap of RUN starts the application at once", async () => {
  const { emu } = await picoWithApp((await buildBoard("rp2040", { quiet: true })).bin);
  emu.runReset();
  emu.runFor(30_000);
  emu.runReset();
  const t = bootsIn(emu);
  assert.ok(t > 0 && t < 20_000, `started in ${ms(t)}`);
});

test(`--double-tap (${DOUBLE_TAP_DEFAULT_MS} ms): a single press costs the window in boot time, a little flash`, async () => {
  const def = await buildBoard("rp2040", { quiet: true });
  const opt = await buildWithOption("rp2040", DOUBLE_TAP_DEFAULT_MS, { quiet: true });
  // The crystal's start-up code runs on the boot path and again from DFU mode, two functions
  // since the RP2040's split load: it is inlined into both (132 B; noinline cost more overall).
  assert.ok(opt.optionCost!.flash < 160, `the option's own cost: ${opt.optionCost!.flash} bytes of flash`);
  const { emu: a } = await picoWithApp(def.bin);
  a.runReset();
  const without = bootsIn(a);
  const { emu: b, host: hb } = await picoWithApp(opt.bin);
  b.runReset();
  const withTap = bootsIn(b);
  const cost = withTap - without;
  // The window is timed on the crystal (a ROSC-timed window would vary sixfold between chips), so a
  // double-tap build also waits for the XOSC start-up the HAL programs: 282 x 256 cycles of 12 MHz.
  const xoscUs = (282 * 256) / 12;
  assert.ok(cost >= DOUBLE_TAP_DEFAULT_MS * 1000 && cost < DOUBLE_TAP_DEFAULT_MS * 1000 + xoscUs + 2000,
    `boot ${ms(without)} -> ${ms(withTap)}: +${ms(cost)} (window + crystal start-up ${ms(xoscUs)} expected)`);
  // And the default window really is that long: a second press 400 ms after the first counts.
  b.runReset();
  b.runFor(400_000);
  b.runReset();
  assert.is(await reasonOf(hb), "double reset", "pressed again 400 ms into the window");
  console.log(`  double tap ${DOUBLE_TAP_DEFAULT_MS} ms: boot ${ms(without)} -> ${ms(withTap)}, +${opt.optionCost!.flash} B flash, +${opt.optionCost!.ram} B RAM`);
});

// The WeAct H750's NRST button: a system reset (RM0433 8.4), which leaves the backup domain and
// so backup SRAM, where the H750 HAL keeps every flag, alone; the emulator's reset() is that.
test("WeAct H750 (--double-tap): NRST twice within the window stays in DFU mode, once boots after the window", async () => {
  const h750 = await buildWithOption("h750", WINDOW, { quiet: true });
  assert.ok(h750.optionCost!.flash < 64, `the option's own cost: ${h750.optionCost!.flash} bytes of flash`);
  const img = loadImage(join(import.meta.dirname, "..", "build", "h750", "example.elf")).segments;
  const emu = new H750Emu();
  emu.loadFirmware(readFileSync(h750.bin));
  const host = new H750UsbHost(emu);
  const open = async () => {
    assert.ok(host.waitForDevice(300), "the DFU device connects");
    assert.is(host.reset(), "ok");
    return new DfuDevice(new SimUsbDevice(host), { sleep: async (t) => host.sleep(t) }).open();
  };
  await (await open()).flash(img, { leave: true });
  assert.ok(emu.runUntil(() => emu.inApplication, 50_000_000), "the application starts");
  emu.reset();
  const t0 = emu.nowUs;
  assert.ok(emu.runUntil(() => emu.inApplication, 50_000_000));
  assert.ok(emu.nowUs - t0 >= WINDOW * 1000, `one press: the application after the window (${ms(emu.nowUs - t0)})`);
  emu.reset();
  emu.runForUs(30_000);
  emu.reset();
  assert.is((await open()).info!.bootReason, "double reset");
});

test.run();
