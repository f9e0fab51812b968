// Is there something that looks like a Cortex-M vector table at the application start?
// Initial stack pointer inside RAM (or just past its end), reset handler a Thumb address inside
// the application region.
import { flashBase, ramStart, ramEnd } from "./board";
import { flashRead } from "./flash/engine";
import { appStartOffset, appEndOffset } from "./dfu/layout";

const vec = memory.data(8);

export function vectorsPlausible(): bool {
  if (flashRead(appStartOffset(), vec, 8) < 0) return false;
  const sp = load<u32>(vec);
  const reset = load<u32>(vec, 4);
  const lo = flashBase() + appStartOffset();
  const hi = flashBase() + appEndOffset();
  return sp > ramStart() && sp <= ramEnd() && (sp & 3) == 0 &&
    (reset & 1) == 1 && reset > lo && reset < hi;
}
