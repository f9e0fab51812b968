// What rp2040js's DMA lacks and the RP2040 HAL uses for CRCs: the sniffer (RP2040 datasheet
// 2.5.5.2, registers SNIFF_CTRL 0x434 and SNIFF_DATA 0x438), and transfer timing. Modelled:
// - SNIFF_CTRL: EN (bit 0), DMACH (4:1), CALC (8:5), OUT_REV (10), OUT_INV (11); SNIFF_DATA is the
//   accumulator a write seeds, read through OUT_REV/OUT_INV;
// - the sniffer sees every byte the chosen channel reads when that channel has CTRL.SNIFF_EN
//   (bit 23); CALC 0 is CRC-32 over the data as it is (most significant bit first), CALC 1 the
//   same over bit-reversed data (zlib's CRC, with OUT_REV and OUT_INV); a 32-bit transfer feeds
//   its four bytes in memory order, least significant first: what a chip gave for 16 bytes
//   sniffed as 32-bit transfers in pico-sdk issue 576 (CALC 0: 0x4c811132, CALC 1: 0x4dab62d9
//   after inversion, seed FFFFFFFFh; test/rp2040-dma-sniff.test.ts holds the case); other CALC
//   values and sniffed 16-bit or byte-swapped transfers throw (nothing here needs them);
// - a transfer paced by TREQ "permanent" takes one clk_sys cycle, as on the chip (rp2040js ran a
//   whole transfer sequence within one CPU step).
// Offsets, reset values and SNIFF_CTRL's writable bits: pico-sdk's dma.h (vendor-regs.json).
import type { RP2040 } from "rp2040js";
import { VENDOR, accessMask, vendorReg } from "./vendor-regs";

const CTRL_REG = vendorReg("DMA", "SNIFF_CTRL"), DATA_REG = vendorReg("DMA", "SNIFF_DATA");
const SNIFF_CTRL = CTRL_REG.address - VENDOR.blocks.DMA.base, SNIFF_DATA = DATA_REG.address - VENDOR.blocks.DMA.base;
const CTRL_WRITABLE = accessMask(CTRL_REG, "RW");
const POLY = 0x04c11db7;
const CHANNEL_SNIFF_EN = 1 << 23;

interface Channel {
  index: number; ctrl: number; readAddr: number; writeAddr: number; treqValue: number;
  transfer8: () => void; transfer16: () => void; transfer32: () => void; transferSwap16: () => void; transferSwap32: () => void;
  scheduleTransfer: () => void; transferAlarm: { schedule(ns: number): void };
}

export function installDmaSniffer(mcu: RP2040): { ctrl: number; data: number } {
  const sniff = { ctrl: CTRL_REG.reset >>> 0, data: DATA_REG.reset >>> 0 };
  const dma = mcu.dma as unknown as { readUint32(o: number): number; writeUint32(o: number, v: number): void; channels: Channel[]; dreq: boolean[] };
  const read = dma.readUint32.bind(dma), write = dma.writeUint32.bind(dma);
  dma.readUint32 = (o: number) => {
    if (o === SNIFF_CTRL) return sniff.ctrl;
    if (o === SNIFF_DATA) {
      let v = sniff.data;
      if (sniff.ctrl & (1 << 10)) v = reverse32(v);
      if (sniff.ctrl & (1 << 11)) v = ~v;
      return v >>> 0;
    }
    return read(o);
  };
  dma.writeUint32 = (o: number, v: number) => {
    if (o === SNIFF_CTRL) { sniff.ctrl = (v & CTRL_WRITABLE) >>> 0; return; }
    if (o === SNIFF_DATA) { sniff.data = v >>> 0; return; }
    write(o, v);
  };
  const feed = (byte: number) => {
    const calc = (sniff.ctrl >>> 5) & 15;
    if (calc > 1) throw new Error(`DMA sniffer model: CALC ${calc} is not modelled`);
    if (sniff.ctrl & (1 << 9)) throw new Error("DMA sniffer model: BSWAP is not modelled");
    let c = sniff.data;
    for (let i = 0; i < 8; i++) {
      const bit = calc === 1 ? (byte >>> i) & 1 : (byte >>> (7 - i)) & 1;
      c = (((c << 1) ^ (((c >>> 31) ^ bit) ? POLY : 0)) >>> 0);
    }
    sniff.data = c;
  };
  for (const ch of dma.channels) {
    const sniffed = () => (sniff.ctrl & 1) === 1 && ((sniff.ctrl >>> 1) & 15) === ch.index && (ch.ctrl & CHANNEL_SNIFF_EN) !== 0;
    ch.transfer8 = () => {
      const b = mcu.readUint8(ch.readAddr);
      if (sniffed()) feed(b);
      mcu.writeUint8(ch.writeAddr, b);
    };
    ch.transfer32 = () => {
      const w = mcu.readUint32(ch.readAddr);
      if (sniffed()) for (let i = 0; i < 32; i += 8) feed((w >>> i) & 0xff);
      mcu.writeUint32(ch.writeAddr, w);
    };
    for (const k of ["transfer16", "transferSwap16", "transferSwap32"] as const) {
      const orig = ch[k].bind(ch);
      ch[k] = () => {
        if (sniffed()) throw new Error("DMA sniffer model: only byte and unswapped 32-bit transfers are sniffed here");
        orig();
      };
    }
    const schedule = ch.scheduleTransfer.bind(ch);
    ch.scheduleTransfer = () => {
      if (ch.treqValue === 0x3f) ch.transferAlarm.schedule(1e9 / mcu.clkSys);
      else schedule();
    };
  }
  return sniff;
}

function reverse32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}
