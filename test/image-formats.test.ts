// Firmware file formats: each parses back what was written, and malformed input of every
// kind gives a clear error naming the file and the problem, never a crash.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseImage } from "../tools/image/load";
import { writeDfuse } from "../tools/image/dfuse";
import { writeUf2, UF2_FAMILY } from "../tools/image/uf2";
import { ImageError, type Segment } from "../tools/image/segments";
import { randomBytes, Rng } from "./lib/dfu-requests";
import { hasTool } from "../tools/require-tools";
import { root } from "../tools/build-core";
import { writeHex } from "../tools/image/ihex";

const SEGS: Segment[] = [
  { address: 0x90000000, data: randomBytes(3000, 1) },
  { address: 0x90004000, data: randomBytes(700, 2) },
];

function elfOf(segs: Segment[]): Uint8Array {
  // A minimal ELF32 ARM executable: header, program headers, segment data.
  const phoff = 52, ph = 32;
  let off = phoff + ph * segs.length;
  const total = off + segs.reduce((a, s) => a + s.data.length, 0);
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); v.setUint16(18, 40, true); v.setUint32(20, 1, true);
  v.setUint32(24, segs[0].address | 1, true); v.setUint32(28, phoff, true);
  v.setUint16(40, 52, true); v.setUint16(42, ph, true); v.setUint16(44, segs.length, true);
  segs.forEach((s, i) => {
    const o = phoff + i * ph;
    v.setUint32(o, 1, true); v.setUint32(o + 4, off, true); v.setUint32(o + 8, s.address, true);
    v.setUint32(o + 12, s.address, true); v.setUint32(o + 16, s.data.length, true); v.setUint32(o + 20, s.data.length, true);
    b.set(s.data, off); off += s.data.length;
  });
  return b;
}

const hexOf = (segs: Segment[]) => new TextEncoder().encode(writeHex(segs));

const FORMATS: [string, (s: Segment[]) => Uint8Array, object][] = [
  ["app.elf", elfOf, {}],
  ["app.hex", hexOf, {}],
  ["app.uf2", (s) => writeUf2(s, UF2_FAMILY.STM32H7), { family: UF2_FAMILY.STM32H7 }],
  ["app.dfu", (s) => writeDfuse(s, { vid: 0x1209, pid: 1, bcdDevice: 0x100 }), {}],
];

for (const [name, write, opts] of FORMATS) {
  test(`${name}: round trip`, () => {
    const { segments } = parseImage(name, write(SEGS), opts);
    assert.equal(segments.map((s) => [s.address, [...s.data]]), SEGS.map((s) => [s.address, [...s.data]]));
  });

  test(`${name}: every truncation and 2000 seeded corruptions give a clear error or a valid parse, never a crash`, () => {
    const good = write(SEGS.map((s) => ({ address: s.address, data: s.data.subarray(0, 300) })));
    const check = (b: Uint8Array, what: string) => {
      try {
        const { segments } = parseImage(name, b, opts);
        assert.ok(segments.length > 0, what);
      } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`${what}: ${(e as Error).stack}`);
        assert.ok(e.message.startsWith(name + ": "), `error names the file: ${e.message}`);
      }
    };
    for (let n = 0; n < good.length; n++) check(good.subarray(0, n), `truncated to ${n}`);
    const rng = new Rng(name.length * 7919);
    for (let i = 0; i < 2000; i++) {
      const b = good.slice();
      for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(b.length)] = rng.int(256);
      check(b, `corruption ${i}`);
    }
  });
}

test("binary needs an address; ELF for another machine, 64-bit, big-endian are refused by name", () => {
  assert.throws(() => parseImage("a.bin", new Uint8Array(10)), /needs an address/);
  assert.equal(parseImage("a.bin", new Uint8Array(10), { address: 0x10010000 }).segments[0].address, 0x10010000);
  const elf = elfOf(SEGS);
  const x86 = elf.slice(); x86[18] = 3;
  assert.throws(() => parseImage("x.elf", x86), /machine 3, not ARM/);
  const e64 = elf.slice(); e64[4] = 2;
  assert.throws(() => parseImage("x.elf", e64), /64-bit/);
  const be = elf.slice(); be[5] = 2;
  assert.throws(() => parseImage("x.elf", be), /big-endian/);
});

test("Intel HEX: checksum errors and missing end records are named with their line", () => {
  const good = writeHex([{ address: 0x10010000, data: randomBytes(40, 3) }]);
  const bad = good.replace(/^(:10[0-9A-F]{8})(..)/m, (_, a, b) => a + (b === "00" ? "01" : "00"));
  assert.throws(() => parseImage("a.hex", new TextEncoder().encode(bad)), /a.hex: line 2: checksum error/);
  assert.throws(() => parseImage("a.hex", new TextEncoder().encode(good.split("\n").slice(0, -2).join("\n"))), /truncated/);
});

test("UF2 for another family is refused; overlapping data is refused", () => {
  const rp = writeUf2(SEGS, UF2_FAMILY.RP2040);
  assert.throws(() => parseImage("a.uf2", rp, { family: UF2_FAMILY.STM32H7 }), /family 0xe48bff56, this board needs 0x6db66082/);
  const overlap = writeUf2([{ address: 0x100, data: new Uint8Array(300) }, { address: 0x200, data: new Uint8Array(10) }], 1);
  assert.throws(() => parseImage("o.uf2", overlap), /overlapping/);
});

test("UF2: blocks flagged not-main-flash are skipped and counted in a warning; payload size 0 or > 476 is an error", () => {
  const data = randomBytes(1024, 4);
  const good = writeUf2([{ address: 0x10010000, data }], UF2_FAMILY.RP2040); // 4 blocks of 256
  const clean = parseImage("a.uf2", good, { family: UF2_FAMILY.RP2040 });
  assert.equal(clean.warnings, []);
  const flagged = good.slice();
  const v = new DataView(flagged.buffer);
  for (const n of [1, 3]) v.setUint32(n * 512 + 8, v.getUint32(n * 512 + 8, true) | 1, true);
  const img = parseImage("a.uf2", flagged, { family: UF2_FAMILY.RP2040 });
  assert.equal(img.segments.map((s) => [s.address, s.data.length]), [[0x10010000, 256], [0x10010200, 256]]);
  assert.equal(img.segments[1].data, data.subarray(512, 768));
  assert.equal(img.warnings, ['a.uf2: 2 of 4 blocks skipped: flagged "not main flash" (UF2 flag 0x1), they are not for the board\'s flash']);
  for (const size of [0, 477]) {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(2 * 512 + 16, size, true);
    assert.throws(() => parseImage("b.uf2", bad, { family: UF2_FAMILY.RP2040 }), new RegExp(`^b\\.uf2: block 2: payload size ${size}: a malformed block`));
  }
});

/** Run `fn` counting the bytes typed arrays copy (set, slice); throws as soon as they pass
 *  `limit`, so a quadratic merge fails at once instead of taking most of a minute. */
function copiedBytes<T>(limit: number, fn: () => T): { result: T; copied: number } {
  const proto = Uint8Array.prototype as any;
  const { set, slice } = proto;
  let copied = 0;
  const count = (n: number) => { copied += n; if (copied > limit) throw new Error(`copied ${copied} bytes, more than ${limit}`); };
  proto.set = function (src: ArrayLike<number>, offset?: number) { count(src.length); return set.call(this, src, offset); };
  proto.slice = function (start?: number, end?: number) { const r = slice.call(this, start, end); count(r.length); return r; };
  try { return { result: fn(), copied }; } finally { proto.set = set; proto.slice = slice; }
}

test("an 8 MiB UF2 loads with each byte copied at most twice (block payload, merged image)", () => {
  const data = randomBytes(8 << 20, 7);
  const uf2 = writeUf2([{ address: 0x90000000, data }], UF2_FAMILY.STM32H7);
  const { result, copied } = copiedBytes(3 * data.length, () => parseImage("big.uf2", uf2, { family: UF2_FAMILY.STM32H7 }));
  assert.is(result.segments.length, 1);
  assert.is(result.segments[0].address, 0x90000000);
  assert.ok(result.segments[0].data.length === data.length && Buffer.compare(result.segments[0].data, data) === 0, "the same bytes");
  assert.ok(copied <= 2 * data.length, `copied ${copied}`);
});

test("the .dfu we write passes dfu-suffix -c (dfu-util's own check)", () => {
  if (!hasTool("dfu-suffix")) throw new Error("dfu-suffix missing: npm run setup");
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-"));
  const f = join(dir, "app.dfu");
  writeFileSync(f, writeDfuse(SEGS, { vid: 0x1209, pid: 1, bcdDevice: 0x100 }));
  const out = execFileSync("dfu-suffix", ["-c", f], { encoding: "utf8" });
  assert.match(out, /Vendor ID:\s+0x1209/);
  assert.match(out, /Product ID:\s+0x0001/);
  assert.match(out, /BCD DFU:\s+0x011A/);
});

test("the RP2040 firmware's .uf2 parses back to the .bin at 0x10000000", () => {
  const uf2 = readFileSync(join(root, "build/rp2040/qspiboot.uf2"));
  const bin = readFileSync(join(root, "build/rp2040/qspiboot.bin"));
  const { segments } = parseImage("qspiboot.uf2", uf2, { family: UF2_FAMILY.RP2040 });
  assert.is(segments[0].address, 0x10000000);
  assert.equal(segments[0].data.subarray(0, bin.length), new Uint8Array(bin));
});

test.run();
