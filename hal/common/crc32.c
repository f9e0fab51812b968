// CRC-32 (IEEE 802.3, reflected), with a 16-entry table: small in flash, fast enough where the
// chip has no CRC unit (the RP2040); the H750 uses its CRC peripheral instead.
#include "hal.h"

static const uint32_t nibble_table[16] = {
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t crc32_soft(uint32_t crc, const uint8_t* p, uint32_t len) {
  crc = ~crc;
  while (len--) {
    crc ^= *p++;
    crc = (crc >> 4) ^ nibble_table[crc & 15];
    crc = (crc >> 4) ^ nibble_table[crc & 15];
  }
  return ~crc;
}
