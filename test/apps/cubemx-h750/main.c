// A CubeMX-style application under qspiboot: its start-up code (startup.S, system.c) and
// newlib's init arrays, linked with link/recipes/cubemx-stm32h750-qspi.ld, then CubeMX's
// SystemClock_Config to 480 MHz (clock.c). It reports on USART1 (PA9, 115200 from PCLK2 as the
// HAL's UART_DIV_SAMPLING16 computes the divider) what a user would check.
#include <stdint.h>
#include <stdio.h>
#define REG(a) (*(volatile uint32_t*)(a))
#define RCC_AHB4ENR REG(0x580244E0u)
#define RCC_APB2ENR REG(0x580244F0u)
#define GPIOA_MODER REG(0x58020000u)
#define GPIOA_AFRH REG(0x58020024u)
#define USART1_CR1 REG(0x40011000u)
#define USART1_BRR REG(0x4001100Cu)
#define USART1_ISR REG(0x4001101Cu)
#define USART1_TDR REG(0x40011028u)
#define SCB_VTOR REG(0xE000ED08u)

static void put(const char* s) {
  for (; *s; s++) { while (!(USART1_ISR & (1u << 7))) {} USART1_TDR = (uint8_t)*s; }
}

uint32_t initialized = 0x1234abcdu;  // .data, copied from QSPI by the start-up code
uint32_t zeroed[4];                  // .bss
static uint32_t constructed;
__attribute__((constructor)) static void ctor(void) { constructed = 42; } // .init_array

int SystemClock_Config(void);
uint32_t pclk2_hz(void);

int main(void) {
  int status = SystemClock_Config();
  uint32_t pclk2 = pclk2_hz();
  RCC_AHB4ENR |= 1u;
  RCC_APB2ENR |= 1u << 4;
  (void)RCC_APB2ENR;
  GPIOA_MODER = (GPIOA_MODER & ~(3u << 18)) | (2u << 18);
  GPIOA_AFRH = (GPIOA_AFRH & ~(15u << 4)) | (7u << 4);
  USART1_BRR = (pclk2 + 115200u / 2u) / 115200u;
  USART1_CR1 = (1u << 0) | (1u << 3);
  char line[96];
  snprintf(line, sizeof line, "cubemx-style: vtor %08lx data %08lx bss %lu ctor %lu clock %d pclk2 %lu\r\n",
           (unsigned long)SCB_VTOR, (unsigned long)initialized,
           (unsigned long)(zeroed[0] | zeroed[1] | zeroed[2] | zeroed[3]), (unsigned long)constructed,
           status, (unsigned long)pclk2);
  put(line);
  for (;;) {}
}
