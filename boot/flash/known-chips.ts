// Chips the driver knows without SFDP (or when SFDP cannot be read): JEDEC ID -> geometry.
// Facts from the datasheets: W25Q16JV-IQ/W25Q64JV-IQ (Winbond: QE in SR2 bit 1, 50h volatile
// status writes, EBh with 4 dummy clocks after the mode byte), IS25LP064A (ISSI: QE in SR1
// bit 6, no volatile status write, EBh with 4 dummy clocks at the default read parameters).
// The Puya PY25Q64HA of newer WeAct H750 boards is found by its SFDP table; it is not in this
// fallback table because the entry costs 72 bytes of the RP2040 build, which is at its limit.
import { setGeometry, QER_SR2_BIT1_WRITE_SR1_2BYTES, QER_SR1_BIT6 } from "./chip";

export function knownChip(jedec: u32): bool {
  const maker = jedec & 0xff;
  const density = (jedec >> 16) & 0xff; // 2^density bytes
  if (density < 0x14 || density > 0x18) return false; // 1..16 MiB with 24-bit addresses
  const size: u32 = 1 << density;
  if (maker == 0xef) { setGeometry(size, QER_SR2_BIT1_WRITE_SR1_2BYTES, true, 4); return true; }  // Winbond W25Q..JV
  if (maker == 0x9d) { setGeometry(size, QER_SR1_BIT6, false, 4); return true; }                 // ISSI IS25LP
  return false;
}

// Quad input page program (32h, 1-1-4) is not described by SFDP's basic table; these makers
// document it for their quad SPI NOR families: Winbond W25Q (8.2.23), ISSI IS25LP (PPQ 32h),
// GigaDevice GD25Q (QPP 32h), Puya PY25Q (QPP 32h).
export function hasQuadPageProgram(jedec: u32): bool {
  const maker = jedec & 0xff;
  return maker == 0xef || maker == 0x9d || maker == 0xc8 || maker == 0x85;
}
