// What CubeMX's SystemInit (cmsis_device_h7 system_stm32h7xx.c) does on an STM32H750, written
// here from its register facts: RCC back to the reset state with HSI on (CFGR = 0, HSE/CSI/HSI48/
// PLL1-3 off, bus prescalers 1, PLL registers to their reset values), and with
// USER_VECT_TAB_ADDRESS defined VTOR = VECT_TAB_BASE_ADDRESS (here QSPI_BASE, as the qspiboot
// recipe says). It does not touch QUADSPI or D1CCIPR.
#include <stdint.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define RCC_CR REG(0x58024400u)
#define RCC_CFGR REG(0x58024410u)
#define RCC_D1CFGR REG(0x58024418u)
#define RCC_D2CFGR REG(0x5802441Cu)
#define RCC_D3CFGR REG(0x58024420u)
#define RCC_PLLCKSELR REG(0x58024428u)
#define RCC_PLLCFGR REG(0x5802442Cu)
#define RCC_PLL1DIVR REG(0x58024430u)
#define RCC_CIER REG(0x58024460u)
#define SCB_CPACR REG(0xE000ED88u)
#define SCB_VTOR REG(0xE000ED08u)

#define USER_VECT_TAB_ADDRESS
#define VECT_TAB_BASE_ADDRESS 0x90000000u // QSPI_BASE: the qspiboot recipe
#define VECT_TAB_OFFSET 0x00000000u

void SystemInit(void) {
  SCB_CPACR |= (3u << 20) | (3u << 22);        // CP10, CP11 full access
  RCC_CR |= 1u;                                // HSION
  RCC_CFGR = 0;                                // SW = HSI, everything else at reset
  RCC_CR &= 0xEAF6ED7Fu;                       // HSE, HSEBYP, CSS, CSI, HSI48, PLL1-3 off
  RCC_D1CFGR = 0; RCC_D2CFGR = 0; RCC_D3CFGR = 0;
  RCC_PLLCKSELR = 0x02020200u;
  RCC_PLLCFGR = 0x01FF0000u;
  RCC_PLL1DIVR = 0x01010280u;
  RCC_CIER = 0;
#if defined(USER_VECT_TAB_ADDRESS)
  SCB_VTOR = VECT_TAB_BASE_ADDRESS | VECT_TAB_OFFSET;
#endif
}
