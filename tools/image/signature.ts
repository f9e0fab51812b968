// Signed images (issue 21): the file format, shared by the host (tools/flash.ts keygen, sign,
// verify-signature, flash --key) and the bootloader's check at manifestation. Browser-safe: no
// Node imports. The crypto (SHA-256, Ed25519) is passed in; tools/cli/keys.ts gives node:crypto's.
//
// THE SIGNED IMAGE FORMAT, version 1
//
//   image start S: the address of the image's first byte, the application start address.
//   +0            the application image, L bytes (L >= 1)
//   +L            FFh padding, up to P = roundup(L, 256), counted from S (none when L % 256 = 0)
//   +P            the trailer, 128 bytes
//   end           S + P + 128: the signed image is P + 128 bytes long
//
//   The image is one contiguous run of bytes. An input file with several segments is merged into
//   one run starting at its lowest address, the gaps filled with FFh; a gap larger than 64 KiB
//   (65536 bytes) is refused.
//
//   Trailer, all fields little-endian:
//     +0   u32  magic 0x47535351 (the bytes "QSSG")
//     +4   u16  format version: 1
//     +6   u16  flags: bit 0 ALLOW_DOWNGRADE, the signer consents to this image replacing an
//               image with a higher firmware version; bits 1..15 are zero
//     +8   u32  L, the image length in bytes (the padding and the trailer not counted)
//     +12  u32  firmware version, unsigned; downgrade protection compares it (higher is newer)
//     +16  32   SHA-256 (FIPS 180-4) of the L image bytes S .. S+L-1
//     +48  16   reserved, zero
//     +64  64   Ed25519 signature (RFC 8032 section 5.1, pure Ed25519: no context, no prehash)
//               of the 64 bytes +0..+63 of this trailer (the "header")
//
//   The public key is the raw 32-byte RFC 8032 encoding (the last 32 bytes of the SPKI DER in
//   the .pub file; tools/cli/keys.ts publicKeyRaw gives it).
//
//   A version-1 verifier refuses a trailer whose magic is not 0x47535351, whose format version
//   is not 1, whose flags have a bit other than bit 0 set, whose reserved bytes are not all
//   zero, or whose L is 0 or is not consistent with where the trailer is
//   (roundup(L, 256) = P). The signature covers the header, which covers the image through its
//   digest; the padding and the load address are not covered (the bootloader checks the image
//   at its own application start). Check the signature, then the digest, or both; an image
//   passes only when both hold.
//
//   Finding the trailer from a length: a signed image of N bytes has its trailer at
//   P = floor((N - 128) / 256) * 256. This also holds when the signed image is followed by up
//   to 255 bytes of FFh, as in a .uf2 of whole 256-byte blocks, where the trailer's block is
//   filled up with FFh; the host trims such FFh before it flashes a signed file.
import { ImageError, type Segment } from "./segments";

export const TRAILER_SIZE = 128;
export const TRAILER_MAGIC = 0x47535351;
export const FORMAT_VERSION = 1;
export const FLAG_ALLOW_DOWNGRADE = 0x0001;
export const IMAGE_ALIGN = 256;
export const MAX_GAP = 0x10000;
export const HEADER_SIZE = 64;
export const SIGNATURE_SIZE = 64;

export type Sha256 = (data: Uint8Array) => Uint8Array;
export type Sign = (message: Uint8Array) => Uint8Array;

export interface SignOptions { version: number; allowDowngrade?: boolean; sha256: Sha256 }

export interface Trailer {
  magic: number; formatVersion: number; flags: number; allowDowngrade: boolean;
  length: number; version: number;
  sha256: Uint8Array; reserved: Uint8Array; signature: Uint8Array;
  /** The 64 signed bytes +0..+63. */
  header: Uint8Array;
}

export const roundUp = (n: number, a = IMAGE_ALIGN) => Math.ceil(n / a) * a;
const hx = (v: number) => "0x" + (v >>> 0).toString(16).padStart(8, "0");

/** The segments as one run from the lowest address, gaps of at most 64 KiB filled with FFh. */
export function mergeImage(file: string, segments: Segment[]): Segment {
  if (!segments.length) throw new ImageError(file, "contains no data");
  const sorted = [...segments].sort((a, b) => a.address - b.address);
  const start = sorted[0].address;
  let end = start;
  for (const s of sorted) {
    if (s.address < end) throw new ImageError(file, `overlapping data at ${hx(s.address)}`);
    const gap = s.address - end;
    if (gap > MAX_GAP) {
      throw new ImageError(file, `a gap of ${gap} bytes between ${hx(end)} and ${hx(s.address)}: a signed image is one ` +
        `contiguous run of bytes (gaps of up to 64 KiB are filled with FFh); sign each part separately or link it as one`);
    }
    end = s.address + s.data.length;
  }
  if (sorted.length === 1) return { address: start, data: sorted[0].data };
  const data = new Uint8Array(end - start).fill(0xff);
  for (const s of sorted) data.set(s.data, s.address - start);
  return { address: start, data };
}

/** The 64 header bytes (+0..+63) the signature covers. */
export function signedMessage(image: Uint8Array, o: SignOptions): Uint8Array {
  if (!Number.isInteger(o.version) || o.version < 0 || o.version > 0xffffffff) throw new RangeError(`firmware version ${o.version}: an integer 0..4294967295`);
  if (image.length === 0 || image.length > 0xffffffff) throw new RangeError(`image length ${image.length}`);
  const h = new Uint8Array(HEADER_SIZE);
  const v = new DataView(h.buffer);
  v.setUint32(0, TRAILER_MAGIC, true);
  v.setUint16(4, FORMAT_VERSION, true);
  v.setUint16(6, o.allowDowngrade ? FLAG_ALLOW_DOWNGRADE : 0, true);
  v.setUint32(8, image.length, true);
  v.setUint32(12, o.version, true);
  const digest = o.sha256(image);
  if (digest.length !== 32) throw new Error("sha256 gave other than 32 bytes");
  h.set(digest, 16);
  return h;
}

/** The image bytes, FFh padding and trailer, as one Uint8Array. */
export function signBytes(image: Uint8Array, sign: Sign, o: SignOptions): Uint8Array {
  const header = signedMessage(image, o);
  const sig = sign(header);
  if (sig.length !== SIGNATURE_SIZE) throw new Error(`the signer gave ${sig.length} bytes, an Ed25519 signature is 64`);
  const p = roundUp(image.length);
  const out = new Uint8Array(p + TRAILER_SIZE).fill(0xff, image.length, p);
  out.set(image, 0);
  out.set(header, p);
  out.set(sig, p + HEADER_SIZE);
  return out;
}

/** The signed image as one segment at the image start. */
export function signImage(segments: Segment[], sign: Sign, o: SignOptions, file = "image"): Segment[] {
  if (findSigned(segments)) throw new ImageError(file, "already signed: sign the unsigned image");
  const img = mergeImage(file, segments);
  return [{ address: img.address, data: signBytes(img.data, sign, o) }];
}

/** The trailer's fields from its 128 bytes; an Error saying what is wrong otherwise. */
export function parseTrailer(bytes: Uint8Array): Trailer {
  if (bytes.length !== TRAILER_SIZE) throw new Error(`a trailer is ${TRAILER_SIZE} bytes, not ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, true);
  if (magic !== TRAILER_MAGIC) throw new Error(`no signature trailer (magic ${hx(magic)}, expected ${hx(TRAILER_MAGIC)} "QSSG")`);
  const formatVersion = v.getUint16(4, true);
  if (formatVersion !== FORMAT_VERSION) throw new Error(`signature trailer format version ${formatVersion}: this flasher knows version ${FORMAT_VERSION}`);
  const flags = v.getUint16(6, true);
  if (flags & ~FLAG_ALLOW_DOWNGRADE) throw new Error(`signature trailer flags 0x${flags.toString(16)}: unknown flag bits`);
  const reserved = bytes.slice(48, 64);
  if (reserved.some((b) => b !== 0)) throw new Error("signature trailer: reserved bytes +48..+63 are not zero");
  const length = v.getUint32(8, true);
  if (length === 0) throw new Error("signature trailer: image length 0");
  return {
    magic, formatVersion, flags, allowDowngrade: !!(flags & FLAG_ALLOW_DOWNGRADE), length, version: v.getUint32(12, true),
    sha256: bytes.slice(16, 48), reserved, signature: bytes.slice(64, 128), header: bytes.slice(0, 64),
  };
}

export interface Signed {
  address: number;
  /** The image bytes (L of them), and the signed image (image, padding, trailer). */
  image: Uint8Array; signed: Uint8Array;
  trailer: Trailer;
}

/** Where a run of N bytes would have its trailer (see the format above). */
export const trailerOffset = (n: number) => Math.floor((n - TRAILER_SIZE) / IMAGE_ALIGN) * IMAGE_ALIGN;

/** The trailer in a run of bytes, or an Error saying why there is none. */
export function trailerIn(data: Uint8Array): Trailer {
  if (data.length < IMAGE_ALIGN + TRAILER_SIZE) throw new Error(`no signature trailer: ${data.length} bytes are too few for a signed image`);
  const p = trailerOffset(data.length);
  const t = parseTrailer(data.subarray(p, p + TRAILER_SIZE));
  if (roundUp(t.length) !== p) throw new Error(`signature trailer at +${p} gives image length ${t.length}, which puts the trailer at +${roundUp(t.length)}`);
  if (data.subarray(p + TRAILER_SIZE).some((b) => b !== 0xff)) throw new Error(`bytes after the signature trailer at +${p} that are not FFh`);
  return t;
}

/** The signed image a file holds, or undefined when it carries no trailer. */
export function findSigned(segments: Segment[], file = "image"): Signed | undefined {
  let img: Segment;
  try { img = mergeImage(file, segments); } catch { return undefined; }
  let trailer: Trailer;
  try { trailer = trailerIn(img.data); } catch { return undefined; }
  const p = roundUp(trailer.length);
  return { address: img.address, image: img.data.subarray(0, trailer.length), signed: img.data.subarray(0, p + TRAILER_SIZE), trailer };
}

export const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
