// Update safety for the UF2 drive, as test/power-cut.test.ts does it for DFU: a copy of NEW over a
// recorded OLD, with the power cut before, in the middle of and after every flash operation the
// copy makes; then power on and check that the board runs OLD or NEW intact or stays in the
// bootloader, never a partial image, and that the copy done again succeeds. The invariants of
// test/lib/safety.ts are watched throughout (writes only in the application region and the
// record sector; a VALID record always matches the flash; boots only into vouched-for images).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { SimBoard } from "../sim/board";
import { fakeApp, appBase } from "./lib/images";
import { geometry, SafetyWatch, type Geometry } from "./lib/safety";
import {
  attach, changedSectors, copyOnto, flashHolds, mountView, runs, uf2Board, uf2Of, type Drive, type SectorWrite,
} from "./lib/uf2-drive";

const BOARD = "rp2040" as const;
// 68 KiB images that differ everywhere: a 64 KiB block (erased whole) and the sectors after it
// (erased one by one), every page programmed.
const OLD = fakeApp(BOARD, 68 * 1024 + 100, 21);
const NEW = fakeApp(BOARD, 68 * 1024 + 100, 22);

let template: Uint8Array;
let writes: SectorWrite[];
let geo: Geometry;

/** A board holding OLD (copied through the drive), in bootloader mode, drive ready. */
async function boardWithOld(): Promise<Drive> {
  const d = await uf2Board(BOARD, { timing: "instant" });
  if (!template) {
    const view = mountView(d.msc);
    const w = runs(changedSectors(view, copyOnto(view, [{ name: "OLD.UF2", data: uf2Of(BOARD, OLD) }])).sort((a, b) => a.lba - b.lba));
    for (const x of w) d.msc.write(x.lba, x.data);
    d.host.sleep(1500);
    assert.ok(flashHolds(d.b, BOARD, OLD), "OLD copied");
    template = d.b.flash.data.slice();
    d.b.powerOn({ button: true });
    const again = attach(d.b);
    geo = geometry(again.host);
    // What the OS writes to copy NEW over the drive that shows OLD as CURRENT.UF2: FAT first.
    const v = mountView(again.msc);
    writes = runs(changedSectors(v, copyOnto(v, [{ name: "NEW.UF2", data: uf2Of(BOARD, NEW) }])).sort((a, b) => a.lba - b.lba));
    return again;
  }
  d.b.flash.data.set(template);
  d.b.powerOn({ button: true });
  return attach(d.b);
}

/** Replay the copy of NEW; false when the board lost power on the way. */
function copyNew(d: Drive): boolean {
  for (const w of writes) {
    if (d.b.mode !== "bootloader") break;
    try { d.msc.write(w.lba, w.data); } catch (e) { if (d.b.mode === "off") return false; throw e; }
  }
  if (d.b.mode === "off") return false;
  d.host.sleep(1500);
  return d.b.mode === "app";
}

function checkAfterCut(b: SimBoard, where: string): "old" | "new" | "dfu" {
  b.powerOn();
  if (b.mode === "app") {
    assert.is(b.appEntry, appBase(BOARD), where);
    if (flashHolds(b, BOARD, NEW)) return "new";
    if (flashHolds(b, BOARD, OLD)) return "old";
    assert.unreachable(`${where}: the board jumped into an image that is neither the old nor the new one`);
  }
  assert.is(b.mode, "bootloader", where);
  return "dfu";
}

test("a power cut before, during or after every flash operation of a UF2 copy never runs a partial image", async () => {
  const ref = await boardWithOld();
  const before = ref.b.flash.modifyingOps();
  assert.ok(copyNew(ref), "reference copy");
  assert.ok(flashHolds(ref.b, BOARD, NEW));
  const total = ref.b.flash.modifyingOps() - before;
  assert.ok(total > 50, `a copy has many flash operations (${total})`);

  const outcomes = { old: 0, new: 0, dfu: 0 };
  let cuts = 0;
  for (let n = 0; n < total; n++) {
    for (const when of ["before", "during", "after"] as const) {
      const d = await boardWithOld();
      const watch = new SafetyWatch(d.b, geo);
      d.b.flash.cutPowerAt(n, when);
      const done = copyNew(d);
      assert.ok(d.b.mode === "off" || done, `cut ${when} operation ${n} happened`);
      const where = `cut ${when} operation ${n} of ${total}`;
      watch.check(where);
      const outcome = checkAfterCut(d.b, where);
      watch.check(`${where}, power on`);
      outcomes[outcome]++;
      cuts++;
      d.b.flash.cutPowerAt(-1, "before");
      d.b.powerOn({ button: true });
      assert.ok(copyNew(attach(d.b)), `${where}: the copy done again succeeds`);
      watch.check(`${where}, copied again`);
      assert.ok(flashHolds(d.b, BOARD, NEW), `${where}: NEW runs after the repeated copy`);
      assert.equal(watch.violations, [], where);
      watch.detach();
    }
  }
  console.log(`UF2 power cuts: ${cuts} cut points over ${total} flash operations: ` +
    `${outcomes.old} booted the old image, ${outcomes.new} the new one, ${outcomes.dfu} stayed in the bootloader`);
  assert.is(cuts, 3 * total);
  assert.ok(outcomes.dfu > 0 && outcomes.new > 0, "both the bootloader and the new image occur");
});

test.run();
