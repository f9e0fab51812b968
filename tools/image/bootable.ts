// Will the board boot this file? The bootloader's own plausibility rules (boot/vectors.ts:
// initial SP inside RAM and word-aligned, reset vector a Thumb address inside the application
// region), applied on the host before anything is erased, with the likely cause in words for
// the mistakes people make: a pico-sdk image with its own boot2 linked for 0x10000000, a
// CubeMX image linked for the H750's internal flash. Browser-safe (no Node imports).
import type { Segment } from "./segments";

export interface BootRules {
  /** Address of flash offset 0, and the application region as absolute addresses. */
  flashBase: number; appStart: number; appEnd: number;
  /** RAM an initial stack pointer may point into (unknown for an older bootloader). */
  ramStart?: number; ramEnd?: number;
  boardId?: number;
}

const H750_INTERNAL_FLASH = { start: 0x08000000, end: 0x08200000 }; // RM0433 table 7: bank 1 and 2 addresses
const SEE = "link it with link/app-h750.ld or link/app-rp2040.ld (README: Your application)";

function word(segs: Segment[], addr: number): number | undefined {
  for (const s of segs) {
    const o = addr - s.address;
    if (o >= 0 && o + 4 <= s.data.length) return new DataView(s.data.buffer, s.data.byteOffset + o, 4).getUint32(0, true);
  }
  return undefined;
}

function vectorsOk(sp: number | undefined, reset: number | undefined, r: BootRules, lo: number, hi: number): boolean {
  if (sp === undefined || reset === undefined) return false;
  const spOk = r.ramStart === undefined || r.ramEnd === undefined || (sp > r.ramStart && sp <= r.ramEnd && (sp & 3) === 0);
  return spOk && (reset & 1) === 1 && reset > lo && reset < hi;
}

const hex = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

/** null when the file would boot (or does not touch the application start); else why not. */
export function whyNotBootable(segs: Segment[], r: BootRules): string | null {
  if (!segs.length) return "the file holds no data";
  const first = Math.min(...segs.map((s) => s.address));
  // pico-sdk's default link: 256 bytes of boot2 at the start of flash, the vector table after it.
  if (r.appStart > r.flashBase && first === r.flashBase &&
      vectorsOk(word(segs, r.flashBase + 0x100), word(segs, r.flashBase + 0x104), r, r.flashBase, r.flashBase + (r.appEnd - r.flashBase))) {
    return `this looks like a pico-sdk image with its own boot2 at ${hex(r.flashBase)} (memmap_default.ld): ` +
      `qspiboot is the boot2 and bootloader there; link the application for ${hex(r.appStart)} without boot2 (${SEE})`;
  }
  if (r.boardId !== 2 && first >= H750_INTERNAL_FLASH.start && first < H750_INTERNAL_FLASH.end) {
    return `the file is linked for the STM32H7's internal flash (${hex(first)}), where qspiboot itself lives: ` +
      `link it for ${hex(r.appStart)} in QSPI flash (${SEE})`;
  }
  // Data that does not start at the application start is not an image: the board checks what
  // it holds at manifestation; data outside the region is refused by the layout check.
  if (first !== r.appStart || word(segs, r.appStart + 4) === undefined) return null;
  const sp = word(segs, r.appStart)!, reset = word(segs, r.appStart + 4)!;
  if (vectorsOk(sp, reset, r, r.appStart, r.appEnd)) return null;
  // The same mistakes, as raw .bin files put at the application start.
  if (vectorsOk(word(segs, r.appStart + 0x100), word(segs, r.appStart + 0x104), r, r.flashBase, r.appStart)) {
    return `this looks like pico-sdk's default output (boot2 first, vector table at +0x100, linked for ${hex(r.flashBase)}): ` +
      `link the application for ${hex(r.appStart)} without boot2 (${SEE})`;
  }
  if ((reset & 1) === 1 && reset >= H750_INTERNAL_FLASH.start && reset < H750_INTERNAL_FLASH.end) {
    return `its reset vector ${hex(reset)} points into the STM32H7's internal flash: the file is linked for 0x08000000 ` +
      `(CubeMX's default); link it for ${hex(r.appStart)} (${SEE})`;
  }
  const ram = r.ramStart !== undefined ? ` RAM ${hex(r.ramStart)}-${hex(r.ramEnd!)},` : "";
  return `no application vector table at ${hex(r.appStart)}: initial SP ${hex(sp)}, reset vector ${hex(reset)} ` +
    `(the board boots only an image whose SP points into${ram} and whose reset vector is a Thumb address ` +
    `inside ${hex(r.appStart)}-${hex(r.appEnd)}); is this file an application built for this board?`;
}
