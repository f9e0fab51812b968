// A cortex-m-rt-shaped application: the reset vector in .vector_table.reset_vector (what
// cortex-m-rt's #[entry] machinery emits) and .data and .bss set up as its Reset does (which
// sets neither SP nor VTOR without its "set-sp"/"set-vtor" features). What it found on entry
// is kept where the test reads it: entry_sp, entry_vtor; counter counts once it runs.
#include <stdint.h>
extern uint32_t __sdata, __edata, __sidata, __sbss, __ebss;
volatile uint32_t counter = 7;
volatile uint32_t entry_sp, entry_vtor;
uint32_t zeroed;

__attribute__((noreturn, used)) void reset_main(uint32_t sp) {
  for (uint32_t *d = &__sdata, *s = &__sidata; d < &__edata;) *d++ = *s++;
  for (uint32_t* d = &__sbss; d < &__ebss;) *d++ = 0;
  entry_sp = sp;
  entry_vtor = *(volatile uint32_t*)0xE000ED08u; // SCB VTOR (ARMv6-M/ARMv7-M B3.2)
  for (;;) counter++;
}
// SP as the reset vector is entered, before anything is pushed.
__attribute__((naked, noreturn)) void Reset(void) { __asm volatile("mov r0, sp\n\tb reset_main"); }
__attribute__((used, section(".vector_table.reset_vector"))) void (*const RESET_VECTOR)(void) = Reset;
__attribute__((used, section(".vector_table.exceptions"))) void (*const EXCEPTIONS[14])(void) = { 0 };
