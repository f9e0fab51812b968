// What a failed operation means for the person at the board, in their words: one text for the
// CLI and the web page. Browser-safe.
import { DfuError, hex, type BoardInfo } from "./client";

export function friendly(e: Error): string {
  if (e instanceof DfuError && e.status === 0x0a) {
    return "the board found no valid application to record and start (errFIRMWARE): flash one; the board stays in DFU mode";
  }
  if (e.name === "NotFoundError" || /disconnected|LIBUSB_ERROR_NO_DEVICE/.test(e.message)) {
    return "the board left DFU mode in the middle (unplugged or reset?). Its update record keeps a half-written image " +
      "from running: put it back in DFU mode and flash again.";
  }
  return e.message;
}

/** The board's image state for a person: "updating" is what an erase or an unfinished download
 *  leaves (the record says "do not run"), which to a user means there is no image to run. */
export function imageState(i: BoardInfo): string {
  switch (i.recordStatus) {
    case "valid": return `valid, ${i.imageLength} bytes, CRC-32 0x${hex(i.imageCrc)}`;
    case "none": return "none";
    case "updating": return "none: erased, or a download that did not finish (flash an image)";
    default: return "bad record: flash an image";
  }
}
