// hal.mem_compare (boot/hal.ts): what the flash holds against what should be there, a word at
// a time where both buffers allow. The core compares every block before and after writing it;
// translated to C from Wasm, its loop cost about 20 cycles a word on the M0+, this one a few.
#include "hal.h"

u32 Z_halZ_mem_compare(struct Z_hal_instance_t* h, u32 have, u32 want, u32 len) {
  const uint8_t* a = hal_mem(h, have, len);
  const uint8_t* b = want ? hal_mem(h, want, len) : 0;
  if (!a || (want && !b)) return 0;
  uint32_t equal = 1, i = 0;
  if (!(((uintptr_t)a | (uintptr_t)b) & 3)) {
    // Four words a step while they match: the blank checks of whole sectors and pages against
    // erased flash (want 0), and the read-backs after programming against the host's data, are
    // most of the calls (npm run bench, cycles a word on the M0+: blank ~10 -> ~3, equal ~15 -> ~8).
    const uint32_t *x = (const uint32_t*)a, *y = (const uint32_t*)b, *end = x + (len >> 4) * 4;
    if (b)
      while (x < end && !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]))) x += 4, y += 4;
    else
      while (x < end && (x[0] & x[1] & x[2] & x[3]) == ~0u) x += 4;
    i = (uint32_t)((const uint8_t*)x - a);
    // From the first step that differs on, a word at a time: can it be programmed in place?
    // (Against erased flash, the bytes below find the first that is not FFh within a step.)
    if (b)
      for (; i + 4 <= len; i += 4) {
        uint32_t v = *(const uint32_t*)(a + i), w = *(const uint32_t*)(b + i);
        if (v != w) { equal = 0; if ((v & w) != w) return 0; }
      }
  }
  for (; i < len; i++) {
    uint8_t v = a[i], w = b ? b[i] : 0xFF;
    if (v != w) { equal = 0; if ((v & w) != w) return 0; }
  }
  return equal ? 2 : 1;
}
