// Firmware images in one form: address-sorted segments, adjacent ones merged, none overlapping.
export interface Segment { address: number; data: Uint8Array }

export class ImageError extends Error {
  constructor(readonly file: string, message: string) { super(`${file}: ${message}`); }
}

export function normalize(file: string, segs: Segment[]): Segment[] {
  const sorted = segs.filter((s) => s.data.length > 0).sort((a, b) => a.address - b.address);
  const out: Segment[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev && s.address < prev.address + prev.data.length) {
      throw new ImageError(file, `overlapping data at 0x${s.address.toString(16)}`);
    }
    if (prev && s.address === prev.address + prev.data.length) {
      const merged = new Uint8Array(prev.data.length + s.data.length);
      merged.set(prev.data); merged.set(s.data, prev.data.length);
      prev.data = merged;
    } else out.push({ address: s.address, data: s.data });
  }
  if (!out.length) throw new ImageError(file, "contains no data");
  const last = out[out.length - 1];
  if (last.address + last.data.length > 0x100000000) throw new ImageError(file, "data past the end of the 32-bit address space");
  return out;
}

export function imageSize(segs: Segment[]): number { return segs.reduce((a, s) => a + s.data.length, 0); }
