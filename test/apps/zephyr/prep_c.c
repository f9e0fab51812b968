// A stand-in for Zephyr's z_prep_c (arch/arm/core/cortex_m/prep_c.c) and the first part of
// z_cstart (kernel/init.c), written here from their order: VTOR set to the linked vector table
// (relocate_vector_table: CONFIG_XIP, so _vector_start), the FPU set up (Cortex-M7), .bss zeroed
// (z_bss_zero), .data copied from flash (z_data_copy: __data_region_load_start ->
// __data_region_start..__data_region_end), then soc_early_init_hook, the PRE_KERNEL_1 devices
// in priority order (the clock controller at CONFIG_CLOCK_CONTROL_INIT_PRIORITY 1, then the
// console UART) and main. No threads or interrupts: the emulators take no exceptions.
#include <stdint.h>
#include <string.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define SCB_VTOR REG(0xE000ED08u)
#define SCB_CPACR REG(0xE000ED88u)

extern uint32_t _vector_start[], __bss_start[], __bss_end[], __data_region_start[], __data_region_end[], __data_region_load_start[];
uint32_t entry_sp, entry_vtor;

void soc_early_init_hook(void);
int clock_control_init(void);
int uart_init(void);
int main(void);

void z_prep_c(uint32_t sp, uint32_t vtor) {
  SCB_VTOR = (uint32_t)_vector_start & 0xFFFFFF80u;   // SCB_VTOR_TBLOFF_Msk
  __asm volatile("dsb\n isb" ::: "memory");
#if __ARM_ARCH_7EM__
  SCB_CPACR &= ~((3u << 20) | (3u << 22));            // !CONFIG_FPU: CP10/CP11 no access
  __asm volatile("dsb\n isb" ::: "memory");
#endif
  for (uint32_t* p = __bss_start; p < __bss_end; p++) *p = 0;
  for (uint32_t *d = __data_region_start, *s = __data_region_load_start; d < __data_region_end;) *d++ = *s++;
  entry_sp = sp;
  entry_vtor = vtor;
  soc_early_init_hook();
  int clock = clock_control_init();
  (void)clock;
  uart_init();
  main();
  for (;;) {}
}
