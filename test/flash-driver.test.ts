// The flash driver in the real core against each chip model: bring-up from every starting
// state, chips known by SFDP only or by the table only, dead and missing chips, unaligned
// writes, skipping unchanged data, and the memory-mapped check before a jump.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import type { ChipName } from "../sim/chips";
import { DfuRequests, ST, STATUS, randomBytes } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";

const BASE = 0x90000000;

async function board(chip: ChipName, setup?: (b: SimBoard) => void, start: "power" | "reset" = "power") {
  const b = await SimBoard.create({ board: "h750", chip });
  setup?.(b);
  const t0 = b.clock.now;
  // A reset (not a power cycle) is what leaves the chip busy or in continuous-read mode.
  if (start === "power") b.powerOn(); else b.reset();
  const bootUs = b.clock.now - t0;
  const host = new SimUsbHost(b);
  if (b.mode === "bootloader") host.enumerate();
  return { b, host, dfu: new DfuRequests(host), bootUs };
}

function info(host: SimUsbHost) {
  const r = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
  assert.is(r.status, "ok");
  const d = new DataView(r.data.buffer, r.data.byteOffset);
  return { reason: d.getUint8(6), size: d.getUint32(12, true), sector: d.getUint32(16, true), jedec: d.getUint32(20, true) };
}

function layout(host: SimUsbHost): string {
  const d = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0304, wIndex: 0x409, wLength: 255 }).data;
  let s = "";
  for (let i = 2; i < d.length; i += 2) s += String.fromCharCode(d[i]);
  return s;
}

const geometry: [ChipName, number, string][] = [
  ["W25Q64JV", 0x1740ef, "@QSPI Flash /0x90000000/127*064Kg,15*004Kg,01*004Ka"],
  ["W25Q16JV", 0x1540ef, "@QSPI Flash /0x90000000/31*064Kg,15*004Kg,01*004Ka"],
  ["IS25LP064A", 0x17609d, "@QSPI Flash /0x90000000/127*064Kg,15*004Kg,01*004Ka"],
  ["SFDP_ONLY_4M", 0x1640c8, "@QSPI Flash /0x90000000/127*032Kg,07*004Kg,01*004Ka"],
  ["PY25Q64HA", 0x172085, "@QSPI Flash /0x90000000/127*064Kg,15*004Kg,01*004Ka"],
];
for (const [chip, jedec, expected] of geometry) {
  test(`${chip}: identified, geometry from ${chip === "IS25LP064A" ? "the known-chip table" : "SFDP"}, quad mode on`, async () => {
    const { b, host } = await board(chip);
    const i = info(host);
    assert.is(i.jedec, jedec);
    assert.is(i.size, b.flash.data.length);
    assert.is(i.sector, 4096);
    assert.is(layout(host), expected);
    assert.ok(b.flash.chip.quadEnabled(), "QE is set");
  });
}

test("QE clear on a Winbond part: set with a volatile write (no wear), at every boot", async () => {
  const { b } = await board("W25Q64JV", (b) => b.flash.chip.startState({ qe: false }));
  assert.ok(b.flash.chip.quadEnabled());
  assert.is(b.flash.stats().statusWrites, 0, "no non-volatile status write");
  assert.is(b.flash.stats().volatileStatusWrites, 1);
});

test("QE clear on the ISSI part (no volatile writes): set once, non-volatile, then left alone", async () => {
  const { b } = await board("IS25LP064A");
  assert.is(b.flash.stats().statusWrites, 1);
  b.powerOn();
  b.powerOn();
  assert.is(b.flash.stats().statusWrites, 1, "QE already set: never written again");
});

test("bring-up from continuous-read mode (left by an application)", async () => {
  const { host } = await board("W25Q64JV", (b) => b.flash.chip.startState({ continuous: true }), "reset");
  assert.is(info(host).jedec, 0x1740ef);
});

test("bring-up while a previous erase is still running waits for it", async () => {
  const { host, bootUs } = await board("W25Q64JV", (b) => b.flash.chip.startState({ busyUs: 120_000 }), "reset");
  assert.is(info(host).jedec, 0x1740ef);
  assert.ok(bootUs >= 120_000, `waited ${bootUs} us`);
});

for (const fault of ["absent-ff", "absent-00"] as const) {
  test(`no chip (bus reads ${fault === "absent-ff" ? "FFh" : "00h"}): DFU mode, reason 'no flash', no long wait`, async () => {
    const { b, host, dfu, bootUs } = await board("W25Q64JV", (b) => { b.flash.chip.fault = fault; });
    assert.is(b.mode, "bootloader");
    assert.ok(bootUs < 10_000, `boot took ${bootUs} us`);
    assert.is(info(host).reason, 3);
    dfu.setAddress(BASE);
    assert.is(dfu.dnload(2, new Uint8Array(64)), "ok");
    const s = dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
    assert.is(s.state, ST.dfuERROR, "nothing to write to");
    assert.is(s.status, STATUS.errADDRESS);
    assert.is(s.status, STATUS.errADDRESS);
  });
}

test("a chip that never gets ready: bring-up gives up (bounded), DFU mode, reason 'no flash'", async () => {
  const { b, host, bootUs } = await board("W25Q64JV", (b) => { b.flash.chip.fault = "never-ready"; });
  assert.is(b.mode, "bootloader");
  assert.ok(bootUs >= 3_000_000 && bootUs < 3_500_000, `gave up after ${bootUs} us`);
  assert.is(info(host).reason, 3);
});

test("a chip that stops answering in the middle of a write: errors, no hang", async () => {
  const { b, dfu } = await board("W25Q64JV");
  dfu.setAddress(BASE);
  b.flash.chip.fault = "never-ready";
  dfu.dnload(2, randomBytes(4096));
  const s = dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC, ST.dfuDNLOAD_IDLE], 200);
  assert.is(s.state, ST.dfuERROR);
  assert.ok([STATUS.errWRITE, STATUS.errERASE, STATUS.errPROG].includes(s.status), `status ${s.status}`);
});

test("unaligned writes: odd start, page- and sector-crossing lengths, land exactly", async () => {
  const { b, dfu } = await board("W25Q64JV");
  b.flash.data.set(randomBytes(0x30000, 5), 0); // old content everywhere around
  const old = b.flash.data.slice(0, 0x30000);
  const start = 0x1ffff; // one byte before a 64 KiB boundary
  const data = randomBytes(4096 + 777, 6);
  dfu.erase(BASE + start);
  dfu.erase(BASE + start + 1);
  dfu.setAddress(BASE + start);
  dfu.chunk(data.subarray(0, 4096));
  dfu.setAddress(BASE + start + 4096);
  dfu.chunk(data.subarray(4096));
  dfu.abort();
  b.runUntil(b.clock.now + 2e6);
  assert.equal(b.flash.data.subarray(start, start + data.length), data);
  // The pages erased as asked (blocks 1 and 2) outside the data are blank; the rest is untouched.
  assert.ok(b.flash.data.subarray(0x10000, start).every((x) => x === 0xff));
  assert.ok(b.flash.data.subarray(start + data.length, 0x30000).every((x) => x === 0xff));
  assert.equal(b.flash.data.subarray(0, 0x10000), old.subarray(0, 0x10000));
});

test("SFDP-only chip with 32 KiB blocks: a download uses 32 KiB erases and lands", async () => {
  const { b, dfu } = await board("SFDP_ONLY_4M");
  b.flash.data.set(randomBytes(100_000, 8), 0);
  const app = fakeApp("h750", 90_000, 4);
  const before = b.flash.stats();
  const s = dfu.dfuUtilDownload(BASE, app, (a) => (a - BASE < (4 << 20) - 32768 ? 32768 : 4096));
  assert.is(s.state, ST.dfuMANIFEST);
  assert.equal(b.flash.data.subarray(0, app.length), app);
  assert.is(b.flash.stats().erase32k - before.erase32k, Math.ceil(app.length / 32768));
});

test("memory-mapped check: a window that does not read back right is never jumped into", async () => {
  const { b, dfu } = await board("W25Q64JV");
  dfu.dfuUtilDownload(BASE, fakeApp("h750", 10_000), pageSizeAt("h750", 8 << 20));
  b.step();
  assert.is(b.mode, "app");
  const real = b.flash.bus.readMapped.bind(b.flash.bus);
  b.flash.bus.readMapped = (off, len) => real(off, len).map((x) => x ^ 0x01); // a wrong read setup
  b.powerOn();
  assert.is(b.mode, "bootloader");
});

test("1 MiB download with typical timings, then the same image again (numbers for the notes)", async () => {
  const { b, dfu, host } = await board("W25Q64JV");
  b.flash.data.set(randomBytes(1 << 20, 3), 0);
  const app = fakeApp("h750", 1 << 20, 12);
  const pages = pageSizeAt("h750", 8 << 20);
  let t = b.clock.now, st = b.flash.stats();
  dfu.dfuUtilDownload(BASE, app, pages, false);
  b.runUntil(b.clock.now + 1e6); // let the tail finish
  const first = { ms: (b.clock.now - t - 1e6) / 1000, st: b.flash.stats() };
  const e1 = first.st.erase64k - st.erase64k, p1 = first.st.pagePrograms - st.pagePrograms;
  t = b.clock.now; st = b.flash.stats();
  const again = new DfuRequests(host);
  again.dfuUtilDownload(BASE, app, pages, false);
  b.runUntil(b.clock.now + 1e6);
  const second = { ms: (b.clock.now - t - 1e6) / 1000, st: b.flash.stats() };
  const e2 = second.st.erase64k + second.st.erase4k - st.erase64k - st.erase4k, p2 = second.st.pagePrograms - st.pagePrograms;
  console.log(`1 MiB, dfu-util request sequence, typical timings: ${first.ms.toFixed(0)} ms simulated, ${e1} 64 KiB erases, ${p1} page programs; ` +
    `same image again: ${second.ms.toFixed(0)} ms, ${e2} erases, ${p2} programs`);
  assert.is(e1, 16);
  assert.is(p1, 4096 + 1, "every page once, and the record marked 'updating'");
  assert.is(e2, 0, "an identical image erases nothing");
  assert.is(p2, 0, "and programs nothing (no manifestation here: the record is untouched)");
  // With dfu-util's sequence (six control transfers per 4 KiB) the USB side is what is left.
  assert.ok(second.ms < first.ms * 0.6, "and is much faster");
});

test.run();
