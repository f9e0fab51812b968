// The flash a simulated board carries: its chip model behind a QSPI bus, and what tests and
// the socket server read off it.
import type { SimClock } from "./clock";
import { CHIPS, type ChipName, type ChipParams } from "./chips";
import { NorFlash, type FlashTiming, type FlashStats } from "./nor-flash";
import { QspiBus } from "./qspi-bus";

export type { FlashTiming };

export interface SimFlash {
  chip: NorFlash;
  bus: QspiBus;
  /** The chip's array (what READ_FLASH reads and --flash FILE persists). */
  data: Uint8Array;
  powerOn(): void;
  stats(): FlashStats;
  modifyingOps(): number;
  cutPowerAt(n: number, when: "before" | "after" | "during"): void;
}

export function wrapChip(chip: NorFlash, clock: SimClock): SimFlash {
  const bus = new QspiBus(chip, clock);
  return {
    chip, bus, data: chip.data,
    powerOn: () => { chip.powerOn(); bus.mapped = false; },
    stats: () => ({ ...chip.stats }),
    modifyingOps: () => chip.ops,
    cutPowerAt: (n, when) => chip.cutPowerAt(n, when),
  };
}

export const BOARD_CHIP: Record<string, ChipName> = { h750: "W25Q64JV", rp2040: "W25Q16JV" };

export function makeFlash(board: string, clock: SimClock, timing: FlashTiming, serial = 0, chipName?: ChipName | ChipParams): SimFlash {
  const params = typeof chipName === "object" ? chipName : CHIPS[chipName ?? BOARD_CHIP[board]];
  const chip = new NorFlash(params, clock, timing, serial);
  return wrapChip(chip, clock);
}
