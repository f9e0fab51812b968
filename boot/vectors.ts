// Is there something that looks like a Cortex-M vector table at the application start?
// Initial stack pointer inside RAM (or just past its end), reset handler a Thumb address inside
// the application region.
import { flashBase, ramStart, ramEnd } from "./board";
import { flashRead } from "./flash/engine";
import { bootRead } from "./boot-read";
import { appStartOffset, appEndOffset } from "./dfu/layout";

const vec = memory.data(8);
let read: bool = false;

// After an update, by command.
export function vectorsPlausible(): bool {
  read = flashRead(appStartOffset(), vec, 8) >= 0;
  return vectorsLookPlausible();
}

// At reset (boot-read.ts): read once, judged by each pass of the boot decision under its layout.
export function vectorsScan(): void { read = bootRead(appStartOffset(), vec, 8) >= 0; }

// The words last read, under the current layout.
export function vectorsLookPlausible(): bool {
  const sp = load<u32>(vec);
  const reset = load<u32>(vec, 4);
  const lo = flashBase() + appStartOffset();
  const hi = flashBase() + appEndOffset();
  return read && sp > ramStart() && sp <= ramEnd() && (sp & 3) == 0 &&
    (reset & 1) == 1 && reset > lo && reset < hi;
}
