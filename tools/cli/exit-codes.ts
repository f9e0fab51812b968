// What the flasher's exit status tells a script (README, "Exit codes"). Errors are classified by
// what happened, not by where they were thrown.
import { DfuError, isGone } from "../dfu/client";
import { ImageError } from "../image/segments";

export const EXIT = {
  ok: 0,
  failed: 1,       // anything else: a transfer error, USB not available, ...
  usage: 2,        // bad options or arguments
  noDevice: 3,     // no board (in DFU mode) found, or the simulator cannot be reached
  badFile: 4,      // the file cannot be read or parsed, or the board would not boot it
  refused: 5,      // the board refused a request (a DFU status other than OK)
  mismatch: 6,     // verify: the board's flash differs from the file
  interrupted: 7,  // the board went away in the middle (unplugged, reset)
} as const;

export class UsageError extends Error {}
export class NoDeviceError extends Error {}
export class MismatchError extends Error {}

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof NoDeviceError) return EXIT.noDevice;
  if (e instanceof ImageError) return EXIT.badFile;
  if (e instanceof MismatchError) return EXIT.mismatch;
  if (isGone(e)) return EXIT.interrupted;
  if (e instanceof DfuError) return e.fileProblem ? EXIT.badFile : e.status !== undefined ? EXIT.refused : EXIT.failed;
  if (/closed the connection/.test((e as Error)?.message ?? "")) return EXIT.interrupted;
  if (/cannot reach the simulator/.test((e as Error)?.message ?? "")) return EXIT.noDevice;
  return EXIT.failed;
}
