// DfuSe files (.dfu, ST UM0391): prefix "DfuSe", targets of (address, size) elements, and the
// DFU 1.1 suffix (bcdDevice, PID, VID, bcdDFU, "UFD", length 16, CRC). The suffix CRC is the
// reflected CRC-32 of everything before it, without the final inversion (DFU 1.1 appendix B).
import { crc32 } from "../dfu/crc32";
import { ImageError, normalize, type Segment } from "./segments";

export interface DfuseIds { vid: number; pid: number; bcdDevice: number }

const dfuCrc = (b: Uint8Array) => ~crc32(0, b) >>> 0;

export function writeDfuse(segments: Segment[], ids: DfuseIds, targetName = "QSPI Flash"): Uint8Array {
  const elems = segments.reduce((a, s) => a + 8 + s.data.length, 0);
  const size = 11 + 274 + elems;
  const out = new Uint8Array(size + 16);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode("DfuSe"), 0);
  v.setUint8(5, 1);
  v.setUint32(6, size, true);
  v.setUint8(10, 1);
  let o = 11;
  out.set(new TextEncoder().encode("Target"), o);
  v.setUint8(o + 6, 0);           // alternate setting 0
  v.setUint32(o + 7, 1, true);    // named
  out.set(new TextEncoder().encode(targetName.slice(0, 254)), o + 11);
  v.setUint32(o + 266, elems, true);
  v.setUint32(o + 270, segments.length, true);
  o += 274;
  for (const s of segments) {
    v.setUint32(o, s.address, true);
    v.setUint32(o + 4, s.data.length, true);
    out.set(s.data, o + 8);
    o += 8 + s.data.length;
  }
  v.setUint16(o, ids.bcdDevice, true);
  v.setUint16(o + 2, ids.pid, true);
  v.setUint16(o + 4, ids.vid, true);
  v.setUint16(o + 6, 0x011a, true);
  out.set([0x55, 0x46, 0x44, 16], o + 8); // "UFD", bLength
  v.setUint32(o + 12, dfuCrc(out.subarray(0, o + 12)), true);
  return out;
}

export function parseDfuse(file: string, b: Uint8Array): Segment[] {
  if (b.length < 11 + 16) throw new ImageError(file, "too short for a DfuSe file");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sfx = b.length - 16;
  if (b[sfx + 8] !== 0x55 || b[sfx + 9] !== 0x46 || b[sfx + 10] !== 0x44 || b[sfx + 11] !== 16) throw new ImageError(file, "no DFU suffix (\"UFD\")");
  const crc = v.getUint32(b.length - 4, true);
  if (crc !== dfuCrc(b.subarray(0, b.length - 4))) throw new ImageError(file, "DFU suffix CRC does not match: the file is damaged");
  if (new TextDecoder().decode(b.subarray(0, 5)) !== "DfuSe") throw new ImageError(file, "a plain DFU file, not DfuSe: it carries no addresses (use a .bin with --address)");
  const size = v.getUint32(6, true);
  if (size !== sfx) throw new ImageError(file, `prefix says ${size} bytes, the file has ${sfx} before its suffix`);
  const targets = b[10];
  const segs: Segment[] = [];
  let o = 11;
  for (let t = 0; t < targets; t++) {
    if (o + 274 > sfx) throw new ImageError(file, `target ${t}: truncated header`);
    if (new TextDecoder().decode(b.subarray(o, o + 6)) !== "Target") throw new ImageError(file, `target ${t}: bad signature`);
    const alt = b[o + 6];
    const n = v.getUint32(o + 270, true);
    o += 274;
    for (let e = 0; e < n; e++) {
      if (o + 8 > sfx) throw new ImageError(file, `target ${t} element ${e}: truncated`);
      const addr = v.getUint32(o, true), len = v.getUint32(o + 4, true);
      if (o + 8 + len > sfx) throw new ImageError(file, `target ${t} element ${e}: ${len} bytes run past the end`);
      if (alt === 0) segs.push({ address: addr, data: b.slice(o + 8, o + 8 + len) });
      o += 8 + len;
    }
  }
  if (o !== sfx) throw new ImageError(file, `${sfx - o} stray bytes after the last target`);
  return normalize(file, segs);
}
