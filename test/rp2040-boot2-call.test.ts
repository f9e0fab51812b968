// What a pico-sdk application does after our jump to get XIP back after writing its flash
// (hardware_flash/flash.c: flash_range_program/erase copy the 256-byte boot2 at the start of flash,
// ours, into RAM and call it as a function, lr != 0): our boot2 must run from wherever it was
// copied and return, with XIP working again. Run on the built firmware in the RP2040 emulator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";

const BUILD = join(import.meta.dirname, "..", "build", "rp2040");

test("the application calls the boot2 copy in RAM (lr != 0): it returns and XIP reads the flash again", async () => {
  const emu = new Rp2040Emu();
  emu.program(0, readFileSync(join(BUILD, "qspiboot.bin")));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  host.reset();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  await dev.flash(loadImage(join(BUILD, "example.elf")).segments, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 20_000_000), "the application runs from XIP");

  // pico-sdk's flash_range_program: flash_exit_xip (ROM), the program (ROM), flash_flush_cache
  // (ROM), then the boot2 copy from a buffer on the stack, far from 0x20041F00.
  emu.romFlashExitXip();
  const copy = 0x20030000, back = 0x20030400;
  const mcu = emu.mcu;
  for (let i = 0; i < 256; i++) mcu.writeUint8(copy + i, emu.nor.data[i]);
  mcu.writeUint16(back, 0xe7fe); // b . : where the call returns to
  const core = mcu.core;
  core.SP = 0x2003f000;
  core.LR = back | 1;
  core.PC = copy; // pico-sdk calls boot2_copyout + 1 (Thumb): the first instruction of the copy
  const reads = emu.flash.xip.reads;
  assert.ok(emu.runUntil(() => core.PC === back, 2_000_000), `boot2 returned (pc 0x${core.PC.toString(16)})`);
  const word = emu.nor.data[0x10000] | (emu.nor.data[0x10001] << 8) | (emu.nor.data[0x10002] << 16) | (emu.nor.data[0x10003] << 24);
  assert.is(mcu.readUint32(0x10010000) >>> 0, word >>> 0, "XIP reads the application's vector table");
  assert.ok(emu.flash.xip.reads > reads, "through the XIP path");
});

test.run();
