// The CRC calculation unit of the STM32H750 (RM0433 21.4). The register is loaded from INIT by
// CR.RESET; each write to DR feeds the written width (8, 16 or 32 bits) MSB first, after the
// input reversal REV_IN selects (01 by byte, 10 by half-word, 11 by word, applied within the
// written width); DR reads the register, bit-reversed when REV_OUT is set. Only the 32-bit
// polynomial size is modelled (POLYSIZE other than 00 throws).
import { resetOf } from "./vendor";

function reverseBits(v: number, bits: number): number {
  let r = 0;
  for (let i = 0; i < bits; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}

export class CrcModel {
  // Reset values from ST's SVD (sim/h750/vendor.ts).
  crc = resetOf("CRC_DR"); cr = resetOf("CRC_CR"); init = resetOf("CRC_INIT"); pol = resetOf("CRC_POL"); idr = resetOf("CRC_IDR");

  read(off: number): number {
    switch (off) {
      case 0x00: return this.cr & 0x80 ? reverseBits(this.crc, 32) : this.crc;
      case 0x04: return this.idr;
      case 0x08: return this.cr;
      case 0x10: return this.init;
      case 0x14: return this.pol;
      default: return 0;
    }
  }

  write(off: number, size: number, value: number): void {
    switch (off) {
      case 0x00: return this.feed(value >>> 0, size * 8);
      case 0x04: this.idr = value; return;
      case 0x08:
        if ((value >> 3) & 3) throw new Error("CRC model: only the 32-bit polynomial size is modelled");
        this.cr = value & 0xf8;
        if (value & 1) this.crc = this.init;
        return;
      case 0x10: this.init = value >>> 0; return; // used at the next CR.RESET
      case 0x14: this.pol = value >>> 0; return;
    }
  }

  private feed(value: number, bits: number): void {
    const rev = (this.cr >> 5) & 3;
    const unit = rev === 1 ? 8 : rev === 2 ? 16 : rev === 3 ? 32 : 0;
    let v = value >>> 0;
    if (unit) {
      const u = Math.min(unit, bits);
      let out = 0;
      for (let i = 0; i < bits; i += u) out |= reverseBits((v >>> i) & (u === 32 ? 0xffffffff : (1 << u) - 1), u) << i;
      v = out >>> 0;
    }
    let crc = this.crc;
    for (let i = bits - 1; i >= 0; i--) {
      const bit = ((crc >>> 31) ^ (v >>> i)) & 1;
      crc = ((crc << 1) ^ (bit ? this.pol : 0)) >>> 0;
    }
    this.crc = crc;
  }
}
