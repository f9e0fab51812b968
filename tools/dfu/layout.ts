// DfuSe memory layout strings: "@Name /0xADDR/NN*SSSKt,NN*SSSKt/0xADDR/..." (ST UM0424 and
// dfu-util's dfuse_mem.c). Type letters a-g are a 3-bit mask: 1 readable, 2 erasable, 4 writable.
export interface LayoutSegment { start: number; end: number; pageSize: number; readable: boolean; erasable: boolean; writable: boolean }
export interface Layout { name: string; segments: LayoutSegment[] }

export function parseLayout(s: string): Layout {
  const m = s.match(/^@([^/]*)(\/.*)$/);
  if (!m) throw new Error(`not a DfuSe layout string: "${s}"`);
  const segments: LayoutSegment[] = [];
  const parts = m[2].split("/").filter((x) => x.length);
  for (let i = 0; i + 1 < parts.length; i += 2) {
    let addr = Number(parts[i]);
    if (!Number.isFinite(addr)) throw new Error(`bad address "${parts[i]}" in layout "${s}"`);
    for (const seg of parts[i + 1].split(",")) {
      const g = seg.trim().match(/^(\d+)\*(\d+)\s*([BKM ])([a-g])$/);
      if (!g) throw new Error(`bad segment "${seg}" in layout "${s}"`);
      const mult = g[3] === "K" ? 1024 : g[3] === "M" ? 1 << 20 : 1;
      const pageSize = Number(g[2]) * mult;
      const mask = g[4].charCodeAt(0) - 0x60;
      const end = addr + Number(g[1]) * pageSize;
      segments.push({ start: addr, end, pageSize, readable: !!(mask & 1), erasable: !!(mask & 2), writable: !!(mask & 4) });
      addr = end;
    }
  }
  return { name: m[1].trim(), segments };
}

export function segmentAt(l: Layout, addr: number): LayoutSegment | undefined {
  return l.segments.find((s) => addr >= s.start && addr < s.end);
}

/** Whether every byte of [start, end) is writable (and erasable). */
export function writableRange(l: Layout, start: number, end: number): boolean {
  let a = start;
  while (a < end) {
    const s = segmentAt(l, a);
    if (!s || !s.writable || !s.erasable) return false;
    a = s.end;
  }
  return true;
}
