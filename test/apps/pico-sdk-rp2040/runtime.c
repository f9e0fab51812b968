// A stand-in for pico-sdk's runtime_init on the RP2040 (SDK 2.x: pico_clib_interface's
// runtime_init runs the .preinit_array entries, sorted by their section's number, then the
// .init_array), with the steps that touch the hardware qspiboot hands over, written here from
// pico_runtime_init/runtime_init.c, runtime_init_clocks.c, hardware_clocks/clocks.c,
// hardware_pll/pll.c and hardware_xosc/xosc.c (default build: 125 MHz clk_sys, 12 MHz XOSC).
// Registers: RP2040 datasheet 2.14 (RESETS), 2.15 (CLOCKS), 2.16 (XOSC), 2.18 (PLL).
#include <stdint.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define SET(a) REG((a) + 0x2000u) // atomic set alias (2.1.2)
#define CLR(a) REG((a) + 0x3000u) // atomic clear alias

#define RESETS 0x4000C000u
#define RESETS_RESET RESETS
#define RESETS_DONE REG(RESETS + 0x08u)
#define RESETS_ALL 0x01FFFFFFu
enum { R_ADC = 0, R_IO_QSPI = 6, R_PADS_QSPI = 9, R_PLL_SYS = 12, R_PLL_USB = 13, R_RTC = 15, R_SPI0 = 16,
       R_SPI1 = 17, R_SYSCFG = 18, R_UART0 = 22, R_UART1 = 23, R_USBCTRL = 24 };

#define CLOCKS 0x40008000u
#define CLK_CTRL(n) (CLOCKS + 12u * (n))        // each clock: CTRL, DIV, SELECTED
#define CLK_DIV(n) REG(CLOCKS + 12u * (n) + 4u)
#define CLK_SELECTED(n) REG(CLOCKS + 12u * (n) + 8u)
enum { clk_ref = 4, clk_sys = 5, clk_peri = 6, clk_usb = 7, clk_adc = 8, clk_rtc = 9, CLK_COUNT = 10 };
#define CLK_SYS_RESUS_CTRL REG(CLOCKS + 0x78u)
#define CTRL_SRC_BITS 0x3u                      // clk_ref SRC[1:0], clk_sys SRC[0]
#define CTRL_AUXSRC_BITS 0xE0u
#define CTRL_ENABLE (1u << 11)
#define REF_SRC_XOSC 2u
#define SYS_SRC_AUX 1u                          // AUXSRC 0: PLL_SYS (clk_sys), PLL_USB (usb, adc, rtc), clk_sys (peri)

#define XOSC 0x40024000u
#define XOSC_CTRL REG(XOSC)
#define XOSC_STATUS REG(XOSC + 0x04u)
#define XOSC_STARTUP REG(XOSC + 0x0Cu)

#define PLL_SYS 0x40028000u
#define PLL_USB 0x4002C000u
#define PLL_CS(p) REG(p)
#define PLL_PWR(p) ((p) + 0x04u)
#define PLL_FBDIV(p) REG((p) + 0x08u)
#define PLL_PRIM(p) REG((p) + 0x0Cu)
#define PLL_LOCK (1u << 31)
#define PLL_PWR_PD 1u
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD (1u << 5)

#define WATCHDOG_TICK REG(0x4005802Cu)
#define USB_SIE_CTRL 0x5011004Cu
#define PADS_BANK0_GPIO(n) (0x4001C004u + 4u * (n))
#define SCB_VTOR REG(0xE000ED08u)

uint32_t configured_freq[CLK_COUNT];
uint32_t pll_kept;                              // bit 0 PLL_SYS, bit 1 PLL_USB: pll_init found it running as asked

static void reset_block_mask(uint32_t bits) { SET(RESETS_RESET) = bits; }
static void unreset_block_mask_wait_blocking(uint32_t bits) {
  CLR(RESETS_RESET) = bits;
  while (~RESETS_DONE & bits) {}
}

static void runtime_init_early_resets(void) {
  reset_block_mask(~((1u << R_IO_QSPI) | (1u << R_PADS_QSPI) | (1u << R_PLL_USB) | (1u << R_USBCTRL) |
                     (1u << R_SYSCFG) | (1u << R_PLL_SYS)));
  unreset_block_mask_wait_blocking(RESETS_ALL & ~((1u << R_ADC) | (1u << R_RTC) | (1u << R_SPI0) | (1u << R_SPI1) |
                                                  (1u << R_UART0) | (1u << R_UART1) | (1u << R_USBCTRL)));
}

static void runtime_init_usb_power_down(void) {
  if (REG(USB_SIE_CTRL) == 0) SET(USB_SIE_CTRL) = 1u << 18; // TRANSCEIVER_PD, only while USB looks untouched
}

static void xosc_init(void) {
  XOSC_CTRL = 0xAA0u;                           // FREQ_RANGE 1_15MHZ
  XOSC_STARTUP = ((12000u + 128u) / 256u) * 6u; // PICO_XOSC_STARTUP_DELAY_MULTIPLIER 6
  SET(XOSC) = 0xFABu << 12;                     // ENABLE
  while (!(XOSC_STATUS & (1u << 31))) {}        // STABLE
}

static void pll_init(uint32_t pll, uint32_t refdiv, uint32_t vco_freq, uint32_t post_div1, uint32_t post_div2, uint32_t reset_bit, uint32_t kept_bit) {
  uint32_t fbdiv = vco_freq / (12000000u / refdiv);
  uint32_t pdiv = (post_div1 << 16) | (post_div2 << 12);
  if ((PLL_CS(pll) & PLL_LOCK) && refdiv == (PLL_CS(pll) & 0x3Fu) && fbdiv == (PLL_FBDIV(pll) & 0xFFFu) &&
      pdiv == (PLL_PRIM(pll) & 0x77000u)) {
    pll_kept |= kept_bit;                       // do not disturb a PLL already running as asked
    return;
  }
  reset_block_mask(1u << reset_bit);
  unreset_block_mask_wait_blocking(1u << reset_bit);
  PLL_CS(pll) = refdiv;
  PLL_FBDIV(pll) = fbdiv;
  CLR(PLL_PWR(pll)) = PLL_PWR_PD | PLL_PWR_VCOPD;
  while (!(PLL_CS(pll) & PLL_LOCK)) {}
  PLL_PRIM(pll) = pdiv;
  CLR(PLL_PWR(pll)) = PLL_PWR_POSTDIVPD;
}

static int glitchless(int clock) { return clock == clk_sys || clock == clk_ref; }

static void clock_configure_internal(int clock, uint32_t src, uint32_t auxsrc, uint32_t freq, uint32_t div) {
  const uint32_t ctrl = CLK_CTRL(clock);
  if (div > CLK_DIV(clock)) CLK_DIV(clock) = div;
  if (glitchless(clock) && src == SYS_SRC_AUX) {
    CLR(ctrl) = CTRL_SRC_BITS;                  // off the aux mux before changing it
    while (!(CLK_SELECTED(clock) & 1u)) {}
  } else {
    CLR(ctrl) = CTRL_ENABLE;
    if (configured_freq[clock] > 0) {
      // 3 cycles of the clock for ENABLE to propagate (busy_wait_at_least_cycles)
      for (volatile uint32_t n = 3u * (configured_freq[clk_sys] / configured_freq[clock] + 1u); n; n--) {}
    }
  }
  REG(ctrl) = (REG(ctrl) & ~CTRL_AUXSRC_BITS) | (auxsrc << 5);
  if (glitchless(clock)) {
    REG(ctrl) = (REG(ctrl) & ~CTRL_SRC_BITS) | src;
    while (!(CLK_SELECTED(clock) & (1u << src))) {}
  }
  SET(ctrl) = CTRL_ENABLE;
  CLK_DIV(clock) = div;
  configured_freq[clock] = freq;
}
static void clock_configure_undivided(int clock, uint32_t src, uint32_t auxsrc, uint32_t freq) {
  clock_configure_internal(clock, src, auxsrc, freq, 1u << 8);
}

static void runtime_init_clocks(void) {
  CLK_SYS_RESUS_CTRL = 0;
  xosc_init();
  // Before the PLLs are touched, clk_sys and clk_ref leave their aux sources: on our hand-over
  // clk_sys runs from PLL_SYS, so this is where it moves to clk_ref.
  CLR(CLK_CTRL(clk_sys)) = 1u;
  while (CLK_SELECTED(clk_sys) != 1u) {}
  CLR(CLK_CTRL(clk_ref)) = 3u;
  while (CLK_SELECTED(clk_ref) != 1u) {}
  pll_init(PLL_SYS, 1, 1500000000u, 6, 2, R_PLL_SYS, 1);
  pll_init(PLL_USB, 1, 1200000000u, 5, 5, R_PLL_USB, 2);
  clock_configure_undivided(clk_ref, REF_SRC_XOSC, 0, 12000000u);
  clock_configure_undivided(clk_sys, SYS_SRC_AUX, 0, 125000000u);
  clock_configure_undivided(clk_usb, 0, 0, 48000000u);
  clock_configure_undivided(clk_adc, 0, 0, 48000000u);
  clock_configure_internal(clk_rtc, 0, 0, 48000000u / 1024u, 1024u << 8); // clock_configure_int_divider
  clock_configure_undivided(clk_peri, 0, 0, 125000000u);
  WATCHDOG_TICK = (configured_freq[clk_ref] / 1000000u) | (1u << 9); // start_all_ticks: 1 us ticks
}

static void runtime_init_post_clock_resets(void) { unreset_block_mask_wait_blocking(RESETS_ALL); }

static void runtime_init_rp2040_gpio_ie_disable(void) {
  for (uint32_t n = 26; n <= 29; n++) CLR(PADS_BANK0_GPIO(n)) = 1u << 6; // IE off on the ADC pins
}

uint32_t __attribute__((section(".ram_vector_table"))) ram_vector_table[48];
static void runtime_init_install_ram_vector_table(void) {
  extern uint32_t __vectors, __vectors_end;
  const uint32_t* v = &__vectors;
  uint32_t stored = (uint32_t)(&__vectors_end - &__vectors);
  for (uint32_t i = 0; i < 48; i++) ram_vector_table[i] = i < stored ? v[i] : 0;
  SCB_VTOR = (uint32_t)ram_vector_table;
}

// PICO_RUNTIME_INIT_FUNC: a pointer in .preinit_array.<order>; the linker script sorts them.
#define INIT(fn, order) const uintptr_t __attribute__((used, section(".preinit_array." order))) pre_##fn = (uintptr_t)fn
INIT(runtime_init_early_resets, "00100");
INIT(runtime_init_usb_power_down, "00101");
INIT(runtime_init_clocks, "00500");
INIT(runtime_init_post_clock_resets, "00600");
INIT(runtime_init_rp2040_gpio_ie_disable, "00700");
INIT(runtime_init_install_ram_vector_table, "10080");

void runtime_init(void) {
  extern uintptr_t __preinit_array_start, __preinit_array_end;
  extern void (*__init_array_start)(void), (*__init_array_end)(void);
  for (uintptr_t* p = &__preinit_array_start; p < &__preinit_array_end; p++) ((void (*)(void))*p)();
  for (void (**f)(void) = &__init_array_start; f < &__init_array_end; f++) (*f)();
}
