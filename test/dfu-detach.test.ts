// DETACH in DFU mode (what dfu-util -R sends before it resets the bus): the board records a
// finished download and starts the application, but only once the host's reset and the
// re-enumeration after it are over, so that libusb_reset_device succeeds; without a reset it
// goes on its own after wDetachTimeOut (255 ms, bitWillDetach).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { DfuRequests, DFU, ST, STATUS } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";
import { readRecord } from "./lib/record";

async function downloaded() {
  const b = await SimBoard.create({ board: "h750", timing: "typical" });
  b.powerOn();
  const host = new SimUsbHost(b);
  assert.is(host.enumerate(), "ok");
  const dfu = new DfuRequests(host);
  const img = fakeApp("h750", 40_000, 7);
  dfu.dfuUtilDownload(0x90000000, img, pageSizeAt("h750", 8 << 20), false); // no :leave
  dfu.abort();
  assert.is(dfu.getStatus().state, ST.dfuIDLE);
  return { b, host, dfu, img };
}
/** Run until the board leaves DFU mode (1 ms steps), at most `us`; when it left. */
function runUntilGone(b: SimBoard, us: number): number {
  const end = b.clock.now + us;
  while (b.mode === "bootloader" && b.clock.now < end) b.runUntil(b.clock.now + 1000);
  return b.clock.now;
}
const record = (b: SimBoard) => readRecord(b.flash.data, b.flash.data.length - 4096, 0, b.flash.data.length - 4096);

test("dfu-util -R: DETACH, then the host's bus reset re-enumerates the board, and then it starts the application", async () => {
  const { b, host, dfu, img } = await downloaded();
  assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
  assert.is(host.reset(), "ok", "the board is still there for the reset and the enumeration after it");
  assert.is(b.mode, "bootloader");
  const configuredAt = b.clock.now;
  const gone = runUntilGone(b, 1e6);
  assert.is(b.mode, "app");
  assert.ok(gone - configuredAt <= 20_000, `gone ${gone - configuredAt} us after the host configured it`);
  assert.is(b.appEntry, 0x90000000);
  const rec = record(b);
  assert.is(rec.kind, "valid");
  assert.is(rec.length, img.length);
});

test("DETACH without a reset: the board goes on its own after wDetachTimeOut, not before", async () => {
  const { b, dfu } = await downloaded();
  const t0 = b.clock.now;
  assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
  const waited = runUntilGone(b, 2e6) - t0;
  assert.is(b.mode, "app");
  assert.ok(waited >= 255_000 && waited < 300_000, `left after ${waited} us`);
});

test("a download started while the board waits to leave is refused and writes nothing", async () => {
  const { b, dfu, img } = await downloaded();
  assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
  b.runUntil(b.clock.now + 20_000);
  assert.is(record(b).kind, "valid", "recorded, and waiting for the host's reset");
  assert.is(b.mode, "bootloader");
  const before = b.flash.stats();
  assert.is(dfu.dnload(0, Uint8Array.from([0x41, 0, 0, 0, 0x90])), "stall", "a DfuSe erase");
  assert.is(dfu.getStatus().status, STATUS.errSTALLEDPKT);
  dfu.clrStatus();
  assert.is(dfu.dnload(2, fakeApp("h750", 4096, 8)), "stall", "a data block");
  runUntilGone(b, 2e6);
  assert.is(b.mode, "app");
  const st = b.flash.stats();
  assert.is(st.pagePrograms + st.erase4k + st.erase64k, before.pagePrograms + before.erase4k + before.erase64k, "nothing written");
  assert.equal(b.flash.data.subarray(0, img.length), img);
});

test.run();
