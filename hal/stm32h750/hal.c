// The HAL imports (boot/hal.ts) on the STM32H750. Register access only: every decision is the
// core's. Not yet driven by real drivers (their own issue): the OTG_FS device controller
// (usb_*: no events, so the board shows no USB device yet) and QUADSPI (flash_cmd fails, so
// the core reports no flash and stays in DFU mode). Everything else is real.
#include <string.h>
#include "../common/hal.h"
#include "../common/flags.h"
#include "board.h"
#include "regs.h"

static struct noinit_flag flag __attribute__((section(".noinit")));

void hal_chip_init(void) {
  DEMCR |= DEMCR_TRCENA;
  DWT_LAR = 0xC5ACCE55u; // unlock the DWT on parts that lock it
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
  RCC_AHB4ENR |= RCC_AHB4ENR_GPIOCEN;
  (void)RCC_AHB4ENR; // read back: the clock is on before GPIOC is touched (RM0433 8.5.10)
  GPIOC_MODER &= ~(3u << (2 * K1_PIN));               // input
  GPIOC_PUPDR = (GPIOC_PUPDR & ~(3u << (2 * K1_PIN))) | (2u << (2 * K1_PIN)); // pull-down: K1 pulls to 3V3
}

void hal_trap_reset(void) {
  noinit_flag_set(&flag, FLAG_TRAPPED);
  SCB_AIRCR = SCB_AIRCR_RESET;
  for (;;) {}
}

// ---- USB OTG_FS: not yet implemented ----
void Z_halZ_usb_init(struct Z_hal_instance_t* h) { (void)h; }
u32 Z_halZ_usb_poll(struct Z_hal_instance_t* h, u32 setup) { (void)h; (void)setup; return 0; }
void Z_halZ_usb_ep0_in(struct Z_hal_instance_t* h, u32 buf, u32 len) { (void)h; (void)buf; (void)len; }
void Z_halZ_usb_ep0_out(struct Z_hal_instance_t* h, u32 buf, u32 max) { (void)h; (void)buf; (void)max; }
void Z_halZ_usb_ep0_stall(struct Z_hal_instance_t* h) { (void)h; }
void Z_halZ_usb_set_address(struct Z_hal_instance_t* h, u32 addr) { (void)h; (void)addr; }

// ---- QUADSPI: not yet implemented ----
u32 Z_halZ_flash_cmd(struct Z_hal_instance_t* h, u32 fmt, u32 addr, u32 buf, u32 len) {
  (void)h; (void)fmt; (void)addr; (void)buf; (void)len;
  return (u32)-1;
}
u32 Z_halZ_flash_mmap(struct Z_hal_instance_t* h, u32 fmt) { (void)h; (void)fmt; return (u32)-1; }

// Microseconds from the DWT cycle counter, extended past its 32-bit wrap.
u32 Z_halZ_time_us(struct Z_hal_instance_t* h) {
  (void)h;
  static uint32_t last, us, rest;
  uint32_t now = DWT_CYCCNT;
  uint32_t cycles = now - last + rest;
  last = now;
  us += cycles / (BOARD_CPU_HZ / 1000000u);
  rest = cycles % (BOARD_CPU_HZ / 1000000u);
  return us;
}

u32 Z_halZ_crc32_buf(struct Z_hal_instance_t* h, u32 crc, u32 buf, u32 len) {
  const uint8_t* p = hal_mem(h, buf, len);
  return p ? crc32_soft(crc, p, len) : crc;
}

u32 Z_halZ_crc32_phys(struct Z_hal_instance_t* h, u32 crc, u32 addr, u32 len) {
  (void)h;
  return crc32_soft(crc, (const uint8_t*)addr, len);
}

u32 Z_halZ_flag_get(struct Z_hal_instance_t* h) { (void)h; return noinit_flag_get(&flag); }
void Z_halZ_flag_set(struct Z_hal_instance_t* h, u32 v) { (void)h; noinit_flag_set(&flag, v); }

u32 Z_halZ_button(struct Z_hal_instance_t* h) { (void)h; return (GPIOC_IDR >> K1_PIN) & 1u; }

u32 Z_halZ_chip_uid(struct Z_hal_instance_t* h, u32 out) {
  uint8_t* p = hal_mem(h, out, 12);
  if (!p) return 0;
  memcpy(p, (const void*)UID_BASE, 12);
  return 12;
}

void Z_halZ_system_reset(struct Z_hal_instance_t* h) {
  (void)h;
  SCB_AIRCR = SCB_AIRCR_RESET;
  for (;;) {}
}

// Hand over as the application would find a reset: interrupts off and cleared, SysTick off,
// its vector table, its stack. QUADSPI stays memory-mapped (the core set that up).
void Z_halZ_jump(struct Z_hal_instance_t* h, u32 vectors) {
  (void)h;
  __asm volatile("cpsid i" ::: "memory");
  SYSTICK_CTRL = 0;
  for (unsigned i = 0; i < 8; i++) { NVIC_ICER(i) = 0xFFFFFFFFu; NVIC_ICPR(i) = 0xFFFFFFFFu; }
  SCB_VTOR = vectors;
  uint32_t sp = ((volatile const uint32_t*)vectors)[0];
  uint32_t pc = ((volatile const uint32_t*)vectors)[1];
  __asm volatile("msr msp, %0\n\tdsb\n\tisb\n\tcpsie i\n\tbx %1" :: "r"(sp), "r"(pc) : "memory");
  for (;;) {}
}
