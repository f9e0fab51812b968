// What Zephyr runs on rpi_pico before main, written here from its sources
// (drivers/clock_control/clock_control_rpi_pico.c clock_control_rpi_pico_init with the pico-sdk
// hardware functions it calls from hal_rpi_pico: xosc_init, pll_init, clock_configure, tick_start;
// dts/arm/raspberrypi/rpi_pico/rp2040.dtsi: XOSC 12 MHz, pll_sys 1/125/6/2, pll_usb 1/100/5/5,
// clk_ref 12 MHz from XOSC, clk_sys 125 MHz from pll_sys, clk_peri = clk_sys, clk_usb/clk_adc
// 48 MHz and clk_rtc 46875 Hz from pll_usb; drivers/serial/uart_pl011.c pl011_set_baudrate for
// the console on UART0 at 115200). There is no soc_early_init_hook on the RP2040.
// Left out: the ROSC re-configuration at the end (ROSC registers are not modelled by rp2040js)
// and the GPOUT clocks (configured, then disabled again by the driver).
// Registers: RP2040 datasheet 2.14 (RESETS), 2.15 (CLOCKS), 2.16 (XOSC), 2.18 (PLL), 4.2 (UART).
#include <stdint.h>
#include <stdio.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define SET(a) REG((a) + 0x2000u)        // atomic set alias (2.1.2)
#define CLR(a) REG((a) + 0x3000u)        // atomic clear alias

#define RESETS 0x4000C000u
#define RESETS_DONE REG(RESETS + 0x08u)
#define RESETS_ALL 0x01FFFFFFu
enum { R_ADC = 0, R_IO_QSPI = 6, R_PADS_QSPI = 9, R_PLL_SYS = 12, R_PLL_USB = 13, R_RTC = 15, R_SPI0 = 16,
       R_SPI1 = 17, R_SYSCFG = 18, R_UART0 = 22, R_UART1 = 23, R_USBCTRL = 24 };
#define CLOCKS 0x40008000u
#define CLK_CTRL(n) (CLOCKS + 12u * (n))
#define CLK_DIV(n) REG(CLOCKS + 12u * (n) + 4u)
#define CLK_SELECTED(n) REG(CLOCKS + 12u * (n) + 8u)
enum { clk_ref = 4, clk_sys = 5, clk_peri = 6, clk_usb = 7, clk_adc = 8, clk_rtc = 9, CLK_COUNT = 10 };
#define CLK_SYS_RESUS_CTRL REG(CLOCKS + 0x78u)
#define CTRL_SRC_BITS 0x3u
#define CTRL_AUXSRC_BITS 0xE0u
#define CTRL_ENABLE (1u << 11)
#define XOSC 0x40024000u
#define PLL_SYS 0x40028000u
#define PLL_USB 0x4002C000u
#define PLL_LOCK (1u << 31)
#define WATCHDOG_TICK REG(0x4005802Cu)
#define UART0 0x40034000u
#define UART_DR REG(UART0)
#define UART_FR REG(UART0 + 0x18u)
#define UART_IBRD REG(UART0 + 0x24u)
#define UART_FBRD REG(UART0 + 0x28u)
#define UART_LCR_H REG(UART0 + 0x2Cu)
#define UART_CR REG(UART0 + 0x30u)
#define GPIO0_CTRL REG(0x40014004u)
#define PADS_GPIO0 REG(0x4001C004u)
#define SCB_VTOR REG(0xE000ED08u)

#define XOSC_HZ 12000000u
uint32_t configured_freq[CLK_COUNT];
uint32_t pll_kept;                       // bit 0 PLL_SYS, bit 1 PLL_USB found running as asked

void soc_early_init_hook(void) {}

static void reset_block(uint32_t bits) { SET(RESETS) = bits; }
static void unreset_block_wait(uint32_t bits) { CLR(RESETS) = bits; while (~RESETS_DONE & bits) {} }

static void xosc_init(void) {
  REG(XOSC) = 0xAA0u;                               // FREQ_RANGE 1_15MHZ
  REG(XOSC + 0x0Cu) = (XOSC_HZ / 1000u + 128u) / 256u; // STARTUP delay (times the SDK multiplier, not checked here)
  SET(XOSC) = 0xFABu << 12;                          // ENABLE
  while (!(REG(XOSC + 0x04u) & (1u << 31))) {}       // STABLE
}

// hardware_pll pll_init: a PLL already locked with the same REFDIV/FBDIV/POSTDIVs is left alone.
static void pll_init(uint32_t pll, uint32_t refdiv, uint32_t vco, uint32_t pd1, uint32_t pd2, uint32_t reset_bit, uint32_t kept) {
  uint32_t fbdiv = vco / (XOSC_HZ / refdiv), pdiv = (pd1 << 16) | (pd2 << 12);
  if ((REG(pll) & PLL_LOCK) && refdiv == (REG(pll) & 0x3Fu) && fbdiv == (REG(pll + 8u) & 0xFFFu) && pdiv == (REG(pll + 0xCu) & 0x77000u)) {
    pll_kept |= kept;
    return;
  }
  reset_block(1u << reset_bit);
  unreset_block_wait(1u << reset_bit);
  REG(pll) = refdiv;
  REG(pll + 8u) = fbdiv;
  CLR(pll + 4u) = 1u | (1u << 5);                    // PD, VCOPD
  while (!(REG(pll) & PLL_LOCK)) {}
  REG(pll + 0xCu) = pdiv;
  CLR(pll + 4u) = 1u << 3;                           // POSTDIVPD
}

// hardware_clocks clock_configure(clk, src, auxsrc, src_freq, freq): 24.8 divider src/freq.
static void clock_configure(int clk, uint32_t src, uint32_t auxsrc, uint32_t src_freq, uint32_t freq) {
  const uint32_t div = (uint32_t)(((uint64_t)src_freq << 8) / freq), ctrl = CLK_CTRL(clk);
  const int glitchless = clk == clk_sys || clk == clk_ref;
  if (div > CLK_DIV(clk)) CLK_DIV(clk) = div;
  if (glitchless && src == 1u) {                   // to the aux mux: leave it first
    CLR(ctrl) = CTRL_SRC_BITS;
    while (!(CLK_SELECTED(clk) & 1u)) {}
  } else {
    CLR(ctrl) = CTRL_ENABLE;
    if (configured_freq[clk] > 0)
      for (volatile uint32_t n = 3u * (configured_freq[clk_sys] / configured_freq[clk] + 1u); n; n--) {}
  }
  REG(ctrl) = (REG(ctrl) & ~CTRL_AUXSRC_BITS) | (auxsrc << 5);
  if (glitchless) {
    REG(ctrl) = (REG(ctrl) & ~CTRL_SRC_BITS) | src;
    while (!(CLK_SELECTED(clk) & (1u << src))) {}
  }
  SET(ctrl) = CTRL_ENABLE;
  CLK_DIV(clk) = div;
  configured_freq[clk] = freq;
}

int clock_control_init(void) {
  reset_block(~((1u << R_IO_QSPI) | (1u << R_PADS_QSPI) | (1u << R_PLL_USB) | (1u << R_USBCTRL) | (1u << R_SYSCFG) | (1u << R_PLL_SYS)));
  unreset_block_wait(RESETS_ALL & ~((1u << R_ADC) | (1u << R_RTC) | (1u << R_SPI0) | (1u << R_SPI1) | (1u << R_UART0) |
                                    (1u << R_UART1) | (1u << R_USBCTRL)));
  WATCHDOG_TICK = (XOSC_HZ / 1000000u) | (1u << 9);  // tick_start(TICK_WATCHDOG, 12): 1 us ticks
  CLK_SYS_RESUS_CTRL = 0;
  xosc_init();
  // Before the PLLs: clk_sys and clk_ref off their aux sources (qspiboot leaves clk_sys on PLL_SYS).
  CLR(CLK_CTRL(clk_sys)) = 1u;
  while (CLK_SELECTED(clk_sys) != 1u) {}
  CLR(CLK_CTRL(clk_ref)) = 3u;
  while (CLK_SELECTED(clk_ref) != 1u) {}
  pll_init(PLL_SYS, 1, XOSC_HZ * 125u, 6, 2, R_PLL_SYS, 1);
  pll_init(PLL_USB, 1, XOSC_HZ * 100u, 5, 5, R_PLL_USB, 2);
  // Parents first (rpi_pico_clkid_tuple_reorder_by_dependencies).
  clock_configure(clk_ref, 2u, 0, XOSC_HZ, 12000000u);          // SRC XOSC
  clock_configure(clk_sys, 1u, 0, 125000000u, 125000000u);      // SRC aux, AUXSRC PLL_SYS
  clock_configure(clk_usb, 0, 0, 48000000u, 48000000u);         // AUXSRC PLL_USB
  clock_configure(clk_adc, 0, 0, 48000000u, 48000000u);
  clock_configure(clk_rtc, 0, 0, 48000000u, 46875u);
  clock_configure(clk_peri, 0, 0, 125000000u, 125000000u);      // AUXSRC clk_sys
  unreset_block_wait(RESETS_ALL);
  return 0;
}

// The console: UART0 out of reset (its resets property), GP0 as UART0 TX (pinctrl), then
// pl011_set_baudrate from clk_peri's rate: a 16.6 divisor, truncated.
int uart_init(void) {
  unreset_block_wait(1u << R_UART0);
  PADS_GPIO0 = (PADS_GPIO0 & ~(1u << 7)) | (1u << 6);
  GPIO0_CTRL = 2;
  const uint32_t clk = configured_freq[clk_peri];
  const uint32_t bauddiv = (uint32_t)(((uint64_t)clk << 6) / (115200u * 16u));
  UART_IBRD = bauddiv >> 6;
  UART_FBRD = bauddiv & 0x3Fu;
  UART_LCR_H = (3u << 5) | (1u << 4);                 // 8N1, FIFOs
  UART_CR = (1u << 0) | (1u << 8) | (1u << 9);        // UARTEN, TXE, RXE
  return 0;
}

static void put(const char* s) {
  for (; *s; s++) { while (UART_FR & (1u << 5)) {} UART_DR = (uint8_t)*s; }
}

extern uint32_t entry_sp, entry_vtor;
uint32_t initialized = 0x1234abcdu;
uint32_t zeroed[4];

int main(void) {
  char line[160];
  snprintf(line, sizeof line, "zephyr-style rp2040: entry sp %08lx vtor %08lx, vtor %08lx data %08lx bss %lu pll-kept %lu clk_sys %lu\r\n",
           (unsigned long)entry_sp, (unsigned long)entry_vtor, (unsigned long)SCB_VTOR, (unsigned long)initialized,
           (unsigned long)(zeroed[0] | zeroed[1] | zeroed[2] | zeroed[3]), (unsigned long)pll_kept,
           (unsigned long)configured_freq[clk_sys]);
  put(line);
  for (;;) {}
}
