// Power, clocks and pins for the WeAct H750 (RM0433 6, 8, 11).
// At reset (pins_init): only the clocks and pins of what the boot decision needs (GPIOs,
// QUADSPI, CRC), on the reset clock: HSI 64 MHz, every prescaler 1 (RM0433 8.5.2), so HCLK3 and
// the QUADSPI kernel clock are 64 MHz and SCK 32 MHz. An application then starts from the
// clocks of a cold chip, which is what CubeMX's SystemInit and SystemClock_Config expect (they
// refuse to reprogram a PLL that drives the system clock), and booting waits for no crystal.
// In DFU mode (clocks_raise, from usb_init):
// - LDO supply (the H750 has no SMPS), VOS1;
// - HSE 25 MHz / DIVM 5 = 5 MHz into PLL1 and PLL3;
//   PLL1: x160 = 800 MHz VCO (wide range 192-960 MHz), /2 = 400 MHz SYSCLK, the most VOS1
//   allows (datasheet DS12556 table 23; 480 needs VOS0 and the overdrive);
//   AHB /2 = 200 MHz (VOS1 maximum; QUADSPI kernel clock, rcc_hclk3), APBs /2 = 100 MHz.
//   QUADSPI SCK is then HCLK3 / 2 = 100 MHz (qspi.c), within the W25Q64JV's 133 MHz: the
//   download's scan and read-backs run at twice the speed they had at 50 MHz;
//   PLL3: x96 = 480 MHz VCO, Q /10 = 48 MHz for USB (crystal-accurate, no CRS needed);
// - flash: 2 wait states, WRHIGHFREQ 2 (RM0433 table 17, VOS1, AXI clock up to 210 MHz);
// - QUADSPI and OTG_FS pins in their alternate functions.
#include "board.h"
#include "regs.h"

static void pin_af(uint32_t port, uint32_t pin, uint32_t af) {
  GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2 * pin))) | (2u << (2 * pin));
  GPIO_OSPEEDR(port) |= 3u << (2 * pin); // very high speed: QSPI at 100 MHz
  GPIO_AFR(port, pin >> 3) = (GPIO_AFR(port, pin >> 3) & ~(0xFu << (4 * (pin & 7)))) | (af << (4 * (pin & 7)));
}

void pins_init(void) {
  RCC_AHB4ENR |= RCC_AHB4ENR_GPIOAEN | RCC_AHB4ENR_GPIOBEN | RCC_AHB4ENR_GPIOCEN |
                 RCC_AHB4ENR_GPIODEN | RCC_AHB4ENR_GPIOEEN | RCC_AHB4ENR_CRCEN;
  RCC_AHB3ENR |= RCC_AHB3ENR_QSPIEN;
  (void)RCC_AHB3ENR; // read back: clocks are on before the peripherals are touched (8.5.10)
  // QUADSPI bank 1 (datasheet table 9): PB2 AF9, PB6 AF10, PD11-13 AF9, PE2 AF9.
  pin_af(PORT_B, 2, 9);
  pin_af(PORT_B, 6, 10);
  pin_af(PORT_D, 11, 9);
  pin_af(PORT_D, 12, 9);
  pin_af(PORT_D, 13, 9);
  pin_af(PORT_E, 2, 9);
}

void time_rate_change(uint32_t mhz); // hal.c

void clocks_raise(void) {
  // From a known state: straight after ST's ROM bootloader (flash.ts install) the ROM's own
  // clocks may still run, and a PLL takes new settings only while it is off (RM0433 8.7,
  // RCC_PLLCKSELR / RCC_PLLxDIVR).
  // Back to HSI with every PLL off first, as CubeMX's SystemInit does.
  RCC_CR |= RCC_CR_HSION;
  while (!(RCC_CR & RCC_CR_HSIRDY)) {}
  RCC_CFGR &= ~7u;
  while ((RCC_CFGR >> 3) & 7u) {}
  RCC_CR &= ~(RCC_CR_PLL1ON | RCC_CR_PLL2ON | RCC_CR_PLL3ON);
  while (RCC_CR & (RCC_CR_PLL1RDY | RCC_CR_PLL2RDY | RCC_CR_PLL3RDY)) {}
  // Supply: LDO on, bypass off; the configuration is written once after reset (6.8.4). The
  // boot path never writes it, so an application's own HAL_PWREx_ConfigSupply still can.
  PWR_CR3 = (PWR_CR3 & ~(PWR_CR3_BYPASS | PWR_CR3_SCUEN)) | PWR_CR3_LDOEN;
  while (!(PWR_CSR1 & PWR_CSR1_ACTVOSRDY)) {}
  PWR_D3CR = 3u << PWR_D3CR_VOS_SHIFT;
  (void)PWR_D3CR;
  while (!(PWR_D3CR & PWR_D3CR_VOSRDY)) {}

  RCC_CR |= RCC_CR_HSEON;
  while (!(RCC_CR & RCC_CR_HSERDY)) {}
  RCC_PLLCKSELR = 2u | (5u << 4) | (5u << 20);            // HSE, DIVM1 = DIVM3 = 5
  // PLL1 and PLL3: input range 4-8 MHz (RGE 2), wide VCO, outputs P1, Q3 enabled.
  RCC_PLLCFGR = (2u << 2) | (2u << 10) | (1u << 16) | (1u << 23);
  RCC_PLL1DIVR = (160u - 1) | ((2u - 1) << 9) | ((4u - 1) << 16) | ((2u - 1) << 24);
  RCC_PLL3DIVR = (96u - 1) | ((2u - 1) << 9) | ((10u - 1) << 16) | ((2u - 1) << 24);
  RCC_CR |= RCC_CR_PLL1ON | RCC_CR_PLL3ON;
  while ((RCC_CR & (RCC_CR_PLL1RDY | RCC_CR_PLL3RDY)) != (RCC_CR_PLL1RDY | RCC_CR_PLL3RDY)) {}

  FLASH_ACR = 2u | (2u << 4);
  while ((FLASH_ACR & 0xFu) != 2u) {}                     // takes effect before the switch (4.3.8)
  RCC_D1CFGR = (4u << 4) | 8u;                            // D1PPRE /2, HPRE /2
  RCC_D2CFGR = (4u << 8) | (4u << 4);
  RCC_D3CFGR = 4u << 4;
  time_rate_change(BOARD_RESET_CPU_HZ / 1000000u); // time so far: at the HSI's rate
  RCC_CFGR = (RCC_CFGR & ~7u) | RCC_CFGR_SW_PLL1;
  while (((RCC_CFGR >> 3) & 7u) != RCC_CFGR_SW_PLL1) {}
  time_rate_change(BOARD_CPU_HZ / 1000000u);

  RCC_D2CCIP2R = (RCC_D2CCIP2R & ~(3u << 20)) | (2u << 20); // USB kernel clock: PLL3 Q
  RCC_D1CCIPR &= ~(3u << 4);                              // QUADSPI kernel clock: HCLK3
  RCC_AHB1ENR |= RCC_AHB1ENR_USB2OTGFSEN;
  (void)RCC_AHB1ENR; // read back: clocks are on before the peripherals are touched (8.5.10)
  // OTG_FS: PA11, PA12 AF10.
  pin_af(PORT_A, 11, 10);
  pin_af(PORT_A, 12, 10);
}
