// RP2040 registers the HAL touches, with the RP2040 datasheet section each comes from.
#ifndef REGS_RP2040_H
#define REGS_RP2040_H
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t*)(addr))
#define CLR_ALIAS 0x3000u // atomic bit clear (2.1.2)

// RESETS (2.14.3)
#define RESETS_BASE 0x4000C000u
#define RESETS_RESET REG32(RESETS_BASE + 0x0)
#define RESETS_RESET_CLR REG32(RESETS_BASE + CLR_ALIAS + 0x0)
#define RESETS_DONE REG32(RESETS_BASE + 0x8)
#define RESET_TIMER (1u << 21)

// PSM (2.13.5): what a watchdog reset resets
#define PSM_WDSEL REG32(0x40010000u + 0x8)
#define PSM_ALL_BUT_OSCILLATORS 0x0001FFFCu

// WATCHDOG (4.7.6): scratch registers survive a watchdog reset
#define WATCHDOG_BASE 0x40058000u
#define WATCHDOG_CTRL REG32(WATCHDOG_BASE + 0x00)
#define WATCHDOG_CTRL_TRIGGER (1u << 31)
#define WATCHDOG_SCRATCH0 REG32(WATCHDOG_BASE + 0x0C)
#define WATCHDOG_SCRATCH1 REG32(WATCHDOG_BASE + 0x10)
#define WATCHDOG_TICK REG32(WATCHDOG_BASE + 0x2C)
#define WATCHDOG_TICK_ENABLE (1u << 9)

// TIMER (4.6.5): 1 MHz from the watchdog tick
#define TIMER_TIMERAWL REG32(0x40054000u + 0x28)

// IO_QSPI (2.19.6.4) and SIO (2.3.1.7): the BOOTSEL button shares the flash chip select
#define IO_QSPI_SS_CTRL REG32(0x40018000u + 0x0C)
#define SS_CTRL_OEOVER_SHIFT 12u
#define SS_CTRL_OEOVER_MASK (3u << SS_CTRL_OEOVER_SHIFT)
#define SS_CTRL_OEOVER_DISABLE (2u << SS_CTRL_OEOVER_SHIFT)
#define SIO_GPIO_HI_IN REG32(0xD0000000u + 0x08)
#define GPIO_HI_IN_QSPI_SS (1u << 1)

// Cortex-M0+ (ARMv6-M ARM B3.2)
#define SCB_VTOR REG32(0xE000ED08u)
#define SYSTICK_CTRL REG32(0xE000E010u)
#define NVIC_ICER REG32(0xE000E180u)
#define NVIC_ICPR REG32(0xE000E280u)

#endif
