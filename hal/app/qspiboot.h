// For applications started by qspiboot: reboot into the bootloader (DFU mode) without a button.
// Include it in the application, build with -DQSPIBOOT_H750 or -DQSPIBOOT_RP2040, and call
// qspiboot_reboot_to_bootloader(). The flag it leaves survives the reset, not a power cut, and
// the bootloader clears it as it reads it.
#ifndef QSPIBOOT_APP_H
#define QSPIBOOT_APP_H
#include <stdint.h>

#define QSPIBOOT_FLAG_STAY_IN_DFU 0x51424446u

#if defined(QSPIBOOT_H750)
// The last 16 bytes of DTCM hold the flag (a word and its complement); link/app-h750.ld keeps
// applications out of them.
#define QSPIBOOT_FLAG_ADDR 0x2001FFF0u
static inline void qspiboot_reboot_to_bootloader(void) {
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
