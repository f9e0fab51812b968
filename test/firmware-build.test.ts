// Both boards' firmware builds for real: ELF/bin/hex (and UF2), sections where the memory map
// of ../shared/design.md puts them, within the flash budget, and byte-identical when rebuilt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { buildBoard } from "../tools/build";
import { root } from "../tools/build-core";
import { hasTool } from "../tools/require-tools";
import { writeLockFile } from "../tools/cli/lock";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, TEST_LOCK_KEY } from "./lib/test-key";

if (!hasTool("arm-none-eabi-gcc") || !hasTool("wasm2c")) throw new Error("cross tools missing: npm run setup");

function sections(elf: string): Map<string, { addr: number; size: number }> {
  const out = new Map<string, { addr: number; size: number }>();
  const text = execFileSync("arm-none-eabi-readelf", ["-S", "-W", elf], { encoding: "utf8" });
  for (const m of text.matchAll(/\]\s+(\.\S+)\s+\S+\s+([0-9a-f]{8})\s+[0-9a-f]+\s+([0-9a-f]+)/g)) {
    out.set(m[1], { addr: parseInt(m[2], 16), size: parseInt(m[3], 16) });
  }
  return out;
}
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const flashTotal = (t: Record<string, { flash: number }>) => Object.values(t).reduce((a, v) => a + v.flash, 0);

test("H750: vectors at 0x08000000, data and stack in DTCM, under 16 KiB of flash", async () => {
  const r = await buildBoard("h750", { quiet: true });
  for (const ext of ["elf", "bin", "hex", "map"]) assert.ok(existsSync(join(root, `build/h750/qspiboot.${ext}`)), ext);
  const s = sections(r.elf);
  assert.is(s.get(".vectors")!.addr, 0x08000000);
  assert.ok(s.get(".text")!.addr > 0x08000000 && s.get(".text")!.addr < 0x08020000);
  assert.ok(s.get(".bss")!.addr >= 0x20000000 && s.get(".bss")!.addr < 0x20020000, "bss in DTCM");
  const bin = readFileSync(r.bin);
  const sp = bin.readUInt32LE(0), reset = bin.readUInt32LE(4);
  assert.is(sp, 0x20020000, "initial SP: top of DTCM (the reset-surviving flag is in backup SRAM)");
  assert.ok((reset & 1) === 1 && reset > 0x08000000 && reset < 0x08000000 + bin.length, "reset handler in the image, Thumb");
  assert.ok(flashTotal(r.sizes) < 16 * 1024, `flash ${flashTotal(r.sizes)}`);
  assert.ok(Math.abs(bin.length - flashTotal(r.sizes)) < 64, `size table (${flashTotal(r.sizes)}) accounts for the .bin (${bin.length})`);
});

test("RP2040: boot2 at 0x10000000, vectors at 0x10000100, code copied to SRAM, UF2 with the family ID", async () => {
  const r = await buildBoard("rp2040", { quiet: true });
  const s = sections(r.elf);
  assert.is(s.get(".boot2")!.addr, 0x10000000);
  assert.is(s.get(".boot2")!.size, 256);
  assert.is(s.get(".entry")!.addr, 0x10000100);
  assert.ok(s.get(".text")!.addr >= 0x20000000 && s.get(".text")!.addr < 0x20040000, "code runs from SRAM");
  const bin = readFileSync(r.bin);
  assert.ok(bin.length < 0x10000, "inside the bootloader's 64 KiB");
  assert.ok(flashTotal(r.sizes) <= 16 * 1024, `flash ${flashTotal(r.sizes)}`);
  assert.is(flashTotal(r.sizes), bin.length, "the size table accounts for every byte of the image (boot2, padding included)");
  const uf2 = readFileSync(join(root, "build/rp2040/qspiboot.uf2"));
  assert.is(uf2.length, Math.ceil(bin.length / 256) * 512);
  assert.is(uf2.readUInt32LE(0), 0x0a324655);
  assert.is(uf2.readUInt32LE(12), 0x10000000);
  assert.is(uf2.readUInt32LE(28), 0xe48bff56, "RP2040 family");
  assert.equal(uf2.subarray(32, 32 + 256), bin.subarray(0, 256));
  // The boot ROM takes only blocks of 256 bytes (bootrom virtual_disk.c): the last one too.
  for (let o = 0; o < uf2.length; o += 512) assert.is(uf2.readUInt32LE(o + 16), 256, `block ${o / 512} payload size`);
  const last = uf2.length - 512, tail = bin.length % 256;
  if (tail) assert.ok(uf2.subarray(last + 32 + tail, last + 32 + 256).every((x) => x === 0xff), "padded as erased flash");
});

test("a rebuild from the same sources, in another directory, is byte-identical", async () => {
  const other = join(root, "build/repro");
  rmSync(other, { recursive: true, force: true });
  for (const board of ["h750", "rp2040"]) {
    const a = await buildBoard(board, { quiet: true });
    const b = await buildBoard(board, { quiet: true, outDir: join(other, board) });
    assert.ok(b.rebuilt, "really built again");
    assert.is(sha(b.bin), sha(a.bin), `${board}.bin`);
  }
});

test("npm run build:<board> -- --uf2 builds the UF2-drive variant on its own, with its cost row, inside the flash region", () => {
  for (const [board, region] of [["rp2040", 56 * 1024], ["h750", 128 * 1024]] as const) {
    const out = execFileSync("npx", ["tsx", "tools/build.ts", board, "--uf2"], { cwd: root, encoding: "utf8" });
    assert.match(out, `build/${board}-uf2/qspiboot.`);
    const row = /option: UF2 drive\s+(\d+)\s+(\d+)/.exec(out);
    assert.ok(row, out);
    const bin = readFileSync(join(root, "build", `${board}-uf2`, "qspiboot.bin"));
    assert.ok(bin.length <= region, `${bin.length} B within the ${region}-byte region`);
    assert.not.match(out, /OVER/);
    const plain = readFileSync(join(root, "build", board, "qspiboot.bin"));
    assert.is(Number(row![1]), bin.length - plain.length, "the row's flash is what the image grows by");
  }
});

test("npm run build -- --key PUB --locked LOCKFILE builds the locked variant with its cost row, inside the region; --locked alone is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-locked-build-"));
  try {
    const pub = join(dir, "k.pub"), lock = join(dir, "k.lock");
    writeFileSync(pub, Buffer.from(TEST_PUBLIC_KEY).toString("hex"));
    writeLockFile(TEST_PRIVATE_KEY, lock);
    const alone = spawnSync("npx", ["tsx", "tools/build.ts", "h750", "--locked", lock], { cwd: root, encoding: "utf8" });
    assert.is(alone.status, 1);
    assert.match(alone.stderr, /--locked needs --key PUB/);
    for (const [board, region] of [["rp2040", 56 * 1024], ["h750", 128 * 1024]] as const) {
      const out = execFileSync("npx", ["tsx", "tools/build.ts", board, "--key", pub, "--locked", lock], { cwd: root, encoding: "utf8" });
      assert.match(out, `build/${board}-signed-locked/qspiboot.`);
      assert.match(out, /locked: the board gives no flash contents away/);
      const row = /option: signed \+ locked\s+(\d+)\s+(\d+)/.exec(out);
      assert.ok(row, out);
      const bin = readFileSync(join(root, "build", `${board}-signed-locked`, "qspiboot.bin"));
      assert.ok(bin.length <= region, `${bin.length} B within the ${region}-byte region`);
      const plain = readFileSync(join(root, "build", board, "qspiboot.bin"));
      assert.is(Number(row![1]), bin.length - plain.length, "the row's flash is what the image grows by");
      assert.ok(bin.includes(Buffer.from(TEST_LOCK_KEY)), "the lock key is in the image (the internal flash / the bootloader region, which locked mode never reads out)");
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test.run();
