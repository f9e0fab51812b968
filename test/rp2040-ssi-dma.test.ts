// The SSI's DMA handshake in the RP2040 emulator (sim/rp2040/ssi.ts, sim/rp2040/ssi-dreq.ts),
// driven from here through the registers, no firmware: what a driver that reads the flash by
// DMA on DREQ_XIP_SSIRX meets, per the DW_apb_ssi's DMACR / DMARDLR / DMATDLR rules. The
// firmware's own use (hal/rp2040/flash.c) is checked by every RP2040 emulator test that flashes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { vendorReg } from "../sim/rp2040/vendor-regs";
import { randomBytes } from "./lib/dfu-requests";

const SSI = (r: string) => vendorReg("SSI", r).address;
const DMA1 = (r: string) => vendorReg("DMA", r).address + 0x40; // channel 1 (dma.h: channels 0x40 apart)
const EN = 1, SIZE_WORD = 2 << 2, INCR_WRITE = 1 << 5, CHAIN_SELF1 = 1 << 11, IRQ_QUIET = 1 << 21, BSWAP = 1 << 22, BUSY = 1 << 24;
const TREQ = (n: number) => n << 15;
const DST = 0x20010000;

function chip(content: Uint8Array) {
  const emu = new Rp2040Emu();
  emu.program(0x1000, content);
  emu.nor.startState({ qe: true });
  emu.powerOn(); // blank boot2: the ROM leaves the QSPI pins on the SSI, then waits on USB
  emu.resetsBlock.release("DMA");
  const ss = vendorReg("IO_QSPI", "GPIO_QSPI_SS_CTRL").address;
  emu.mcu.writeUint32(ss, emu.mcu.readUint32(ss) & ~(3 << 8)); // OUTOVER normal: the SSI drives chip select
  return emu;
}

// An EBh 1-4-4 read of `words` 32-bit frames from 0x1000 (24-bit address, mode byte, 4 wait clocks).
function startRead(emu: Rp2040Emu, words: number, dma: { rdmae: boolean; level?: number }) {
  const m = emu.mcu;
  m.writeUint32(SSI("SSIENR"), 0);
  m.writeUint32(SSI("BAUDR"), 4);
  m.writeUint32(SSI("CTRLR0"), (2 << 21) | (31 << 16) | (3 << 8));         // quad, 32-bit frames, EEPROM read
  m.writeUint32(SSI("CTRLR1"), words - 1);
  m.writeUint32(SSI("SPI_CTRLR0"), 1 | (8 << 2) | (2 << 8) | (4 << 11));  // address on 4 lines, 8 nibbles, 8-bit instr
  m.writeUint32(SSI("DMARDLR"), dma.level ?? 0);
  m.writeUint32(SSI("DMACR"), dma.rdmae ? 1 : 0);
  m.writeUint32(SSI("SSIENR"), 1);
  m.writeUint32(DMA1("CH0_READ_ADDR"), SSI("DR0"));
  m.writeUint32(DMA1("CH0_WRITE_ADDR"), DST);
  m.writeUint32(DMA1("CH0_TRANS_COUNT"), words);
  m.writeUint32(DMA1("CH0_CTRL_TRIG"), EN | SIZE_WORD | INCR_WRITE | BSWAP | TREQ(39) | IRQ_QUIET | CHAIN_SELF1);
  m.writeUint32(SSI("DR0"), 0xeb);
  m.writeUint32(SSI("DR0"), (0x1000 << 8) | 0xa0);
}
const sram = (emu: Rp2040Emu, n: number) => Uint8Array.from({ length: n }, (_, i) => emu.mcu.readUint8(DST + i));

test("SSI DMA model: a 1 KiB read far longer than the 16-entry RX FIFO lands whole, drained on DREQ_XIP_SSIRX", () => {
  const data = randomBytes(1024, 3);
  const emu = chip(data);
  startRead(emu, 256, { rdmae: true });
  assert.ok(emu.mcu.readUint32(DMA1("CH0_CTRL_TRIG")) & BUSY, "the channel waits for the SSI");
  emu.clock.tick(200_000);
  assert.is(emu.mcu.readUint32(DMA1("CH0_CTRL_TRIG")) & BUSY, 0, "all 256 frames moved");
  assert.is(emu.flash.rxOverflows, 0);
  assert.equal(sram(emu, 1024), data, "bytes swapped per word: the first byte on the wire at the lowest address");
});

test("SSI DMA model: without RDMAE there is no request; the DMA moves nothing and the FIFO overflows after 16 frames", () => {
  const emu = chip(randomBytes(256, 4));
  startRead(emu, 64, { rdmae: false });
  emu.clock.tick(200_000);
  assert.is(emu.mcu.readUint32(DMA1("CH0_TRANS_COUNT")), 64, "not one transfer");
  assert.is(emu.mcu.readUint32(SSI("RXFLR")), 16);
  assert.is(emu.flash.rxOverflows, 48, "frames beyond the FIFO are lost, as on the chip (RXOI)");
});

test("SSI DMA model: the request waits for RDMAE; set while frames are arriving, the DMA catches up before the FIFO overflows", () => {
  const data = randomBytes(256, 5);
  const emu = chip(data);
  startRead(emu, 64, { rdmae: false });
  const sckNs = (1e9 / emu.mcu.clkSys) * 4;
  emu.clock.tick((20 + 8 * 6) * sckNs); // instruction, address, mode, wait: 20 SCK; then a frame per 8 SCK
  const waiting = emu.mcu.readUint32(SSI("RXFLR"));
  assert.ok(waiting > 0 && waiting < 16, `${waiting} frames waiting`);
  assert.is(emu.mcu.readUint32(DMA1("CH0_TRANS_COUNT")), 64, "no request without RDMAE");
  emu.mcu.writeUint32(SSI("DMACR"), 1);
  emu.clock.tick(200_000);
  assert.is(emu.mcu.readUint32(DMA1("CH0_CTRL_TRIG")) & BUSY, 0);
  assert.is(emu.flash.rxOverflows, 0);
  assert.equal(sram(emu, 256), data);
});

test.run();
