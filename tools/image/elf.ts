// ELF32 little-endian ARM executables: the PT_LOAD segments' file bytes at their physical
// (load) addresses, which is where they go in flash (ELF spec, "Program Header").
import { ImageError, normalize, type Segment } from "./segments";

const PT_LOAD = 1;
const EM_ARM = 40;

export function parseElf(file: string, b: Uint8Array): Segment[] {
  const need = (off: number, n: number, what: string) => {
    if (off < 0 || n < 0 || off + n > b.length) throw new ImageError(file, `truncated: ${what} at offset ${off} runs past the end (${b.length} bytes)`);
  };
  need(0, 52, "ELF header");
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw new ImageError(file, "not an ELF file");
  if (b[4] !== 1) throw new ImageError(file, "64-bit ELF: an ARM Cortex-M image is ELF32");
  if (b[5] !== 1) throw new ImageError(file, "big-endian ELF: expected little-endian");
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const machine = v.getUint16(18, true);
  if (machine !== EM_ARM) throw new ImageError(file, `ELF for machine ${machine}, not ARM (40)`);
  const phoff = v.getUint32(28, true), phentsize = v.getUint16(42, true), phnum = v.getUint16(44, true);
  if (phnum === 0) throw new ImageError(file, "no program headers");
  if (phentsize < 32) throw new ImageError(file, `program header size ${phentsize} is too small`);
  need(phoff, phnum * phentsize, "program headers");
  const segs: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (v.getUint32(o, true) !== PT_LOAD) continue;
    const offset = v.getUint32(o + 4, true), paddr = v.getUint32(o + 12, true), filesz = v.getUint32(o + 16, true);
    if (filesz === 0) continue;
    need(offset, filesz, `segment ${i}`);
    segs.push({ address: paddr, data: b.slice(offset, offset + filesz) });
  }
  if (!segs.length) throw new ImageError(file, "no loadable segment with data");
  return normalize(file, segs);
}
