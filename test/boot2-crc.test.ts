// The RP2040 boot ROM runs boot2 only if its CRC-32/MPEG-2 is right.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { crc32Mpeg2 } from "../tools/build/crc32-mpeg2";
import { sealBoot2 } from "../tools/build/boot2";
import { buildBoard } from "../tools/build";
import { hasTool } from "../tools/require-tools";

test("CRC-32/MPEG-2 check value of \"123456789\" is 0x0376E6E7", () => {
  assert.is(crc32Mpeg2(new TextEncoder().encode("123456789")), 0x0376e6e7);
});

test("sealing pads to 252 bytes and appends the CRC little-endian; too long is refused", () => {
  const sealed = sealBoot2(Uint8Array.from([1, 2, 3]));
  assert.is(sealed.length, 256);
  assert.is(new DataView(sealed.buffer).getUint32(252, true), crc32Mpeg2(sealed.subarray(0, 252)));
  assert.throws(() => sealBoot2(new Uint8Array(253)), /252/);
});

test("the built RP2040 image starts with a boot2 whose CRC the ROM accepts", async () => {
  if (!hasTool("arm-none-eabi-gcc")) throw new Error("arm-none-eabi-gcc missing: npm run setup");
  const r = await buildBoard("rp2040", { quiet: true });
  const bin = readFileSync(r.bin);
  const crc = new DataView(bin.buffer, bin.byteOffset).getUint32(252, true);
  assert.is(crc, crc32Mpeg2(bin.subarray(0, 252)));
  // ... and jumps through the vector table at 0x10000100: its initial SP is in SRAM.
  const sp = new DataView(bin.buffer, bin.byteOffset).getUint32(256, true);
  assert.ok(sp > 0x20000000 && sp <= 0x20042000, `initial SP 0x${sp.toString(16)}`);
});

test.run();
