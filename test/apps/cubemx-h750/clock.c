// What a CubeMX project's SystemClock_Config does on the WeAct STM32H750 for 480 MHz SYSCLK /
// 240 MHz HCLK from the 25 MHz HSE, as ST's HAL carries it out (stm32h7xx_hal_driver:
// HAL_MspInit's __HAL_RCC_SYSCFG_CLK_ENABLE, HAL_PWREx_ConfigSupply(PWR_LDO_SUPPLY),
// __HAL_PWR_VOLTAGESCALING_CONFIG(PWR_REGULATOR_VOLTAGE_SCALE0) for the H74x/H75x lines,
// HAL_RCC_OscConfig with HSE on and PLL1 M 5, N 192, P 2, Q 2, R 2, VCI range 2, wide VCO,
// FRACN 0, HAL_RCC_ClockConfig with every bus prescaler /2 and FLASH_LATENCY_4), written here
// from those facts, with the HAL's refusals (a PLL that drives SYSCLK is not reconfigured; a
// locked supply configuration must match). Returns 0 (HAL_OK) or 1 (HAL_ERROR).
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
#define RCC_PLL1FRACR REG(0x58024434u)
#define RCC_APB4ENR REG(0x580244F4u)
#define PWR_CSR1 REG(0x58024804u)
#define PWR_CR3 REG(0x5802480Cu)
#define PWR_D3CR REG(0x58024818u)
#define SYSCFG_PWRCR REG(0x5800042Cu)
#define FLASH_ACR REG(0x52002000u)

#define CR_HSEON (1u << 16)
#define CR_HSERDY (1u << 17)
#define CR_PLL1ON (1u << 24)
#define CR_PLL1RDY (1u << 25)
#define SUPPLY_MASK 7u           // PWR_CR3 SCUEN | LDOEN | BYPASS
#define PWR_LDO_SUPPLY (1u << 1) // LDOEN
#define CSR1_ACTVOSRDY (1u << 13)
#define D3CR_VOS (3u << 14)
#define D3CR_VOSRDY (1u << 13)
#define SCALE1 (3u << 14)

enum { PLLM = 5, PLLN = 192, PLLP = 2, PLLQ = 2, PLLR = 2, PLLSRC_HSE = 2 };

static int config_supply(uint32_t supply) {
  if (!(PWR_CR3 & (1u << 2)))                       // SCUEN clear: locked
    return (PWR_CR3 & SUPPLY_MASK) == supply ? 0 : 1;
  PWR_CR3 = (PWR_CR3 & ~SUPPLY_MASK) | supply;
  while (!(PWR_CSR1 & CSR1_ACTVOSRDY)) {}
  return 0;
}

static int osc_config(void) {
  const uint32_t sws = (RCC_CFGR >> 3) & 7u, pllsrc = RCC_PLLCKSELR & 3u;
  // HSE: untouchable while it is SYSCLK or feeds the PLL that is; it is only turned on here.
  if (!(sws == 2u || (sws == 3u && pllsrc == PLLSRC_HSE))) {
    RCC_CR |= CR_HSEON;
    while (!(RCC_CR & CR_HSERDY)) {}
  }
  if (sws == 3u) {
    // PLL1 drives SYSCLK: only a request that repeats its settings is accepted.
    uint32_t div = RCC_PLL1DIVR;
    if (pllsrc != PLLSRC_HSE || ((RCC_PLLCKSELR >> 4) & 63u) != PLLM || (div & 0x1FFu) != PLLN - 1u ||
        ((div >> 9) & 0x7Fu) != PLLP - 1u || ((div >> 16) & 0x7Fu) != PLLQ - 1u || ((div >> 24) & 0x7Fu) != PLLR - 1u)
      return 1;
    return 0;
  }
  RCC_CR &= ~CR_PLL1ON;
  while (RCC_CR & CR_PLL1RDY) {}
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(3u | (63u << 4))) | PLLSRC_HSE | (PLLM << 4);
  RCC_PLL1DIVR = (PLLN - 1u) | ((PLLP - 1u) << 9) | ((PLLQ - 1u) << 16) | ((PLLR - 1u) << 24);
  RCC_PLLCFGR &= ~1u;                               // PLL1FRACEN off
  RCC_PLL1FRACR = RCC_PLL1FRACR & ~(0x1FFFu << 3);  // FRACN1 0
  RCC_PLLCFGR = (RCC_PLLCFGR & ~(3u << 2)) | (2u << 2); // PLL1RGE 2: 4-8 MHz (25 / 5)
  RCC_PLLCFGR &= ~(1u << 1);                        // PLL1VCOSEL 0: wide VCO
  RCC_PLLCFGR |= (1u << 16) | (1u << 17) | (1u << 18); // DIVP1EN, DIVQ1EN, DIVR1EN
  RCC_PLLCFGR |= 1u;                                // PLL1FRACEN
  RCC_CR |= CR_PLL1ON;
  while (!(RCC_CR & CR_PLL1RDY)) {}
  return 0;
}

static int clock_config(uint32_t latency) {
  if (latency > (FLASH_ACR & 0xFu)) {
    FLASH_ACR = (FLASH_ACR & ~0xFu) | latency;
    if ((FLASH_ACR & 0xFu) != latency) return 1;
  }
  // Dividers that grow are set before the switch, the others after it.
  const uint32_t d1ppre = 4u << 4, d2ppre1 = 4u << 4, d2ppre2 = 4u << 8, d3ppre = 4u << 4, hpre = 8u;
  if (d1ppre > (RCC_D1CFGR & (7u << 4))) RCC_D1CFGR = (RCC_D1CFGR & ~(7u << 4)) | d1ppre;
  if (d2ppre1 > (RCC_D2CFGR & (7u << 4))) RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 4)) | d2ppre1;
  if (d2ppre2 > (RCC_D2CFGR & (7u << 8))) RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 8)) | d2ppre2;
  if (d3ppre > (RCC_D3CFGR & (7u << 4))) RCC_D3CFGR = (RCC_D3CFGR & ~(7u << 4)) | d3ppre;
  if (hpre > (RCC_D1CFGR & 0xFu)) RCC_D1CFGR = (RCC_D1CFGR & ~0xFu) | hpre;
  RCC_D1CFGR &= ~(0xFu << 8);                       // D1CPRE /1
  if (!(RCC_CR & CR_PLL1RDY)) return 1;
  RCC_CFGR = (RCC_CFGR & ~7u) | 3u;                 // SW = PLL1
  while (((RCC_CFGR >> 3) & 7u) != 3u) {}
  if (hpre < (RCC_D1CFGR & 0xFu)) RCC_D1CFGR = (RCC_D1CFGR & ~0xFu) | hpre;
  if (d1ppre < (RCC_D1CFGR & (7u << 4))) RCC_D1CFGR = (RCC_D1CFGR & ~(7u << 4)) | d1ppre;
  if (d2ppre1 < (RCC_D2CFGR & (7u << 4))) RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 4)) | d2ppre1;
  if (d2ppre2 < (RCC_D2CFGR & (7u << 8))) RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 8)) | d2ppre2;
  if (d3ppre < (RCC_D3CFGR & (7u << 4))) RCC_D3CFGR = (RCC_D3CFGR & ~(7u << 4)) | d3ppre;
  if (latency < (FLASH_ACR & 0xFu)) {
    FLASH_ACR = (FLASH_ACR & ~0xFu) | latency;
    if ((FLASH_ACR & 0xFu) != latency) return 1;
  }
  return 0;
}

int SystemClock_Config(void) {
  RCC_APB4ENR |= 1u << 1;                           // HAL_MspInit: SYSCFG clock
  (void)RCC_APB4ENR;
  if (config_supply(PWR_LDO_SUPPLY)) return 1;
  // VOS0 on the H74x/H75x: scale 1 first, then the overdrive; wait for VOSRDY.
  PWR_D3CR = (PWR_D3CR & ~D3CR_VOS) | SCALE1;
  (void)PWR_D3CR;
  SYSCFG_PWRCR |= 1u;                               // ODEN
  (void)SYSCFG_PWRCR;
  while (!(PWR_D3CR & D3CR_VOSRDY)) {}
  if (osc_config()) return 1;
  return clock_config(4);
}

// HAL_RCC_GetSysClockFreq / GetHCLKFreq / GetPCLK2Freq from the registers, HSE_VALUE 25 MHz.
uint32_t pclk2_hz(void) {
  static const uint8_t shift[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 8, 9 };
  uint32_t sys = 64000000u;
  if (((RCC_CFGR >> 3) & 7u) == 3u) {
    uint32_t div = RCC_PLL1DIVR, m = (RCC_PLLCKSELR >> 4) & 63u;
    sys = 25000000u / m * ((div & 0x1FFu) + 1u) / (((div >> 9) & 0x7Fu) + 1u);
  }
  uint32_t hclk = (sys >> shift[(RCC_D1CFGR >> 8) & 0xFu]) >> shift[RCC_D1CFGR & 0xFu];
  uint32_t p = (RCC_D2CFGR >> 8) & 7u;
  return hclk >> (p & 4u ? (p & 3u) + 1u : 0u);
}
