// The DMA sniffer model (sim/rp2040/dma-sniff.ts) against what a chip computed: pico-sdk issue
// 576 sniffed the 16 bytes 01 00 00 00 00 02 00 00 00 00 03 00 00 00 00 04 by 32-bit transfers
// from a seed of FFFFFFFFh and printed the accumulator inverted: 0x4c811132 with CALC 0 and
// 0x4dab62d9 with CALC 1. The RP2040 HAL's CRCs (hal/rp2040/hal.c crc_dma) go as 32-bit
// transfers whenever the buffer is aligned, so the model must give those values, and the same
// as byte transfers over the same bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32 } from "node:zlib";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { vendorReg } from "../sim/rp2040/vendor-regs";

const DMA0 = (r: string) => vendorReg("DMA", r).address;
const EN = 1, INCR_READ = 1 << 4, SIZE_WORD = 2 << 2, TREQ_PERMANENT = 0x3f << 15, IRQ_QUIET = 1 << 21, SNIFF_EN = 1 << 23, BUSY = 1 << 24;
const SRC = 0x20010000, SINK = 0x20011000;
const SILICON = Uint8Array.from([1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4]);

function sniff(data: Uint8Array, calc: number, size: "byte" | "word", ctrlExtra = 0, seed = 0xffffffff): number {
  const emu = new Rp2040Emu();
  emu.powerOn(); // blank flash: the ROM waits on USB, and the DMA is ours to drive
  emu.resetsBlock.release("DMA");
  const m = emu.mcu;
  data.forEach((b, i) => m.writeUint8(SRC + i, b));
  m.writeUint32(DMA0("SNIFF_DATA"), seed);
  m.writeUint32(DMA0("SNIFF_CTRL"), 1 | (calc << 5) | ctrlExtra); // channel 0
  m.writeUint32(DMA0("CH0_READ_ADDR"), SRC);
  m.writeUint32(DMA0("CH0_WRITE_ADDR"), SINK);
  m.writeUint32(DMA0("CH0_TRANS_COUNT"), size === "word" ? data.length / 4 : data.length);
  m.writeUint32(DMA0("CH0_CTRL_TRIG"), EN | INCR_READ | (size === "word" ? SIZE_WORD : 0) | TREQ_PERMANENT | IRQ_QUIET | SNIFF_EN);
  emu.clock.tick(100_000);
  assert.is(m.readUint32(DMA0("CH0_CTRL_TRIG")) & BUSY, 0, "the transfers ended");
  return m.readUint32(DMA0("SNIFF_DATA")) >>> 0;
}

test("DMA sniffer model: 32-bit transfers give what the chip gave in pico-sdk issue 576", () => {
  assert.is((~sniff(SILICON, 0, "word") >>> 0).toString(16), "4c811132", "CALC 0");
  assert.is((~sniff(SILICON, 1, "word") >>> 0).toString(16), "4dab62d9", "CALC 1");
});

test("DMA sniffer model: a word's bytes go in memory order, so word and byte transfers agree, and OUT_REV + OUT_INV give zlib's CRC", () => {
  const data = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const calc of [0, 1]) assert.is(sniff(data, calc, "word"), sniff(data, calc, "byte"), `CALC ${calc}`);
  const OUT_REV = 1 << 10, OUT_INV = 1 << 11;
  assert.is(sniff(data, 1, "word", OUT_REV | OUT_INV), crc32(data) >>> 0);
});

test.run();
