// What the power-cut tests share (power-cut, signed-power-cut, record-log): a
// dfu-util style update that stops quietly when the board loses power, and what the board does
// when power comes back.
import * as assert from "uvu/assert";
import type { SimBoard } from "../../sim/board";
import { SimUsbHost } from "../../sim/usb-host";
import { DfuRequests, ST } from "./dfu-requests";

/** Does the flash hold `img` from offset 0? */
export function imageIs(b: SimBoard, img: Uint8Array, at = 0): boolean {
  const d = b.flash.data.subarray(at, at + img.length);
  return d.every((x, i) => x === img[i]);
}

/** A dfu-util style download of `img` at `base`, leave; true when the board then runs it. */
export function dfuUtilUpdate(b: SimBoard, base: number, img: Uint8Array, pages: (a: number) => number): boolean {
  if (b.mode !== "bootloader") return false;
  const host = new SimUsbHost(b);
  if (host.enumerate() !== "ok") return false;
  const dfu = new DfuRequests(host);
  try {
    if (dfu.getStatus().state === ST.dfuERROR) dfu.clrStatus();
    dfu.abort();
    const s = dfu.dfuUtilDownload(base, img, pages);
    b.step();
    return s.state === ST.dfuMANIFEST && b.mode === "app";
  } catch (e) {
    if (b.mode === "off") return false; // the host saw the device vanish
    throw e;
  }
}

/** After a cut: power on; the board runs the old or the new image intact (at flash offset `at`), or is in DFU mode. */
export function outcomeAfterCut(b: SimBoard, base: number, old: Uint8Array, next: Uint8Array, where: string, at = 0): "old" | "new" | "dfu" {
  b.powerOn();
  if (b.mode === "app") {
    assert.is(b.appEntry, base, where);
    if (imageIs(b, next, at)) return "new";
    if (imageIs(b, old, at)) return "old";
    assert.unreachable(`${where}: the board jumped into an image that is neither the old nor the new one`);
  }
  assert.is(b.mode, "bootloader", where);
  return "dfu";
}
