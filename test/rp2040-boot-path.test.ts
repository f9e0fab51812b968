// The RP2040's boot path as built: the reset stub loads only the boot path's code (and the data)
// into SRAM, the core decides on reads through the XIP window boot2 set up, and DFU mode's code
// is loaded only when the bootloader stays (hal/rp2040/startup.c, tools/build/boot-set.ts). The
// emulator powers SRAM up holding a pseudo-random pattern, so a jump into code not loaded fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { loadImage } from "../tools/image/load";
import { checkBootSet } from "../tools/build/boot-set";
import { usedSlots, SLOT } from "./lib/record";
import { appEntry, dfuOn, picoFlashedOverDfu } from "./lib/pico";

const BUILD = join(import.meta.dirname, "..", "build", "rp2040");
const ELF = join(BUILD, "qspiboot.elf");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const example = loadImage(join(BUILD, "example.elf")).segments;
const RECORD = 0xf000;

function symbol(name: string): number {
  const m = new RegExp(`^([0-9a-f]+) \\w ${name}$`, "m").exec(execFileSync("arm-none-eabi-nm", [ELF], { encoding: "utf8" }));
  if (!m) throw new Error(`no ${name} in ${ELF}`);
  return parseInt(m[1], 16);
}
const RESET_HANDLER = symbol("Reset_Handler") & ~1;
const TEXT = symbol("__text_start"), REST = symbol("__rest_start"), REST_END = symbol("__rest_end");

/** A Pico with the example application downloaded over DFU and recorded. */
const picoWithApp = async () => (await picoFlashedOverDfu(firmware, example)).emu;

/** Run from power-on until `done`, noting where in SRAM the CPU ran and every flash command
 *  (a transaction that is not a continuous-read access) from the reset handler on (boot2's own
 *  status read and first EBh read come before it). */
function watchBoot(emu: Rp2040Emu, done: () => boolean, maxCycles: number) {
  const commands: number[] = [];
  const nor = emu.nor as unknown as { continuous: boolean; transaction(t: { instr: number }): void };
  const transaction = nor.transaction.bind(nor);
  let entered = false;
  nor.transaction = (t) => { if (entered && !nor.continuous) commands.push(t.instr); transaction(t); };
  let lo = Infinity, hi = -Infinity;
  const ok = emu.runUntil(() => {
    const pc = emu.pc;
    if (pc === RESET_HANDLER) entered = true;
    if (pc >= 0x20000000 && pc < 0x20040000) { lo = Math.min(lo, pc); hi = Math.max(hi, pc); }
    return done();
  }, maxCycles);
  nor.transaction = transaction;
  return { ok, commands, lo, hi };
}

test("a recorded application boots from power-on with only the first load: no code past __rest_start runs, no flash command is sent", async () => {
  const emu = await picoWithApp();
  emu.powerOn(); // SRAM back to its power-up pattern: DFU mode's code is not there
  const w = watchBoot(emu, () => emu.pc === appEntry(emu), 5_000_000);
  assert.ok(w.ok, "the application's reset handler is reached");
  assert.ok(w.lo >= TEXT && w.hi < REST, `the CPU ran only in [0x${TEXT.toString(16)}, 0x${REST.toString(16)}): saw 0x${w.lo.toString(16)}-0x${w.hi.toString(16)}`);
  assert.equal(w.commands, [], "the chip stayed in boot2's continuous-read mode: the decision read through XIP only");
  assert.ok(emu.runUntil(() => emu.uart.includes("hello"), 5_000_000), "and the application runs");
});

test("anything else loads DFU mode's code first: a torn record stays in DFU mode, running code past __rest_start", async () => {
  const emu = await picoWithApp();
  const slot = RECORD + (usedSlots(emu.nor.data, RECORD) - 1) * SLOT;
  emu.nor.data[slot + 24] ^= 1; // the current record's checksum
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  const w = watchBoot(emu, () => host.present(), 5_000_000);
  assert.ok(w.ok, "the DFU device comes up");
  assert.ok(w.hi >= REST && w.hi < REST_END, "DFU mode runs from the second load");
  assert.ok(w.commands.length > 0, "and identified the chip with commands");
  host.reset();
  const dev = await dfuOn(host);
  assert.is(dev.info!.bootReason, "update interrupted");
  assert.is(dev.info!.jedecId, 0x1540ef);
});

test("the application's request for DFU mode (the flag word, a watchdog reset) passes the mapped decision to the full one", async () => {
  const emu = await picoWithApp();
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000));
  emu.mcu.uart[0].feedByte("b".charCodeAt(0)); // the example asks for DFU mode
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500), "DFU mode");
  host.reset();
  const dev = await dfuOn(host);
  assert.is(dev.info!.bootReason, "application asked");
});

test("an image put there by other means (no record): the full decision asks the mapped pass through the flag and one reset, and the application gets the flag word cleared", () => {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  for (const seg of example) emu.program(seg.address - 0x10000000, seg.data); // as picotool would
  emu.powerOn();
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "the application's reset handler is reached");
  assert.equal(emu.resets.slice(-2), ["power", "watchdog"], "one watchdog reset between the full decision and the mapped pass");
  assert.is(emu.mcu.readUint32(0x4005800c), 0, "WATCHDOG SCRATCH0 (the flag) is clear for the application");
});

test("the build's check refuses an image whose boot path reaches code of the second load", () => {
  // The first of the two links places no function in the first load: the check must find the
  // boot path's functions outside it.
  const first = join(BUILD, "boot-set", "first.elf");
  assert.ok(existsSync(first), "the build leaves its first link's image");
  assert.throws(() => checkBootSet(first!), /boot path reaches code that is loaded only for DFU mode: .*main/);
  const ok = checkBootSet(ELF);
  assert.ok(ok.bootBytes > 0 && ok.restBytes > 0);
});

test.run();
