// Firmware images in one form: address-sorted segments, adjacent ones merged, none overlapping.
export interface Segment { address: number; data: Uint8Array }

export class ImageError extends Error {
  constructor(readonly file: string, message: string) { super(`${file}: ${message}`); }
}

export function normalize(file: string, segs: Segment[]): Segment[] {
  const sorted = segs.filter((s) => s.data.length > 0).sort((a, b) => a.address - b.address);
  // Find the runs of adjacent segments first, then copy each segment once into its run's
  // buffer: merging pairwise copies the run so far for every segment, which is quadratic
  // in a UF2 file's 256-byte blocks (seconds at 2 MiB, most of a minute at 8 MiB).
  const out: Segment[] = [];
  for (let i = 0; i < sorted.length;) {
    let end = sorted[i].address + sorted[i].data.length;
    let j = i + 1;
    for (; j < sorted.length && sorted[j].address <= end; j++) {
      if (sorted[j].address < end) throw new ImageError(file, `overlapping data at 0x${sorted[j].address.toString(16)}`);
      end += sorted[j].data.length;
    }
    if (j === i + 1) out.push({ address: sorted[i].address, data: sorted[i].data });
    else {
      const data = new Uint8Array(end - sorted[i].address);
      for (let k = i; k < j; k++) data.set(sorted[k].data, sorted[k].address - sorted[i].address);
      out.push({ address: sorted[i].address, data });
    }
    i = j;
  }
  if (!out.length) throw new ImageError(file, "contains no data");
  const last = out[out.length - 1];
  if (last.address + last.data.length > 0x100000000) throw new ImageError(file, "data past the end of the 32-bit address space");
  return out;
}

export function imageSize(segs: Segment[]): number { return segs.reduce((a, s) => a + s.data.length, 0); }
