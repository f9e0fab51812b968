// STM32H750 registers the HAL touches, with the RM0433 (rev 8) section each comes from.
#ifndef REGS_H750_H
#define REGS_H750_H
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t*)(addr))

// RCC (RM0433 8.7): AHB4 peripheral clock enable
#define RCC_BASE 0x58024400u
#define RCC_AHB4ENR REG32(RCC_BASE + 0x0E0)
#define RCC_AHB4ENR_GPIOCEN (1u << 2)

// GPIOC (RM0433 11.4): K1 is PC13
#define GPIOC_BASE 0x58020800u
#define GPIOC_MODER REG32(GPIOC_BASE + 0x00)
#define GPIOC_PUPDR REG32(GPIOC_BASE + 0x0C)
#define GPIOC_IDR REG32(GPIOC_BASE + 0x10)
#define K1_PIN 13u

// Cortex-M7 system control block (ARMv7-M ARM B3.2) and DWT cycle counter (C1.8)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_AIRCR_RESET (0x05FA0000u | (1u << 2)) // VECTKEY | SYSRESETREQ
#define SYSTICK_CTRL REG32(0xE000E010u)
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (n))
#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR REG32(0xE0001FB0u)

// 96-bit unique device ID (RM0433 61.1)
#define UID_BASE 0x1FF1E800u

#endif
