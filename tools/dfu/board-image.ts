// What a board's INFO says about the files meant for it: the UF2 family to take blocks of, and
// where a raw binary goes. Shared by the CLI and the web page. Browser-safe.
import type { DfuDevice } from "./client";
import { UF2_FAMILY } from "../image/uf2";
import { parseImage, type Image } from "../image/parse";

export function familyOf(dev: DfuDevice): number | undefined {
  return dev.info?.boardId === 1 ? UF2_FAMILY.STM32H7 : dev.info?.boardId === 2 ? UF2_FAMILY.RP2040 : undefined;
}

/** The application's first address (the first writable segment of the board's layout). */
export function appBase(dev: DfuDevice): number {
  return dev.layout.segments.find((s) => s.writable)!.start;
}

/** A file's bytes as this board would take them: a .bin at `address` (default: the application
 *  start), UF2 blocks of the board's family. */
export function imageFor(dev: DfuDevice, name: string, bytes: Uint8Array, address?: number): Image {
  return parseImage(name, bytes, { address: address ?? appBase(dev), family: familyOf(dev) });
}
