// Where our RP2040 models deliberately differ from pico-sdk's register data (vendor-regs.json),
// in one place: test/rp2040-vendor-regs.test.ts skips exactly these in its comparisons.
export interface Deviation { block: string; register: string; what: string; why: string }

export const DEVIATIONS: Deviation[] = [
  {
    block: "SSI", register: "SR",
    what: "reads TFNF | TFE (0x6) after reset, not ssi.h's 0x0",
    why: "SR is status computed from the FIFOs: with an empty TX FIFO TFE and TFNF are 1 on the chip " +
      "(the DW_apb_ssi the RP2040 uses documents SR's reset as 0x6; a driver polling TFE at reset would hang " +
      "on a model that said 0). ssi.h gives the register's flops' reset, which is not what a read returns.",
  },
];

/** rp2040js's own models (not ours) whose reset reads differ from pico-sdk's data, in the blocks
 *  the HAL uses and we do not replace. Known, so that an rp2040js upgrade that changes one shows;
 *  each says what it hides from the emulator tests. */
export interface Rp2040jsDifference { block: string; register: string; reads: number; why: string }

export const RP2040JS_DIFFERENCES: Rp2040jsDifference[] = [
  { block: "RESETS", register: "RESET", reads: 0,
    why: "rp2040js starts with every block out of reset (silicon: all in reset, the ROM releases a few); Rp2040Emu replaces it with sim/rp2040/resets.ts, which also refuses accesses to blocks in reset" },
  { block: "RESETS", register: "RESET_DONE", reads: 0x1ffffff, why: "the same, and it ignores RESET; replaced as above" },
  { block: "WATCHDOG", register: "TICK", reads: 0x600,
    why: "rp2040js reports the tick RUNNING (bit 10) and ENABLE from the start; the HAL writes TICK before using the timer anyway" },
  { block: "PLL_SYS", register: "CS", reads: 0x80000001, why: "LOCK reads 1 at once: the HAL's wait for lock is not exercised" },
  { block: "PLL_USB", register: "CS", reads: 0x80000001, why: "as PLL_SYS" },
  { block: "CLOCKS", register: "CLK_REF_DIV", reads: 0, why: "rp2040js keeps no divider here; the HAL writes 0x100 (divide by 1) itself" },
  { block: "SYSINFO", register: "CHIP_ID", reads: 0x10002927,
    why: "a real B0/B1 chip's ID (sysinfo.h gives no reset value for a fixed ID): the RP2040-E5 workaround runs in every emulator test; Rp2040Emu's chipId gives a B2" },
  { block: "PADS_BANK0", register: "GPIO15", reads: 0x36,
    why: "rp2040js's pad reset has 2 mA drive (pads_bank0.h: 4 mA, 0x56); only the E5 workaround touches GPIO15, and it restores what it found" },
  { block: "USBCTRL_REGS", register: "USB_MUXING", reads: 0xffffffff,
    why: "rp2040js does not implement reads of USB_MUXING; the HAL only writes it" },
];
