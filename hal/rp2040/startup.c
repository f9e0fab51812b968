// RP2040 entry: boot2 (flash offset 0) jumps through the vector table at 0x10000100. The reset
// stub runs from flash and brings the bootloader into SRAM, where it runs: XIP stops while the
// flash is being erased or programmed. The stub copies only `load_image` itself through XIP
// (volatile word loops: no call to a memcpy that is not there yet); that function, in SRAM,
// reads the boot path's code and all data in one SSI transfer by DMA (DMA zeroes .bss
// meanwhile). The code only DFU mode runs follows when the boot path stays (hal_load_rest):
// link/rp2040.ld puts it last, tools/build/boot-set.ts decides which functions those are.
#include <stdint.h>
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

extern uint32_t __stack_top, __text_load, __text_start, __loader_end, __data_end, __rest_start, __rest_end, __bss_start, __bss_end;
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

// Runs from SRAM with XIP stopped: one read of [start, end) of the image in the continuous-read form
// boot2 left the SSI in (SPI_CTRLR0: no instruction, address and mode bits, 32-bit frames), for
// as many frames as that has (CTRLR1's NDF), drained by DMA channel 1 on DREQ_XIP_SSIRX.
// A cache line through XIP cost ~80 clk_sys cycles for 8 bytes (instruction, address, mode,
// wait and data each time); here a word costs its 8 SCK, 16 cycles: the boot's copy of ~15 KB
// from 2.6 ms to about 1.2 ms at the ROSC's typical rate. XIP is set up as before on return
// (the chip stays in continuous-read mode: the mode bits went out with the address).
__attribute__((section(".loader"), noinline)) static void load_image(uint32_t* start, uint32_t* end) {
  uint32_t words = (uint32_t)(end - start);
  SSI_SSIENR = 0;
  SSI_CTRLR1 = words - 1;
  SSI_DMARDLR = 0;
  SSI_DMACR = SSI_DMACR_RDMAE;
  SSI_SSIENR = 1;
  DMA_CH1_READ_ADDR = (uint32_t)&SSI_DR0;
  DMA_CH1_WRITE_ADDR = (uint32_t)start;
  DMA_CH1_TRANS_COUNT = words;
  DMA_CH1_CTRL_TRIG = DMA_CTRL_EN | DMA_CTRL_SIZE_WORD | DMA_CTRL_INCR_WRITE | DMA_CTRL_BSWAP |
                      DMA_CTRL_TREQ_SSIRX | DMA_CTRL_IRQ_QUIET | DMA_CTRL_CHAIN_TO_SELF1;
  uint32_t from = (uint32_t)&__text_load + (uint32_t)((uint8_t*)start - (uint8_t*)&__text_start);
  SSI_DR0 = ((from - BOARD_FLASH_BASE) << 8) | (SSI_SPI_CTRLR0 >> SSI_SPI_XIP_CMD_SHIFT);
  while (DMA_CH1_CTRL_TRIG & DMA_CTRL_BUSY) {}
  while ((SSI_SR & (SSI_SR_TFE | SSI_SR_BUSY)) != SSI_SR_TFE) {}
  SSI_SSIENR = 0;
  SSI_DMACR = 0;
  SSI_CTRLR1 = 0;
  SSI_SSIENR = 1;
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
  copy8(&__text_start, &__text_load, &__loader_end);
  // Calls from flash into SRAM, out of a BL's reach, go through a register: a linker veneer for
  // each cost 16 bytes.
  void (*volatile load)(uint32_t*, uint32_t*) = load_image;
  load(&__text_start, &__data_end);
  while (DMA_CH0_CTRL_TRIG & DMA_CTRL_BUSY) {}
  // Faults from here on find their handler in SRAM: the table in flash is unreadable while
  // the flash is erased or programmed. Only NMI and HardFault can happen (no interrupt is
  // ever enabled), so the table ends there.
  ram_vectors[0] = &__stack_top;
  ram_vectors[1] = Reset_Handler;
  ram_vectors[2] = ram_vectors[3] = Fault_Handler;
  SCB_VTOR = (uint32_t)ram_vectors;
  int (*volatile run)(void) = main;
  run();
  for (;;) {}
}

void Fault_Handler(void) { hal_trap_reset(); }

// The boot path stays (main.c): DFU mode's code, with XIP still as boot2 left it (the boot
// path only read through it).
void hal_load_rest(void) { load_image(&__rest_start, &__rest_end); }

// ARMv6-M B1.5.2: initial SP, reset, NMI, HardFault; no other exception is used (nothing
// enables an interrupt), so the table stops there.
__attribute__((section(".vectors"), used)) const void* const vector_table[4] = {
  &__stack_top, Reset_Handler, Fault_Handler, Fault_Handler,
};
