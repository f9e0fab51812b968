// Intel HEX (record types 00 data, 01 EOF, 02 segment address, 03 start segment, 04 extended
// linear address, 05 start linear). Written here rather than taken from nrf-intel-hex, which
// rejects addresses at or above 0x80000000 ("Address passed to MemoryMap is negative"): the
// STM32H750's QSPI window is at 0x90000000.
import { ImageError, normalize, type Segment } from "./segments";

export function parseHex(file: string, b: Uint8Array): Segment[] {
  const text = new TextDecoder("latin1").decode(b);
  const lines = text.split(/\r?\n/);
  const segs: Segment[] = [];
  let upper = 0;       // from type 04 (<< 16) or 02 (<< 4)
  let ended = false;
  let cur: { address: number; bytes: number[] } | null = null;
  const flush = () => { if (cur && cur.bytes.length) segs.push({ address: cur.address, data: Uint8Array.from(cur.bytes) }); cur = null; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = `line ${i + 1}`;
    if (ended) throw new ImageError(file, `${where}: data after the end-of-file record`);
    if (line[0] !== ":") throw new ImageError(file, `${where}: a record must start with ':'`);
    if (!/^:([0-9A-Fa-f]{2})+$/.test(line)) throw new ImageError(file, `${where}: not hexadecimal`);
    const rec = Uint8Array.from(line.slice(1).match(/../g)!.map((h) => parseInt(h, 16)));
    if (rec.length < 5 || rec.length !== rec[0] + 5) throw new ImageError(file, `${where}: length field ${rec[0]} does not match the record`);
    const sum = rec.reduce((a, x) => (a + x) & 0xff, 0);
    if (sum !== 0) throw new ImageError(file, `${where}: checksum error`);
    const n = rec[0], offset = (rec[1] << 8) | rec[2], type = rec[3], data = rec.subarray(4, 4 + n);
    switch (type) {
      case 0: {
        const addr = (upper + offset) >>> 0;
        if (offset + n > 0x10000) throw new ImageError(file, `${where}: record crosses a 64 KiB boundary`);
        if (!cur || cur.address + cur.bytes.length !== addr) { flush(); cur = { address: addr, bytes: [] }; }
        for (const x of data) cur.bytes.push(x);
        break;
      }
      case 1: ended = true; break;
      case 2: if (n !== 2) throw new ImageError(file, `${where}: bad segment address record`); upper = ((data[0] << 8) | data[1]) << 4; break;
      case 4: if (n !== 2) throw new ImageError(file, `${where}: bad linear address record`); upper = ((data[0] << 24) | (data[1] << 16)) >>> 0; break;
      case 3: case 5: if (n !== 4) throw new ImageError(file, `${where}: bad start address record`); break;
      default: throw new ImageError(file, `${where}: unknown record type ${type}`);
    }
  }
  flush();
  if (!ended) throw new ImageError(file, "no end-of-file record: the file is truncated");
  return normalize(file, segs);
}

/** Intel HEX text for the segments (data records of 16 bytes, type 04 for every 64 KiB). */
export function writeHex(segs: Segment[]): string {
  const out: string[] = [];
  const rec = (type: number, offset: number, data: number[]) => {
    const bytes = [data.length, (offset >> 8) & 0xff, offset & 0xff, type, ...data];
    const sum = (0x100 - (bytes.reduce((a, x) => a + x, 0) & 0xff)) & 0xff;
    out.push(":" + [...bytes, sum].map((x) => x.toString(16).toUpperCase().padStart(2, "0")).join(""));
  };
  let upper = -1;
  for (const s of segs) {
    for (let i = 0; i < s.data.length;) {
      const a = (s.address + i) >>> 0;
      if (a >>> 16 !== upper) { upper = a >>> 16; rec(4, 0, [upper >> 8, upper & 0xff]); }
      const n = Math.min(16, s.data.length - i, 0x10000 - (a & 0xffff));
      rec(0, a & 0xffff, [...s.data.subarray(i, i + n)]);
      i += n;
    }
  }
  rec(1, 0, []);
  return out.join("\n") + "\n";
}
