// The boot decision after reset: each reason to stay in DFU mode, each record state, and images
// that must not run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { crc32 } from "../sim/hal";
import { CHIPS } from "../sim/chips";
import { DfuRequests, ST } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";
import { usedSlots, SLOT } from "./lib/record";

const FLAG_STAY_IN_DFU = 0x51424446;
const FLAG_TRAPPED = 0x51425450;
const RECORD_OFF = (8 << 20) - 4096;

async function flashed(opts: { bootCrc?: boolean } = {}) {
  const b = await SimBoard.create({ board: "h750" });
  if (opts.bootCrc) b.facts.bootCrc = true;
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const app = fakeApp("h750", 100_000, 11);
  const s = new DfuRequests(host).dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20));
  assert.is(s.state, ST.dfuMANIFEST);
  b.step();
  assert.is(b.mode, "app");
  return { b, app };
}

/** The current record: the last used slot of the record sector (boot/record-store.ts). */
function record(b: SimBoard) {
  const at = RECORD_OFF + (usedSlots(b.flash.data, RECORD_OFF) - 1) * SLOT;
  return new DataView(b.flash.data.buffer, b.flash.data.byteOffset + at, 32);
}

test("blank flash: stays in DFU mode", async () => {
  const b = await SimBoard.create();
  b.powerOn();
  assert.is(b.mode, "bootloader");
});

test("a valid image boots at power-on, with no delay beyond the checks", async () => {
  const { b, app } = await flashed();
  const t0 = b.clock.now;
  b.powerOn();
  assert.is(b.mode, "app");
  assert.is(b.appEntry, 0x90000000);
  assert.ok(b.clock.now - t0 < 1000, `boot took ${(b.clock.now - t0).toFixed(1)} us of simulated time`);
  const r = record(b);
  assert.is(r.getUint32(0, true), 0x52425351, "record magic");
  assert.is(r.getUint16(6, true), 2, "state VALID");
  assert.is(r.getUint32(8, true), 0, "image at the start of the application region");
  assert.is(r.getUint32(12, true), app.length);
  assert.is(r.getUint32(16, true), crc32(0, app), "CRC of the image as read back");
});

test("the application asks for DFU mode (flag survives the reset); the next reset boots again", async () => {
  const { b } = await flashed();
  b.appRebootToBootloader(FLAG_STAY_IN_DFU);
  assert.is(b.mode, "bootloader");
  b.reset();
  assert.is(b.mode, "app", "the request is used up");
});

test("a trap in the core leaves a flag that keeps the next boot in DFU mode", async () => {
  const { b } = await flashed();
  b.appRebootToBootloader(FLAG_TRAPPED);
  assert.is(b.mode, "bootloader");
});

test("Pico: qspiboot reads no button (BOOTSEL belongs to the boot ROM); its users get to DFU mode through the application", async () => {
  const b = await SimBoard.create({ board: "rp2040", timing: "instant" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  new DfuRequests(host).dfuUtilDownload(0x10010000, fakeApp("rp2040", 20_000, 12), pageSizeAt("rp2040", 2 << 20));
  b.history = [];
  b.powerOn({ button: true }); // the simulator's "into DFU mode": the bootloader ignores the button, the application asks
  assert.is(b.mode, "bootloader");
  assert.equal(b.history, ["boot", "jump 0x10010000", "boot"], "it booted the application first, which reset into DFU mode");
  host.enumerate();
  const info = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
  assert.is(info.data[6], 1, "boot reason: application asked");
});

test("the button held at reset keeps the board in DFU mode", async () => {
  const { b } = await flashed();
  b.powerOn({ button: true });
  assert.is(b.mode, "bootloader");
  b.powerOn({ button: false });
  assert.is(b.mode, "app");
});

test("a power cut loses the flag: the board boots its application", async () => {
  const { b } = await flashed();
  b.flags.value = FLAG_STAY_IN_DFU;
  b.powerOn();
  assert.is(b.mode, "app");
});

test("an interrupted update (record says updating) stays in DFU mode", async () => {
  const { b } = await flashed();
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const dfu = new DfuRequests(host);
  dfu.erase(0x90000000); // the first change invalidates the record
  dfu.pollWhile([ST.dfuDNBUSY]);
  b.runUntil(b.clock.now + 10_000);
  b.powerOn();
  assert.is(b.mode, "bootloader");
});

for (const [what, corrupt] of [
  ["bad record checksum", (r: DataView) => r.setUint32(24, r.getUint32(24, true) ^ 1, true)],
  ["impossible length", (r: DataView) => r.setUint32(12, 0x7fffffff, true)],
  ["base outside the flash", (r: DataView) => r.setUint32(8, 0x900000, true)],
  ["unknown format version", (r: DataView) => r.setUint16(4, 7, true)],
  ["torn record (half erased)", (r: DataView) => { for (let i = 16; i < 32; i++) r.setUint8(i, 0xff); }],
] as [string, (r: DataView) => void][]) {
  test(`a corrupted record (${what}) is no valid image`, async () => {
    const { b } = await flashed();
    corrupt(record(b));
    b.powerOn();
    assert.is(b.mode, "bootloader");
  });
}

test("no record at all: a plausible vector table boots, an implausible one does not", async () => {
  const { b } = await flashed();
  b.flash.data.fill(0xff, RECORD_OFF, RECORD_OFF + 4096);
  b.powerOn();
  assert.is(b.mode, "app", "an image put there by other means runs");
  new DataView(b.flash.data.buffer).setUint32(4, 0x08000001, true); // reset handler outside the image
  b.powerOn();
  assert.is(b.mode, "bootloader");
  new DataView(b.flash.data.buffer).setUint32(4, 0x90000101, true);
  new DataView(b.flash.data.buffer).setUint32(0, 0x30000000, true); // stack outside RAM
  b.powerOn();
  assert.is(b.mode, "bootloader");
});

test("Pico with a chip whose smallest erase is 64 KiB: the boot path reads the record where 4 KiB sectors put it, so that chip is not used", async () => {
  const app = fakeApp("rp2040", 20_000, 12); // no record: on a chip of 4 KiB sectors it would run
  const boots = [];
  for (const erases of [CHIPS.SFDP_ONLY_4M.erases, [{ instr: 0xd8, size: 65536, typMs: 150, maxMs: 2000 }]]) {
    // Known by its SFDP table only, and read as boot2 reads (EBh, 4 wait clocks, QE set): on a
    // chip that boot2 does not suit, the bootloader itself could not run from XIP.
    const chip = { ...CHIPS.SFDP_ONLY_4M, quadDummy: 4, qeDefault: true, erases };
    const b = await SimBoard.create({ board: "rp2040", timing: "instant", chip });
    b.flash.data.set(app, 0x10000);
    const before = b.flash.data.slice();
    b.powerOn();
    boots.push(b.mode);
    if (b.mode !== "bootloader") continue;
    assert.equal(b.flash.data, before, "nothing erased or programmed");
    const host = new SimUsbHost(b);
    host.enumerate();
    const info = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
    assert.is(info.data[6], 3, "boot reason: no flash");
  }
  assert.equal(boots, ["app", "bootloader"], "4 KiB and 32 KiB erases: it runs; 64 KiB only: DFU mode");
});

test("double-tap window, when configured: a second reset inside it stays in DFU mode, none boots after the window", async () => {
  const { b } = await flashed();
  b.facts.doubleTapMs = 20;
  let t0 = b.clock.now;
  b.powerOn();
  assert.is(b.mode, "app");
  assert.ok(b.clock.now - t0 >= 20_000, `waited the window (${((b.clock.now - t0) / 1000).toFixed(1)} ms)`);
  b.pressResetAt(5_000); // reset pressed 5 ms into the window of the next boot
  b.powerOn();
  assert.is(b.mode, "bootloader", "double tap: DFU mode");
  t0 = b.clock.now;
  b.reset();
  assert.is(b.mode, "app", "the flag is used up: the next reset boots");
});

test("a flipped bit in the image: refused when the board checks the CRC at boot", async () => {
  const { b } = await flashed({ bootCrc: true });
  b.powerOn();
  assert.is(b.mode, "app", "the intact image passes the boot-time CRC");
  b.flash.data[50_000] ^= 0x10;
  b.powerOn();
  assert.is(b.mode, "bootloader");
});

test.run();
