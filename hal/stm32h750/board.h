// The WeAct Studio MiniSTM32H7xx board with an STM32H750VBT6 and a W25Q64JV on QUADSPI.
// These are the facts the core gets through hal.board_info (see boot/board.ts); sim/boards.ts
// describes the same board to the simulator and test/pipeline.test.ts compares the two.
#ifndef BOARD_H750_H
#define BOARD_H750_H

#define BOARD_ID 1
#define BOARD_NAME "WeAct H750"
#define BOARD_UF2_FAMILY 0x6db66082u   // "STM32H7" in the UF2 family list (microsoft/uf2 uf2families.json)
#define BOARD_FLASH_BASE 0x90000000u     // QUADSPI memory-mapped region (RM0433 2.3.2)
#define BOARD_BOOT_RESERVED 0u           // the bootloader lives in internal flash, not in QSPI
#define BOARD_RAM_START 0x20000000u      // DTCM ...
#define BOARD_RAM_END 0x24080000u        // ... through AXI SRAM: an application's stack may be in either
#define BOARD_USB_VID 0x1209u            // pid.codes test VID/PID until the project has its own
#define BOARD_USB_PID 0x0001u
#define BOARD_BCD_DEVICE 0x0100u
#ifndef BOARD_DOUBLE_TAP_MS
#define BOARD_DOUBLE_TAP_MS 0        // double-tap-reset window in ms: off by default (no boot delay)
#endif
#define BOARD_CPU_HZ 400000000u          // in DFU mode: PLL1 from the 25 MHz HSE (hal/stm32h750/clocks.c)
#define BOARD_RESET_CPU_HZ 64000000u     // at reset and on the boot path: HSI 64 MHz (RM0433 8.5.2)
#define BOARD_HSE_HZ 25000000u
// QUADSPI on the WeAct board: CLK PB2, NCS PB6, IO0 PD11, IO1 PD12, IO2 PE2, IO3 PD13.
// Status LED: the blue user LED on PE3, lit when the pin is high. WeAct's own examples
// (MiniSTM32H7xx SDK/HAL/STM32H743/03-LCD_Test main.c LED_Blink: pin set for the short "on"
// time, reset for the long gap) and Zephyr's weact_stm32h743 board (gpioe 3 GPIO_ACTIVE_HIGH)
// agree; the schematic (Hardware/STM32H7xx SchDoc V12.pdf) was not read here (no PDF tools).
#define BOARD_LED_PIN 3u                 // on GPIOE
#define BOARD_LED_ACTIVE_HIGH 1
// USB: OTG_FS on PA11 (DM) / PA12 (DP); VBUS is not sensed.

#endif
