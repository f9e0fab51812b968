// Update safety under request sequences a well-behaved host never sends: short, named
// regressions for what fuzzing (ours and an outside reliability run) found. Each checks the
// invariants of test/lib/safety.ts from the flash model's side.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { DfuRequests, DFU, ST, STATUS, le32 } from "./lib/dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./lib/images";
import { geometry, SafetyWatch } from "./lib/safety";
import { runActions, type Action } from "./lib/update-fuzz";
import type { BoardName } from "../sim/boards";
import type { FlashTiming } from "../sim/flash-setup";

const BOARDS: BoardName[] = ["h750", "rp2040"];

/** A board in DFU mode holding image A with a valid record, watched from the flash's side. */
async function boardWithImage(board: BoardName, timing: FlashTiming = "typical") {
  const b = await SimBoard.create({ board, timing });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const dfu = new DfuRequests(host);
  const g = geometry(host);
  const pages = pageSizeAt(board, g.flashSize);
  const A = fakeApp(board, 24_000, 11);
  assert.is(dfu.dfuUtilDownload(appBase(board), A, pages).state, ST.dfuMANIFEST);
  b.step();
  assert.is(b.mode, "app");
  b.powerOn({ button: true });
  host.enumerate();
  const watch = new SafetyWatch(b, g);
  return { b, host, dfu, g, pages, A, watch };
}

function noViolations(watch: SafetyWatch) {
  assert.equal(watch.violations, [], watch.violations.join("\n"));
}

for (const board of BOARDS) {
  test(`${board}: DETACH after a download without leave, then more DNLOADs, then power cuts: never a VALID record for changed flash`, async () => {
    const { b, host, dfu, pages, watch } = await boardWithImage(board);
    const B = fakeApp(board, 24_000, 12);
    const C = fakeApp(board, 24_000, 13);
    dfu.dfuUtilDownload(appBase(board), B, pages, false);
    watch.check("after B without leave");
    assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
    // While the board verifies B in the background, a host writes C over its first sector.
    const w = dfu.dnload(0, Uint8Array.from([0x21, ...le32(appBase(board))]));
    if (w === "ok") { try { dfu.getStatus(); dfu.dnload(2, C.subarray(0, 4096)); dfu.getStatus(); } catch { /* the board may be gone */ } }
    for (let i = 0; i < 2000 && b.mode === "bootloader"; i++) { b.step(); watch.check(`step ${i}`); b.idleUntil(b.clock.now + 1000); }
    watch.check("after the second download");
    noViolations(watch);
    b.powerOn();
    watch.check("power on");
    noViolations(watch);
    if (b.mode === "app") {
      assert.equal(b.flash.data.subarray(appBase(board) - b.facts.flashBase).subarray(0, B.length), B, "what boots is B, complete");
    }
    void host;
  });

  test(`${board}: ABORT while manifestation writes the record, then a DNLOAD: the write waits and invalidates the new record first`, async () => {
    const { b, dfu, g, watch } = await boardWithImage(board);
    const B = fakeApp(board, 24_000, 14);
    dfu.dfuUtilDownload(appBase(board), B, pageSizeAt(board, g.flashSize), false);
    // Manifest and stay (block 0), and catch the moment the core starts rewriting the record.
    let recordWrite = false;
    const chip = b.flash.chip;
    const inner = chip.observer!;
    // The record goes into a slot of the record sector: a page program (or, a full sector, its erase first).
    chip.observer = (op) => { inner(op); if (op.kind !== "status" && op.start >= g.recordOffset && op.start < g.recordOffset + g.sector) recordWrite = true; };
    dfu.setAddress(appBase(board));
    assert.is(dfu.dnload(0, new Uint8Array(0)), "ok");
    for (let i = 0; i < 200000 && !recordWrite; i++) b.step();
    assert.ok(recordWrite, "the record is being written");
    dfu.abort();
    dfu.getStatus();
    // A different first sector, sent at once: it must not land under the record being written.
    const s = dfu.setAddress(appBase(board));
    if (s.state !== ST.dfuERROR) {
      dfu.dnload(2, fakeApp(board, 4096, 15));
      dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
    }
    b.runUntil(b.clock.now + 2e6);
    watch.check("after the write");
    noViolations(watch);
    b.powerOn();
    watch.check("power on");
    noViolations(watch);
  });

  test(`${board}: the sector-CRC request never answers more than its reply buffer holds (wLength 4388..8192 trapped the core)`, async () => {
    const { b, host, watch } = await boardWithImage(board, "instant");
    for (const wLength of [4096, 4100, 4388, 6000, 8192, 0xffff]) {
      const r = host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 0, wIndex: 0, wLength });
      assert.ok(r.status === "stall" || r.data.length <= 4096, `wLength ${wLength}: ${r.status} ${r.data.length}`);
      // The board still answers, and its function tables are intact (a trap would throw here).
      const info = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
      assert.is(info.status, "ok");
      new DfuRequests(host).getStatus();
    }
    const most = Math.min(1024, b.flash.data.length / 4096) * 4;
    const one = host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 0, wIndex: 0, wLength: most });
    assert.is(one.data.length, most, "up to 1024 sectors in one request still work");
    assert.is(b.mode, "bootloader");
    noViolations(watch);
  });

  test(`${board}: the GETSTATUS that reports dfuMANIFEST has its status stage skipped: the board still starts the application`, async () => {
    const { b, host, dfu, g, pages, watch } = await boardWithImage(board, "instant");
    const B = fakeApp(board, 24_000, 16);
    dfu.dfuUtilDownload(appBase(board), B, pages, false);
    dfu.setAddress(appBase(board));
    dfu.dnload(2, new Uint8Array(0));
    let st = ST.dfuMANIFEST_SYNC as number;
    for (let i = 0; i < 1000 && st === ST.dfuMANIFEST_SYNC; i++) {
      const r = host.control({ bmRequestType: 0xa1, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: 0, wLength: 6 }, undefined, 1000, { skipStatus: true });
      assert.is(r.status, "ok");
      st = r.data[4];
    }
    assert.is(st, ST.dfuMANIFEST);
    // The host took the reply and moved on without the status stage: that answers it.
    host.control({ bmRequestType: 0xa1, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: 0, wLength: 6 }, undefined, 1000);
    b.runUntil(b.clock.now + 10_000);
    watch.check("after leave");
    assert.is(b.mode, "app");
    noViolations(watch);
    void g;
  });

  test(`${board}: skipped status stages on ordinary requests leave the class working`, async () => {
    const { host, dfu } = await boardWithImage(board, "instant");
    const skip = { skipStatus: true };
    host.control({ bmRequestType: 0xa1, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: 0, wLength: 6 }, undefined, 1000, skip);
    host.control({ bmRequestType: 0x21, bRequest: DFU.DNLOAD, wValue: 0, wIndex: 0, wLength: 5 }, Uint8Array.from([0x21, ...le32(appBase(board))]), 1000, skip);
    const s = dfu.getStatus();
    assert.ok(s.state === ST.dfuDNBUSY || s.state === ST.dfuDNLOAD_IDLE, `state ${s.state}`);
    assert.is(dfu.abort(), "ok");
    assert.is(dfu.getStatus().state, ST.dfuIDLE);
  });

  for (const start of ["a blank board", "a board with an older image"]) {
    test(`${board}, ${start}: a complete image without a valid record is finished by the flasher's smart mode`, async () => {
      let b: SimBoard, dfu: DfuRequests, watch: SafetyWatch | undefined;
      if (start === "a blank board") {
        b = await SimBoard.create({ board, timing: "instant" });
        b.powerOn();
        const h = new SimUsbHost(b);
        h.enumerate();
        dfu = new DfuRequests(h);
        watch = new SafetyWatch(b, geometry(h));
      } else {
        ({ b, dfu, watch } = await boardWithImage(board, "instant"));
      }
      const B = fakeApp(board, 40_000, 17);
      // dfu-util -D without :leave, then a replug: every sector is right, nothing vouches for it.
      dfu.dfuUtilDownload(appBase(board), B, pageSizeAt(board, b.flash.data.length), false);
      b.powerOn();
      assert.is(b.mode, "bootloader", "unrecorded: stays in DFU mode");
      const host = new SimUsbHost(b);
      host.enumerate();
      const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
      assert.is(dev.info!.recordStatus, "updating");
      const report = await dev.flash([{ address: appBase(board), data: B }], { leave: true });
      assert.ok(report.sectorsSent <= 2, `only the first and last sectors go again (${report.sectorsSent}): the rest is already there`);
      b.step();
      watch.check("after flash");
      assert.is(b.mode, "app");
      noViolations(watch);
      assert.is(watch.record().kind, "valid");
      assert.ok(watch.record().length >= B.length, `the record covers the whole image (${watch.record().length})`);
    });
  }
}

test("manifest-and-stay with nothing written and a VALID record succeeds and changes nothing", async () => {
  const { b, dfu, watch } = await boardWithImage("h750", "instant");
  const before = b.flash.data.slice();
  dfu.setAddress(appBase("h750"));
  // A record that is VALID and nothing written: manifestation has nothing to do and succeeds.
  assert.is(dfu.dnload(0, new Uint8Array(0)), "ok");
  const s = dfu.pollWhile([ST.dfuMANIFEST_SYNC]);
  assert.is(s.state, ST.dfuIDLE);
  assert.is(s.status, STATUS.OK);
  assert.equal(b.flash.data, before);
  noViolations(watch);
});

// What test/update-fuzz.test.ts found on the core before these fixes, shrunk by its ddmin.
const SHRUNK: [string, FlashTiming, Action[]][] = [
  ["a DNLOAD sent 67 main-loop passes into a leave's manifestation (the record was being written)", "instant",
    [{ k: "download", image: 2, leave: true }, { k: "midManifest", image: 2, trigger: "leave", passes: 67, then: "dnload" }]],
  ["a DNLOAD sent 191 passes into the manifestation a DETACH started", "typical",
    [{ k: "midManifest", image: 1, trigger: "detach", passes: 191, then: "dnload" }, { k: "sleep", ms: 135 }]],
  ["GETSTATUS polls through a leave that never finish their status stage", "instant",
    [{ k: "midManifest", image: 0, trigger: "leave", passes: 12300, then: "pollSkippingStatus" }]],
];
for (const board of BOARDS) {
  for (const [name, timing, actions] of SHRUNK) {
    test(`${board}, fuzz regression: ${name}`, async () => {
      const r = await runActions(board, timing, actions);
      assert.equal(r.violations, []);
    });
  }
}


test.run();
