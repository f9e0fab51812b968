// A cortex-m-rt-shaped application: the reset vector in .vector_table.reset_vector (what
// cortex-m-rt's #[entry] machinery emits) and .data and .bss set up as its Reset does.
#include <stdint.h>
extern uint32_t __sdata, __edata, __sidata, __sbss, __ebss;
volatile uint32_t counter = 7;
uint32_t zeroed;

__attribute__((noreturn)) void Reset(void) {
  for (uint32_t *d = &__sdata, *s = &__sidata; d < &__edata;) *d++ = *s++;
  for (uint32_t* d = &__sbss; d < &__ebss;) *d++ = 0;
  for (;;) counter++;
}
__attribute__((used, section(".vector_table.reset_vector"))) void (*const RESET_VECTOR)(void) = Reset;
__attribute__((used, section(".vector_table.exceptions"))) void (*const EXCEPTIONS[14])(void) = { 0 };
