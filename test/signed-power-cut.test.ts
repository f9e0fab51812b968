// test/power-cut.test.ts for a board built with a key: cut power before, during and after every
// flash operation of a signed update (dfu-util's sequence) over a signed image, and check that
// the board runs the old or the new image intact or stays in DFU mode, never a partial or
// unverified one, and that the update done again succeeds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard, loadCoreVariant } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { signWithKey } from "../tools/cli/keys";
import { DfuRequests, ST } from "./lib/dfu-requests";
import { dfuUtilUpdate, outcomeAfterCut, imageIs } from "./lib/power-cut";
import { fakeApp, pageSizeAt } from "./lib/images";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from "./lib/test-key";

const BASE = 0x90000000;
const pages = pageSizeAt("h750", 8 << 20);
const sign = (img: Uint8Array, version: number) => signWithKey([{ address: BASE, data: img }], TEST_PRIVATE_KEY, { version })[0].data;
// 40 KB images that differ everywhere, each with its trailer.
const OLD = sign(fakeApp("h750", 40_000, 31), 1);
const NEW = sign(fakeApp("h750", 40_000, 32), 2);

function update(b: SimBoard): boolean { return dfuUtilUpdate(b, BASE, NEW, pages); }

let template: Uint8Array;
async function boardWithOld(): Promise<SimBoard> {
  const b = await SimBoard.create({ board: "h750", timing: "instant", module: await loadCoreVariant({ signed: true }) });
  b.facts.publicKey = TEST_PUBLIC_KEY;
  if (!template) {
    b.powerOn({ button: true });
    const host = new SimUsbHost(b);
    host.enumerate();
    assert.is(new DfuRequests(host).dfuUtilDownload(BASE, OLD, pages).state, ST.dfuMANIFEST);
    b.step();
    assert.is(b.mode, "app", "OLD is taken");
    template = b.flash.data.slice();
  }
  b.flash.data.set(template);
  return b;
}

const checkAfterCut = (b: SimBoard, where: string) => outcomeAfterCut(b, BASE, OLD, NEW, where);

test("a power cut at every flash operation of a signed update never runs a partial or unverified image", async () => {
  const ref = await boardWithOld();
  ref.powerOn({ button: true });
  const before = ref.flash.modifyingOps();
  assert.ok(update(ref), "reference update");
  const total = ref.flash.modifyingOps() - before;
  const outcomes = { old: 0, new: 0, dfu: 0 };
  for (let n = 0; n < total; n++) {
    for (const when of ["before", "during", "after"] as const) {
      const b = await boardWithOld();
      b.powerOn({ button: true });
      b.flash.cutPowerAt(n, when);
      update(b);
      const where = `cut ${when} operation ${n} of ${total}`;
      outcomes[checkAfterCut(b, where)]++;
      b.flash.cutPowerAt(-1, "before");
      b.powerOn({ button: true });
      assert.ok(update(b), `${where}: the repeated update succeeds`);
      b.powerOn();
      assert.ok(b.mode === "app" && imageIs(b, NEW), `${where}: the new image runs`);
    }
  }
  console.log(`signed power cuts: ${3 * total} cut points over ${total} flash operations: ${outcomes.old} old, ${outcomes.new} new, ${outcomes.dfu} DFU mode`);
  assert.ok(outcomes.dfu > 0 && outcomes.new > 0);
});

test.run();
