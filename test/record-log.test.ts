// The record sector as a log of slots (boot/record-store.ts): each update adds a slot instead of
// erasing the sector, the sector is erased only when full, and (signed cores) a full sector
// hands over to the other one. Counted on the flash model: erases of the record sectors, what
// boots after every update; and a power cut at every flash operation of the update that finds
// the sector full (the one that erases it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard, loadCoreVariant } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { signWithKey } from "../tools/cli/keys";
import { crc32 } from "../tools/dfu/crc32";
import { dfuUtilUpdate, outcomeAfterCut, imageIs } from "./lib/power-cut";
import { fakeApp, pageSizeAt } from "./lib/images";
import { geometry, type Geometry } from "./lib/safety";
import { readBoardRecord, usedSlots } from "./lib/record";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from "./lib/test-key";

// The H750 keeps its record in the chip's last sector and reads it by command; the Pico in the
// last sector of the bootloader's 64 KiB, read at every boot through the XIP window before the
// chip is identified (boot/boot-read.ts), and DFU mode writes the next slot where that read said.
const BOARDS = {
  h750: { base: 0x90000000, at: 0, pages: pageSizeAt("h750", 8 << 20) },
  rp2040: { base: 0x10010000, at: 0x10000, pages: pageSizeAt("rp2040", 2 << 20) },
} as const;
type Board = keyof typeof BOARDS;
const SLOTS = 64;

async function make(board: Board, signed: boolean) {
  const b = await SimBoard.create({ board, timing: "instant", ...(signed ? { module: await loadCoreVariant({ signed: true }) } : {}) });
  if (signed) b.facts.publicKey = TEST_PUBLIC_KEY;
  return b;
}

function geometryOf(b: SimBoard): Geometry {
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  return geometry(host);
}

/** Image number i: small, different from its neighbours; signed with version i when `signed`. */
function image(board: Board, i: number, signed: boolean): Uint8Array {
  const img = fakeApp(board, 6000, 100 + (i % 7));
  return signed ? signWithKey([{ address: BOARDS[board].base, data: img }], TEST_PRIVATE_KEY, { version: i })[0].data : img;
}

/** Erases and programs inside the record sectors. */
function recordOps(b: SimBoard, g: Geometry) {
  const counts = { erases: 0, programs: 0 };
  const inRecord = (a: number) => [g.recordOffset, g.recordOffset2].some((r) => a >= r && a < r + g.sector);
  b.flash.chip.observer = (op) => {
    if (op.kind === "status" || !inRecord(op.start)) return;
    if (op.kind === "erase") counts.erases++; else counts.programs++;
  };
  return counts;
}

for (const board of Object.keys(BOARDS) as Board[]) for (const signed of [false, true]) {
  const what = `${board}, ${signed ? "signed" : "unsigned"}`;
  const { base: BASE, at: AT, pages } = BOARDS[board];
  const img = (i: number) => image(board, i, signed);
  test(`${what}: 140 updates add a slot each; the record sector is erased only when full; every image boots`, async () => {
    const b = await make(board, signed);
    const g = geometryOf(b);
    const ops = recordOps(b, g);
    let erasesSeen = 0;
    for (let i = 1; i <= 140; i++) {
      const before = { ...ops };
      b.powerOn({ button: true });
      assert.ok(dfuUtilUpdate(b, BASE, img(i), pages), `update ${i}`);
      b.powerOn();
      assert.ok(b.mode === "app" && imageIs(b, img(i), AT), `image ${i} boots`);
      const rec = readBoardRecord(b.flash.data, g);
      assert.is(rec.kind, "valid");
      assert.is(rec.crc, crc32(0, img(i)));
      if (signed) assert.is(rec.floor, i, `the floor follows the versions (${i})`);
      // One program for the invalidation and one for the new slot (the first update: an
      // UPDATING record and the VALID one); an erase only when a sector was full.
      assert.is(ops.programs - before.programs, 2, `update ${i}: two programs in the record sector`);
      erasesSeen += ops.erases - before.erases;
    }
    // Slots written: 141 (one UPDATING record, 140 VALID ones). One sector holds 64: a record
    // into a full sector (slots 64 and 128) is the only time one is erased. A signed core's
    // first hand-over goes into its second sector, blank still: one erase (at slot 128).
    assert.is(erasesSeen, signed ? 1 : 2, `record-sector erases in 140 updates (the old way: 141)`);
    if (signed) {
      assert.ok(usedSlots(b.flash.data, g.recordOffset) > 0 && usedSlots(b.flash.data, g.recordOffset2) > 0, "both sectors in use");
      b.powerOn({ button: true });
      assert.not.ok(dfuUtilUpdate(b, BASE, img(139), pages), "an older version is still refused after the hand-overs");
    }
  });

  test(`${what}: a power cut at every flash operation of the update that finds the record sector full`, async () => {
    // Updates until the next record needs an erase: 63 fill slots 0..63 of the sector; a signed
    // core goes on into its second sector (blank, no erase), full after 64 more.
    const fill = signed ? 127 : 63;
    const t = await make(board, signed);
    const g = geometryOf(t);
    for (let i = 1; i <= fill; i++) {
      t.powerOn({ button: true });
      assert.ok(dfuUtilUpdate(t, BASE, img(i), pages));
    }
    const slotsNow = usedSlots(t.flash.data, readBoardRecord(t.flash.data, g).at - (readBoardRecord(t.flash.data, g).at % g.sector));
    assert.is(slotsNow, SLOTS, "the sector is full");
    const template = t.flash.data.slice();
    const OLD = img(fill), NEW = img(fill + 1);
    const fresh = async () => { const b = await make(board, signed); b.flash.data.set(template); return b; };
    const ref = await fresh();
    const ops = recordOps(ref, g);
    ref.powerOn({ button: true });
    const start = ref.flash.modifyingOps();
    assert.ok(dfuUtilUpdate(ref, BASE, NEW, pages));
    const total = ref.flash.modifyingOps() - start;
    assert.is(ops.erases, 1, "this update erases a record sector");
    const outcomes = { old: 0, new: 0, dfu: 0 };
    for (let n = 0; n < total; n++) {
      for (const when of ["before", "during", "after"] as const) {
        const b = await fresh();
        b.powerOn({ button: true });
        b.flash.cutPowerAt(n, when);
        dfuUtilUpdate(b, BASE, NEW, pages);
        const where = `cut ${when} operation ${n} of ${total}`;
        const outcome = outcomeAfterCut(b, BASE, OLD, NEW, where, AT);
        outcomes[outcome]++;
        b.flash.cutPowerAt(-1, "before");
        if (signed) {
          const floor = readBoardRecord(b.flash.data, g).floor;
          assert.ok(floor === fill || floor === fill + 1, `${where}: the floor is ${floor}`);
        }
        b.powerOn({ button: true });
        assert.ok(dfuUtilUpdate(b, BASE, NEW, pages), `${where}: the repeated update succeeds`);
        b.powerOn();
        assert.ok(b.mode === "app" && imageIs(b, NEW, AT), `${where}: the new image runs`);
      }
    }
    console.log(`${what} record-sector wrap: ${3 * total} cut points: ${outcomes.old} old, ${outcomes.new} new, ${outcomes.dfu} DFU mode`);
    assert.ok(outcomes.new > 0 && outcomes.dfu > 0);
  });
}

test.run();
