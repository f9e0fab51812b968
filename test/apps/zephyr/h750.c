// What Zephyr runs on mini_stm32h750/stm32h750xx/ext_flash_app before main, written here from its
// sources (soc/st/stm32/stm32h7x/soc_m7.c soc_early_init_hook; drivers/clock_control/
// clock_stm32_ll_h7.c stm32_clock_control_init, set_up_fixed_clock_sources, set_up_plls,
// prepare/optimize_regulator_voltage_scale; the board's devicetree: HSE 25 MHz, PLL1 from HSE,
// d1cpre 1, hpre 2, every APB /2, LDO supply; USART1 console on PB14/PB15) with the ST LL calls
// they make (stm32h7xx_ll_pwr.h, _ll_rcc.h, stm32h7xx_ll_utils.c LL_SetFlashLatency). PLL1's
// M/N/P/Q/R and the target SYSCLK come from the overlay as -D flags (the test reads them).
// Left out: the AXI SRAM errata check (reads DBGMCU_IDCODE, not modelled), LSI start-up (RCC_CSR
// is not in the emulator's register set), HSEM locking (a no-op on the single-core H750).
// Registers: RM0433 rev 8, RCC 8.7, PWR 6.8, FLASH_ACR 4.9.1, GPIO 11.4, USART 48.7.
#include <stdint.h>
#include <stdio.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define RCC_CR REG(0x58024400u)
#define RCC_CFGR REG(0x58024410u)
#define RCC_D1CFGR REG(0x58024418u)
#define RCC_D2CFGR REG(0x5802441Cu)
#define RCC_D3CFGR REG(0x58024420u)
#define RCC_PLLCKSELR REG(0x58024428u)
#define RCC_PLLCFGR REG(0x5802442Cu)
#define RCC_PLL1DIVR REG(0x58024430u)
#define RCC_AHB4ENR REG(0x580244E0u)
#define RCC_APB2ENR REG(0x580244F0u)
#define PWR_CR3 REG(0x5802480Cu)
#define PWR_D3CR REG(0x58024818u)
#define FLASH_ACR REG(0x52002000u)
#define GPIOB_MODER REG(0x58020400u)
#define GPIOB_AFRH REG(0x58020424u)
#define USART1_CR1 REG(0x40011000u)
#define USART1_BRR REG(0x4001100Cu)
#define USART1_ISR REG(0x4001101Cu)
#define USART1_TDR REG(0x40011028u)
#define SCB_CCR REG(0xE000ED14u)
#define SCB_ICIALLU REG(0xE000EF50u)
#define SCB_VTOR REG(0xE000ED08u)

#define CR_HSEON (1u << 16)
#define CR_HSEBYP (1u << 18)
#define CR_HSERDY (1u << 17)
#define CR_HSI48ON (1u << 12)
#define CR_HSI48RDY (1u << 13)
#define CR_PLL1ON (1u << 24)
#define CR_PLL1RDY (1u << 25)
#define CR_PLL2ON (1u << 26)
#define CR_PLL3ON (1u << 28)
#define LL_PWR_LDO_SUPPLY (1u << 1)      // PWR_CR3.LDOEN
#define CR3_SUPPLY_MASK 7u               // SCUEN | LDOEN | BYPASS
#define D3CR_VOS (3u << 14)
#define D3CR_VOSRDY (1u << 13)
#define LL_PWR_REGU_VOLTAGE_SCALE0 (3u << 14) // on the H74x/H75x lines the same bits as scale 1

#ifndef PLL_M
#error "PLL_M/PLL_N/PLL_P/PLL_Q/PLL_R and SYSCLK_HZ come from the overlay"
#endif
#define HSE_HZ 25000000u
#define HPRE 2u
#define D2PPRE2 2u

uint32_t SystemCoreClock;
uint32_t took_hsi_detour, flash_latency_status;

static void ll_pwr_config_supply(uint32_t s) { PWR_CR3 = (PWR_CR3 & ~CR3_SUPPLY_MASK) | s; }

void soc_early_init_hook(void) {
  // sys_cache_instr_enable / sys_cache_data_enable (CMSIS SCB_EnableICache/DCache): invalidate,
  // then CCR.IC (bit 17) and CCR.DC (bit 16).
  SCB_ICIALLU = 0;
  __asm volatile("dsb\n isb" ::: "memory");
  SCB_CCR |= 1u << 17;
  SCB_CCR |= 1u << 16;
  __asm volatile("dsb\n isb" ::: "memory");
  SystemCoreClock = 64000000u;          // HSI at reset, as the hook assumes
  ll_pwr_config_supply(LL_PWR_LDO_SUPPLY);
}

// LL_SetFlashLatency for DEV_ID 0x450 (stm32h7xx_ll_utils.c): the table of the voltage scale read
// back from D3CR; scale 1 allows up to 210 MHz HCLK (2 WS above 140), above it: ERROR, unchanged.
static int ll_set_flash_latency(uint32_t hclk) {
  uint32_t latency;
  if ((PWR_D3CR & D3CR_VOS) != (3u << 14)) return 1; // only the scale Zephyr selects is written out here
  if (hclk <= 70000000u) latency = 0;
  else if (hclk <= 140000000u) latency = 1;
  else if (hclk <= 210000000u) latency = 2;
  else return 1;
  FLASH_ACR = (FLASH_ACR & ~0xFu) | latency;
  while ((FLASH_ACR & 0xFu) != latency) {}
  return 0;
}

static uint32_t get_hclk_frequency(void) {   // from the switch status and the devicetree's HPRE
  uint32_t sws = (RCC_CFGR >> 3) & 7u;
  uint32_t sysclk = sws == 0 ? 64000000u : sws == 2 ? HSE_HZ : sws == 3 ? HSE_HZ / PLL_M * PLL_N / PLL_P : 0;
  return sysclk / HPRE;
}

int clock_control_init(void) {
  RCC_AHB4ENR |= 1u << 25;              // HSEM clock (LL_AHB4_GRP1_PERIPH_HSEM)
  // set_up_fixed_clock_sources: HSE (no bypass), HSI48 (the board enables it for USB).
  RCC_CR &= ~CR_HSEBYP;
  RCC_CR |= CR_HSEON;
  while (!(RCC_CR & CR_HSERDY)) {}
  RCC_CR |= CR_HSI48ON;
  while (!(RCC_CR & CR_HSI48RDY)) {}
  // set_up_plls: a chain-loaded image may run on PLL1; then back to HSI first.
  if (((RCC_CFGR >> 3) & 7u) == 3u) {
    took_hsi_detour = 1;
    RCC_CFGR &= ~7u;
    while ((RCC_CFGR >> 3) & 7u) {}
    RCC_D1CFGR &= ~0xFu;
  }
  RCC_CR &= ~(CR_PLL1ON | CR_PLL2ON);
  RCC_CR &= ~CR_PLL3ON;
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~3u) | 2u;                        // LL_RCC_PLLSOURCE_HSE
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(63u << 4)) | (PLL_M << 4);     // DIVM1
  const uint32_t vci = HSE_HZ / PLL_M;                               // get_vco_input_range
  const uint32_t rge = vci <= 2000000u ? 0u : vci <= 4000000u ? 1u : vci <= 8000000u ? 2u : 3u;
  RCC_PLLCFGR = (RCC_PLLCFGR & ~(3u << 2)) | (rge << 2);             // PLL1RGE
  RCC_PLLCFGR = (RCC_PLLCFGR & ~(1u << 1)) | ((rge == 0u) << 1);    // PLL1VCOSEL: medium only for 1-2 MHz
  RCC_PLL1DIVR = (RCC_PLL1DIVR & ~0x1FFu) | (PLL_N - 1u);
  RCC_PLLCFGR &= ~1u;                                                // PLL1FRACEN off
  RCC_PLL1DIVR = (RCC_PLL1DIVR & ~(0x7Fu << 9)) | ((PLL_P - 1u) << 9);
  RCC_PLLCFGR |= 1u << 16;                                           // DIVP1EN
  RCC_PLL1DIVR = (RCC_PLL1DIVR & ~(0x7Fu << 16)) | ((PLL_Q - 1u) << 16);
  RCC_PLLCFGR |= 1u << 17;                                           // DIVQ1EN
  RCC_PLL1DIVR = (RCC_PLL1DIVR & ~(0x7Fu << 24)) | ((PLL_R - 1u) << 24);
  RCC_PLLCFGR |= 1u << 18;                                           // DIVR1EN
  RCC_CR |= CR_PLL1ON;
  while (!(RCC_CR & CR_PLL1RDY)) {}
  // prepare_regulator_voltage_scale
  ll_pwr_config_supply(LL_PWR_LDO_SUPPLY);
  PWR_D3CR = (PWR_D3CR & ~D3CR_VOS) | LL_PWR_REGU_VOLTAGE_SCALE0;
  while (!(PWR_D3CR & D3CR_VOSRDY)) {}
  const uint32_t old_hclk = get_hclk_frequency(), new_hclk = SYSCLK_HZ / HPRE;
  if (new_hclk > old_hclk) flash_latency_status = ll_set_flash_latency(new_hclk);
  // Prescalers before the switch: D1CPRE /1, HPRE /2, D2PPRE1, D2PPRE2, D1PPRE, D3PPRE /2.
  RCC_D1CFGR &= ~(0xFu << 8);
  RCC_D1CFGR = (RCC_D1CFGR & ~0xFu) | 8u;
  RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 4)) | (4u << 4);
  RCC_D2CFGR = (RCC_D2CFGR & ~(7u << 8)) | (4u << 8);
  RCC_D1CFGR = (RCC_D1CFGR & ~(7u << 4)) | (4u << 4);
  RCC_D3CFGR = (RCC_D3CFGR & ~(7u << 4)) | (4u << 4);
  RCC_CFGR = (RCC_CFGR & ~7u) | 3u;                                   // SW = PLL1
  while (((RCC_CFGR >> 3) & 7u) != 3u) {}
  if (new_hclk <= old_hclk) flash_latency_status = ll_set_flash_latency(new_hclk);
  // optimize_regulator_voltage_scale: the same supply and "scale 0" again.
  ll_pwr_config_supply(LL_PWR_LDO_SUPPLY);
  PWR_D3CR = (PWR_D3CR & ~D3CR_VOS) | LL_PWR_REGU_VOLTAGE_SCALE0;
  while (!(PWR_D3CR & D3CR_VOSRDY)) {}
  SystemCoreClock = SYSCLK_HZ;          // CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC
  return 0;
}

// uart_stm32: pins from pinctrl (PB14 TX, PB15 RX, AF4), the APB2 rate from the clock driver's
// get_rate (SystemCoreClock / HPRE / D2PPRE2), LL_USART_SetBaudRate with oversampling 16.
int uart_init(void) {
  RCC_AHB4ENR |= 1u << 1;               // GPIOB
  GPIOB_AFRH = (GPIOB_AFRH & ~(0xFFu << 24)) | (4u << 24) | (4u << 28);
  GPIOB_MODER = (GPIOB_MODER & ~(0xFu << 28)) | (0xAu << 28);
  RCC_APB2ENR |= 1u << 4;               // USART1
  (void)RCC_APB2ENR;
  const uint32_t apb2 = SystemCoreClock / HPRE / D2PPRE2;
  USART1_BRR = (apb2 + 115200u / 2u) / 115200u;
  USART1_CR1 = (1u << 0) | (1u << 2) | (1u << 3);  // UE, RE, TE
  return 0;
}

static void put(const char* s) {
  for (; *s; s++) { while (!(USART1_ISR & (1u << 7))) {} USART1_TDR = (uint8_t)*s; }
}

extern uint32_t entry_sp, entry_vtor;
uint32_t initialized = 0x1234abcdu;     // .data
uint32_t zeroed[4];                     // .bss

int main(void) {
  char line[160];
  snprintf(line, sizeof line, "zephyr-style h750: entry sp %08lx vtor %08lx, vtor %08lx data %08lx bss %lu hsi-detour %lu latency %lu/%lu sysclk %lu\r\n",
           (unsigned long)entry_sp, (unsigned long)entry_vtor, (unsigned long)SCB_VTOR, (unsigned long)initialized,
           (unsigned long)(zeroed[0] | zeroed[1] | zeroed[2] | zeroed[3]), (unsigned long)took_hsi_detour,
           (unsigned long)(FLASH_ACR & 0xFu), (unsigned long)flash_latency_status, (unsigned long)SystemCoreClock);
  put(line);
  for (;;) {}
}
