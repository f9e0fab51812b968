// hal.mem_compare (boot/hal.ts): what the flash holds against what should be there, a word at
// a time where both buffers allow. The core compares every block before and after writing it;
// translated to C from Wasm, its loop cost about 20 cycles a word on the M0+, this one a few.
#include "hal.h"

u32 Z_halZ_mem_compare(struct Z_hal_instance_t* h, u32 have, u32 want, u32 len) {
  const uint8_t* a = hal_mem(h, have, len);
  const uint8_t* b = want ? hal_mem(h, want, len) : 0;
  if (!a || (want && !b)) return 0;
  uint32_t equal = 1, i = 0;
  // Against erased flash (want 0), four words a step: the blank checks of whole sectors and
  // pages are most of the calls (npm run bench: ~10 -> ~3 cycles a word on the M0+).
  if (!b && !((uintptr_t)a & 3)) {
    for (; i + 16 <= len; i += 16) {
      const uint32_t* w = (const uint32_t*)(a + i);
      if ((w[0] & w[1] & w[2] & w[3]) != ~0u) return 0;
    }
  }
  if (!(((uintptr_t)a | (uintptr_t)b) & 3))
    for (; i + 4 <= len; i += 4) {
      uint32_t x = *(const uint32_t*)(a + i), y = b ? *(const uint32_t*)(b + i) : 0xFFFFFFFFu;
      if (x != y) { equal = 0; if ((x & y) != y) return 0; }
    }
  for (; i < len; i++) {
    uint8_t x = a[i], y = b ? b[i] : 0xFF;
    if (x != y) { equal = 0; if ((x & y) != y) return 0; }
  }
  return equal ? 2 : 1;
}
