// CRC-32/MPEG-2 (poly 04C11DB7, init FFFFFFFF, no reflection, no final XOR): the RP2040 boot
// ROM's check of boot2 (RP2040 datasheet 2.8.1.3). Check value of "123456789": 0x0376E6E7.
export function crc32Mpeg2(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}
