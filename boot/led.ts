// The status LED in DFU mode: which pattern it shows is decided here, the HAL only turns the
// pin on or off. Never called on the boot path, so an application finds the pin as after reset.
//
// A pattern is 16 slots of 2^16 us (65.5 ms, about 1.05 s per round); bit i set = on in slot i.
//   waiting       0x00FF  slow blink: half a second on, half off
//   transferring  0x5555  fast flicker, about 7.6 Hz, while a download, upload, manifestation
//                         or flash work is going on
//   error         0x0033  double blink, while DFU is in dfuERROR, or until the first transfer
//                         when the board stayed in DFU mode because of a fault (no flash chip,
//                         an interrupted update, an image that fails its check, a trap)
import { led_set, time_us } from "./hal";
import { dfuState } from "./dfu/dfu";
import * as S from "./dfu/states";
import { bootReason, STAY_NO_FLASH, STAY_INTERRUPTED, STAY_BAD_IMAGE, STAY_TRAPPED } from "./boot";

export const LED_WAITING: u32 = 0x00FF;
export const LED_TRANSFER: u32 = 0x5555;
export const LED_ERROR: u32 = 0x0033;
// Flash work keeps the flicker on this long after it stops (an erase the host did not wait for).
const WORK_HOLD_US: u32 = 250000;

let lit: i32 = -1;      // what the pin was last set to (-1: not yet driven)
let workAt: u32 = 0;
let worked = false;     // flash work seen at least once since reset
let transferred = false;

function bootFault(): bool {
  const r = bootReason;
  return r == STAY_NO_FLASH || r == STAY_INTERRUPTED || r == STAY_BAD_IMAGE || r == STAY_TRAPPED;
}

// Which pattern, from the DFU state and whether flash work (`busy`) happened in this pass.
export function ledPattern(now: u32, busy: i32): u32 {
  if (busy != 0) { workAt = now; worked = true; }
  const s = dfuState();
  if (s == S.dfuERROR) return LED_ERROR;
  if ((s >= S.dfuDNLOAD_SYNC && s <= S.dfuMANIFEST) || s == S.dfuUPLOAD_IDLE ||
      (worked && now - workAt < WORK_HOLD_US)) {
    transferred = true;
    return LED_TRANSFER;
  }
  if (!transferred && bootFault()) return LED_ERROR;
  return LED_WAITING;
}

// One main-loop pass: the pin follows the pattern's current slot, written only on a change.
export function ledTick(busy: i32): void {
  const now = time_us();
  const on = <i32>((ledPattern(now, busy) >> ((now >> 16) & 15)) & 1);
  if (on != lit) { lit = on; led_set(on); }
}
