// The UF2 drive end to end in the Wasm simulator: the drive's file system checked by fsck.fat
// and mtools on images read from it, copies replayed as the operating systems write them
// (the writes themselves made by mtools' FAT code), and what the board does with them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BOARDS, type BoardName } from "../sim/boards";
import { SimBoard, loadUf2Core } from "../sim/board";
import { parseUf2 } from "../tools/image/uf2";
import { fakeApp, appBase } from "./lib/images";
import { Rng } from "./lib/dfu-requests";
import { readRecord } from "./lib/record";
import { geometry, SafetyWatch } from "./lib/safety";
import {
  attach, changedSectors, copyOnto, flashHolds, mountView, mtools, readWholeDrive, replay, runs, uf2Board, uf2Of,
  type Drive, type SectorWrite,
} from "./lib/uf2-drive";

function withImageFile<T>(image: Uint8Array, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-drive-"));
  try {
    const p = join(dir, "drive.img");
    writeFileSync(p, image);
    return fn(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fsck(path: string): { code: number; out: string } {
  const r = spawnSync("fsck.fat", ["-n", "-v", path], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

function record(d: Drive) {
  const g = geometry(d.host);
  return readRecord(d.b.flash.data, g.recordOffset, g.appStart, g.appEnd);
}

/** Copy `name` with `data` as an OS does, writes in the order `order` puts them. */
function osCopy(d: Drive, files: { name: string; data: Uint8Array }[], order: (w: SectorWrite[], view: Uint8Array) => SectorWrite[], prepare?: Parameters<typeof copyOnto>[2]) {
  const view = mountView(d.msc);
  const after = copyOnto(view, files, prepare);
  const writes = order(changedSectors(view, after), view);
  const r = replay(d, writes);
  d.host.sleep(1500); // the drive starts the image a moment after the copy
  return { ...r, writes };
}

const dataStart = (view: Uint8Array) => { const v = new DataView(view.buffer, view.byteOffset); return v.getUint16(14, true) + view[16] * v.getUint16(22, true) + (v.getUint16(17, true) * 32) / 512; };
// Linux flushes its dirty buffers in block order: FAT, directory, then the data.
const fatFirst = (w: SectorWrite[]) => runs([...w].sort((a, b) => a.lba - b.lba));
// macOS writes a file's data, then the FAT and the directory.
const dataFirst = (w: SectorWrite[], view: Uint8Array) => {
  const ds = dataStart(view);
  return runs([...w.filter((x) => x.lba >= ds), ...w.filter((x) => x.lba < ds)]);
};
// Windows: the directory entry first, the data, then FAT and directory again.
const windowsOrder = (w: SectorWrite[], view: Uint8Array) => {
  const ds = dataStart(view);
  const meta = w.filter((x) => x.lba < ds);
  return [...runs(meta.filter((x) => x.lba >= ds - 32)), ...runs(w.filter((x) => x.lba >= ds), 128), ...runs(meta)];
};

for (const board of ["rp2040", "h750"] as BoardName[]) {
  test(`${board}: a blank board's drive passes fsck.fat; mtools lists and reads its three files`, async () => {
    const d = await uf2Board(board);
    const image = readWholeDrive(d.msc);
    assert.is(image.length, 64 << 20);
    withImageFile(image, (p) => {
      const f = fsck(p);
      assert.is(f.code, 0, f.out);
      assert.not.match(f.out, /differ|Wrong|invalid|error/i);
      const dir = mtools("mdir", p, ["-b", "::"]);
      assert.equal(dir.trim().split("\n").map((l) => l.replace(/^::\//, "")).sort(), ["CURRENT.UF2", "INDEX.HTM", "INFO_UF2.TXT"]);
      const info = mtools("mtype", p, ["::INFO_UF2.TXT"]);
      assert.match(info, /^UF2 Bootloader qspiboot \d\.\d\d\r\n/);
      assert.match(info, `Model: ${BOARDS[board].name}\r\n`);
      assert.match(info, `Family: 0x${BOARDS[board].uf2Family.toString(16).toUpperCase().padStart(8, "0")}\r\n`);
      assert.match(info, /Flash: \d+ KiB, JEDEC ID 0x[0-9A-F]{8}\r\n/);
      assert.match(info, "Image: none recorded");
      assert.match(mtools("mtype", p, ["::INDEX.HTM"]), /README\.md/);
      assert.is(mtools("mtype", p, ["::CURRENT.UF2"]), "", "nothing recorded: CURRENT.UF2 is empty");
    });
  });

  test(`${board}: copying a .uf2 (FAT first, as Linux writes) flashes, records and starts it`, async () => {
    const d = await uf2Board(board);
    const app = fakeApp(board, 20_000, 3);
    const r = osCopy(d, [{ name: "APP.UF2", data: uf2Of(board, app) }], fatFirst);
    assert.ok(r.statuses.every((s) => s === 0), `every WRITE passed: ${r.statuses}`);
    assert.is(d.b.mode, "app", "the image started");
    assert.is(d.b.appEntry, appBase(board));
    assert.ok(flashHolds(d.b, board, app));
    d.b.powerOn({ button: true });
    const rec = record(attach(d.b));
    assert.is(rec.kind, "valid");
    assert.is(rec.length, app.length);
    d.b.powerOn();
    assert.is(d.b.mode, "app", "and it boots on its own");
  });
}

test("INDEX.HTM sends the browser to the web page when the build names one (--web-url)", async () => {
  const b = await SimBoard.create({ board: "h750", module: await loadUf2Core() });
  b.facts.webUrl = "https://example.org/qspiboot/";
  b.powerOn({ button: true });
  const d = attach(b);
  const image = mountView(d.msc);
  image.set(d.msc.read(161, 16), 161 * 512);
  withImageFile(image, (p) => {
    assert.match(mtools("mtype", p, ["::INDEX.HTM"]), '<meta http-equiv=refresh content="0; url=https://example.org/qspiboot/">');
  });
});

test("macOS order (data before FAT and directory), with its hidden folders and AppleDouble file", async () => {
  const d = await uf2Board("rp2040");
  const app = fakeApp("rp2040", 40_000, 5);
  const r = osCopy(d, [{ name: "._APP.UF2", data: new Uint8Array(4096).fill(0x41) }, { name: "APP.UF2", data: uf2Of("rp2040", app) }], dataFirst, (img) => {
    mtools("mmd", img, ["::.fseventsd"]);
    mtools("mmd", img, ["::.Trashes"]);
  });
  assert.ok(r.statuses.every((s) => s === 0));
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "rp2040", app));
  // The FAT and directory writes after the data came while the board was still there.
  assert.is(r.gone, 0, "the drive stays until the host has written its metadata");
});

test("Windows order (directory entry, data, FAT and directory again) on the H750", async () => {
  const d = await uf2Board("h750");
  const app = fakeApp("h750", 70_000, 6);
  const r = osCopy(d, [{ name: "FIRMWARE.UF2", data: uf2Of("h750", app) }], windowsOrder);
  assert.ok(r.statuses.every((s) => s === 0));
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "h750", app));
});

test("blocks out of order and written more than once still make the image", async () => {
  const rng = new Rng(9);
  const d = await uf2Board("rp2040");
  const app = fakeApp("rp2040", 64_000, 7);
  const r = osCopy(d, [{ name: "APP.UF2", data: uf2Of("rp2040", app) }], (w) => {
    const s = [...w];
    for (let i = s.length - 1; i > 0; i--) { const j = rng.int(i + 1); [s[i], s[j]] = [s[j], s[i]]; }
    const dup = s.filter(() => rng.int(5) === 0);
    return [...s.slice(0, s.length >> 1), ...dup, ...s.slice(s.length >> 1)].map((x) => ({ ...x }));
  });
  assert.ok(r.statuses.every((s) => s === 0));
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "rp2040", app));
});

test("after a copy, CURRENT.UF2 reads back the recorded image; the drive still passes fsck.fat", async () => {
  const d = await uf2Board("rp2040");
  const app = fakeApp("rp2040", 30_001, 8);
  osCopy(d, [{ name: "APP.UF2", data: uf2Of("rp2040", app) }], fatFirst);
  assert.is(d.b.mode, "app");
  d.b.powerOn({ button: true });
  const again = attach(d.b);
  const image = readWholeDrive(again.msc);
  withImageFile(image, (p) => {
    const f = fsck(p);
    assert.is(f.code, 0, f.out);
    assert.match(mtools("mtype", p, ["::INFO_UF2.TXT"]), "Image: 30001 bytes recorded");
    const dir = mkdtempSync(join(tmpdir(), "qspiboot-cur-"));
    try {
      mtools("mcopy", p, ["::CURRENT.UF2", join(dir, "current.uf2")]);
      const uf2 = new Uint8Array(readFileSync(join(dir, "current.uf2")));
      const segs = parseUf2("current.uf2", uf2, BOARDS.rp2040.uf2Family);
      assert.is(segs.length, 1);
      assert.is(segs[0].address, appBase("rp2040"));
      assert.equal([...segs[0].data.subarray(0, app.length)], [...app]);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

test("the same image copied again rewrites no sector of it; a changed one rewrites only what changed", async () => {
  const d = await uf2Board("h750");
  const app = fakeApp("h750", 64 * 1024, 10);
  osCopy(d, [{ name: "APP.UF2", data: uf2Of("h750", app) }], fatFirst);
  assert.is(d.b.mode, "app");
  const ops: { kind: string; start: number; length: number }[] = [];
  d.b.powerOn({ button: true });
  const again = attach(d.b);
  const geo = geometry(again.host);
  d.b.flash.chip.observer = (op) => ops.push(op);
  osCopy(again, [{ name: "APP.UF2", data: uf2Of("h750", app) }], fatFirst);
  assert.is(d.b.mode, "app");
  const inImage = ops.filter((o) => o.kind !== "status" && o.start >= geo.appStart && o.start < geo.appStart + app.length);
  assert.equal(inImage, [], "no erase or program in the unchanged image");

  const changed = app.slice();
  changed[40_000] ^= 0xff;
  ops.length = 0;
  d.b.powerOn({ button: true });
  osCopy(attach(d.b), [{ name: "APP.UF2", data: uf2Of("h750", changed) }], fatFirst);
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "h750", changed));
  const erases = ops.filter((o) => o.kind === "erase" && o.start >= geo.appStart && o.start < geo.appStart + app.length);
  assert.is(erases.length, 1, "one sector erased");
  assert.ok(erases[0].start <= 40_000 && erases[0].start + erases[0].length > 40_000);
});

test("a second file copied over an unfinished first one: the second is what runs", async () => {
  const d = await uf2Board("rp2040");
  const a = fakeApp("rp2040", 50_000, 11), b = fakeApp("rp2040", 50_000, 12);
  // Half of A's data arrives, then the host copies B (same size: same number of blocks).
  const view = mountView(d.msc);
  const wa = changedSectors(view, copyOnto(view, [{ name: "A.UF2", data: uf2Of("rp2040", a) }]));
  const ds = wa.filter((w) => w.lba >= 161);
  replay(d, runs(ds.slice(0, ds.length >> 1)));
  assert.is(d.b.mode, "bootloader");
  osCopy(d, [{ name: "B.UF2", data: uf2Of("rp2040", b) }], fatFirst);
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "rp2040", b));
});

test("a port reset mid-copy (a host's error recovery): the copy done again completes", async () => {
  const d = await uf2Board("h750");
  const app = fakeApp("h750", 90_000, 19);
  const view = mountView(d.msc);
  const w = runs(changedSectors(view, copyOnto(view, [{ name: "APP.UF2", data: uf2Of("h750", app) }])).filter((x) => x.lba >= 161), 16);
  replay(d, w.slice(0, w.length >> 1));
  assert.is(d.host.reset(), "ok", "reset and enumerated again");
  d.host.sleep(500);
  assert.is(d.b.mode, "bootloader", "nothing runs while the copy is unfinished");
  osCopy(d, [{ name: "APP.UF2", data: uf2Of("h750", app) }], fatFirst);
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "h750", app));
});

test("a file for another chip family is accepted and dropped: nothing is written", async () => {
  const d = await uf2Board("rp2040");
  const ops: unknown[] = [];
  d.b.flash.chip.observer = (op) => ops.push(op);
  const r = osCopy(d, [{ name: "H7.UF2", data: uf2Of("rp2040", fakeApp("rp2040", 20_000, 13), appBase("rp2040"), BOARDS.h750.uf2Family) }], fatFirst);
  assert.ok(r.statuses.every((s) => s === 0), "the OS sees a normal copy");
  assert.is(d.b.mode, "bootloader");
  assert.equal(ops, [], "the flash is untouched");
  assert.is(record(d).kind, "none");
});

test("blocks outside the application region are refused with DATA PROTECT, nothing is written there", async () => {
  const d = await uf2Board("rp2040");
  const g = geometry(d.host);
  const watch = new SafetyWatch(d.b, g);
  // The bootloader's own 64 KiB (0x10000000) is not the application's to write.
  const bad = uf2Of("rp2040", fakeApp("rp2040", 8192, 14), BOARDS.rp2040.flashBase);
  const r = osCopy(d, [{ name: "BOOT.UF2", data: bad }], fatFirst);
  assert.ok(r.statuses.some((s) => s === 1), "the write of those blocks failed");
  assert.is(d.b.mode, "bootloader");
  watch.check("after the refused copy");
  assert.equal(watch.violations, []);
  assert.ok(d.b.flash.data.subarray(0, 0x10000).every((x, i) => x === d.b.flash.data[i]));
  // The refusal is the sense of the failed WRITE itself.
  const one = bad.subarray(0, 512);
  assert.is(d.msc.write(1000, one).status, 1);
  assert.equal(d.msc.requestSense(), { key: 0x07, asc: 0x27, ascq: 0 });
});

test("torn blocks (a bad final magic) are not blocks: the copy never completes and nothing is recorded", async () => {
  const d = await uf2Board("rp2040");
  const uf2 = uf2Of("rp2040", fakeApp("rp2040", 20_000, 15));
  uf2[7 * 512 + 511] ^= 0xff; // block 7's final magic
  osCopy(d, [{ name: "APP.UF2", data: uf2 }], fatFirst);
  assert.is(d.b.mode, "bootloader");
  assert.not.equal(record(d).kind, "valid");
  d.b.powerOn();
  assert.is(d.b.mode, "bootloader", "no image runs after a reset either");
  // The good file then goes on.
  d.b.powerOn({ button: true });
  const app = fakeApp("rp2040", 20_000, 16);
  osCopy(attach(d.b), [{ name: "APP.UF2", data: uf2Of("rp2040", app) }], fatFirst);
  assert.is(d.b.mode, "app");
  assert.ok(flashHolds(d.b, "rp2040", app));
});

test("a copy cut short by unplugging leaves no recorded image, over an older one too", async () => {
  const d = await uf2Board("h750");
  const old = fakeApp("h750", 30_000, 17), next = fakeApp("h750", 30_000, 18);
  osCopy(d, [{ name: "OLD.UF2", data: uf2Of("h750", old) }], fatFirst);
  assert.is(d.b.mode, "app");
  d.b.powerOn({ button: true });
  const again = attach(d.b);
  const view = mountView(again.msc);
  const w = runs(changedSectors(view, copyOnto(view, [{ name: "NEW.UF2", data: uf2Of("h750", next) }])).filter((x) => x.lba >= 161), 8);
  replay(again, w.slice(0, w.length >> 1));
  d.b.powerOff();
  d.b.powerOn();
  assert.is(d.b.mode, "bootloader", "neither the half-written new image nor the overwritten old one runs");
  d.b.powerOn({ button: true });
  assert.not.equal(record(attach(d.b)).kind, "valid");
});

test.run();
