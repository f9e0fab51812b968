// A small reader for CMSIS-SVD files (ARM's System View Description schema 1.1): peripherals
// with their base address, registers with offset, reset value and access, fields with bit
// offset, width, access, modifiedWriteValues and readAction. `derivedFrom` peripherals take the
// registers of the peripheral they name (schema 1.1, 'derivedFrom'). Enough of XML for ST's files:
// elements, text, comments and the XML declaration; no entities beyond the five predefined ones.
export interface SvdField { name: string; bitOffset: number; bitWidth: number; access?: string; modifiedWriteValues?: string; readAction?: string }
export interface SvdRegister { name: string; addressOffset: number; resetValue: number; access?: string; fields: SvdField[] }
export interface SvdPeripheral { name: string; baseAddress: number; derivedFrom?: string; registers: SvdRegister[] }
export interface SvdDevice { name: string; version: string; peripherals: Map<string, SvdPeripheral> }

interface El { tag: string; attrs: Record<string, string>; children: El[]; text: string }

function parseXml(src: string): El {
  const root: El = { tag: "#root", attrs: {}, children: [], text: "" };
  const stack = [root];
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
  for (let m; (m = re.exec(src)); ) {
    const top = stack[stack.length - 1];
    if (m[1]) {
      if (top.tag !== m[1]) throw new Error(`SVD: </${m[1]}> closes <${top.tag}>`);
      stack.pop();
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? "").matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]] = unescape(a[2] ?? a[3]);
      const el: El = { tag: m[2], attrs, children: [], text: "" };
      top.children.push(el);
      if (!m[4]) stack.push(el);
    } else if (m[5]) top.text += unescape(m[5]);
  }
  if (stack.length !== 1) throw new Error(`SVD: <${stack[stack.length - 1].tag}> not closed`);
  return root;
}

const child = (e: El, tag: string) => e.children.find((c) => c.tag === tag);
const text = (e: El, tag: string) => child(e, tag)?.text.trim();
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s.replace(/^#/, "0b")) >>> 0);

export function readSvd(src: string): SvdDevice {
  const device = child(parseXml(src), "device");
  if (!device) throw new Error("SVD: no <device>");
  const defReset = num(text(device, "resetValue")) ?? 0;
  const defAccess = text(device, "access");
  const raw = new Map<string, { el: El; base: number; derivedFrom?: string }>();
  for (const p of child(device, "peripherals")?.children ?? []) {
    if (p.tag !== "peripheral") continue;
    raw.set(text(p, "name")!, { el: p, base: num(text(p, "baseAddress"))!, derivedFrom: p.attrs.derivedFrom });
  }
  const registersOf = (el: El): SvdRegister[] =>
    (child(el, "registers")?.children ?? []).filter((r) => r.tag === "register").map((r) => ({
      name: text(r, "name")!,
      addressOffset: num(text(r, "addressOffset"))!,
      resetValue: num(text(r, "resetValue")) ?? defReset,
      access: text(r, "access") ?? defAccess,
      fields: (child(r, "fields")?.children ?? []).filter((f) => f.tag === "field").map((f) => ({
        name: text(f, "name")!, bitOffset: num(text(f, "bitOffset"))!, bitWidth: num(text(f, "bitWidth"))!,
        access: text(f, "access"), modifiedWriteValues: text(f, "modifiedWriteValues"), readAction: text(f, "readAction"),
      })),
    }));
  const peripherals = new Map<string, SvdPeripheral>();
  for (const [name, p] of raw) {
    const src = p.derivedFrom ? raw.get(p.derivedFrom)?.el : p.el;
    if (!src) throw new Error(`SVD: ${name} derives from unknown ${p.derivedFrom}`);
    peripherals.set(name, { name, baseAddress: p.base, derivedFrom: p.derivedFrom, registers: registersOf(src) });
  }
  return { name: text(device, "name") ?? "", version: text(device, "version") ?? "", peripherals };
}
