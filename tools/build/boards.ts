// How each board's firmware is built: CPU, HAL directory, linker script, image extras.
export interface Board {
  name: string;
  halDir: string;
  linkerScript: string;
  cpuFlags: string[];
  /** Optimisation flags for the bootloader only (compile and link), each with what it measured. */
  tuneFlags?: string[];
  /** Where the image starts in the address space (the .bin's first byte). */
  flashOrigin: number;
  /** Flash budget for the bootloader without optional features, boot2 included. */
  flashBudget: number;
  /** The flash the bootloader may occupy at all (the linker script's FLASH region): the limit
   *  for a build with optional features, whose cost is reported on its own row. */
  flashRegion: number;
  /** The code is copied to and runs from RAM (counts against both). */
  codeInRam: boolean;
  /** Builds a 256-byte second-stage loader with its CRC (RP2040). */
  boot2: boolean;
  /** The reset stub loads only the boot path's code, DFU mode's after it (RP2040: the linker
   *  script includes the generated boot-set.ld, tools/build/boot-set.ts). */
  splitLoad?: boolean;
  uf2Family?: number;
  /** The example application: define for hal/app/qspiboot.h, linker script, where it runs, UF2 family. */
  example: { define: string; linkerScript: string; base: number; uf2Family: number };
}

export const BOARDS: Record<string, Board> = {
  h750: {
    name: "h750", halDir: "stm32h750", linkerScript: "stm32h750.ld",
    cpuFlags: ["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=soft"],
    flashOrigin: 0x08000000, flashBudget: 16 * 1024, flashRegion: 128 * 1024, codeInRam: false, boot2: false,
    example: { define: "QSPIBOOT_H750", linkerScript: "app-h750.ld", base: 0x90000000, uf2Family: 0x6db66082 },
  },
  rp2040: {
    name: "rp2040", halDir: "rp2040", linkerScript: "rp2040.ld",
    cpuFlags: ["-mcpu=cortex-m0plus", "-mthumb"],
    // Without GCC's RTL loop-invariant motion the M0+ build is smaller and no slower (2026-12-07:
    // -28 B; npm run bench, CPU per block ~190.0k -> 189.7k cycles, boot 614 -> 603 us). Not on
    // the H750: there it cost 2.1k instructions in the boot-CRC loop.
    tuneFlags: ["-fno-move-loop-invariants"],
    flashOrigin: 0x10000000, flashBudget: 16 * 1024, flashRegion: 56 * 1024, codeInRam: true, boot2: true, splitLoad: true,
    uf2Family: 0xe48bff56,
    example: { define: "QSPIBOOT_RP2040", linkerScript: "app-rp2040.ld", base: 0x10010000, uf2Family: 0xe48bff56 },
  },
};
