// flash --watch, the production line: simulated boards plugged in and pulled out at seeded
// random simulated times while others are being flashed (tools/cli/sim-source.ts keeps their
// clocks in step). Every appearance gets one result line; a board pulled out mid-flash gets an
// error naming it, and when it comes back only the sectors it is missing are sent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimSource } from "../tools/cli/sim-source";
import { watch, type WatchResult } from "../tools/cli/watch";
import { crc32 } from "../tools/dfu/crc32";
import type { SimBoard } from "../sim/board";
import { fakeApp, appBase } from "./lib/images";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-watch-"));
const SECTOR = 4096;

function rng(seed: number) {
  let x = seed >>> 0;
  return () => { x = (x + 0x6d2b79f5) >>> 0; let t = x; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
}

/** Sectors of the image the board's flash does not hold (as the board would report by CRC). */
function missing(b: SimBoard, image: Uint8Array): Set<number> {
  const out = new Set<number>();
  for (let s = 0; s * SECTOR < image.length; s++) {
    const want = new Uint8Array(SECTOR).fill(0xff);
    want.set(image.subarray(s * SECTOR, (s + 1) * SECTOR));
    if (crc32(0, b.flash.data.subarray(s * SECTOR, (s + 1) * SECTOR)) !== crc32(0, want)) out.add(s);
  }
  return out;
}

test("16 boards coming and going: one result per appearance, unplugged ones resume with only the missing sectors", async () => {
  const image = fakeApp("h750", 100 * 1024, 81);
  const sectors = Math.ceil(image.length / SECTOR);
  const log = join(dir, "watch.jsonl");
  const src = new SimSource();
  const { world } = src;
  const boards: SimBoard[] = [];
  for (let i = 0; i < 16; i++) boards.push(await src.add("h750", 0x100 + i));
  const serialOf = new Map<SimBoard, string>();

  // What the test knows of each board, from its side of the cable.
  const appearances = new Map<SimBoard, number>();
  const pulledInDfu = new Map<SimBoard, number>(); // pulled out in DFU mode: appearance number
  const missingAtReplug = new Map<string, Set<number>>(); // `${board}#${appearance}` -> missing sectors
  const plug = (b: SimBoard, button: boolean) => {
    src.plug(b, { button });
    if (!src.inDfu(b)) return;
    const n = (appearances.get(b) ?? 0) + 1;
    appearances.set(b, n);
    missingAtReplug.set(`${boards.indexOf(b)}#${n}`, missing(b, image));
  };
  const unplug = (b: SimBoard) => {
    if (src.inDfu(b)) pulledInDfu.set(b, appearances.get(b)!);
    src.unplug(b);
  };

  // The schedule (µs): every board plugged in within 4 s (blank: DFU mode by itself). The watch
  // looks every 100 ms and a flash takes about 0.3 s (simulated): six boards are pulled out
  // 0.11-0.28 s after they were plugged in, in the middle of their flash, and plugged back
  // 0.5-2.5 s later (no button: an interrupted update keeps them in DFU mode); five come back
  // later with the button held, to be flashed again.
  const r = rng(18);
  const s = (sec: number) => sec * 1e6;
  const order = boards.map((b) => ({ b, k: r() })).sort((a, b) => a.k - b.k).map((x) => x.b);
  let last = 0;
  for (const [i, b] of order.entries()) {
    const t0 = s(4 * r());
    world.schedule(t0, () => plug(b, false));
    if (i < 6) {
      const out = t0 + s(0.11 + 0.17 * r()), back = out + s(0.5 + 2 * r());
      world.schedule(out, () => unplug(b));
      world.schedule(back, () => plug(b, false));
      last = Math.max(last, back);
    } else if (i < 11) {
      const again = t0 + s(6 + 4 * r());
      world.schedule(again, () => unplug(b));
      world.schedule(again + s(0.2), () => plug(b, true));
      last = Math.max(last, again);
    }
  }
  let stop!: () => void;
  const stopped = new Promise<void>((res) => (stop = res));
  world.schedule(last + s(8), () => stop());

  const lines: string[] = [];
  const results = await world.run(watch({
    source: src, load: () => [{ address: appBase("h750"), data: image }], leave: true, smart: true, force: false,
    log, stop: stopped, pollMs: 100, date: () => new Date(Date.UTC(2026, 0, 1) + world.now / 1000),
    report: (line) => lines.push(line),
  }));

  console.log(lines.join("\n"));
  const total = [...appearances.values()].reduce((a, n) => a + n, 0);
  const ok = results.filter((x) => x.ok), failed = results.filter((x) => !x.ok);
  console.log(`${boards.length} boards, ${total} appearances, ${ok.length} ok, ${failed.length} errors`);
  assert.is(results.length, total, "one result per appearance");
  assert.is(lines.length, total, "one line per result");
  for (const b of boards) {
    const serial = src.serialOf(b)!;
    const mine = results.filter((x) => x.serial === serial);
    assert.equal(mine.map((x) => x.appearance), [...Array(appearances.get(b)).keys()].map((i) => i + 1), `${serial}: one result per appearance, in order`);
    for (const res of mine) {
      const line = lines[results.indexOf(res)];
      assert.ok(line.startsWith(serial), line);
      if (pulledInDfu.get(b) === res.appearance) {
        assert.not.ok(res.ok, `${serial} #${res.appearance} was pulled out mid-flash`);
        assert.match(res.error!, new RegExp(`^${serial} went away in the middle \\(unplugged or reset\\)`));
        assert.match(line, /error/);
        assert.is(res.exitCode, 7, "exit status 7: the board went away in the middle");
        continue;
      }
      assert.ok(res.ok, `${serial} #${res.appearance}: ${res.error}`);
      assert.is(res.sectorsTotal, sectors);
      const want = missingAtReplug.get(`${boards.indexOf(b)}#${res.appearance}`)!;
      // The record no longer vouches for the image (interrupted, or a button boot after a
      // valid one keeps it: then nothing is sent): the first and last sector go again.
      if (want.size) { want.add(0); want.add(sectors - 1); }
      assert.is(res.sectorsSent, want.size, `${serial} #${res.appearance}: only the sectors it did not hold`);
      const padded = new Uint8Array(sectors * SECTOR).fill(0xff);
      padded.set(image);
      assert.is(res.imageCrc, crc32(0, padded), "the CRC the board recorded is the image's");
    }
    // Whatever happened on the way, the board ends running the image.
    assert.is(b.mode, "app", `${serial} ends in its application`);
    assert.equal(b.flash.data.subarray(0, image.length), image);
  }
  // A board pulled out in the middle is flashed when it comes back in DFU mode, with only what
  // it is missing (checked above). One pulled out while it recorded a complete image starts that
  // image when plugged back (it does not come back in DFU mode, and runs the image: checked above).
  const back = failed.map((f) => results.find((x, i) => i > results.indexOf(f) && x.serial === f.serial)).filter((x) => x);
  assert.ok(back.length >= 3, `boards pulled out mid-flash came back (${back.length})`);
  assert.ok(back.every((x) => x!.ok && x!.sectorsSent < sectors), "and were completed, with less than the whole image");
  console.log(`pulled out mid-flash: ${failed.length} (${failed.map((f) => `${f.sectorsSent}`).join(", ")} sectors written); ` +
    `${back.length} came back in DFU mode and were sent ${back.map((x) => x!.sectorsSent).join(", ")} of ${sectors} sectors`);

  const json = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as WatchResult);
  assert.is(json.length, total, "one JSON line per result");
  assert.equal(json.map((j) => [j.serial, j.ok, j.sectorsSent]), results.map((x) => [x.serial, x.ok, x.sectorsSent]));
  assert.ok(json.every((j) => !Number.isNaN(Date.parse(j.time))), "each with a timestamp");
});

test.run();
