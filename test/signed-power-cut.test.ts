// test/power-cut.test.ts for a board built with a key: cut power before, during and after every
// flash operation of a signed update (dfu-util's sequence) over a signed image, and check that
// the board runs the old or the new image intact or stays in DFU mode, never a partial or
// unverified one, that the version floor in flash never falls below what was accepted (and an
// older image is refused once the new one's floor is in), and that the update done again succeeds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard, loadCoreVariant } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { signWithKey } from "../tools/cli/keys";
import { DfuRequests, ST } from "./lib/dfu-requests";
import { dfuUtilUpdate, outcomeAfterCut, imageIs } from "./lib/power-cut";
import { fakeApp, pageSizeAt } from "./lib/images";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from "./lib/test-key";
import { geometry } from "./lib/safety";
import { crc32 } from "../tools/dfu/crc32";
import { readBoardRecord } from "./lib/record";

const BASE = 0x90000000;
const pages = pageSizeAt("h750", 8 << 20);
const sign = (img: Uint8Array, version: number) => signWithKey([{ address: BASE, data: img }], TEST_PRIVATE_KEY, { version })[0].data;
// 40 KB images that differ everywhere, each with its trailer.
const OLD = sign(fakeApp("h750", 40_000, 31), 1);
const NEW = sign(fakeApp("h750", 40_000, 32), 2);
const NEWER = sign(fakeApp("h750", 40_000, 33), 3);

// A board that has taken `history` in turn (each recorded, the last one running).
const templates = new Map<string, Uint8Array>();
async function boardAfter(history: Uint8Array[]): Promise<SimBoard> {
  const b = await SimBoard.create({ board: "h750", timing: "instant", module: await loadCoreVariant({ signed: true }) });
  b.facts.publicKey = TEST_PUBLIC_KEY;
  const key = history.map((h) => crc32(0, h)).join();
  if (!templates.has(key)) {
    for (const img of history) {
      b.powerOn({ button: true });
      const host = new SimUsbHost(b);
      host.enumerate();
      assert.is(new DfuRequests(host).dfuUtilDownload(BASE, img, pages).state, ST.dfuMANIFEST);
      b.step();
      assert.is(b.mode, "app", "the image is taken");
    }
    templates.set(key, b.flash.data.slice());
  }
  b.flash.data.set(templates.get(key)!);
  return b;
}

/** Cut power at every flash operation of the update from history's last image to `next`. */
async function cutEverywhere(history: Uint8Array[], next: Uint8Array, floors: { before: number; after: number }, tryOldEvery: number) {
  const prev = history[history.length - 1];
  const ref = await boardAfter(history);
  ref.powerOn({ button: true });
  const refHost = new SimUsbHost(ref);
  refHost.enumerate();
  const g = geometry(refHost);
  assert.ok(g.signed && g.recordOffset2 !== g.recordOffset, "a signed core keeps two record sectors");
  const floorOf = (b: SimBoard) => readBoardRecord(b.flash.data, g).floor;
  assert.is(floorOf(ref), floors.before, "the floor before the update");
  ref.powerOn({ button: true });
  const before = ref.flash.modifyingOps();
  assert.ok(dfuUtilUpdate(ref, BASE, next, pages), "reference update");
  const total = ref.flash.modifyingOps() - before;
  const outcomes = { old: 0, new: 0, dfu: 0 };
  let downgrades = 0;
  for (let n = 0; n < total; n++) {
    for (const when of ["before", "during", "after"] as const) {
      const b = await boardAfter(history);
      b.powerOn({ button: true });
      b.flash.cutPowerAt(n, when);
      dfuUtilUpdate(b, BASE, next, pages);
      const where = `cut ${when} operation ${n} of ${total}`;
      const outcome = outcomeAfterCut(b, BASE, prev, next, where);
      outcomes[outcome]++;
      b.flash.cutPowerAt(-1, "before");
      const floor = floorOf(b);
      assert.ok(floor === floors.before || floor === floors.after, `${where}: the floor is ${floor}`);
      if (outcome === "new") assert.is(floor, floors.after, `${where}: the new image runs, so its version is the floor`);
      if (floor > 1 && (n * 3 + ["before", "during", "after"].indexOf(when)) % tryOldEvery === 0) {
        b.powerOn({ button: true });
        assert.not.ok(dfuUtilUpdate(b, BASE, OLD, pages), `${where}: the older image (version 1) is refused`);
        assert.is(b.mode, "bootloader", where);
        downgrades++;
      }
      b.powerOn({ button: true });
      assert.ok(dfuUtilUpdate(b, BASE, next, pages), `${where}: the repeated update succeeds`);
      b.powerOn();
      assert.ok(b.mode === "app" && imageIs(b, next), `${where}: the new image runs`);
    }
  }
  return { total, outcomes, downgrades };
}

test("a power cut at every flash operation of a signed update never runs a partial or unverified image", async () => {
  const { total, outcomes, downgrades } = await cutEverywhere([OLD], NEW, { before: 1, after: 2 }, 1);
  console.log(`signed power cuts: ${3 * total} cut points over ${total} flash operations: ${outcomes.old} old, ${outcomes.new} new, ${outcomes.dfu} DFU mode; ${downgrades} downgrades refused after a cut`);
  assert.ok(outcomes.dfu > 0 && outcomes.new > 0 && downgrades > 0);
});

test("the version floor survives a power cut anywhere in the next update (the record sectors are written in turn)", async () => {
  const { total, outcomes, downgrades } = await cutEverywhere([OLD, NEW], NEWER, { before: 2, after: 3 }, 5);
  console.log(`signed power cuts over a floor of 2: ${3 * total} cut points: ${outcomes.old} old, ${outcomes.new} new, ${outcomes.dfu} DFU mode; ${downgrades} downgrades to version 1 refused after a cut`);
  assert.ok(downgrades >= (3 * total) / 5 - 1, "a downgrade was tried after every fifth cut");
});

test.run();
