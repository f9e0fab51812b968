// Flash and RAM per part of the firmware (translated core, HAL, runtime, boot2, C library),
// read from the linker map: every input section that made it into the image, by object file.
import type { Board } from "./boards";

export interface PartSize { flash: number; ram: number }
export type SizeTable = Record<string, PartSize>;

// With LTO every function comes out of one ltrans object: the part is told by the symbol the
// section is named after (functions inlined across parts count where they ended up).
const CORE_SYMBOL = /^\.\w+\.(w2c_|Z_core|i32_|i64_|f32_|f64_|memory_|init_|load_data|funcref_|func_types|data_segment|elem_segment|s_module)/;
const RUNTIME_SYMBOL = /^\.\w+\.(wasm_rt_|qspiboot_memory|table_storage|type_count)/;
// Startup and main, into which LTO folds the core's instantiation (data segments, table).
const STARTUP_SYMBOL = /^\.[\w.]*?\.(Reset_Handler|main|vector_table|core|hal)(\.(isra|constprop|part)\.\d+)*$/;

function partOf(file: string, section: string): string {
  if (/\.a\(/.test(file) || /lib[a-z_]+\.a/.test(file)) return "libc/libgcc";
  if (/boot2/.test(file) || section.startsWith(".boot2")) return "boot2";
  if (/\bcore\.o$/.test(file) || CORE_SYMBOL.test(section)) return "core (translated)";
  if (/wasm-rt/.test(file) || RUNTIME_SYMBOL.test(section)) return "runtime";
  if (STARTUP_SYMBOL.test(section) || /^\.vectors/.test(section)) return "startup + core init";
  return "HAL";
}

export function sizeTable(map: string, board: Board): SizeTable {
  const start = map.indexOf("Linker script and memory map");
  const lines = map.slice(start).split("\n");
  const table: SizeTable = {};
  let pending = "";
  for (const line of lines) {
    const named = line.match(/^ (\.\S+|COMMON)\s*$/);
    if (named) { pending = named[1]; continue; }
    const m = line.match(/^ (?:(\.\S+|COMMON))?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*\.o\)?)\s*$/);
    if (!m) { if (!/^\s+0x/.test(line)) pending = ""; continue; }
    const section = m[1] ?? pending;
    pending = "";
    const size = parseInt(m[3], 16);
    if (!section || size === 0) continue;
    const part = partOf(m[4], section);
    const t = (table[part] ??= { flash: 0, ram: 0 });
    const isBss = /^\.(bss|noinit)|^COMMON/.test(section);
    const isData = /^\.data/.test(section);
    const isCode = !isBss && !isData && /^\.(text|rodata|vectors|boot2|entry|early|ARM)/.test(section);
    if (isCode) { t.flash += size; if (board.codeInRam && !/^\.(boot2|entry|vectors)/.test(section)) t.ram += size; }
    if (isData) { t.flash += size; t.ram += size; }
    if (isBss) t.ram += size;
  }
  return table;
}

/** `option`: a build with an optional feature: measured against the flash region, since the
 *  16 KiB budget is for the build without options (the option's own row says what it adds). */
export function printSizeTable(board: Board, t: SizeTable, rebuilt: boolean, dir = `build/${board.name}`, option = false): void {
  const rows = Object.entries(t).sort((a, b) => b[1].flash - a[1].flash);
  const total = rows.reduce((s, [, v]) => ({ flash: s.flash + v.flash, ram: s.ram + v.ram }), { flash: 0, ram: 0 });
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(`\n${board.name}: ${dir}/qspiboot.{elf,bin,hex${board.uf2Family ? ",uf2" : ""}}${rebuilt ? "" : " (up to date)"}`);
  console.log(`  ${"part".padEnd(20)}${pad("flash", 8)}${pad("RAM", 8)}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(20)}${pad(v.flash, 8)}${pad(v.ram, 8)}`);
  const limit = option ? board.flashRegion : board.flashBudget;
  const pct = ((100 * total.flash) / limit).toFixed(0);
  const what = option ? "flash region" : "flash budget";
  console.log(`  ${"total".padEnd(20)}${pad(total.flash, 8)}${pad(total.ram, 8)}   ${what} ${limit} (${pct}% used)${total.flash > limit ? "  OVER " + (option ? "REGION" : "BUDGET") : ""}`);
}
