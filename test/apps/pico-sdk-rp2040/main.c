// A pico-sdk-style application under qspiboot: its start-up (crt0.S, runtime.c) linked with
// link/recipes/pico-sdk-qspiboot.ld. It sets up UART0 on GP0 at 115200 as pico-sdk's
// uart_init does (hardware_uart/uart.c) from the clk_peri that runtime_init configured, and
// reports what a user would check. Registers: RP2040 datasheet 4.2 (UART), 2.19 (GPIO).
#include <stdint.h>
#include <stdio.h>
#define REG(a) (*(volatile uint32_t*)(a))
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
#define PLL_SYS_FBDIV REG(0x40028008u)

extern uint32_t configured_freq[], pll_kept, ram_vector_table[];
enum { clk_sys = 5, clk_peri = 6 };

static void put(const char* s) {
  for (; *s; s++) { while (UART_FR & (1u << 5)) {} UART_DR = (uint8_t)*s; } // TXFF
}

uint32_t initialized = 0x1234abcdu;                                       // .data
uint32_t zeroed[4];                                                       // .bss
uint32_t __attribute__((section(".scratch_x.v"))) in_scratch_x = 0x5c7a7c4u; // copied to SCRATCH_X
uint32_t __attribute__((section(".scratch_y.v"))) in_scratch_y = 0x5c7a7c5u; // copied to SCRATCH_Y
static uint32_t constructed;
uint32_t entry_sp, entry_vtor; // SP and VTOR as _reset_handler found them (crt0.S)
__attribute__((constructor)) static void ctor(void) { constructed = 42; }

int main(void) {
  // uart_set_baudrate: a 16.6 divisor from clk_peri, rounded; LCR_H is written after it to latch it.
  uint32_t div = 8u * configured_freq[clk_peri] / 115200u + 1u;
  UART_IBRD = div >> 7;
  UART_FBRD = (div & 0x7Fu) >> 1;
  UART_LCR_H = (3u << 5) | (1u << 4);           // 8N1, FIFOs on
  UART_CR = (1u << 0) | (1u << 8) | (1u << 9);  // UARTEN, TXE, RXE
  PADS_GPIO0 = (PADS_GPIO0 & ~(1u << 7)) | (1u << 6); // OD off, IE on (gpio_set_function)
  GPIO0_CTRL = 2;                               // GP0: UART0 TX
  char line[200];
  snprintf(line, sizeof line,
           "pico-sdk-style: entry sp %08lx vtor %08lx, vtor %08lx vec %08lx %08lx data %08lx bss %lu scratch %08lx %08lx ctor %lu pll-kept %lu fbdiv %lu clk_sys %lu\r\n",
           (unsigned long)entry_sp, (unsigned long)entry_vtor, (unsigned long)SCB_VTOR, (unsigned long)ram_vector_table[0], (unsigned long)ram_vector_table[1],
           (unsigned long)initialized, (unsigned long)(zeroed[0] | zeroed[1] | zeroed[2] | zeroed[3]),
           (unsigned long)in_scratch_x, (unsigned long)in_scratch_y, (unsigned long)constructed,
           (unsigned long)pll_kept, (unsigned long)PLL_SYS_FBDIV, (unsigned long)configured_freq[clk_sys]);
  put(line);
  for (;;) {}
}
