// For applications started by qspiboot: reboot into the bootloader (DFU mode) without a button.
// Include it in the application, build with -DQSPIBOOT_H750 or -DQSPIBOOT_RP2040, and call
// qspiboot_reboot_to_bootloader(). The flag it leaves survives the reset, not a power cut, and
// the bootloader clears it as it reads it.
#ifndef QSPIBOOT_APP_H
#define QSPIBOOT_APP_H
#include <stdint.h>

#define QSPIBOOT_FLAG_STAY_IN_DFU 0x51424446u

#if defined(QSPIBOOT_H750)
// The first 8 bytes of backup SRAM hold the flag (a word and its complement): untouched by a
// system reset and by any application's stack or data (RM0433 2.3.2). Writing there needs its
// clock (RCC_AHB4ENR.BKPRAMEN) and the backup domain unlocked (PWR_CR1.DBP, 6.8.1).
#define QSPIBOOT_FLAG_ADDR 0x38800000u
static inline void qspiboot_reboot_to_bootloader(void) {
  *(volatile uint32_t*)0x580244E0u |= 1u << 28; // RCC_AHB4ENR.BKPRAMEN
  *(volatile uint32_t*)0x58024800u |= 1u << 8;  // PWR_CR1.DBP
  volatile uint32_t* flag = (volatile uint32_t*)QSPIBOOT_FLAG_ADDR;
  flag[0] = QSPIBOOT_FLAG_STAY_IN_DFU;
  flag[1] = ~QSPIBOOT_FLAG_STAY_IN_DFU;
  __asm volatile("dsb" ::: "memory");
  *(volatile uint32_t*)0xE000ED0Cu = 0x05FA0004u; // AIRCR: SYSRESETREQ
  for (;;) {}
}
#elif defined(QSPIBOOT_RP2040)
// Watchdog scratch 0 and 1 (RP2040 datasheet 4.7.6) survive the watchdog reset used here.
static inline void qspiboot_reboot_to_bootloader(void) {
  *(volatile uint32_t*)0x4005800Cu = QSPIBOOT_FLAG_STAY_IN_DFU;  // WATCHDOG SCRATCH0
  *(volatile uint32_t*)0x40058010u = ~QSPIBOOT_FLAG_STAY_IN_DFU; // WATCHDOG SCRATCH1
  *(volatile uint32_t*)0x40010008u = 0x0001FFFCu;                // PSM WDSEL: all but oscillators
  *(volatile uint32_t*)0x40058000u = 1u << 31;                   // WATCHDOG CTRL: trigger
  for (;;) {}
}
#else
#error "define QSPIBOOT_H750 or QSPIBOOT_RP2040"
#endif
#endif
