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
