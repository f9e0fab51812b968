// memcpy/memmove/memset for the RP2040 build: newlib-nano's take 460 bytes, these about 100,
// and the bootloader's copies are short or word-aligned (DFU blocks, USB packets). Word loops
// when everything is aligned, bytes otherwise. The optimize attribute keeps gcc from turning
// these loops back into calls to themselves.
#include <stddef.h>
#include <stdint.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns"), used))

NO_LIBCALL void* memmove(void* dst, const void* src, size_t n) {
  uint8_t* d = dst;
  const uint8_t* s = src;
  if (((uintptr_t)d | (uintptr_t)s | n) & 3) {
    if (d <= s) for (size_t i = 0; i < n; i++) d[i] = s[i];
    else while (n--) d[n] = s[n];
  } else {
    uint32_t* dw = dst;
    const uint32_t* sw = src;
    n >>= 2;
    if (d <= s) for (size_t i = 0; i < n; i++) dw[i] = sw[i];
    else while (n--) dw[n] = sw[n];
  }
  return dst;
}

NO_LIBCALL void* memcpy(void* dst, const void* src, size_t n) { return memmove(dst, src, n); }

NO_LIBCALL void* memset(void* dst, int c, size_t n) {
  uint8_t* d = dst;
  // Words over the aligned middle: the core clears its 512-byte erase bitmap at every boot.
  uint32_t w = (uint8_t)c * 0x01010101u;
  while (n && ((uintptr_t)d & 3)) { *d++ = (uint8_t)c; n--; }
  for (; n >= 4; n -= 4, d += 4) *(uint32_t*)d = w;
  while (n--) *d++ = (uint8_t)c;
  return dst;
}
