// RP2040 entry: boot2 (flash offset 0) jumps through the vector table at 0x10000100. The reset
// stub runs from flash, copies the bootloader into SRAM and continues there: XIP stops while
// the flash is being erased or programmed. The stub touches nothing in SRAM before the copy
// (volatile word loops: no call to a memcpy that is not there yet).
#include <stdint.h>
#include "../common/hal.h"
#include "regs.h"

extern uint32_t __stack_top, __text_load, __text_start, __data_end, __bss_start, __bss_end;
int main(void);

void Reset_Handler(void) __attribute__((noreturn, section(".entry")));
void Fault_Handler(void) __attribute__((noreturn));
extern const void* const ram_vectors[16];

void clocks_init(void);

void Reset_Handler(void) {
  clocks_init();
  uint32_t* dst_text = &__text_start;
  const uint32_t* src_text = &__text_load;
  // Eight bytes per step, one XIP cache line: the copy is bound by the flash reads.
  __asm volatile(
    "1: cmp %0, %2\n\t"
    "bhs 2f\n\t"
    "ldmia %1!, {r4, r5}\n\t"
    "stmia %0!, {r4, r5}\n\t"
    "b 1b\n"
    "2:"
    : "+l"(dst_text), "+l"(src_text) : "l"(&__data_end) : "r4", "r5", "memory", "cc");
  // .bss (the core's linear memory: 24 KB) sixteen bytes per step.
  uint32_t* bss = &__bss_start;
  __asm volatile(
    "movs r4, #0\n\tmovs r5, #0\n\tmovs r6, #0\n\tmovs r7, #0\n"
    "1: cmp %0, %1\n\t"
    "bhs 2f\n\t"
    "stmia %0!, {r4, r5, r6, r7}\n\t"
    "b 1b\n"
    "2:"
    : "+l"(bss) : "l"(&__bss_end) : "r4", "r5", "r6", "r7", "memory", "cc");
  // Faults from here on find their handler in SRAM: the table in flash is unreadable while
  // the flash is erased or programmed.
  SCB_VTOR = (uint32_t)ram_vectors;
  main();
  for (;;) {}
}

void Fault_Handler(void) { hal_trap_reset(); }

// ARMv6-M B1.5.2: initial SP, reset, NMI, HardFault; no other exception is used. The copy in
// SRAM (VTOR needs 128-byte alignment, B3.2.5) serves once the bootloader runs.
__attribute__((section(".vectors"), used)) const void* const vector_table[16] = {
  &__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
};
__attribute__((section(".ram_vectors"), used, aligned(128))) const void* const ram_vectors[16] = {
  &__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
};
