// Board facts for the simulator. They must agree with hal/<chip>/board.h (the pipeline test
// compares them) so that the simulated board is the board the firmware describes.
import type { BoardFacts } from "./models";

export type BoardName = "h750" | "rp2040";

export const BOARDS: Record<BoardName, BoardFacts> = {
  h750: {
    id: "h750", boardId: 1, name: "WeAct H750", hasButton: true, // K1 on PC13
    uf2Family: 0x6db66082,
    // hal/stm32h750: QUADSPI PRESCALER 1 of HCLK3, HSI 64 MHz at reset, 200 MHz in DFU mode
    // (test/h750-emulator.test.ts measures both on the firmware).
    flashSckHz: { boot: 32e6, dfu: 100e6 },
    flashBase: 0x90000000, bootReserved: 0,
    ramStart: 0x20000000, ramEnd: 0x24080000,
    vid: 0x1209, pid: 0x0001, bcdDevice: 0x0100,
    recordOffset: 0,
    // STM32 96-bit unique ID (RM0433 61.1): 12 bytes
    uid: Uint8Array.from([0x31, 0x00, 0x2e, 0x00, 0x12, 0x51, 0x30, 0x34, 0x38, 0x39, 0x36, 0x33]),
  },
  rp2040: {
    id: "rp2040", boardId: 2, name: "Pico RP2040", hasButton: false, // BOOTSEL belongs to the boot ROM
    uf2Family: 0xe48bff56,
    // hal/rp2040: SSI BAUDR 2 of clk_sys: the ROSC sped up to ~52 MHz on the boot path
    // (typical; board.h BOARD_ROSC_BOOT_DIV), 125 MHz in DFU mode (test/rp2040-emulator.test.ts
    // checks the DFU-mode rate on the firmware).
    flashSckHz: { boot: 26e6, dfu: 62.5e6 },
    flashBase: 0x10000000, bootReserved: 0x10000,
    ramStart: 0x20000000, ramEnd: 0x20042000,
    vid: 0x1209, pid: 0x0001, bcdDevice: 0x0100,
    recordOffset: 0xf000, legacyRecord: true, // the last sector of the bootloader's 64 KiB
    mappedAtReset: true, // boot2 (hal/rp2040/boot2.S) leaves XIP on: board.h BOARD_MAPPED_AT_RESET
    uid: new Uint8Array(0), // the RP2040 has none: the serial comes from the flash chip (4Bh)
  },
};
