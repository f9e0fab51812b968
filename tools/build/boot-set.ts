// The RP2040's split load (hal/rp2040/startup.c): at reset only the boot path's code and the
// data come into SRAM; DFU mode's code follows when the boot path stays. Which functions the
// boot path can reach is read off a linked image, not named by hand: LTO merges and clones the
// core's functions (main.isra.0, w2c_f33.constprop.0), and the names change with every edit.
//
// A function is on the boot path when the reset stub reaches it without going through the cut
// (main.c's dfu_mode, entered only after hal_load_rest): through a direct branch (bl, b, b<cc>:
// calls and tail calls), or through a word in its body (a literal pool) or in the data that holds
// a function's address with the Thumb bit. Words that only happen to look like one add a function
// to the boot set, never take one out: the set errs on the side of loading more.
//
// The build links twice: once to read the call graph, once with the boot set first in .text
// (link/rp2040.ld includes the generated boot-set.ld). The second image is checked the same way:
// a function reachable on the boot path that lies outside the first load fails the build.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

interface Func { name: string; addr: number; size: number }

/** The cut: DFU mode's entry (hal/common/main.c), and whatever LTO renamed it to. */
const CUT = /^dfu_mode(\.|$)/;

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, stdio: ["ignore", "pipe", "pipe"] });
}

function functions(elf: string): Func[] {
  const out: Func[] = [];
  for (const line of tool("arm-none-eabi-nm", ["-S", "--defined-only", elf]).split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) [tTwW] (\S+)$/.exec(line.trim());
    if (m) out.push({ addr: parseInt(m[1], 16) & ~1, size: parseInt(m[2], 16), name: m[3] });
  }
  return out.sort((a, b) => a.addr - b.addr);
}

function containing(funcs: Func[], addr: number): Func | undefined {
  let lo = 0, hi = funcs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1, f = funcs[mid];
    if (addr < f.addr) hi = mid - 1;
    else if (addr >= f.addr + f.size) lo = mid + 1;
    else return f;
  }
  return undefined;
}

/** Edges of the call graph, by function name, and the functions whose address the data holds. */
function graph(elf: string, funcs: Func[]): { edges: Map<string, Set<string>>; fromData: Set<string> } {
  const starts = new Map(funcs.map((f) => [f.addr | 1, f.name]));
  const edges = new Map<string, Set<string>>();
  let cur: Func | undefined;
  for (const line of tool("arm-none-eabi-objdump", ["-d", "-z", elf]).split("\n")) {
    // address:<tab>raw bytes<tab>mnemonic<tab>operands
    const m = /^\s*([0-9a-f]+):\t[^\t]*\t(\S+)\t?(.*)$/.exec(line);
    if (!m) continue;
    const at = parseInt(m[1], 16);
    if (!cur || at < cur.addr || at >= cur.addr + cur.size) cur = containing(funcs, at);
    if (!cur) continue;
    const op = m[2], args = m[3];
    let target: string | undefined;
    const br = /^b(l|[a-z]{2})?(\.[nw])?$/.test(op) && /^([0-9a-f]+)\b/.exec(args);
    if (br) target = containing(funcs, parseInt(br[1], 16))?.name;
    const word = op === ".word" && /^0x([0-9a-f]+)/.exec(args);
    if (word) target = starts.get(parseInt(word[1], 16));
    if (target && target !== cur.name) {
      if (!edges.has(cur.name)) edges.set(cur.name, new Set());
      edges.get(cur.name)!.add(target);
    }
  }
  // Function pointers in initialised data and read-only data.
  const fromData = new Set<string>();
  const dump = tool("arm-none-eabi-objdump", ["-s", "-j", ".rodata", "-j", ".data", elf]);
  for (const line of dump.split("\n")) {
    const m = /^ ([0-9a-f]{8}) ((?:[0-9a-f]{8} ?){1,4})/.exec(line);
    if (!m) continue;
    for (const w of m[2].trim().split(/\s+/)) {
      const v = parseInt(w.match(/../g)!.reverse().join(""), 16); // little-endian words
      const name = starts.get(v);
      if (name) fromData.add(name);
    }
  }
  return { edges, fromData };
}

/** The functions the boot path can reach, by name. */
export function bootSet(elf: string): { names: Set<string>; funcs: Func[] } {
  const funcs = functions(elf);
  const { edges, fromData } = graph(elf, funcs);
  const seen = new Set<string>();
  const todo = ["Reset_Handler", "Fault_Handler", ...[...fromData].filter((n) => !CUT.test(n))];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n) || CUT.test(n)) continue;
    seen.add(n);
    for (const t of edges.get(n) ?? []) todo.push(t);
  }
  if (!funcs.some((f) => CUT.test(f.name))) throw new Error("boot set: no dfu_mode in the image (hal/common/main.c)");
  return { names: seen, funcs };
}

/** Input sections of the link map: name, address, size, file. */
function inputSections(map: string): { name: string; addr: number; size: number; file: string }[] {
  const out: { name: string; addr: number; size: number; file: string }[] = [];
  const lines = map.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let m = /^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+) (.+)$/.exec(lines[i]);
    if (!m) {
      const name = /^ (\.\S+)$/.exec(lines[i]);
      const rest = name && /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+) (.+)$/.exec(lines[i + 1] ?? "");
      if (!rest) continue;
      m = [lines[i], name![1], rest[1], rest[2], rest[3]] as unknown as RegExpExecArray;
      i++;
    }
    out.push({ name: m[1], addr: parseInt(m[2], 16), size: parseInt(m[3], 16), file: m[4].trim() });
  }
  return out;
}

/** Linker-script lines that place the boot set's input sections (link/rp2040.ld includes them
 *  after the loader). Sections of the loader itself, or outside SRAM, are left where they are. */
export function bootSetScript(elf: string, map: string): string {
  const { names, funcs } = bootSet(elf);
  const sections = inputSections(readFileSync(map, "utf8"));
  const specs = new Set<string>();
  for (const f of funcs) {
    if (!names.has(f.name) || f.addr < 0x20000000) continue;
    const s = sections.find((x) => f.addr >= x.addr && f.addr < x.addr + x.size && x.size > 0);
    if (!s) throw new Error(`boot set: no input section holds ${f.name} (0x${f.addr.toString(16)})`);
    if (s.name === ".loader") continue;
    if (s.name.startsWith(".text.")) specs.add(`*(${s.name})`);
    else {
      // A whole .text of its object (libgcc's routines): archive(member) in the map.
      const am = /([^/]+\.a)\(([^)]+)\)$/.exec(s.file);
      specs.add(am ? `*${am[1]}:${am[2]}(${s.name})` : `*${s.file.split("/").pop()}(${s.name})`);
    }
  }
  return `/* Generated by tools/build/boot-set.ts: the boot path's functions. Do not edit. */\n${[...specs].sort().join("\n")}\n`;
}

/** The check on the final image: everything the boot path reaches lies before `__rest_start`,
 *  and DFU mode's code does not. Returns the size of the first load after the loader (the boot
 *  path's code, .rodata, .data) and of the second. */
export function checkBootSet(elf: string): { bootBytes: number; restBytes: number } {
  const { names, funcs } = bootSet(elf);
  const symbols = new Map<string, number>();
  for (const line of tool("arm-none-eabi-nm", [elf]).split("\n")) {
    const m = /^([0-9a-f]+) \S (\S+)$/.exec(line);
    if (m) symbols.set(m[2], parseInt(m[1], 16));
  }
  const sym = (n: string) => {
    const v = symbols.get(n);
    if (v === undefined) throw new Error(`boot set: no symbol ${n}`);
    return v;
  };
  const loaderEnd = sym("__loader_end"), restStart = sym("__rest_start"), restEnd = sym("__rest_end");
  const late = funcs.filter((f) => names.has(f.name) && f.addr >= restStart && f.addr < restEnd).map((f) => f.name);
  if (late.length) throw new Error(`the boot path reaches code that is loaded only for DFU mode: ${late.join(", ")}`);
  if (restEnd <= restStart) throw new Error("boot set: DFU mode has no code of its own (nothing after __rest_start)");
  return { bootBytes: restStart - loaderEnd, restBytes: restEnd - restStart };
}
