// UF2 (github.com/microsoft/uf2): 512-byte blocks, each with its target address and payload;
// the family ID must be the board's. Blocks flagged "not main flash" are skipped, as the UF2
// README says (they hold comments, sources or debug info for no flash), and counted so the
// user hears of it: a file made with that flag by mistake would otherwise flash nothing.
import { ImageError, normalize, type Segment } from "./segments";

export const UF2_FAMILY = { RP2040: 0xe48bff56, STM32H7: 0x6db66082 } as const;
const MAGIC0 = 0x0a324655, MAGIC1 = 0x9e5d5157, MAGIC_END = 0x0ab16f30;
const FLAG_NOT_MAIN_FLASH = 0x1, FLAG_FAMILY = 0x2000;

export function parseUf2(file: string, b: Uint8Array, family?: number, warn: (message: string) => void = () => {}): Segment[] {
  if (b.length === 0 || b.length % 512) throw new ImageError(file, `UF2 length ${b.length} is not a multiple of 512`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const segs: Segment[] = [];
  let total = -1, skipped = 0;
  const seen = new Set<number>();
  for (let o = 0; o < b.length; o += 512) {
    const n = o / 512;
    if (v.getUint32(o, true) !== MAGIC0 || v.getUint32(o + 4, true) !== MAGIC1 || v.getUint32(o + 508, true) !== MAGIC_END) {
      throw new ImageError(file, `block ${n}: bad UF2 magic`);
    }
    const flags = v.getUint32(o + 8, true), addr = v.getUint32(o + 12, true), size = v.getUint32(o + 16, true);
    const blockNo = v.getUint32(o + 20, true), count = v.getUint32(o + 24, true), fam = v.getUint32(o + 28, true);
    if (size === 0 || size > 476) throw new ImageError(file, `block ${n}: payload size ${size}: a malformed block (a block carries 1 to 476 bytes)`);
    if (total < 0) total = count;
    if (count !== total || blockNo >= count) throw new ImageError(file, `block ${n}: numbered ${blockNo} of ${count}, expected of ${total}`);
    if (seen.has(blockNo)) throw new ImageError(file, `block ${n}: block number ${blockNo} appears twice`);
    seen.add(blockNo);
    if (flags & FLAG_NOT_MAIN_FLASH) { skipped++; continue; }
    if (family !== undefined) {
      if (!(flags & FLAG_FAMILY)) throw new ImageError(file, `block ${n}: no family ID (expected 0x${family.toString(16)})`);
      if (fam !== family) throw new ImageError(file, `block ${n}: family 0x${fam.toString(16)}, this board needs 0x${family.toString(16)}`);
    }
    segs.push({ address: addr, data: b.slice(o + 32, o + 32 + size) });
  }
  if (seen.size !== total) throw new ImageError(file, `${seen.size} of ${total} blocks present: the file is truncated`);
  if (skipped) warn(`${file}: ${skipped} of ${total} blocks skipped: flagged "not main flash" (UF2 flag 0x1), they are not for the board's flash`);
  return normalize(file, segs);
}

/** `full`: every block carries the whole `payload`, a short tail padded with FFh (erased
 *  flash). The RP2040 boot ROM ignores any block whose payload size is not 256
 *  (bootrom virtual_disk.c), so files for it must be made so; the UF2 spec itself allows less. */
export function writeUf2(segments: Segment[], family: number, payload = 256, full = false): Uint8Array {
  const chunks: { address: number; data: Uint8Array }[] = [];
  for (const s of segments) {
    for (let o = 0; o < s.data.length; o += payload) {
      let data = s.data.subarray(o, o + payload);
      if (full && data.length < payload) { const d = new Uint8Array(payload).fill(0xff); d.set(data); data = d; }
      chunks.push({ address: s.address + o, data });
    }
  }
  const out = new Uint8Array(chunks.length * 512);
  const v = new DataView(out.buffer);
  chunks.forEach((c, i) => {
    const o = i * 512;
    v.setUint32(o, MAGIC0, true); v.setUint32(o + 4, MAGIC1, true); v.setUint32(o + 8, FLAG_FAMILY, true);
    v.setUint32(o + 12, c.address, true); v.setUint32(o + 16, c.data.length, true);
    v.setUint32(o + 20, i, true); v.setUint32(o + 24, chunks.length, true); v.setUint32(o + 28, family, true);
    out.set(c.data, o + 32);
    v.setUint32(o + 508, MAGIC_END, true);
  });
  return out;
}
