// The HAL imports (boot/hal.ts) on the STM32H750 other than USB (usb.c) and QUADSPI (qspi.c):
// clocks at start (clocks.c), time, the CRC unit, the reset-surviving flag, K1, the unique ID,
// reset and the jump. Register access only: every decision is the core's.
#include <string.h>
#include "../common/hal.h"
#include "../common/flags.h"
#include "board.h"
#include "regs.h"

// The reset-surviving flag: first 8 bytes of backup SRAM (hal/app/qspiboot.h writes it too).
#define flag (*(struct noinit_flag*)BKPSRAM_BASE)

void pins_init(void);
void clocks_raise(void);
void time_rate_change(uint32_t mhz);

// The CPU clock time_us counts in: the reset clock until DFU mode raises it (clocks.c).
uint32_t hal_cpu_mhz = BOARD_RESET_CPU_HZ / 1000000u;

void hal_chip_init(void) {
  pins_init();
  RCC_AHB4ENR |= RCC_AHB4ENR_BKPRAMEN; // backup SRAM: the flag
  PWR_CR1 |= PWR_CR1_DBP;              // and write access to it
  DEMCR |= DEMCR_TRCENA;
  DWT_LAR = 0xC5ACCE55u; // unlock the DWT on parts that lock it
  DWT_CYCCNT = 0;
  DWT_CTRL |= 1u;
  GPIOC_MODER &= ~(3u << (2 * K1_PIN));               // input
  GPIOC_PUPDR = (GPIOC_PUPDR & ~(3u << (2 * K1_PIN))) | (2u << (2 * K1_PIN)); // pull-down: K1 pulls to 3V3
}

// The whole bootloader runs in place from the internal flash: nothing to load for DFU mode.
void hal_load_rest(void) {}

void hal_trap_reset(void) {
  RCC_AHB4ENR |= RCC_AHB4ENR_BKPRAMEN;
  PWR_CR1 |= PWR_CR1_DBP;
  noinit_flag_set(&flag, FLAG_TRAPPED);
  SCB_AIRCR = SCB_AIRCR_RESET;
  for (;;) {}
}

// Microseconds from the DWT cycle counter, extended past its 32-bit wrap.
u32 Z_halZ_time_us(struct Z_hal_instance_t* h) {
  (void)h;
  static uint32_t last, us, rest;
  uint32_t now = DWT_CYCCNT;
  uint32_t cycles = now - last + rest;
  last = now;
  us += cycles / hal_cpu_mhz;
  rest = cycles % hal_cpu_mhz;
  return us;
}

// The CPU clock changes (clocks.c, at the SYSCLK switch): the cycles so far are counted at the
// old rate. Counting the HSE start-up (2 ms spent spinning on the HSI) at the new one put
// time_us 1.4 ms behind the real time.
void time_rate_change(uint32_t mhz) {
  Z_halZ_time_us(0);
  hal_cpu_mhz = mhz;
}

// DFU mode: the clocks USB needs (hal/stm32h750/clocks.c).
void hal_raise_clocks(void) { clocks_raise(); }

// CRC-32 on the CRC unit (RM0433 21): polynomial 04C11DB7h (reset value), input bits reversed,
// output reversed: zlib's CRC. Continuing from `crc` means starting the register at the value
// whose reversed complement is `crc`. Words while aligned (the word is reversed as a whole, so
// its first byte goes in first), then bytes.
static uint32_t rbit(uint32_t v) {
  uint32_t r;
  __asm("rbit %0, %1" : "=r"(r) : "r"(v));
  return r;
}

static uint32_t crc_unit(uint32_t crc, const uint8_t* p, uint32_t len) {
  CRC_INIT = rbit(~crc);
  CRC_CR = CRC_CR_REV_IN_WORD | CRC_CR_REV_OUT | CRC_CR_RESET;
  while (len >= 4 && !((uintptr_t)p & 3)) {
    CRC_DR = *(const uint32_t*)p;
    p += 4;
    len -= 4;
  }
  CRC_CR = CRC_CR_REV_IN_BYTE | CRC_CR_REV_OUT; // no RESET: the register carries on
  while (len--) CRC_DR8 = *p++;
  return ~CRC_DR;
}

u32 Z_halZ_crc32_buf(struct Z_hal_instance_t* h, u32 crc, u32 buf, u32 len) {
  const uint8_t* p = hal_mem(h, buf, len);
  return p ? crc_unit(crc, p, len) : crc;
}

u32 Z_halZ_crc32_phys(struct Z_hal_instance_t* h, u32 crc, u32 addr, u32 len) {
  (void)h;
  return crc_unit(crc, (const uint8_t*)addr, len);
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

// The status LED (PE3): output mode only once DFU mode first drives it, so on the boot path
// the pin stays in its reset mode (analog) for the application. GPIOE's clock is on (pins_init).
void Z_halZ_led_set(struct Z_hal_instance_t* h, u32 on) {
  (void)h;
  static uint8_t ready;
  if (!ready) {
    ready = 1;
    GPIOE_MODER = (GPIOE_MODER & ~(3u << (2 * BOARD_LED_PIN))) | (1u << (2 * BOARD_LED_PIN)); // general-purpose output
  }
  GPIOE_BSRR = (on != 0) == BOARD_LED_ACTIVE_HIGH ? 1u << BOARD_LED_PIN : 1u << (BOARD_LED_PIN + 16);
}

// Hand over as the application would find a reset: interrupts off and cleared, SysTick off,
// caches off (the bootloader never turns them on), its vector table, its stack. QUADSPI stays
// memory-mapped with its clock on (the core set that up).
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
