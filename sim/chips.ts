// Parameters of the modelled flash chips, and their SFDP tables (JESD216B basic flash
// parameter table, 16 DWORDs) built from the same parameters the model runs on.
export interface EraseType { instr: number; size: number; typMs: number; maxMs: number }

export interface ChipParams {
  name: string;
  jedec: [number, number, number];
  size: number;
  erases: EraseType[];
  pageProgram: { typMs: number; maxMs: number };
  statusWrite: { typMs: number; maxMs: number };
  chipErase: { typMs: number; maxMs: number };
  /** Where QE lives: SR2 bit 1 (Winbond, GigaDevice) or SR1 bit 6 (ISSI, Macronix). */
  qe: "sr2.1" | "sr1.6";
  /** JESD216 DWORD 15 bits 22:20 for this chip. */
  qer: number;
  /** 50h makes the next status write volatile. */
  volatileSrWrite: boolean;
  /** QE as shipped: -IQ parts have it set, -IM parts and ISSI parts clear. */
  qeDefault: boolean;
  /** Wait clocks after the mode byte in 1-4-4 EBh reads. */
  quadDummy: number;
  /** Whether the chip answers 5Ah with an SFDP table. */
  hasSfdp: boolean;
  /** Minimum chip-select high time in ns between commands (tSHSL1), and after an erase,
   *  program or status write (tSHSL2). */
  csHighNs: { read: number; write: number };
  /** Fastest SCK for every instruction but 03h (Read Data, 50 MHz on these parts), Hz. */
  maxSckHz: number;
}

const W25Q_COMMON = {
  pageProgram: { typMs: 0.4, maxMs: 3 },
  statusWrite: { typMs: 10, maxMs: 15 },
  qe: "sr2.1" as const, qer: 4, volatileSrWrite: true, qeDefault: true, quadDummy: 4, hasSfdp: true,
  csHighNs: { read: 10, write: 50 }, // W25Q64JV/W25Q16JV 9.6: tSHSL1, tSHSL2
  maxSckHz: 133e6, // W25Q64JV/W25Q16JV 9.6: fR, clock for all instructions except 03h
  erases: [
    { instr: 0x20, size: 4096, typMs: 45, maxMs: 400 },
    { instr: 0x52, size: 32768, typMs: 120, maxMs: 1600 },
    { instr: 0xd8, size: 65536, typMs: 150, maxMs: 2000 },
  ],
};

export const CHIPS = {
  // Winbond W25Q16JV-IQ: the Pico's chip.
  W25Q16JV: { ...W25Q_COMMON, name: "W25Q16JV", jedec: [0xef, 0x40, 0x15], size: 2 << 20, chipErase: { typMs: 5000, maxMs: 25000 } },
  // Winbond W25Q64JV-IQ: the WeAct H750's chip.
  W25Q64JV: { ...W25Q_COMMON, name: "W25Q64JV", jedec: [0xef, 0x40, 0x17], size: 8 << 20, chipErase: { typMs: 20000, maxMs: 100000 } },
  // ISSI IS25LP064A: a non-Winbond 8 MiB part, QE in SR1 bit 6, shipped clear. Modelled
  // without SFDP so the driver's table of known chips is what describes it.
  IS25LP064A: {
    ...W25Q_COMMON, name: "IS25LP064A", jedec: [0x9d, 0x60, 0x17], size: 8 << 20,
    qe: "sr1.6" as const, qer: 2, volatileSrWrite: false, qeDefault: false, hasSfdp: false,
    erases: [
      { instr: 0x20, size: 4096, typMs: 70, maxMs: 300 },
      { instr: 0x52, size: 32768, typMs: 100, maxMs: 500 },
      { instr: 0xd8, size: 65536, typMs: 150, maxMs: 1000 },
    ],
    pageProgram: { typMs: 0.2, maxMs: 0.8 }, statusWrite: { typMs: 2, maxMs: 15 }, chipErase: { typMs: 10000, maxMs: 30000 },
  },
  // Puya PY25Q64HA: what newer WeAct H750 boards carry instead of the W25Q64JV (SFDP, 133 MHz).
  // Puya's datasheet was not at hand; from public drivers for this part: JEDEC ID 85h 20h 17h
  // (two independent ID tables; 85h 60h 17h is the older P25Q64H), QE in status register 2
  // (35h) bit 1, written by 01h with two bytes or 31h, 50h for volatile status writes, quad
  // page program 32h, EBh 1-4-4 reads, 66h/99h, 4Bh. NOT confirmed from the datasheet: the
  // SFDP content (modelled as the Winbond-like QER 4, 4 wait clocks after the mode byte), every
  // timing below (placeholders in the W25Q range), tSHSL1/2 (W25Q's), QE as shipped (clear here).
  PY25Q64HA: {
    ...W25Q_COMMON, name: "PY25Q64HA", jedec: [0x85, 0x20, 0x17], size: 8 << 20, qeDefault: false,
    erases: [
      { instr: 0x20, size: 4096, typMs: 30, maxMs: 300 },
      { instr: 0x52, size: 32768, typMs: 100, maxMs: 1200 },
      { instr: 0xd8, size: 65536, typMs: 150, maxMs: 2000 },
    ],
    pageProgram: { typMs: 0.5, maxMs: 3 }, statusWrite: { typMs: 8, maxMs: 12 }, chipErase: { typMs: 20000, maxMs: 100000 },
  },
  // A chip known only by its SFDP table (no entry in the driver's table: maker C8h), with
  // another geometry: 4 MiB, 4 KiB and 32 KiB erases only, 6 wait clocks.
  SFDP_ONLY_4M: {
    ...W25Q_COMMON, name: "SFDP-only 4 MiB", jedec: [0xc8, 0x40, 0x16], size: 4 << 20,
    qer: 1, volatileSrWrite: false, qeDefault: false, quadDummy: 6,
    erases: [
      { instr: 0x20, size: 4096, typMs: 50, maxMs: 400 },
      { instr: 0x52, size: 32768, typMs: 160, maxMs: 1600 },
    ],
    chipErase: { typMs: 12000, maxMs: 60000 },
  },
} satisfies Record<string, ChipParams>;

export type ChipName = keyof typeof CHIPS;

// JESD216 time field: (count + 1) x unit, the smallest unit that fits 5 bits of count.
function timeField(ms: number, units: number[]): number {
  for (let u = 0; u < units.length; u++) {
    const count = Math.ceil(ms / units[u]) - 1;
    if (count < 32) return Math.max(0, count) | (u << 5);
  }
  return 31 | ((units.length - 1) << 5);
}

/** The SFDP space: header at 0, one parameter header, the basic table at 0x30. */
export function buildSfdp(p: ChipParams): Uint8Array {
  const out = new Uint8Array(0x30 + 64).fill(0xff);
  const dv = new DataView(out.buffer);
  out.set([0x53, 0x46, 0x44, 0x50, 0x06, 0x01, 0x00, 0xff], 0); // "SFDP", rev 1.6, 1 header
  out.set([0x00, 0x06, 0x01, 16, 0x30, 0x00, 0x00, 0xff], 8);    // BFPT rev 1.6, 16 DWORDs at 0x30
  const dw = (i: number, v: number) => dv.setUint32(0x30 + 4 * (i - 1), v >>> 0, true);
  const e4k = p.erases.find((e) => e.size === 4096);
  // DW1: 4 KiB erase supported + its instruction, 3-byte addresses, 1-1-2/1-2-2/1-4-4/1-1-4 reads.
  dw(1, (e4k ? 0x01 : 0x03) | (1 << 2) | ((e4k?.instr ?? 0xff) << 8) | (1 << 16) | (1 << 20) | (1 << 21) | (1 << 22) | 0xff800000);
  dw(2, p.size * 8 - 1);
  // DW3: 1-4-4 (EBh): wait clocks, 2 mode clocks; 1-1-4 (6Bh): 8 wait clocks, no mode clocks.
  dw(3, p.quadDummy | (2 << 5) | (0xeb << 8) | (8 << 16) | (0 << 21) | (0x6b << 24));
  dw(4, 8 | (0x3b << 8) | (4 << 16) | (0 << 21) | (0xbb << 24) | (1 << 21));
  dw(5, 0xfffffffe);
  dw(6, 0x0000ffff);
  dw(7, 0x0000ffff);
  const et = [...p.erases, undefined, undefined, undefined].slice(0, 4);
  const typeBytes = (e?: EraseType) => (e ? Math.log2(e.size) | (e.instr << 8) : 0);
  dw(8, typeBytes(et[0]) | (typeBytes(et[1]) << 16));
  dw(9, typeBytes(et[2]) | (typeBytes(et[3]) << 16));
  const ms = [1, 16, 128, 1000];
  let dw10 = 4; // max = 2 x (4 + 1) x typical
  et.forEach((e, i) => { if (e) dw10 |= timeField(e.typMs, ms) << (4 + 7 * i); });
  dw(10, dw10);
  const us = p.pageProgram.typMs * 1000;
  const pp = us / 8 <= 32 ? Math.ceil(us / 8) - 1 : (Math.ceil(us / 64) - 1) | (1 << 5);
  dw(11, 2 | (8 << 4) | (pp << 8) | (timeField(p.chipErase.typMs, [16, 256, 4000, 64000]) << 24));
  dw(12, 0xffffffff);
  dw(13, 0xffffffff);
  dw(14, 0xffffffff);
  dw(15, p.qer << 20);
  dw(16, p.volatileSrWrite ? 0x08 : 0x01); // 50h volatile status writes, or 06h only
  return out;
}
