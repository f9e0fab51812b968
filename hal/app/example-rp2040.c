// Example application for qspiboot on the Raspberry Pi Pico: runs in place from flash at
// 0x10010000 (XIP set up by the bootloader), says hello on UART0 (GP0) and blinks the LED
// (GP25). Typing 'b' reboots into the bootloader. Registers: RP2040 datasheet.
#include <stdint.h>
#include "qspiboot.h"

#define REG(a) (*(volatile uint32_t*)(a))
#define RESETS_CLR REG(0x4000C000u + 0x3000u)  // 2.14.3 (atomic clear alias)
#define RESETS_DONE REG(0x4000C008u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)
#define CLK_PERI_CTRL REG(0x40008048u)         // 2.15.7: ENABLE bit 11, AUXSRC bits 7:5
#define CLK_PERI_XOSC (4u << 5)                // AUXSRC 4: xosc_clksrc
#define XOSC_CTRL REG(0x40024000u)             // 2.16.7: FREQ_RANGE 0xAA0 (1-15 MHz), ENABLE 0xFAB << 12
#define XOSC_STATUS REG(0x40024004u)           // STABLE bit 31
#define XOSC_STARTUP REG(0x4002400Cu)          // DELAY in 256-cycle units
#define GPIO_CTRL(n) REG(0x40014004u + 8u * (n)) // 2.19.6.1: FUNCSEL 2 = UART, 5 = SIO
#define SIO_OE_SET REG(0xD0000024u)
#define SIO_OUT_XOR REG(0xD000001Cu)
#define UART0_DR REG(0x40034000u)               // 4.2.8
#define UART0_FR REG(0x40034018u)               // TXFF bit 5, RXFE bit 4
#define UART0_IBRD REG(0x40034024u)
#define UART0_FBRD REG(0x40034028u)
#define UART0_LCR_H REG(0x4003402Cu)
#define UART0_CR REG(0x40034030u)

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;

static void put(const char* s) {
  for (; *s; s++) {
    while (UART0_FR & (1u << 5)) {}
    UART0_DR = (uint8_t)*s;
  }
}

int main(void) {
  RESETS_CLR = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
  while ((RESETS_DONE & (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) != (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) {}
  // qspiboot hands over the clocks of a cold chip (clk_sys on the ROSC, crystal off): the UART
  // gets the 12 MHz crystal as clk_peri, started here with pico-sdk's ~1 ms x 6 delay.
  XOSC_CTRL = 0xAA0u;
  XOSC_STARTUP = 282u;
  XOSC_CTRL = 0xAA0u | (0xFABu << 12);
  while (!(XOSC_STATUS & (1u << 31))) {}
  CLK_PERI_CTRL = (1u << 11) | CLK_PERI_XOSC;
  // 115200 baud from the 12 MHz clk_peri: 12e6 / (16 x 115200) = 6.51 = 6 + 33/64.
  UART0_IBRD = 6;
  UART0_FBRD = 33;
  UART0_LCR_H = (3u << 5) | (1u << 4);      // 8 bits, FIFOs on
  UART0_CR = (1u << 0) | (1u << 8) | (1u << 9); // enable, TX, RX
  GPIO_CTRL(0) = 2;                          // GP0: UART0 TX
  GPIO_CTRL(1) = 2;                          // GP1: UART0 RX
  GPIO_CTRL(25) = 5;                         // GP25: SIO (LED)
  SIO_OE_SET = 1u << 25;
  put("qspiboot example: hello from the Pico, running from flash\r\n");
  for (uint32_t n = 0;; n++) {
    SIO_OUT_XOR = 1u << 25;
    put(n & 1 ? "blink off\r\n" : "blink on\r\n");
    for (volatile uint32_t i = 0; i < 1000000u; i++) {
      if (!(UART0_FR & (1u << 4)) && (UART0_DR & 0xff) == 'b') qspiboot_reboot_to_bootloader();
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
