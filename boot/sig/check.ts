// Signed updates (a core built with QSPIBOOT_SIGNED): what manifestation checks before an image
// is recorded. The image a download or copy wrote ends with the trailer of tools/image/signature.ts:
//   image (L bytes), FFh up to a multiple of 256, then 128 bytes:
//   +0 u32 "QSSG"  +4 u16 format 1  +6 u16 flags (bit 0 ALLOW_DOWNGRADE)  +8 u32 L
//   +12 u32 firmware version  +16 32 bytes SHA-256 of the L image bytes  +48 16 bytes zero
//   +64 64 bytes Ed25519 signature (RFC 8032) of bytes +0..+63 by the board's key
// Everything is read back from the flash (the bytes that were programmed, not what USB brought):
// the trailer first, then the image in the manifestation's own CRC pass, whose chunks are hashed
// here too. SHA-256 for the image because it is 32-bit arithmetic (the Cortex-M0+ has no 64-bit
// multiply); Ed25519's own SHA-512 then runs over 128 bytes only.
import { flashRead } from "../flash/engine";
import { publicKeyPtr } from "../board";
import { mem_compare } from "../hal";
import { sha256Init, sha256Update, sha256Final } from "./sha256";
import { ed25519Verify } from "./ed25519";

export const TRAILER_SIZE: u32 = 128;
const MAGIC: u32 = 0x47535351; // "QSSG"
const FORMAT: u16 = 1;

// What the check found, for the DFU status and the boot reason.
export const SIG_OK: i32 = 0;
export const SIG_NO_TRAILER: i32 = 1;  // not a signed image (or not of the shape the format says)
export const SIG_BAD_DIGEST: i32 = 2;  // the image is not the one that was signed
export const SIG_BAD_SIGNATURE: i32 = 3; // not signed by this board's key
export const SIG_DOWNGRADE: i32 = 4;   // signed, but older than what the board has accepted

// @ts-ignore: decorator
@lazy const trailer = memory.data(<i32>TRAILER_SIZE);
// @ts-ignore: decorator
@lazy const digest = memory.data(32);
let imageLen: u32 = 0;
let last: i32 = SIG_NO_TRAILER;
let checked: bool = false; // a check ran since reset

function roundUp256(n: u32): u32 { return (n + 255) & ~<u32>255; }

// Find the trailer in flash range [base, end): the download may end past it with FFh, up to a
// whole sector (hosts send sectors; a .uf2 fills its last block), so it is looked for at each
// 256-byte step back from the end, where its L must place it. Returns where the signed image
// ends (the trailer's end), or 0 when there is no well-formed trailer; then the image hash starts.
export function sigBegin(base: u32, end: u32): u32 {
  last = SIG_NO_TRAILER;
  checked = true;
  if (end - base < TRAILER_SIZE + 256) return 0;
  let at = ((end - base - TRAILER_SIZE) & ~<u32>255);
  for (let step: u32 = 0; step <= 4096 / 256 && at >= 256; step++, at -= 256) {
    if (flashRead(base + at, trailer, TRAILER_SIZE) < 0) return 0;
    if (load<u32>(trailer) != MAGIC) continue;
    const len = load<u32>(trailer, 8);
    if (load<u16>(trailer, 4) != FORMAT || (load<u16>(trailer, 6) & ~<u16>1) != 0 || len == 0 || roundUp256(len) != at) return 0;
    for (let i: usize = 48; i < 64; i += 4) if (load<u32>(trailer + i) != 0) return 0; // reserved
    // Only FFh may follow it.
    for (let o = base + at + TRAILER_SIZE; o < end; o += 4) {
      if (flashRead(o, digest, 4) < 0 || load<u32>(digest) != 0xffffffff) return 0;
    }
    imageLen = len;
    sha256Init();
    last = SIG_OK;
    return base + at + TRAILER_SIZE;
  }
  return 0;
}

// The manifestation read `n` bytes at `p`, `off` bytes into the image: hash what is image.
export function sigChunk(off: u32, p: usize, n: u32): void {
  if (last != SIG_OK || off >= imageLen) return;
  sha256Update(p, imageLen - off < n ? imageLen - off : n);
}

// After the last chunk: does the image match the trailer's digest, and the trailer the key?
export function sigFinish(): i32 {
  if (last != SIG_OK) return last;
  sha256Final(digest);
  if (mem_compare(digest, trailer + 16, 32) != 2) return (last = SIG_BAD_DIGEST);
  if (!ed25519Verify(trailer + 64, publicKeyPtr(), trailer, 64)) return (last = SIG_BAD_SIGNATURE);
  return SIG_OK;
}

// The last check's outcome, and the firmware version its trailer carries.
export function sigResult(): i32 { return last; }
export function sigChecked(): bool { return checked; }
export function sigVersion(): u32 { return load<u32>(trailer, 12); }
export function sigAllowsDowngrade(): bool { return (load<u16>(trailer, 6) & 1) != 0; }
// The update code found the version below the board's floor (boot/update.ts).
export function sigRefuseDowngrade(): void { last = SIG_DOWNGRADE; }
