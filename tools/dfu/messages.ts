// What a failed operation means for the person at the board, in their words: one text for the
// CLI and the web page. Browser-safe.
import { DfuError, hex, type BoardInfo } from "./client";

export function friendly(e: Error): string {
  if (e instanceof DfuError && e.status === 0x0a) {
    return "the board found no valid application to record and start (errFIRMWARE): flash one; the board stays in DFU mode";
  }
  if (e instanceof DfuError && e.status === 0x02 && e.check === "downgrade") {
    return "the board refused the image as a downgrade (errFILE): its firmware version is older than the highest this board has " +
      "accepted. Flash a newer version, or sign this one with --allow-downgrade; the board stays in DFU mode, nothing was recorded";
  }
  if (e instanceof DfuError && e.status === 0x02) {
    return "the board takes only images signed with its key, and this one's signature did not verify (errFILE): " +
      "sign it with the board's key (flash.ts sign, or flash --key); the board stays in DFU mode, nothing was recorded";
  }
  if (e.name === "NotFoundError" || /disconnected|LIBUSB_ERROR_NO_DEVICE/.test(e.message)) {
    return "the board left DFU mode in the middle (unplugged or reset?). Its update record keeps a half-written image " +
      "from running: put it back in DFU mode and flash again.";
  }
  return e.message;
}

/** The record's state in words: "updating" is what the board says after an erase too, and a
 *  person reads it as "something is going on". */
export function recordWords(status: string | undefined): string {
  return status === "updating" ? "none recorded (erased, or an update not finished: flash one)"
    : status === "bad" ? "none recorded (the record is damaged: flash one)" : status ?? "?";
}

/** The board's image as the web page shows it. */
export function imageState(i: BoardInfo): string {
  return i.recordStatus === "valid" ? `valid, ${i.imageLength} bytes, CRC-32 0x${hex(i.imageCrc)}` : recordWords(i.recordStatus);
}
