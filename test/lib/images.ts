// Test firmware images: random bytes behind a vector table the bootloader finds plausible.
import { BOARDS, type BoardName } from "../../sim/boards";
import { randomBytes } from "./dfu-requests";

export function appBase(board: BoardName): number {
  return BOARDS[board].flashBase + BOARDS[board].bootReserved;
}

/** `size` bytes: initial SP at the top of RAM, reset handler (Thumb) 0x100 into the image. */
export function fakeApp(board: BoardName, size: number, seed = 1): Uint8Array {
  const img = randomBytes(size, seed);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, BOARDS[board].ramEnd, true);
  dv.setUint32(4, (appBase(board) + 0x101) >>> 0, true);
  return img;
}

/** The DfuSe layout's page size at an address (64 KiB blocks, 4 KiB sectors at the top). */
export function pageSizeAt(board: BoardName, chipSize: number) {
  const f = BOARDS[board];
  const blockEnd = (chipSize - 4096) & ~0xffff;
  return (addr: number) => (addr - f.flashBase < blockEnd ? 0x10000 : 0x1000);
}
