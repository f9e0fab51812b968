// The HAL imports (boot/hal.ts) on the RP2040 that are not USB (usb.c) or flash (flash.c):
// clocks at start, timer, reset-surviving flag, the (absent) button, reset and the jump.
#include <string.h>
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

// Out of reset: what the HAL uses beyond what the boot ROM released (IO_QSPI, PADS_QSPI, TIMER,
// PADS_BANK0: bootrom_main.c main(), bootrom_rt0.S). SYSINFO and IO_BANK0 are the RP2040-E5
// workaround's (usb.c): pico-sdk releases them in runtime_init_early_resets before TinyUSB runs.
#define HAL_BLOCKS (RESET_TIMER | RESET_DMA | RESET_SYSINFO | RESET_IO_BANK0 | RESET_PADS_BANK0)

void clocks_init(void);

void hal_chip_init(void) {
  RESETS_RESET_CLR = HAL_BLOCKS;
  while ((RESETS_DONE & HAL_BLOCKS) != HAL_BLOCKS) {}
#if BOARD_DOUBLE_TAP_MS
  clocks_init(); // the double-tap window is timed: a TIMER on the crystal (clocks.c)
#endif
}

// DFU mode (usb.c): the crystal and the PLLs (clocks.c).
void hal_raise_clocks(void) { clocks_init(); }

// A watchdog reset (not AIRCR): it keeps the scratch registers, which hold the flag.
static void __attribute__((noreturn, noinline)) watchdog_reset(void) {
  ROSC_DIV = ROSC_DIV_PASS | 16u; // the oscillators survive the reset: the ROM gets its ROSC as at power-up
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

// CRC-32 on the DMA sniffer (datasheet 2.5.5.2): channel 0 reads the bytes into a sink, the
// sniffer runs CRC-32 over bit-reversed data, and OUT_REV + OUT_INV present zlib's value. To
// continue from `crc`, the accumulator starts at bit-reverse(~crc). A word-aligned buffer goes
// as 32-bit transfers, four bytes a cycle: the sniffer takes a word's bytes in memory order,
// so the CRC is the same as over byte transfers (measured on a chip: pico-sdk issue 576, a
// 16-byte buffer sniffed by 32-bit transfers in CALC 0 and 1 gives the byte-stream CRCs).
static uint32_t rbit32(uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; i < 32; i++, v >>= 1) r = (r << 1) | (v & 1u);
  return r;
}

static uint32_t crc_dma(uint32_t crc, const void* p, uint32_t len) {
  static volatile uint32_t sink;
  if (!len) return crc;
  DMA_SNIFF_DATA = rbit32(~crc);
  DMA_SNIFF_CTRL = DMA_SNIFF_EN | DMA_SNIFF_CALC_CRC32_REV | DMA_SNIFF_OUT_REV | DMA_SNIFF_OUT_INV; // channel 0
  DMA_CH0_READ_ADDR = (uint32_t)p;
  DMA_CH0_WRITE_ADDR = (uint32_t)&sink;
  uint32_t size = 0;
  if (!(((uintptr_t)p | len) & 3)) { size = DMA_CTRL_SIZE_WORD; len >>= 2; }
  DMA_CH0_TRANS_COUNT = len;
  DMA_CH0_CTRL_TRIG = DMA_CTRL_EN | DMA_CTRL_INCR_READ | size | DMA_CTRL_TREQ_PERMANENT | DMA_CTRL_IRQ_QUIET | DMA_CTRL_SNIFF_EN;
  while (DMA_CH0_CTRL_TRIG & DMA_CTRL_BUSY) {}
  return DMA_SNIFF_DATA;
}

u32 Z_halZ_crc32_buf(struct Z_hal_instance_t* h, u32 crc, u32 buf, u32 len) {
  const uint8_t* p = hal_mem(h, buf, len);
  return p ? crc_dma(crc, p, len) : crc;
}

u32 Z_halZ_crc32_phys(struct Z_hal_instance_t* h, u32 crc, u32 addr, u32 len) {
  (void)h;
  return crc_dma(crc, (const void*)addr, len);
}

#if BOARD_DOUBLE_TAP_MS
// The double-tap token must survive RUN, which is a chip-level reset (datasheet 2.11.5): that
// clears the watchdog scratch registers (4.8: they persist through soft resets only) but not
// SRAM, whose contents the RP2040 keeps across RUN (no power gating on its RAMs; pico-sdk's
// pico_bootsel_via_double_reset keeps its token in uninitialised RAM for that reason). So every
// flag the bootloader sets is kept in both places. .noinit is NOLOAD after .bss (link/rp2040.ld):
// startup neither copies nor clears it, and it is far below the boot ROM's stack and boot2 copy
// at the top of SRAM (0x20041F00).
#include "../common/flags.h"
static struct noinit_flag sram_flag __attribute__((section(".noinit")));
u32 Z_halZ_flag_get(struct Z_hal_instance_t* h) {
  (void)h;
  uint32_t v = flag_read();
  return v ? v : noinit_flag_get(&sram_flag);
}
void Z_halZ_flag_set(struct Z_hal_instance_t* h, u32 v) { (void)h; flag_write(v); noinit_flag_set(&sram_flag, v); }
#else
u32 Z_halZ_flag_get(struct Z_hal_instance_t* h) { (void)h; return flag_read(); }
void Z_halZ_flag_set(struct Z_hal_instance_t* h, u32 v) { (void)h; flag_write(v); }
#endif

// No bootloader button on the Pico: BOOTSEL held at reset makes the boot ROM enter its own USB
// boot and never run boot2 (pico-bootrom-rp2040 bootrom_main.c main(): the CSn strap is
// sampled before _flash_boot), so a read here could only catch a press in the few
// milliseconds between the ROM's sample and this call. The way into DFU mode with an
// application present is the application's request (the flag) or the double tap.
u32 Z_halZ_button(struct Z_hal_instance_t* h) { (void)h; return 0; }

u32 Z_halZ_chip_uid(struct Z_hal_instance_t* h, u32 out) { (void)h; (void)out; return 0; }

void Z_halZ_system_reset(struct Z_hal_instance_t* h) {
  (void)h;
  watchdog_reset();
}

// The status LED (GPIO25): given to SIO only once DFU mode first drives it, so on the boot path
// the pin keeps its reset function (NULL, output disabled) for the application. IO_BANK0 and
// PADS_BANK0 are out of reset (hal_chip_init); the pad's reset value has its output enabled.
void Z_halZ_led_set(struct Z_hal_instance_t* h, u32 on) {
  (void)h;
  static uint8_t ready;
  if (!ready) {
    ready = 1;
    SIO_GPIO_OUT_CLR = 1u << BOARD_LED_PIN;
    SIO_GPIO_OE_SET = 1u << BOARD_LED_PIN;
    IO_BANK0_GPIO25_CTRL = GPIO_FUNCSEL_SIO;
  }
  if (on) SIO_GPIO_OUT_SET = 1u << BOARD_LED_PIN;
  else SIO_GPIO_OUT_CLR = 1u << BOARD_LED_PIN;
}

void clocks_release(void);

void Z_halZ_jump(struct Z_hal_instance_t* h, u32 vectors) {
  (void)h;
  __asm volatile("cpsid i" ::: "memory");
  clocks_release();
  SYSTICK_CTRL = 0;
  NVIC_ICER = 0xFFFFFFFFu;
  NVIC_ICPR = 0xFFFFFFFFu;
  SCB_VTOR = vectors;
  uint32_t sp = ((volatile const uint32_t*)vectors)[0];
  uint32_t pc = ((volatile const uint32_t*)vectors)[1];
  __asm volatile("msr msp, %0\n\tisb\n\tcpsie i\n\tbx %1" :: "r"(sp), "r"(pc) : "memory");
  for (;;) {}
}
