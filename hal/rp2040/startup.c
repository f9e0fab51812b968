// RP2040 entry: boot2 (flash offset 0) jumps through the vector table at 0x10000100. The reset
// stub runs from flash, copies the bootloader into SRAM (DMA zeroes .bss meanwhile) and continues there: XIP stops while
// the flash is being erased or programmed. The stub touches nothing in SRAM before the copy
// (volatile word loops: no call to a memcpy that is not there yet).
#include <stdint.h>
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

extern uint32_t __stack_top, __text_load, __text_start, __data_end, __bss_start, __bss_end;
int main(void);

void Reset_Handler(void) __attribute__((noreturn, section(".entry")));
void Fault_Handler(void) __attribute__((noreturn));
// SRAM copy of the vector table, filled at start: VTOR needs 128-byte alignment (ARMv6-M B3.2.5).
static const void* ram_vectors[4] __attribute__((aligned(128)));


// Eight bytes per step, one XIP cache line: the copy is bound by the flash reads.
static inline __attribute__((always_inline)) void copy8(uint32_t* dst, const uint32_t* src, const uint32_t* end) {
  __asm volatile(
    "1: cmp %0, %2\n\t"
    "bhs 2f\n\t"
    "ldmia %1!, {r4, r5}\n\t"
    "stmia %0!, {r4, r5}\n\t"
    "b 1b\n"
    "2:"
    : "+l"(dst), "+l"(src) : "l"(end) : "r4", "r5", "memory", "cc");
}

void Reset_Handler(void) {
  // On the ROSC sped up eight times (board.h): booting waits for no crystal and no PLL; only DFU
  // mode starts them (clocks.c). The divider changes without a glitch (datasheet 2.17.4).
  ROSC_DIV = ROSC_DIV_PASS | BOARD_ROSC_BOOT_DIV;
  WATCHDOG_TICK = WATCHDOG_TICK_ENABLE | BOARD_BOOT_CLK_MAX_MHZ;
  // .bss (the core's linear memory: 24 KB) is zeroed by DMA channel 0 while the CPU copies:
  // one word per cycle from a zero word on the stack (datasheet 2.5.1), and the copy is bound
  // by the flash reads anyway. The zero word is read, never written: it stays valid.
  volatile uint32_t zero = 0;
  RESETS_RESET_CLR = RESET_DMA;
  while (!(RESETS_DONE & RESET_DMA)) {}
  DMA_CH0_READ_ADDR = (uint32_t)&zero;
  DMA_CH0_WRITE_ADDR = (uint32_t)&__bss_start;
  DMA_CH0_TRANS_COUNT = (uint32_t)(&__bss_end - &__bss_start);
  DMA_CH0_CTRL_TRIG = DMA_CTRL_EN | DMA_CTRL_SIZE_WORD | DMA_CTRL_INCR_WRITE | DMA_CTRL_TREQ_PERMANENT | DMA_CTRL_IRQ_QUIET;
  copy8(&__text_start, &__text_load, &__data_end);
  while (DMA_CH0_CTRL_TRIG & DMA_CTRL_BUSY) {}
  // Faults from here on find their handler in SRAM: the table in flash is unreadable while
  // the flash is erased or programmed. Only NMI and HardFault can happen (no interrupt is
  // ever enabled), so the table ends there.
  ram_vectors[0] = &__stack_top;
  ram_vectors[1] = Reset_Handler;
  ram_vectors[2] = ram_vectors[3] = Fault_Handler;
  SCB_VTOR = (uint32_t)ram_vectors;
  main();
  for (;;) {}
}

void Fault_Handler(void) { hal_trap_reset(); }

// ARMv6-M B1.5.2: initial SP, reset, NMI, HardFault; no other exception is used (nothing
// enables an interrupt), so the table stops there.
__attribute__((section(".vectors"), used)) const void* const vector_table[4] = {
  &__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
};
