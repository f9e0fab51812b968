// Example application for qspiboot on the WeAct STM32H750: runs from QSPI flash at 0x90000000,
// says hello on USART1 (PA9, 115200 8N1; the bootloader leaves the reset clocks: HSI 64 MHz, APB2 64 MHz) and blinks the blue LED
// (PE3). Typing 'b' on the serial line reboots into the bootloader. Registers: RM0433.
#include <stdint.h>
#include "qspiboot.h"

#define REG(a) (*(volatile uint32_t*)(a))
#define RCC_AHB4ENR REG(0x580244E0u)   // 8.7.43: GPIOAEN bit 0, GPIOEEN bit 4
#define RCC_APB2ENR REG(0x580244F0u)   // 8.7.46: USART1EN bit 4
#define GPIOA_MODER REG(0x58020000u)
#define GPIOA_AFRH REG(0x58020024u)
#define GPIOE_MODER REG(0x58021000u)
#define GPIOE_ODR REG(0x58021014u)
#define USART1_CR1 REG(0x40011000u)    // 48.8: UE bit 0, RE bit 2, TE bit 3
#define USART1_BRR REG(0x4001100Cu)
#define USART1_ISR REG(0x4001101Cu)    // RXNE bit 5, TXE bit 7
#define USART1_RDR REG(0x40011024u)
#define USART1_TDR REG(0x40011028u)

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;

static void put(const char* s) {
  for (; *s; s++) {
    while (!(USART1_ISR & (1u << 7))) {}
    USART1_TDR = (uint8_t)*s;
  }
}

int main(void) {
  RCC_AHB4ENR |= (1u << 0) | (1u << 4);
  RCC_APB2ENR |= 1u << 4;
  (void)RCC_APB2ENR;
  GPIOE_MODER = (GPIOE_MODER & ~(3u << 6)) | (1u << 6);          // PE3 output
  GPIOA_MODER = (GPIOA_MODER & ~(3u << 18)) | (2u << 18);        // PA9 alternate function
  GPIOA_AFRH = (GPIOA_AFRH & ~(15u << 4)) | (7u << 4);           // AF7: USART1_TX
  USART1_BRR = 64000000u / 115200u;                              // kernel clock: PCLK2 = HSI 64 MHz
  USART1_CR1 = (1u << 0) | (1u << 2) | (1u << 3);
  put("qspiboot example: hello from the WeAct H750, running from QSPI flash\r\n");
  for (uint32_t n = 0;; n++) {
    GPIOE_ODR ^= 1u << 3;
    put(n & 1 ? "blink off\r\n" : "blink on\r\n");
    for (volatile uint32_t i = 0; i < 2000000u; i++) {
      if ((USART1_ISR & (1u << 5)) && (USART1_RDR & 0xff) == 'b') qspiboot_reboot_to_bootloader();
    }
  }
}

void Reset_Handler(void) {
  const uint32_t* src = &__data_load;
  for (uint32_t* d = &__data_start; d < &__data_end;) *d++ = *src++;
  for (uint32_t* d = &__bss_start; d < &__bss_end;) *d++ = 0;
  main();
}

__attribute__((section(".vectors"), used)) const void* const vectors[2] = { &__stack_top, Reset_Handler };
