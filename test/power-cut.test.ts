// Update safety: cut power before, in the middle of (half the bytes done) and after every flash operation of an update (each erase,
// page program, status-register write and record write), boot again, and check the invariants:
// the board enters DFU mode or boots a complete, correct image, never a partial one, and a
// repeated update then succeeds. Then random multiple cuts during the repeated update.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { DfuRequests, Rng, ST } from "./lib/dfu-requests";
import { dfuUtilUpdate, outcomeAfterCut, imageIs } from "./lib/power-cut";
import { fakeApp, pageSizeAt } from "./lib/images";

const BASE = 0x90000000;
const pages = pageSizeAt("h750", 8 << 20);
// Two 70 KiB images: the update crosses a 64 KiB block boundary, so it uses both erase sizes'
// paths, and the old and new image differ everywhere.
const OLD = fakeApp("h750", 70_000, 101);
const NEW = fakeApp("h750", 70_000, 202);

function update(b: SimBoard): boolean { return dfuUtilUpdate(b, BASE, NEW, pages); }

/** A board holding OLD with a valid record. */
let template: Uint8Array;
async function boardWithOld(): Promise<SimBoard> {
  // Instant flash timings: what is checked here is order, not speed, and it is 7x faster.
  const b = await SimBoard.create({ board: "h750", timing: "instant" });
  if (!template) {
    b.powerOn();
    const host = new SimUsbHost(b);
    host.enumerate();
    const s = new DfuRequests(host).dfuUtilDownload(BASE, OLD, pages);
    assert.is(s.state, ST.dfuMANIFEST);
    template = b.flash.data.slice();
  }
  b.flash.data.set(template);
  return b;
}

const checkAfterCut = (b: SimBoard, where: string) => outcomeAfterCut(b, BASE, OLD, NEW, where);

test("a power cut before, during or after every flash operation of an update never runs a partial image", async () => {
  // Count the operations of an uninterrupted update.
  const ref = await boardWithOld();
  ref.powerOn({ button: true });
  const before = ref.flash.modifyingOps();
  assert.ok(update(ref), "reference update");
  const total = ref.flash.modifyingOps() - before;
  assert.ok(total > 20, `an update has many flash operations (${total})`);

  const outcomes = { old: 0, new: 0, dfu: 0 };
  let cuts = 0;
  for (let n = 0; n < total; n++) {
    for (const when of ["before", "during", "after"] as const) {
      const b = await boardWithOld();
      b.powerOn({ button: true });
      b.flash.cutPowerAt(n, when);
      const done = update(b);
      assert.ok(!done || b.mode === "app", "no cut: still a good update");
      assert.is(b.mode === "off" || done, true, `cut ${when} operation ${n} happened`);
      cuts++;
      const where = `cut ${when} operation ${n} of ${total}`;
      const outcome = checkAfterCut(b, where);
      outcomes[outcome]++;
      // Whatever happened, a repeated update succeeds and runs the new image.
      if (outcome !== "dfu") b.powerOn({ button: true });
      assert.ok(update(b), `${where}: the repeated update succeeds`);
      b.powerOn();
      assert.is(b.mode, "app");
      assert.ok(imageIs(b, NEW), `${where}: the new image runs after the repeated update`);
    }
  }
  console.log(`power cuts: ${cuts} cut points over ${total} flash operations: ` +
    `${outcomes.old} booted the old image, ${outcomes.new} the new one, ${outcomes.dfu} stayed in DFU mode`);
  assert.is(cuts, 3 * total);
  assert.ok(outcomes.dfu > 0 && outcomes.old > 0 && outcomes.new > 0, "all three outcomes occur");
});

test("random multiple cuts during repeated updates: the board always recovers", async () => {
  const rng = new Rng(77);
  const b = await boardWithOld();
  for (let round = 0; round < 30; round++) {
    b.powerOn({ button: true });
    const cutsThisRound = 1 + rng.int(3);
    for (let c = 0; c < cutsThisRound; c++) {
      b.flash.cutPowerAt(rng.int(300), (["before", "during", "after"] as const)[rng.int(3)]);
      update(b);
      checkAfterCut(b, `round ${round} cut ${c}`);
      b.powerOn({ button: true });
    }
    b.flash.cutPowerAt(-1, "before"); // no more cuts
    assert.ok(update(b), `round ${round}: the update completes`);
    b.powerOn();
    assert.is(b.mode, "app");
    assert.ok(imageIs(b, NEW));
  }
});

test.run();
