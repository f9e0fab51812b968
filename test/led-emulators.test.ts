// The status LED of the real firmware on both emulated chips (the policy itself is tested in the
// Wasm simulator, test/led.test.ts): the pin the board's LED is on (WeAct H750: PE3; Pico:
// GPIO25) becomes an output and blinks in DFU mode, flickers during a download, and is left
// exactly as the chip's reset left it on the way to an application. Read from the register
// models (H750: GPIOE MODER/ODR) and rp2040js's GPIO and SIO state, in emulated time.
// Emulated time costs: the H750 runs ~10x and the RP2040 ~20x slower than real time here, so
// each test looks at well under a second of it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { resetOf as h750ResetOf, modelResetOf } from "../sim/h750/vendor";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { resetOf as rpResetOf, vendorReg } from "../sim/rp2040/vendor-regs";
import type { ControlHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";

const BUILD = join(import.meta.dirname, "..", "build");
const SLOT = 65536; // us: one slot of a pattern (boot/led.ts)
const TOL = 2000;   // us: the pin follows the pattern once per main-loop pass, plus the emulators' time steps

interface Edge { t: number; on: boolean }
/** A pin's history: when it first became an output, and every change of its level after. */
interface Led { outputAt: number; sinceReset: number; edges: Edge[] }

async function dfu(host: ControlHost & { waitForDevice(ms: number): boolean; reset(): string }) {
  assert.ok(host.waitForDevice(200), "the DFU device connects");
  assert.is(host.reset(), "ok");
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

const imageOf = (board: string) => loadImage(join(BUILD, board, "example.elf")).segments;
const entryOf = (seg: { data: Uint8Array }[]) => (new DataView(seg[0].data.buffer, seg[0].data.byteOffset).getUint32(4, true) & ~1) >>> 0;

// A level that lasted no time (the pin configured low, then set at once) is no blink.
function record(led: Led, t: number, on: boolean) {
  const e = led.edges;
  if (e.length && t - e[e.length - 1].t < 5) e.pop();
  if (!e.length || e[e.length - 1].on !== on) e.push({ t, on });
}

// ---- WeAct H750: PE3 (port E = GpioModel port 4) ----
const PE3 = 3;
const MODER = 0, OTYPER = 1, OSPEEDR = 2, PUPDR = 3, ODR = 5;

/** Sample PE3 after every chunk the emulator runs. Time: the firmware's clock, which starts at reset. */
function watchPe3(emu: H750Emu): Led {
  const led: Led = { outputAt: -1, sinceReset: -1, edges: [] };
  let resetAt = emu.nowUs, resets = emu.resets, last = -1;
  const step = emu.step.bind(emu);
  emu.step = (count?: number) => {
    step(count);
    if (emu.resets !== resets) { resets = emu.resets; resetAt = emu.nowUs; }
    const g = emu.m.gpio.regs[4];
    const t = emu.nowUs - resetAt;
    if (led.outputAt < 0 && ((g[MODER] >>> (2 * PE3)) & 3) === 1) led.outputAt = led.sinceReset = t;
    const on = (g[ODR] >>> PE3) & 1;
    if (led.outputAt >= 0 && on !== last) { record(led, t, on === 1); last = on; }
  };
  return led;
}

function h750(opts: { exactCount?: boolean } = {}) {
  const emu = new H750Emu(opts);
  emu.loadFirmware(readFileSync(join(BUILD, "h750", "qspiboot.bin")));
  return { emu, host: new H750UsbHost(emu) };
}

// ---- Pico: GPIO25 ----
const GP25 = 25;
const TIMERAWL = vendorReg("TIMER", "TIMERAWL").address;

/** Sample GPIO25 after every instruction. Time: the firmware's clock, TIMER (what time_us reads). */
function watchGp25(emu: Rp2040Emu): Led {
  const led: Led = { outputAt: -1, sinceReset: -1, edges: [] };
  let last = -1, resets = emu.resets.length, resetAt = emu.nowUs;
  const step = emu.step.bind(emu);
  emu.step = () => {
    if (emu.resets.length !== resets) { resets = emu.resets.length; resetAt = emu.nowUs; }
    step();
    const m = emu.mcu, pin = m.gpio[GP25];
    const driven = pin.functionSelect === 5 && ((m.sio.gpioOutputEnable >>> GP25) & 1) === 1;
    if (!driven && led.outputAt < 0) return;
    const t = m.readUint32(TIMERAWL) >>> 0;
    if (led.outputAt < 0) { led.outputAt = t; led.sinceReset = emu.nowUs - resetAt; }
    const on = (m.sio.gpioValue >>> GP25) & 1;
    if (on !== last) { record(led, t, on === 1); last = on; }
  };
  return led;
}

function pico() {
  const emu = new Rp2040Emu(); // blank flash: the ROM's USB boot until the bootloader is there
  emu.program(0, readFileSync(join(BUILD, "rp2040", "qspiboot.bin")));
  emu.powerOn();
  return { emu, host: new Rp2040UsbHost(emu) };
}

// ---- what is checked, the same for both chips ----
const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
const show = (e: Edge[]) => e.map((x) => `${x.on ? "on" : "off"}@${ms(x.t)}`).join(" ");

// Waiting (0x00FF): lit in slots 0-7 of each 16, so the pin is lit from its first drive to the
// end of slot 7 (time 8 slots mod 16) and goes dark there.
function assertWaiting(led: Led, until: number) {
  assert.ok(led.outputAt >= 0 && led.sinceReset < 100_000, `an output within 100 ms of reset (at ${ms(led.sinceReset)})`);
  const e = led.edges;
  assert.ok(e.length >= 2 && e[0].on && e[0].t - led.outputAt < 1000, `lit as soon as it is driven: ${show(e)}`);
  const off = e[1];
  assert.not.ok(off.on);
  const phase = off.t % (16 * SLOT);
  assert.ok(Math.abs(phase - 8 * SLOT) < TOL, `dark from the end of slot 7 (${ms(8 * SLOT)} into the round), at ${ms(phase)}: ${show(e)}`);
  assert.ok(e[0].t % (16 * SLOT) < 8 * SLOT, `lit in the first half of a round (${ms(e[0].t % (16 * SLOT))} into it)`);
  assert.ok(off.t - e[0].t < 8 * SLOT + TOL, `lit until that half ends (${ms(off.t - e[0].t)})`);
  assert.ok(e.slice(2).every((x) => x.t > off.t + 8 * SLOT - TOL), `then dark for half a second: ${show(e)}`);
  assert.ok(until - off.t > 50_000, "and watched dark for a while");
}

// Transferring (0x5555): a level per slot, so every change after the first comes one slot after
// the one before.
function assertFlicker(e: Edge[]) {
  assert.ok(e.length >= 3, `flickers: ${show(e)}`);
  for (let i = 2; i < e.length; i++) {
    const d = e[i].t - e[i - 1].t;
    assert.ok(Math.abs(d - SLOT) < TOL, `${ms(SLOT)} per level, got ${ms(d)}: ${show(e)}`);
  }
}

test("H750 in DFU mode (blank QSPI): PE3 becomes an output, lit at once, dark at the pattern's half second", () => {
  const { emu, host } = h750();
  const led = watchPe3(emu);
  assert.ok(host.waitForDevice(100));
  emu.runForUs(600_000 - emu.nowUs);
  assert.is((emu.m.gpio.regs[4][MODER] >>> (2 * PE3)) & 3, 1, "PE3 MODER: general-purpose output");
  assertWaiting(led, 600_000);
});

test("H750: the LED flickers while a download is being written", async () => {
  const { emu, host } = h750();
  const led = watchPe3(emu);
  const dev = await dfu(host);
  const from = led.edges.length;
  const started = emu.nowUs;
  await dev.flash(imageOf("h750"), { leave: false });
  // Flash work keeps the flicker on 250 ms after it (boot/led.ts WORK_HOLD_US): enough to see it.
  emu.runUntil(() => led.edges.length - from >= 3, 100_000_000);
  const during = led.edges.slice(from);
  assert.ok(emu.nowUs - started < 600_000, `short: ${ms(emu.nowUs - started)}`);
  assertFlicker(during);
});

test("H750 booting a valid image: PE3 exactly as after reset at the application's first instruction", async () => {
  const image = imageOf("h750");
  const { emu, host } = h750();
  await (await dfu(host)).flash(image, { leave: false });
  // The same flash in a chip that stops at an exact instruction (slow: only for the boot path).
  const { emu: boot } = h750({ exactCount: true });
  boot.nor.data.set(emu.nor.data);
  boot.powerOn();
  assert.ok(boot.countUntil(entryOf(image), 20_000_000) > 0, "the CPU reaches the application's reset handler");
  const g = boot.m.gpio.regs[4];
  const field = (v: number, bits: number) => (v >>> (bits * PE3)) & ((1 << bits) - 1);
  // ST's data (vendor-regs.json): GPIOE_MODER resets to analog mode on every pin (RM0433 11.4.1).
  assert.is(field(g[MODER], 2), field(h750ResetOf("GPIOE_MODER"), 2), "MODER3 as ST's reset value: analog");
  assert.is(field(g[MODER], 2), field(modelResetOf("GPIOE_MODER"), 2));
  assert.is(field(g[OTYPER], 1), field(h750ResetOf("GPIOE_OTYPER"), 1), "OTYPER3");
  assert.is(field(g[OSPEEDR], 2), field(modelResetOf("GPIOE_OSPEEDR"), 2), "OSPEEDR3");
  assert.is(field(g[PUPDR], 2), field(modelResetOf("GPIOE_PUPDR"), 2), "PUPDR3");
  assert.is(field(g[ODR], 1), field(h750ResetOf("GPIOE_ODR"), 1), "ODR3");
  assert.ok(boot.inApplication);
});

test("Pico in DFU mode (blank flash): GPIO25 becomes an SIO output, lit at once, dark at the pattern's half second", () => {
  const { emu, host } = pico();
  const led = watchGp25(emu);
  assert.ok(host.waitForDevice(200));
  const now = emu.mcu.readUint32(TIMERAWL) >>> 0; // the firmware's time
  const end = Math.floor(now / (16 * SLOT)) * 16 * SLOT + 8 * SLOT + 60_000; // past this round's half-second edge
  emu.runFor(end - now);
  const pin = emu.mcu.gpio[GP25];
  assert.is(pin.functionSelect, 5, "GPIO25_CTRL FUNCSEL: SIO");
  assert.ok(pin.outputEnable, "output enabled");
  assertWaiting(led, end);
});

test("Pico: the LED flickers while a download is being written", async () => {
  const { emu, host } = pico();
  const led = watchGp25(emu);
  const dev = await dfu(host);
  const from = led.edges.length;
  const started = emu.nowUs;
  await dev.flash(imageOf("rp2040"), { leave: false });
  emu.runUntil(() => led.edges.length - from >= 3, 40_000_000);
  assert.ok(emu.nowUs - started < 600_000, `short: ${ms(emu.nowUs - started)}`);
  assertFlicker(led.edges.slice(from));
});

test("Pico booting a valid image: GPIO25 exactly as after reset at the application's first instruction", async () => {
  const image = imageOf("rp2040");
  const { emu, host } = pico();
  await (await dfu(host)).flash(image, { leave: false });
  emu.powerOn();
  let touched = false;
  const step = emu.step.bind(emu);
  emu.step = () => { step(); if (emu.mcu.gpio[GP25].ctrl !== rpResetOf("IO_BANK0", "GPIO25_CTRL")) touched = true; };
  assert.ok(emu.runUntil(() => emu.pc === entryOf(image), 5_000_000), "the CPU reaches the application's reset handler");
  const m = emu.mcu;
  assert.not.ok(touched, "GPIO25_CTRL never changed on the way");
  assert.is(m.gpio[GP25].ctrl >>> 0, rpResetOf("IO_BANK0", "GPIO25_CTRL"), "GPIO25_CTRL as pico-sdk's reset value: FUNCSEL NULL");
  assert.is((m.sio.gpioOutputEnable >>> GP25) & 1, (rpResetOf("SIO", "GPIO_OE") >>> GP25) & 1, "SIO GPIO_OE bit 25 as at reset");
  assert.is((m.sio.gpioValue >>> GP25) & 1, (rpResetOf("SIO", "GPIO_OUT") >>> GP25) & 1, "SIO GPIO_OUT bit 25 as at reset");
});

test.run();
