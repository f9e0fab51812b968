// The HAL imports (boot/hal.ts) on the RP2040 that are not USB (usb.c) or flash (flash.c):
// clocks at start, timer, reset-surviving flag, BOOTSEL, reset and the jump.
#include <string.h>
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

void hal_chip_init(void) {
  WATCHDOG_TICK = WATCHDOG_TICK_ENABLE | BOARD_CLK_REF_MHZ; // 1 us ticks for TIMER
  RESETS_RESET_CLR = RESET_TIMER;
  while (!(RESETS_DONE & RESET_TIMER)) {}
}

// A watchdog reset (not AIRCR): it keeps the scratch registers, which hold the flag.
static void __attribute__((noreturn)) watchdog_reset(void) {
  PSM_WDSEL = PSM_ALL_BUT_OSCILLATORS;
  WATCHDOG_CTRL = WATCHDOG_CTRL_TRIGGER;
  for (;;) {}
}

// SCRATCH0 holds the flag, SCRATCH1 its complement: garbage after power-up reads as none.
static uint32_t flag_read(void) { return WATCHDOG_SCRATCH1 == ~WATCHDOG_SCRATCH0 ? WATCHDOG_SCRATCH0 : 0; }
static void flag_write(uint32_t v) { WATCHDOG_SCRATCH0 = v; WATCHDOG_SCRATCH1 = ~v; }

void hal_trap_reset(void) {
  flag_write(0x51425450u); // boot/boot.ts FLAG_TRAPPED
  watchdog_reset();
}

u32 Z_halZ_time_us(struct Z_hal_instance_t* h) { (void)h; return TIMER_TIMERAWL; }

u32 Z_halZ_crc32_buf(struct Z_hal_instance_t* h, u32 crc, u32 buf, u32 len) {
  const uint8_t* p = hal_mem(h, buf, len);
  return p ? crc32_soft(crc, p, len) : crc;
}

u32 Z_halZ_crc32_phys(struct Z_hal_instance_t* h, u32 crc, u32 addr, u32 len) {
  (void)h;
  return crc32_soft(crc, (const uint8_t*)addr, len);
}

u32 Z_halZ_flag_get(struct Z_hal_instance_t* h) { (void)h; return flag_read(); }
void Z_halZ_flag_set(struct Z_hal_instance_t* h, u32 v) { (void)h; flag_write(v); }

// BOOTSEL pulls the flash chip select low: let go of CS, look, take it back. Runs from SRAM,
// with nothing fetched from flash meanwhile.
u32 Z_halZ_button(struct Z_hal_instance_t* h) {
  (void)h;
  uint32_t ctrl = IO_QSPI_SS_CTRL;
  IO_QSPI_SS_CTRL = (ctrl & ~SS_CTRL_OEOVER_MASK) | SS_CTRL_OEOVER_DISABLE;
  for (volatile int i = 0; i < 100; i++) {}
  uint32_t pressed = !(SIO_GPIO_HI_IN & GPIO_HI_IN_QSPI_SS);
  IO_QSPI_SS_CTRL = ctrl;
  return pressed;
}

u32 Z_halZ_chip_uid(struct Z_hal_instance_t* h, u32 out) { (void)h; (void)out; return 0; }

void Z_halZ_system_reset(struct Z_hal_instance_t* h) {
  (void)h;
  watchdog_reset();
}

void Z_halZ_jump(struct Z_hal_instance_t* h, u32 vectors) {
  (void)h;
  __asm volatile("cpsid i" ::: "memory");
  SYSTICK_CTRL = 0;
  NVIC_ICER = 0xFFFFFFFFu;
  NVIC_ICPR = 0xFFFFFFFFu;
  SCB_VTOR = vectors;
  uint32_t sp = ((volatile const uint32_t*)vectors)[0];
  uint32_t pc = ((volatile const uint32_t*)vectors)[1];
  __asm volatile("msr msp, %0\n\tisb\n\tcpsie i\n\tbx %1" :: "r"(sp), "r"(pc) : "memory");
  for (;;) {}
}
