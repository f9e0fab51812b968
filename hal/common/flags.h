// A word that survives a reset but not a power cut, where the chip has nothing better:
// a pair in RAM the startup code leaves alone (.noinit), valid only when the second word is
// the complement of the first, so that power-up garbage reads as "no flag".
#ifndef QSPIBOOT_FLAGS_H
#define QSPIBOOT_FLAGS_H
#include <stdint.h>

#define FLAG_TRAPPED 0x51425450u // boot/boot.ts FLAG_TRAPPED

struct noinit_flag { volatile uint32_t value, check; };

static inline uint32_t noinit_flag_get(struct noinit_flag* f) {
  return f->check == ~f->value ? f->value : 0;
}
static inline void noinit_flag_set(struct noinit_flag* f, uint32_t v) {
  f->value = v;
  f->check = ~v;
}
#endif
