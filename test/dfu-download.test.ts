// The request sequences dfu-util sends (../shared/notes/dfu-protocol.md), replayed against the
// real core: DfuSe download with leave, upload, -R; and what lands in the flash model.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import type { BoardName } from "../sim/boards";
import { DfuRequests, DFU, ST, STATUS, randomBytes } from "./lib/dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./lib/images";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";

async function open(board: BoardName = "h750") {
  const b = await SimBoard.create({ board });
  b.powerOn();
  const host = new SimUsbHost(b);
  assert.is(host.enumerate(), "ok");
  return { b, host, dfu: new DfuRequests(host) };
}

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board}: dfu-util -s base:leave -D app.bin over an old image lands byte for byte, with 64 KiB erases, and boots`, async () => {
    const { b, dfu } = await open(board);
    const off = appBase(board) - b.facts.flashBase;
    b.flash.data.set(randomBytes(300_000, 99), off); // an older image is in the way
    const app = fakeApp(board, 200_000, 3);
    const before = b.flash.stats();
    const s = dfu.dfuUtilDownload(appBase(board), app, pageSizeAt(board, b.flash.data.length));
    assert.is(s.state, ST.dfuMANIFEST, `status ${s.status}`);
    b.step();
    assert.is(b.mode, "app");
    assert.is(b.appEntry, appBase(board));
    assert.equal(b.flash.data.subarray(off, off + app.length), app);
    const st = b.flash.stats();
    assert.is(st.erase64k - before.erase64k, Math.ceil(app.length / 65536), "one 64 KiB erase per block");
    assert.is(st.erase4k - before.erase4k, 0, "and no sector erase: the record goes into free 64-byte slots");
    assert.is(st.pagePrograms - before.pagePrograms, Math.ceil(app.length / 256) + 2, "every page once, plus the record twice");
  });
}

test("a blank chip needs no erase at all", async () => {
  const { b, dfu } = await open("h750");
  const before = b.flash.stats();
  dfu.dfuUtilDownload(0x90000000, fakeApp("h750", 100_000), pageSizeAt("h750", 8 << 20));
  const st = b.flash.stats();
  assert.is(st.erase64k - before.erase64k, 0);
  assert.is(st.erase4k - before.erase4k, 0, "not even the record sector: 'updating' and 'valid' take free slots");
});

test("upload: dfu-util -s base:len -U reads back exactly the bytes downloaded", async () => {
  const { dfu } = await open();
  const app = fakeApp("h750", 50_000, 9);
  dfu.dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20), false);
  assert.is(dfu.getStatus().state, ST.dfuIDLE);
  const back = dfu.dfuUtilUpload(0x90000000, app.length);
  assert.equal(back, app);
  const mid = dfu.dfuUtilUpload(0x90000000 + 12345, 7000);
  assert.equal(mid, app.subarray(12345, 12345 + 7000));
});

test("an upload that reaches the end of the readable region is cut short, ending on a zero-length packet", async () => {
  const { dfu, b } = await open();
  dfu.setAddress(0x90800000 - 256);
  dfu.abort();
  const before = b.ep0.stats.inPackets;
  const r = dfu.upload(2, 4096);
  const packets = b.ep0.stats.inPackets - before;
  assert.is(r.status, "ok");
  assert.is(r.data.length, 256, "only what is left up to the end of the record sector");
  assert.is(packets, 256 / 64 + 1, "four full packets, then a zero-length packet");
  assert.is(dfu.getState(), ST.dfuIDLE, "a short upload ends the upload");
});

test("identical second download erases and programs nothing", async () => {
  const { b, dfu } = await open();
  const app = fakeApp("h750", 300_000, 5);
  dfu.dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20));
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const again = new DfuRequests(host);
  const before = b.flash.stats();
  const s = again.dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20));
  assert.is(s.state, ST.dfuMANIFEST);
  const st = b.flash.stats();
  assert.is(st.erase64k + st.erase4k - before.erase64k - before.erase4k, 0, "nothing is erased, not even the record sector");
  assert.ok(st.pagePrograms - before.pagePrograms <= 2, "only the record is programmed (invalidate + new record)");
  b.step();
  assert.is(b.mode, "app");
});

test("bwPollTimeout is the real time to wait: sleep it and the device is (all but) ready", async () => {
  const { b, dfu } = await open();
  // Thirteen 64 KiB blocks: each block's erase (150 ms) lets USB fill all eight buffers, and
  // the device asks the host to wait (400 kB had been enough while programs also fell behind
  // USB between erases; they no longer do).
  b.flash.data.set(randomBytes(800_000, 77), 0); // old content: the blocks need erasing
  const image = randomBytes(800_000, 78);
  for (let a = 0; a < image.length; a += 65536) dfu.erase(0x90000000 + a);
  let waits = 0, maxPoll = 0, maxZeroStreak = 0;
  dfu.setAddress(0x90000000);
  for (let off = 0, block = 2; off < image.length; off += 4096, block++) {
    assert.is(dfu.dnload(block, image.subarray(off, off + 4096)), "ok");
    let s = dfu.getStatus(), zeros = 0;
    while (s.state === ST.dfuDNBUSY) {
      if (s.pollMs > 0) { waits++; maxPoll = Math.max(maxPoll, s.pollMs); zeros = 0; dfu.host.sleep(s.pollMs); }
      else maxZeroStreak = Math.max(maxZeroStreak, ++zeros);
      s = dfu.getStatus();
    }
    assert.is(s.state, ST.dfuDNLOAD_IDLE);
  }
  assert.ok(waits > 10, `the device asked the host to wait ${waits} times`);
  // dfu-util gives up after 100 busy replies in a row without a wait: we need at most a couple.
  assert.ok(maxZeroStreak <= 3, `at most ${maxZeroStreak} busy replies in a row without a wait`);
  assert.ok(maxPoll >= 100 && maxPoll <= 200, `an erase is announced with its time (max ${maxPoll} ms)`);
});

test("zero-length download with block 0: manifest and stay in DFU mode (dfuIDLE), image recorded", async () => {
  const { b, dfu } = await open();
  dfu.dfuUtilDownload(0x90000000, fakeApp("h750", 30_000), pageSizeAt("h750", 8 << 20), false);
  dfu.setAddress(0x90000000);
  assert.is(dfu.dnload(0, new Uint8Array(0)), "ok");
  // DFU 1.1 A.2.7/A.2.8: dfuMANIFEST while it verifies, then (manifestation tolerant) dfuIDLE.
  const first = dfu.getStatus();
  assert.is(first.state, ST.dfuMANIFEST, "the first GETSTATUS reports the state entered next, never dfuMANIFEST-SYNC");
  dfu.host.sleep(first.pollMs);
  const s = dfu.pollWhile([ST.dfuMANIFEST_SYNC, ST.dfuMANIFEST]);
  assert.is(s.state, ST.dfuIDLE);
  assert.is(s.status, STATUS.OK);
  b.runUntil(b.clock.now + 100_000);
  assert.is(b.mode, "bootloader", "still in DFU mode");
  b.powerOn();
  assert.is(b.mode, "app", "the recorded image boots at the next reset");
});

test("dfu-util -R: ABORT, GETSTATUS, DETACH, USB reset -> the application runs", async () => {
  const { b, host, dfu } = await open();
  dfu.dfuUtilDownload(0x90000000, fakeApp("h750", 10_000), pageSizeAt("h750", 8 << 20), false);
  assert.is(b.mode, "bootloader");
  dfu.abort();
  dfu.getStatus();
  assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
  host.reset();
  // The download was never manifested: the board verifies and records it, then leaves.
  b.runUntil(b.clock.now + 500_000);
  assert.is(b.mode, "app");
});

test("a data block outside the layout is errADDRESS and the flash is unchanged", async () => {
  const { b, dfu } = await open("rp2040");
  const snapshot = b.flash.data.slice();
  dfu.setAddress(0x10000000);
  const st = dfu.dnload(2, randomBytes(4096));
  assert.is(st, "ok");
  const s = dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
  assert.is(s.state, ST.dfuERROR);
  assert.is(s.status, STATUS.errADDRESS);
  b.runUntil(b.clock.now + 1e6);
  assert.equal(b.flash.data, snapshot, "the bootloader region (and everything else) is untouched");
  const e = (dfu.clrStatus(), dfu.erase(0x10000000));
  assert.is(e.status, STATUS.errADDRESS, "erasing the bootloader's page is refused");
});

test("mass erase covers the application region only", async () => {
  const { b, dfu } = await open("rp2040");
  const app = fakeApp("rp2040", 100_000);
  dfu.dfuUtilDownload(0x10010000, app, pageSizeAt("rp2040", 2 << 20), false);
  const boot = b.flash.data.slice(0, 0x10000);
  const s = dfu.massErase();
  assert.is(s.state, ST.dfuDNLOAD_IDLE);
  dfu.abort();
  b.runUntil(b.clock.now + 3e6);
  assert.equal(b.flash.data.subarray(0, 0x10000), boot);
  assert.ok(b.flash.data.subarray(0x10000, 0x200000).every((x) => x === 0xff), "application region erased, to the end of the chip");
});

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board}: a shorter image after a longer one is recorded short, by dfu-util's sequence and by the flasher`, async () => {
    const { b, host, dfu } = await open(board);
    const pages = pageSizeAt(board, b.flash.data.length);
    const recLen = () => {
      const r = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
      return new DataView(r.data.buffer, r.data.byteOffset).getUint32(36, true);
    };
    dfu.dfuUtilDownload(appBase(board), fakeApp(board, 300_000, 61), pages);
    b.powerOn({ button: true }); host.enumerate();
    assert.is(recLen(), 300_000);
    dfu.dfuUtilDownload(appBase(board), fakeApp(board, 444, 62), pages);
    b.powerOn({ button: true }); host.enumerate();
    assert.is(recLen(), 444, "dfu-util's 444 bytes, not the old 300 000");
    const { SimUsbDevice } = await import("../tools/usb/sim-device");
    const { DfuDevice } = await import("../tools/dfu/client");
    const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
    await dev.flash([{ address: appBase(board), data: fakeApp(board, 200_000, 63) }], { leave: false });
    assert.is((await dev.readInfo()).imageLength, 200_704, "the flasher's 49 whole sectors");
    await dev.flash([{ address: appBase(board), data: fakeApp(board, 5_000, 64) }], { leave: false });
    const i = await dev.readInfo();
    assert.is(i.imageLength, 8192, "then its 2 sectors");
    assert.is(i.recordStatus, "valid");
  });
}

// The simulator's board idles only when two main-loop passes in a row do nothing (sim/board.ts
// idleUntil): the real loop spins (hal/common/main.c), so a page program found finished is
// followed at once by the next one. Taking one idle pass as "nothing to do" had put a 50 us
// quantum between pages whenever the host waited (130 of 512 pages in this download; one extra pass still left 6), time no
// real board loses: it made every simulated download ~70 ms per MiB slower (npm run bench).
test("simulator: the pages of a sector are programmed back to back, whatever the host is doing", async () => {
  const b = await SimBoard.create({ board: "h750" });
  b.flash.data.set(randomBytes(131072, 99), 0); // an old image: blocks to erase, buffers that fill
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  const chip = b.flash.chip;
  const programs: { addr: number; start: number; end: number }[] = [];
  const transaction = chip.transaction.bind(chip);
  chip.transaction = (t) => {
    transaction(t);
    if ((t.instr === 0x32 || t.instr === 0x02) && t.addr < 131072) programs.push({ addr: t.addr, start: b.clock.now, end: chip.readyAt() });
  };
  await dev.flash([{ address: 0x90000000, data: fakeApp("h750", 131072, 7) }], { leave: false });
  assert.is(programs.length, 512, "every page programmed once");
  const gaps: number[] = [];
  for (let i = 1; i < programs.length; i++) {
    if (programs[i].addr >> 12 === programs[i - 1].addr >> 12) gaps.push(programs[i].start - programs[i - 1].end);
  }
  assert.is(gaps.length, 480, "15 gaps inside each of the 32 sectors");
  assert.ok(Math.max(...gaps) < 20, `at most 20 us from a program's end to the next page's (max ${Math.max(...gaps).toFixed(1)} us)`);
});

test.run();
