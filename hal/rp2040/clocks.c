// Clock tree for DFU mode: XOSC 12 MHz -> clk_ref; PLL_SYS 1500/6/2 = 125 MHz -> clk_sys;
// PLL_USB 1200/5/5 = 48 MHz -> clk_usb (RP2040 datasheet 2.15, 2.16, 2.18). clk_peri is left
// alone. The boot path never starts it: it decides on the ROSC (startup.c, board.h), and
// clocks_init runs from usb_init, when qspiboot stays in DFU mode (or at start in a double-tap
// build, whose wait wants a TIMER that counts real microseconds). Before the jump to an
// application, clocks_release puts everything back as a power-on reset leaves it (design.md,
// "Hand-over to the application").
#include "board.h"
#include "regs.h"

static __attribute__((noinline)) void pll_start(uint32_t base, uint32_t fbdiv, uint32_t post1, uint32_t post2) {
  PLL_PWR(base) = PLL_PWR_PD | PLL_PWR_POSTDIVPD | PLL_PWR_VCOPD | PLL_PWR_DSMPD; // all off (DSMPD stays set)
  PLL_CS(base) = 1;                         // REFDIV 1: 12 MHz reference
  PLL_FBDIV_INT(base) = fbdiv;
  PLL_PWR(base) &= ~(PLL_PWR_PD | PLL_PWR_VCOPD);
  while (!(PLL_CS(base) & PLL_CS_LOCK)) {}
  PLL_PRIM(base) = (post1 << PLL_PRIM_POSTDIV1_SHIFT) | (post2 << PLL_PRIM_POSTDIV2_SHIFT);
  PLL_PWR(base) &= ~PLL_PWR_POSTDIVPD;
}

// A CLOCKS register through one base register: gcc would load each address from its own
// literal (4 bytes each); the empty asm keeps it from folding the base back into constants.
#define CLK(reg) REG32(clk + ((uintptr_t)&(reg) - CLOCKS_BASE))

void clocks_init(void) {
  static uint8_t up;
  if (up) return;
  up = 1;
  uintptr_t clk = CLOCKS_BASE;
  __asm("" : "+l"(clk));
  // The clock-resus and XOSC frequency range keep their reset values (off; 1-15 MHz).
  XOSC_STARTUP = BOARD_XOSC_STARTUP_DELAY;
  XOSC_CTRL = XOSC_CTRL_1_15MHZ | XOSC_CTRL_ENABLE;
  while (!(XOSC_STATUS & XOSC_STATUS_STABLE)) {}

  // Glitchless muxes: move clk_sys to clk_ref and clk_ref to the ROSC before the PLLs are
  // touched (2.15.3.2), whatever an application that rebooted into us left behind.
  CLK(CLK_SYS_CTRL) &= ~CLK_SYS_SRC_AUX;
  while (CLK(CLK_SYS_SELECTED) != 1u) {}
  CLK(CLK_REF_CTRL) = CLK_REF_SRC_ROSC;
  while (CLK(CLK_REF_SELECTED) != 1u) {}

  RESETS_RESET_SET = RESET_PLL_SYS | RESET_PLL_USB;
  RESETS_RESET_CLR = RESET_PLL_SYS | RESET_PLL_USB;
  while ((RESETS_DONE & (RESET_PLL_SYS | RESET_PLL_USB)) != (RESET_PLL_SYS | RESET_PLL_USB)) {}
  pll_start(PLL_SYS_BASE, 125, 6, 2);
  pll_start(PLL_USB_BASE, 100, 5, 5);

  CLK(CLK_REF_DIV) = CLK_DIV_1;
  CLK(CLK_REF_CTRL) = CLK_REF_SRC_XOSC;
  while (CLK(CLK_REF_SELECTED) != (1u << CLK_REF_SRC_XOSC)) {}
  CLK(CLK_SYS_DIV) = CLK_DIV_1;
  CLK(CLK_SYS_CTRL) = CLK_SYS_SRC_AUX;      // AUXSRC 0: PLL_SYS
  while (CLK(CLK_SYS_SELECTED) != (1u << CLK_SYS_SRC_AUX)) {}
  CLK(CLK_USB_DIV) = CLK_DIV_1;
  CLK(CLK_USB_CTRL) = CLK_USB_ENABLE;       // AUXSRC 0: PLL_USB
  // Nothing runs from the ROSC any more: back to its power-up divisor, so a watchdog reset
  // (which keeps the oscillators: hal.c) finds it as the boot ROM expects it.
  ROSC_DIV = ROSC_DIV_PASS | 16u;
  WATCHDOG_TICK = WATCHDOG_TICK_ENABLE | BOARD_CLK_REF_MHZ; // 1 us ticks for TIMER
}

// The clocks of a cold chip for the application: start-up code written for one (pico-sdk's
// runtime_init clocks_init, rp2040-hal's init_clocks_and_plls, Zephyr's clock driver) then
// finds what it expects, and an application that sets up no clock of its own runs on the ROSC
// as it would without a bootloader, instead of on PLLs nobody in it knows about. Each value is
// the register's reset value (pico-sdk hardware_regs, vendor-regs.json): clk_sys on clk_ref
// and clk_ref on the ROSC through the glitchless muxes first (2.15.3.2), then clk_usb off, both
// PLLs held in reset (their registers back at reset values, powered down), the crystal stopped.
void clocks_release(void) {
  uintptr_t clk = CLOCKS_BASE;
  __asm("" : "+l"(clk));
  CLK(CLK_SYS_CTRL) = 0;
  while (CLK(CLK_SYS_SELECTED) != 1u) {}
  CLK(CLK_REF_CTRL) = CLK_REF_SRC_ROSC;
  while (CLK(CLK_REF_SELECTED) != 1u) {}
  ROSC_DIV = ROSC_DIV_PASS | 16u;           // its power-up divisor (2.17.4)
  CLK(CLK_USB_CTRL) = 0;
  RESETS_RESET_SET = RESET_PLL_SYS | RESET_PLL_USB;
  // Nothing runs from the crystal any more, so it may stop (xosc.h: disabling it under clk_ref
  // would lock the chip up). STABLE falls once it has stopped, as pico-sdk's xosc_disable waits
  // for. CTRL then reads 0 as after reset: an ENABLE or FREQ_RANGE code that is not one of the
  // listed ones keeps the setting in force (xosc.h), so the zero changes nothing but the reading.
  XOSC_CTRL = XOSC_CTRL_1_15MHZ | XOSC_CTRL_DISABLE;
  while (XOSC_STATUS & XOSC_STATUS_STABLE) {}
  XOSC_CTRL = 0;
  XOSC_STARTUP = 0;
  WATCHDOG_TICK = WATCHDOG_TICK_ENABLE; // CYCLES 0 (reset value): the TIMER's 1 us ticks stop
}
