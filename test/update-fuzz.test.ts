// Update safety under a structured, seeded fuzz of the DFU interface (test/lib/update-fuzz.ts):
// both boards, instant and datasheet-typical flash timings, the invariants checked after every
// step. `FUZZ_STEPS=1000000 FUZZ_SEED=7 npx tsx test/update-fuzz.test.ts` runs the long
// variant (FUZZ_BOARDS=rp2040, FUZZ_TIMINGS=typical pick; FUZZ_REPORT=1 prints the counts);
// a failing run prints its shrunk action sequence for a regression test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeActions, runActions, shrink } from "./lib/update-fuzz";
import type { BoardName } from "../sim/boards";
import type { FlashTiming } from "../sim/flash-setup";

const STEPS = Number(process.env.FUZZ_STEPS ?? 12_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x51ab);
const CHUNK = 20_000; // a fresh board every CHUNK steps: shorter runs to shrink, and each ends with a download

const BOARDS = (process.env.FUZZ_BOARDS ?? "h750,rp2040").split(",") as BoardName[];
const TIMINGS = (process.env.FUZZ_TIMINGS ?? "instant,typical").split(",") as FlashTiming[];

for (const board of BOARDS) {
  for (const timing of TIMINGS) {
    const steps = timing === "typical" ? Math.ceil(STEPS / 3) : STEPS;
    test(`${board}, ${timing} timing: ${steps} fuzzed steps keep every update-safety invariant`, async () => {
      const total: Record<string, number> = {};
      const t0 = Date.now();
      let states: Record<string, number> = {};
      for (let done = 0, run = 0; done < steps; done += CHUNK, run++) {
        const n = Math.min(CHUNK, steps - done);
        const seed = (SEED * 7919 + run * 104729 + (timing === "typical" ? 1 : 0)) >>> 0;
        const actions = makeActions(board, seed, n);
        const r = await runActions(board, timing, actions);
        for (const [k, v] of Object.entries({ ...r.counts, ...prefix(r.watch, "flash:"), "control transfers": r.requests })) total[k] = (total[k] ?? 0) + v;
        states = merge(states, r.states);
        if (r.violations.length) {
          const upTo = actions.slice(0, r.failedAt + 1);
          const small = await shrink(board, timing, upTo);
          assert.unreachable(`seed ${seed}, action ${r.failedAt}: ${r.violations.join("; ")}\nshrunk to ${small.length} actions:\n${JSON.stringify(small)}`);
        }
      }
      if (process.env.FUZZ_REPORT) console.log(board, timing, `${((Date.now() - t0) / 1000).toFixed(0)} s`, JSON.stringify(total), "states", JSON.stringify(states));
      // The fuzz reaches what it is for: every DFU state, manifestations, boots, power cuts.
      for (const s of [2, 3, 4, 5, 7, 9, 10]) assert.ok((states[s] ?? 0) > 0, `state ${s} seen by GETSTATUS (${JSON.stringify(states)})`);
      assert.ok(total["flash:boots"] > 0 && total["flash:recordWrites"] > 0, `boots and record writes: ${JSON.stringify(total)}`);
      assert.ok(total["req:stall"] > 0 && total["req:ok"] > 0);
    });
  }
}

function prefix(o: Record<string, number>, p: string) { return Object.fromEntries(Object.entries(o).map(([k, v]) => [p + k, v])); }
function merge(a: Record<string, number>, b: Record<string, number>) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

test.run();
