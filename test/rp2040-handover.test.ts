// What qspiboot hands a Pico application: the clocks of a cold chip (design.md, "Hand-over to
// the application"), read at the application's first instruction on the emulated RP2040 and
// compared with pico-sdk's reset values (vendor-regs.json), not with constants of our own; and
// the emulator's oscillator models those readings rest on (sim/rp2040/oscillators.ts), checked
// against the datasheet's description with the firmware out of the way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { LockUp } from "../sim/rp2040/oscillators";
import { accessMask, resetOf, vendorReg, vendorField, fieldMask } from "../sim/rp2040/vendor-regs";
import { appEntry, picoFlashedOverDfu } from "./lib/pico";
import { loadImage } from "../tools/image/load";

const BUILD = join(import.meta.dirname, "..", "build", "rp2040");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const example = loadImage(join(BUILD, "example.elf")).segments;
const exampleUsb = loadImage(join(BUILD, "example-usb.elf")).segments;

async function flashed(segments: typeof example) {
  const { emu, host } = await picoFlashedOverDfu(firmware, segments);
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 20_000_000), "the CPU reaches the application's reset handler");
  return { emu, host };
}

const reg = (emu: Rp2040Emu, block: string, r: string) => emu.mcu.readUint32(vendorReg(block, r).address) >>> 0;

test("at the application's first instruction the clocks read as after a power-on reset: clk_sys on clk_ref on the ROSC, PLLs held in reset, crystal off", async () => {
  const { emu } = await flashed(example);
  const want: [string, string][] = [
    ["CLOCKS", "CLK_REF_CTRL"], ["CLOCKS", "CLK_REF_DIV"], ["CLOCKS", "CLK_SYS_CTRL"], ["CLOCKS", "CLK_SYS_DIV"],
    ["CLOCKS", "CLK_USB_CTRL"], ["CLOCKS", "CLK_USB_DIV"], ["CLOCKS", "CLK_PERI_CTRL"],
    ["XOSC", "CTRL"], ["XOSC", "STARTUP"], ["WATCHDOG", "TICK"],
    ["PLL_SYS", "CS"], ["PLL_SYS", "PWR"], ["PLL_SYS", "FBDIV_INT"], ["PLL_SYS", "PRIM"],
    ["PLL_USB", "CS"], ["PLL_USB", "PWR"], ["PLL_USB", "FBDIV_INT"], ["PLL_USB", "PRIM"],
  ];
  // The fields software sets (RW); status bits are checked below. rp2040js keeps no CLK_REF_DIV
  // (sim/rp2040/deviations.ts), so that one cannot be read back.
  const kept = want.filter(([b, r]) => !(b === "CLOCKS" && r === "CLK_REF_DIV"));
  const rw = (b: string, r: string) => accessMask(vendorReg(b, r), "RW");
  const got = kept.map(([b, r]) => `${b}.${r} 0x${((reg(emu, b, r) & rw(b, r)) >>> 0).toString(16)}`);
  const reset = kept.map(([b, r]) => `${b}.${r} 0x${((resetOf(b, r) & rw(b, r)) >>> 0).toString(16)}`);
  assert.equal(got, reset);
  assert.is(reg(emu, "CLOCKS", "CLK_SYS_SELECTED"), 1, "clk_sys glitchless mux on clk_ref");
  assert.is(reg(emu, "CLOCKS", "CLK_REF_SELECTED"), 1, "clk_ref glitchless mux on the ROSC");
  const xoscStatus = reg(emu, "XOSC", "STATUS");
  assert.is(xoscStatus & (fieldMask(vendorField("XOSC", "STATUS", "STABLE")) | fieldMask(vendorField("XOSC", "STATUS", "ENABLED"))), 0, "the crystal is stopped");
  const held = reg(emu, "RESETS", "RESET");
  for (const pll of ["PLL_SYS", "PLL_USB"]) assert.ok(held & fieldMask(vendorField("RESETS", "RESET", pll)), `${pll} held in reset, as from power-on`);
  assert.is(emu.oscillators.roscDivisor, 16, "the ROSC back at its power-up divisor");
  assert.is(emu.mcu.clkSys, 6.5e6, "the core runs on the ROSC's power-up rate");
});

test("the boot path waits for no crystal: from the watchdog reset that left DFU mode to the application, the XOSC is never started", async () => {
  const { emu } = await flashed(example);
  assert.equal(emu.resets.slice(-1), ["watchdog"], "the chip went through a reset after DFU mode");
  assert.is(emu.oscillators.xoscStarts, 0, "no XOSC start on the boot path");
  emu.powerOn();
  const entry = appEntry(emu);
  assert.ok(emu.runUntil(() => emu.pc === entry, 20_000_000));
  assert.is(emu.oscillators.xoscStarts, 0, "and none after a power-on either");
});

test("an application that starts the crystal itself talks at 115200 baud; the USB example, which also starts PLL_USB, enumerates", async () => {
  const { emu } = await flashed(example);
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 20_000_000), JSON.stringify(emu.uart));
  assert.match(emu.uart, /^qspiboot example: hello from the Pico/, "every byte at the terminal's rate");
  const usb = await flashed(exampleUsb);
  assert.ok(usb.host.waitForDevice(500), "the USB example's device appears: clk_usb 48 MHz from its own PLL_USB");
  assert.is(usb.emu.oscillators.clkUsbHz(), 48e6);
});

// ---- the models, with no firmware running (the chip sits in the ROM's USB boot: blank flash) ----
function bareChip() {
  const emu = new Rp2040Emu();
  emu.powerOn();
  emu.resetsBlock.release("PLL_SYS", "PLL_USB");
  return emu;
}
const XOSC = vendorReg("XOSC", "CTRL").address, STATUS = XOSC + 4, STARTUP = XOSC + 0xc;
const STABLE = 1 << 31;

test("XOSC model: STABLE rises STARTUP.DELAY x 256 crystal cycles after ENABLE (x4 with X4), falls on DISABLE; nothing runs from it before", () => {
  const emu = bareChip();
  const m = emu.mcu;
  const ns = () => emu.clock.nanos;
  const waitStable = () => { const t0 = ns(); while (!(m.readUint32(STATUS) & STABLE)) emu.clock.tick(1000); return ns() - t0; };
  m.writeUint32(STARTUP, 47);                       // pico-sdk's ~1 ms: (12 MHz + 128) / 256
  assert.is(m.xoscFreq, 0, "no crystal clock before it is enabled");
  m.writeUint32(XOSC, 0xaa0 | (0xfab << 12));
  assert.is(m.xoscFreq, 0, "gated until stable");
  const t = waitStable();
  assert.ok(Math.abs(t - (47 * 256 / 12e6) * 1e9) <= 1000, `stable after ${t} ns`);
  assert.is(m.xoscFreq, 12e6);
  m.writeUint32(XOSC, 0xaa0 | (0xd1e << 12));
  assert.is(m.readUint32(STATUS) & STABLE, 0, "DISABLE: STABLE falls");
  m.writeUint32(STARTUP, 47 | (1 << 20));
  m.writeUint32(XOSC, 0xaa0 | (0xfab << 12));
  const t4 = waitStable();
  assert.ok(Math.abs(t4 - (4 * 47 * 256 / 12e6) * 1e9) <= 1000, `X4: stable after ${t4} ns`);
});

test("XOSC model: disabling the crystal while clk_sys runs from it is the chip locking up, not a silent carry-on", () => {
  const emu = bareChip();
  const m = emu.mcu;
  m.writeUint32(STARTUP, 1);
  m.writeUint32(XOSC, 0xaa0 | (0xfab << 12));
  emu.clock.tick(100_000);
  m.writeUint32(vendorReg("CLOCKS", "CLK_REF_CTRL").address, 2); // clk_ref from the XOSC
  assert.is(m.clkSys, 12e6);
  assert.throws(() => m.writeUint32(XOSC, 0xaa0 | (0xd1e << 12)), (e: unknown) => e instanceof LockUp);
});

test("PLL model: held in reset its registers read their reset values and it gives no clock; LOCK only with the VCO powered", () => {
  const emu = bareChip();
  const m = emu.mcu, base = vendorReg("PLL_SYS", "CS").address;
  m.writeUint32(STARTUP, 1);
  m.writeUint32(XOSC, 0xaa0 | (0xfab << 12));
  emu.clock.tick(100_000);
  const lock = fieldMask(vendorField("PLL_SYS", "CS", "LOCK"));
  assert.is(m.readUint32(base) & lock, 0, "powered down: not locked");
  m.writeUint32(base + 8, 125);
  m.writeUint32(base + 0xc, (6 << 16) | (2 << 12));
  m.writeUint32(base + 4, 1 << 3);                   // PD, VCOPD off; post-dividers still off
  assert.ok(m.readUint32(base) & lock, "locked with the VCO powered");
  assert.is(m.pllSys.frequency, 0, "no output with the post-dividers powered down");
  m.writeUint32(base + 4, 0);
  assert.is(m.pllSys.frequency, 125e6);
  m.writeUint32(vendorReg("RESETS", "RESET").address + 0x2000, fieldMask(vendorField("RESETS", "RESET", "PLL_SYS")));
  const regs = ["CS", "PWR", "FBDIV_INT", "PRIM"];
  assert.equal(regs.map((r) => m.readUint32(vendorReg("PLL_SYS", r).address) >>> 0), regs.map((r) => resetOf("PLL_SYS", r)), "reads in reset give the reset values");
  assert.is(m.pllSys.frequency, 0);
  assert.throws(() => m.writeUint32(base + 8, 100), /held in reset/, "writes in reset are refused");
});

test("UART model: a terminal at 115200 sees garbage from a UART clocked 10x too fast, nothing from one whose clk_peri is stopped", () => {
  const emu = bareChip();
  const m = emu.mcu;
  emu.resetsBlock.release("UART0");
  const U = 0x40034000, PERI = vendorReg("CLOCKS", "CLK_PERI_CTRL").address;
  m.writeUint32(U + 0x24, 6); m.writeUint32(U + 0x28, 33);   // 115200 at 12 MHz
  m.writeUint32(U + 0x2c, 3 << 5); m.writeUint32(U + 0x30, 0x301);
  m.writeUint32(U, 0x41);
  assert.is(emu.uart, "", "clk_peri stopped (reset): nothing sent");
  m.writeUint32(STARTUP, 1);
  m.writeUint32(XOSC, 0xaa0 | (0xfab << 12));
  emu.clock.tick(100_000);
  m.writeUint32(PERI, (1 << 11) | (4 << 5));                 // from the XOSC: 12 MHz
  m.writeUint32(U, 0x42);
  m.writeUint32(vendorReg("CLOCKS", "CLK_SYS_CTRL").address, 0); // (clk_sys on clk_ref, ROSC)
  m.writeUint32(PERI, (1 << 11) | (0 << 5));                 // from clk_sys: the ROSC's 6.5 MHz
  m.writeUint32(U, 0x43);
  assert.is(emu.uart, "B\ufffd");
});

test.run();
