// The Raspberry Pi Pico: RP2040 with a W25Q16JV on the QSPI pins. Facts for hal.board_info
// (boot/board.ts); sim/boards.ts describes the same board and test/pipeline.test.ts compares.
#ifndef BOARD_RP2040_H
#define BOARD_RP2040_H

#define BOARD_ID 2
#define BOARD_NAME "Pico RP2040"
#define BOARD_UF2_FAMILY 0xe48bff56u   // "RP2040" in the UF2 family list (microsoft/uf2 uf2families.json)
#define BOARD_FLASH_BASE 0x10000000u    // XIP window (RP2040 datasheet 2.6.3)
#define BOARD_BOOT_RESERVED 0x10000u    // boot2 + the bootloader: never erased or written over DFU
// The update record: the last sector of the bootloader's own 64 KiB (link/rp2040.ld keeps the
// code out of it), so everything from 0x10010000 to the end of the chip is the application's:
// Pico applications keep settings and file systems at the end of flash.
#define BOARD_RECORD_OFFSET 0xF000u
// Where qspiboot before 0.2 kept it (the chip's last sector): honoured once, then moved.
#define BOARD_LEGACY_RECORD 1
#define BOARD_RAM_START 0x20000000u
#define BOARD_RAM_END 0x20042000u       // SRAM0-3 striped, then SCRATCH_X/Y
#define BOARD_USB_VID 0x1209u
#define BOARD_USB_PID 0x0001u
#define BOARD_BCD_DEVICE 0x0100u
#ifndef BOARD_DOUBLE_TAP_MS
#define BOARD_DOUBLE_TAP_MS 0        // double-tap-reset window in ms: off by default (no boot delay)
#endif
// Status LED: GPIO25, lit when high (pico-sdk src/boards/include/boards/pico.h: PICO_DEFAULT_LED_PIN 25,
// no PICO_DEFAULT_LED_PIN_INVERTED).
#define BOARD_LED_PIN 25u
#define BOARD_CLK_REF_MHZ 12u            // clk_ref from the 12 MHz crystal in DFU mode (hal/rp2040/clocks.c)
// The boot path runs on the ROSC with its divider at 2 instead of 16: 8 times its power-up rate,
// which the datasheet bounds at 1.8-12 MHz (2.17.4), so 14.4-96 MHz, 52 MHz typical, always
// within the chip's 133 MHz and, at SCK = clk_sys / 2, the W25Q16JV's 133 MHz. Its exact rate is
// unknown without the crystal, so the TIMER's tick counts BOARD_BOOT_CLK_MAX_MHZ cycles: a wait
// on the boot path lasts at least as long as asked (up to 6.7 times longer at the slowest corner).
#define BOARD_ROSC_BOOT_DIV 2u
#define BOARD_BOOT_CLK_MAX_MHZ 96u       // 12 MHz x 16 / 2
// XOSC STARTUP.DELAY in units of 256 crystal cycles: pico-sdk's ~1 ms ((12000 kHz + 128) / 256
// = 47) times PICO_XOSC_STARTUP_DELAY_MULTIPLIER, whose default pico-sdk raised from 1 to 6 for
// slow-starting crystals (hardware_xosc/include/hardware/xosc.h, commit 7c023fa3, 2025): ~6 ms.
#define BOARD_XOSC_STARTUP_DELAY 282u
#define BOARD_SSI_BAUD_DIV 2u            // SCK = 125 MHz / 2 (W25Q16JV: 133 MHz max)

#endif
