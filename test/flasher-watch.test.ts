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
import { readRecord, recordMatchesFlash } from "./lib/record";
import type { SimBoard } from "../sim/board";
import { fakeApp, appBase } from "./lib/images";
import { root } from "../tools/build-core";
import { StRomDfu } from "../sim/h750/st-rom-dfu";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import type { Target } from "../tools/cli/targets";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-watch-"));
const SECTOR = 4096;

function rng(seed: number) {
  let x = seed >>> 0;
  return () => { x = (x + 0x6d2b79f5) >>> 0; let t = x; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
}

/** Sectors of the image the board's flash does not hold (as the board would report by CRC). */
/** What the flasher has to send a board that holds what it holds: the sectors that differ, and
 *  the first and last sector too when the record does not vouch for this image (an update cut
 *  short, even one cut while the board verified an image it had in full). */
function toSend(b: SimBoard, image: Uint8Array): Set<number> {
  const out = missing(b, image);
  const sector = b.flash.data.length - SECTOR; // the H750's record sector
  const rec = readRecord(b.flash.data, sector, 0, sector);
  const vouches = rec.kind === "valid" && rec.base === 0 && recordMatchesFlash(b.flash.data, rec) &&
    rec.crc === crc32(0, (() => { const p = new Uint8Array(rec.length).fill(0xff); p.set(image.subarray(0, rec.length)); return p; })());
  if (out.size || !vouches) { out.add(0); out.add(Math.ceil(image.length / SECTOR) - 1); }
  return out;
}

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
    missingAtReplug.set(`${boards.indexOf(b)}#${n}`, toSend(b, image));
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

test("an H750 in ST's ROM bootloader: --watch installs qspiboot, the board starts it and comes back as a qspiboot board, and is flashed", async () => {
  const image = fakeApp("h750", 16 * 1024, 83);
  const qspiboot = readFileSync(join(root, "build/h750/qspiboot.bin"));
  const src = new SimSource();
  const { world } = src;
  const board = await src.add("h750", 0x200);
  // The board with BOOT0 held: ST's ROM (its model) on the bus. When the ROM jumps to what it
  // installed, the board is qspiboot with no image: in DFU mode by itself.
  const rom = new StRomDfu();
  const romTarget = await romSimTargetOf(rom);
  let inRom = true;
  const source = {
    scan: async () => {
      if (inRom && rom.jumpedTo !== undefined) { inRom = false; src.plug(board); }
      return [...(inRom ? [romTarget] : []), ...(await src.scan())];
    },
    wait: (ms: number) => src.wait(ms), now: () => src.now(),
  };
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  world.schedule(5e6, () => stop());
  const lines: string[] = [];
  const run = (install?: Uint8Array) => world.run(watch({
    source, load: () => [{ address: appBase("h750"), data: image }], leave: true, smart: true, force: false, stop: stopped, install,
    pollMs: 100, report: (l) => lines.push(l),
  }));
  const results = await run(new Uint8Array(qspiboot));
  assert.is(results.length, 2, lines.join("\n"));
  assert.ok(results[0].installed && results[0].ok && results[0].serial === romTarget.serial, lines[0]);
  assert.match(lines[0], /installed qspiboot \(\d+ bytes, verified\) in ST's ROM bootloader/);
  assert.equal(rom.flash.subarray(0, qspiboot.length), new Uint8Array(qspiboot), "qspiboot in the internal flash");
  assert.is(rom.jumpedTo, 0x08000000);
  assert.ok(results[1].ok && results[1].serial === src.serialOf(board), lines[1]);
  assert.is(board.mode, "app");

  // Without qspiboot's image to install: the ROM board gets an error line saying what it is.
  const src2 = new SimSource();
  const rom2 = new StRomDfu();
  const t2 = await romSimTargetOf(rom2);
  let stop2!: () => void;
  const stopped2 = new Promise<void>((r) => (stop2 = r));
  src2.world.schedule(1e6, () => stop2());
  const lines2: string[] = [];
  const r2 = await src2.world.run(watch({
    source: { scan: async () => [t2], wait: (ms) => src2.wait(ms), now: () => src2.now() },
    load: () => [{ address: appBase("h750"), data: image }], leave: true, smart: true, force: false, stop: stopped2,
    pollMs: 100, report: (l) => lines2.push(l),
  }));
  assert.is(r2.length, 1);
  assert.match(lines2[0], /error .*in ST's ROM bootloader .*`flash\.ts install` puts qspiboot on it/);
  assert.is(rom2.jumpedTo, undefined);
});

/** The ROM model as a watch target (what tools/cli/install.ts romSimTarget makes, for a given model). */
async function romSimTargetOf(rom: StRomDfu): Promise<Target> {
  const usb = new SimUsbDevice(rom);
  await usb.open();
  return { label: "ST ROM model", serial: usb.serialNumber ?? "", open: () => new DfuDevice(usb, { sleep: async (ms) => rom.sleep(ms), now: () => rom.nowMs }).open() };
}

test.run();
