// The application owns all of its flash: on the RP2040 everything from 0x10010000 to the end of
// the chip (the update record lives in the bootloader's own 64 KiB), on the H750 everything but
// the chip's last sector. What an application does there between two resets (settings in the
// last sector, a file system, any sector outside its image) never stops it from booting.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";
import { crc32 } from "../tools/dfu/crc32";
import { DfuRequests, ST, randomBytes } from "./lib/dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./lib/images";
import { makeRecord, readRecord } from "./lib/record";
import type { BoardName } from "../sim/boards";

async function withImage(board: BoardName, size = 30_000) {
  const b = await SimBoard.create({ board, timing: "instant" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const img = fakeApp(board, size, 51);
  const s = new DfuRequests(host).dfuUtilDownload(appBase(board), img, pageSizeAt(board, b.flash.data.length));
  assert.is(s.state, ST.dfuMANIFEST);
  b.step();
  assert.is(b.mode, "app");
  return { b, img };
}

/** What an application does to its own flash: erase a sector and write its data there. */
function appRewrites(b: SimBoard, offset: number, seed: number) {
  b.flash.data.fill(0xff, offset, offset + 4096);
  b.flash.data.set(randomBytes(300, seed), offset);
}

test("RP2040: the application rewrites the chip's last sector (its settings) and still boots, every time", async () => {
  const { b } = await withImage("rp2040");
  for (let i = 0; i < 3; i++) {
    appRewrites(b, (2 << 20) - 4096, 60 + i);
    b.reset();
    assert.is(b.mode, "app", `boot ${i + 1} after the application wrote its last sector`);
  }
});

for (const board of ["rp2040", "h750"] as BoardName[]) {
  test(`${board}: the application rewrites sectors of its region outside its image and still boots`, async () => {
    const { b, img } = await withImage(board);
    const appStart = appBase(board) - b.facts.flashBase;
    for (const off of [appStart + 0x10000, appStart + 0x100000, b.flash.data.length - (board === "h750" ? 2 : 1) * 4096]) {
      appRewrites(b, off, off);
      b.reset();
      assert.is(b.mode, "app", `after a write at 0x${off.toString(16)}`);
    }
    assert.equal(b.flash.data.subarray(appStart, appStart + img.length), img);
  });
}

test("RP2040: the DfuSe layout gives the application the chip up to its end; the record sector is read-only", async () => {
  const b = await SimBoard.create({ board: "rp2040" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  assert.equal(dev.layout.segments.map((s) => [s.start, s.end, s.writable]), [[0x10000000, 0x10010000, false], [0x10010000, 0x10200000, true]]);
  assert.is(dev.info!.recordOffset, 0xf000, "the record sector: the last of the bootloader's 64 KiB");
  const last = fakeApp("rp2040", 4096, 52);
  await dev.flash([{ address: 0x10010000, data: fakeApp("rp2040", 8192, 53) }, { address: 0x101ff000, data: last }], { leave: true });
  b.step();
  assert.is(b.mode, "app");
  assert.equal(b.flash.data.subarray(0x1ff000, 0x200000), last, "the last sector is written like any other");
});

// A Pico that an earlier qspiboot left with its record in the chip's last sector.
async function legacyBoard(state: 1 | 2) {
  const b = await SimBoard.create({ board: "rp2040", timing: "instant" });
  const img = fakeApp("rp2040", 20_000, 54);
  b.flash.data.set(img, 0x10000);
  b.flash.data.set(makeRecord(state, 0x10000, img.length, crc32(0, img), 3), (2 << 20) - 4096);
  return { b, img };
}

test("RP2040: a board with its record in the old place keeps booting; the record moves, and then the last sector is the application's", async () => {
  const { b } = await legacyBoard(2);
  b.powerOn();
  assert.is(b.mode, "app", "boots with the old record");
  const moved = readRecord(b.flash.data, 0xf000, 0x10000, 2 << 20);
  assert.is(moved.kind, "valid", "the record is now in the bootloader's region");
  assert.is(moved.sequence, 3);
  appRewrites(b, (2 << 20) - 4096, 61);
  b.reset();
  assert.is(b.mode, "app", "and the application's own use of the last sector no longer matters");
});

test("RP2040: an update left interrupted by an older qspiboot still stays in DFU mode", async () => {
  const { b } = await legacyBoard(1);
  b.powerOn();
  assert.is(b.mode, "bootloader");
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  assert.is(dev.info!.bootReason, "update interrupted");
});

test("RP2040: application data in the old record place, no record yet: a plausible image boots as with no record at all", async () => {
  const b = await SimBoard.create({ board: "rp2040", timing: "instant" });
  b.flash.data.set(fakeApp("rp2040", 20_000, 55), 0x10000);
  b.flash.data.set(randomBytes(4096, 56), (2 << 20) - 4096);
  b.powerOn();
  assert.is(b.mode, "app");
});

test("RP2040 firmware: the example rewrites the chip's last sector between resets and keeps booting (emulator)", async () => {
  const root = join(import.meta.dirname, "..", "build", "rp2040");
  const emu = new Rp2040Emu();
  emu.program(0, readFileSync(join(root, "qspiboot.bin")));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  assert.is(host.reset(), "ok");
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  await dev.flash(loadImage(join(root, "example.elf")).segments, { leave: true });
  for (let i = 0; i < 2; i++) {
    assert.ok(emu.runUntil(() => emu.uart.includes("hello"), 20_000_000), `the example runs (${i})`);
    emu.nor.data.fill(0xff, (2 << 20) - 4096);
    emu.nor.data.set(randomBytes(256, 70 + i), (2 << 20) - 4096);
    emu.uart = "";
    emu.reboot();
  }
});

test.run();
