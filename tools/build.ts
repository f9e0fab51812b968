// Firmware build: AssemblyScript core -> .wasm -> wasm2c -> arm-none-eabi-gcc with the chip's
// HAL and linker script. `npx tsx tools/build.ts h750|rp2040|all|core`.
// Incremental (every step keyed by a hash of its inputs) and reproducible (no paths or times
// in the output: the same sources give byte-identical .bin files).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { buildCoreVariant, coreDir, root, type CoreVariant } from "./build-core";
import { checkTools } from "./require-tools";
import { BOARDS, type Board } from "./build/boards";
import { sizeTable, printSizeTable } from "./build/size";
import { makeBoot2 } from "./build/boot2";
import { bootSetScript, checkBootSet } from "./build/boot-set";
import { writeUf2File } from "./build/uf2";
import { tuneGenerated } from "./build/tune-generated";
import { publicKeyRaw } from "./cli/keys";
import { readLockFile } from "./cli/lock";


function hash(...parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
}

function run(cmd: string, args: string[], cwd = root): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e: any) {
    throw new Error(`${cmd} failed:\n${e.stderr || e.stdout || e.message}`);
  }
}

/** Run `step` unless `out` exists with the same input hash. Returns true if it ran. */
function cached(out: string, key: string, step: () => void): boolean {
  const stamp = out + ".key";
  if (existsSync(out) && existsSync(stamp) && readFileSync(stamp, "utf8") === key) return false;
  step();
  writeFileSync(stamp, key);
  return true;
}

/** The core's static memory end, read from the module itself (see boot/main.ts staticEnd). */
function coreStaticEnd(wasm: Buffer): number {
  const m = new WebAssembly.Module(wasm);
  const imports: Record<string, Record<string, () => number>> = {};
  for (const i of WebAssembly.Module.imports(m)) (imports[i.module] ??= {})[i.name] = () => 0;
  const inst = new WebAssembly.Instance(m, imports);
  return (inst.exports.staticEnd as () => number)();
}

/** wasm2c once for every board: build/core/gen/core.{c,h} and the runtime header (a variant:
 *  build/core-<variant>/gen). */
export async function translateCore(variant: CoreVariant = {}): Promise<{ memoryBytes: number }> {
  const wasmFile = await buildCoreVariant(variant);
  const gen = join(coreDir(variant), "gen");
  const wasm = readFileSync(wasmFile);
  mkdirSync(gen, { recursive: true });
  cached(join(gen, "core.c"), hash(wasm, "wasm2c", readFileSync(join(root, "tools/build/tune-generated.ts"))), () => {
    run("wasm2c", [relative(root, wasmFile), "-n", "core", "-o", relative(root, join(gen, "core.c"))]);
    writeFileSync(join(gen, "core.c"), tuneGenerated(readFileSync(join(gen, "core.c"), "utf8")));
    // The runtime header comes with wabt; it is build input, not source of ours.
    copyFileSync("/usr/include/wasm-rt.h", join(gen, "wasm-rt.h"));
  });
  return { memoryBytes: Math.ceil(coreStaticEnd(wasm) / 64) * 64 };
}

const COMMON_FLAGS = [
  "-Os", "-g", "-flto", "-std=c11", "-ffreestanding", "-fno-common", "-ffunction-sections", "-fdata-sections",
  `-ffile-prefix-map=${root}=.`, "-fno-ident",
];
const HAL_WARNINGS = ["-Wall", "-Wextra", "-Werror"];
// The generated file only: wasm2c's TRAP macro leaves unused values, and unused helpers stay.
const GENERATED_FLAGS = ["-DNDEBUG", "-Wno-unused-value", "-Wno-unused-function", "-Wno-unused-parameter",
  "-Wno-unused-variable", "-Wno-unused-but-set-variable", "-Wno-main"];

function sourcesOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".c") || f.endsWith(".S")).sort().map((f) => join(dir, f));
}

function headersHash(dirs: string[]): string {
  const h = createHash("sha256");
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (f.endsWith(".h")) h.update(f).update(readFileSync(join(d, f)));
  }
  return h.digest("hex");
}

export interface BuildResult {
  board: string; elf: string; bin: string; rebuilt: boolean; sizes: ReturnType<typeof sizeTable>;
  /** With an optional feature: what it adds over the default build. */
  optionCost?: { flash: number; ram: number };
}

/** `defines`: extra -D options for a variant (e.g. "BOARD_FLAGS=1"); give it its own outDir.
 *  `uf2`: the UF2-drive core and QSPIBOOT_UF2 for the HAL's bulk endpoints. `publicKey`: the
 *  signed-updates core and the board's Ed25519 public key (32 bytes) in its BoardInfo. `lockKey`
 *  (with `publicKey` only): the locked core and the 32-byte secret of its sector digests. */
export async function buildBoard(name: string, opts: { quiet?: boolean; outDir?: string; defines?: string[]; uf2?: boolean; publicKey?: Uint8Array; lockKey?: Uint8Array } = {}): Promise<BuildResult> {
  const board: Board = BOARDS[name];
  if (!board) throw new Error(`unknown board ${name}: ${Object.keys(BOARDS).join(", ")}`);
  const uf2 = !!opts.uf2;
  const signed = !!opts.publicKey;
  if (signed && opts.publicKey!.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  const locked = !!opts.lockKey;
  if (locked && (!signed || opts.lockKey!.length !== 32)) throw new Error("a locked build needs a public key (--key) and a 32-byte lock key (--locked)");
  const variant = { uf2, signed, locked };
  const cBytes = (b: Uint8Array) => `{${[...b].map((x) => "0x" + x.toString(16).padStart(2, "0")).join(",")}}`;
  const gen = join(coreDir(variant), "gen");
  const { memoryBytes } = await translateCore(variant);
  const out = opts.outDir ?? join(root, "build", board.name);
  const objDir = join(out, "obj");
  mkdirSync(objDir, { recursive: true });
  const cpu = board.cpuFlags;
  const tune = board.tuneFlags ?? [];
  const includes = ["-I", gen, "-I", join(root, "hal/common"), "-I", join(root, "hal", board.halDir)];
  const defines = [`-DQSPIBOOT_MEMORY_BYTES=${memoryBytes}`, "-DWASM_RT_USE_STACK_DEPTH_COUNT=0", "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0",
    ...(uf2 ? ["-DQSPIBOOT_UF2=1"] : []),
    ...(signed ? ["-DQSPIBOOT_SIGNED=1", `-DBOARD_PUBLIC_KEY=${cBytes(opts.publicKey!)}`] : []),
    ...(locked ? ["-DQSPIBOOT_LOCKED=1", `-DBOARD_LOCK_KEY=${cBytes(opts.lockKey!)}`] : []),
    ...(opts.defines ?? []).map((d) => `-D${d}`)];
  const hdrs = headersHash([gen, join(root, "hal/common"), join(root, "hal", board.halDir)]);

  const units: { src: string; flags: string[]; group: string }[] = [
    { src: join(gen, "core.c"), flags: GENERATED_FLAGS, group: "core" },
    ...sourcesOf(join(root, "hal/common")).map((src) => ({
      src, flags: HAL_WARNINGS, group: basename(src).startsWith("wasm-rt") ? "runtime" : "hal",
    })),
    ...sourcesOf(join(root, "hal", board.halDir)).map((src) => ({ src, flags: HAL_WARNINGS, group: "hal" })),
  ];
  // The RP2040's boot2 is built on its own and enters the link as a generated unit.
  if (board.boot2) {
    const src = await makeBoot2(board, out, cpu);
    units.push({ src, flags: HAL_WARNINGS, group: "boot2" });
  }
  let rebuilt = false;
  const objects: string[] = [];
  for (const u of units) {
    const obj = join(objDir, basename(u.src).replace(/\.[cS]$/, ".o"));
    objects.push(obj);
    const args = [...cpu, ...tune, ...COMMON_FLAGS, ...u.flags, ...defines, ...includes, "-c", relative(root, u.src), "-o", relative(root, obj)];
    rebuilt = cached(obj, hash(readFileSync(u.src), hdrs, args.join(" ")), () => run("arm-none-eabi-gcc", args)) || rebuilt;
  }
  const elf = join(out, "qspiboot.elf");
  const map = join(out, "qspiboot.map");
  const ld = join(root, "link", board.linkerScript);
  const linkArgs = [...cpu, ...tune, ...COMMON_FLAGS, "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments",
    `-Wl,-Map=${relative(root, map)}`, "-T", relative(root, ld), ...objects.map((o) => relative(root, o)), "-o", relative(root, elf)];
  const uf2Writer = readFileSync(join(root, "tools/image/uf2.ts")); // makes the .uf2 in this step
  const bootSetTool = readFileSync(join(root, "tools/build/boot-set.ts"));
  if (board.splitLoad && !existsSync(join(out, "boot-set", "first.elf"))) rmSync(elf + ".key", { force: true });
  rebuilt = cached(elf, hash(objects.map((o) => readFileSync(o).toString("hex")).join(), readFileSync(ld), linkArgs.join(" "), uf2Writer, bootSetTool), () => {
    if (board.splitLoad) linkSplit(linkArgs, elf, out);
    else run("arm-none-eabi-gcc", linkArgs);
    run("arm-none-eabi-objcopy", ["-O", "binary", relative(root, elf), relative(root, join(out, "qspiboot.bin"))]);
    run("arm-none-eabi-objcopy", ["-O", "ihex", relative(root, elf), relative(root, join(out, "qspiboot.hex"))]);
    if (board.uf2Family) writeUf2File(join(out, "qspiboot.bin"), board.flashOrigin, board.uf2Family, join(out, "qspiboot.uf2"));
  }) || rebuilt;
  const sizes = sizeTable(readFileSync(map, "utf8"), board);
  // What the parts leave out: alignment gaps between output sections, which occupy flash too.
  const counted = Object.values(sizes).reduce((a, v) => a + v.flash, 0);
  const image = readFileSync(join(out, "qspiboot.bin")).length;
  if (image > counted) sizes["alignment padding"] = { flash: image - counted, ram: 0 };
  if (!opts.quiet) printSizeTable(board, sizes, rebuilt);
  return { board: board.name, elf, bin: join(out, "qspiboot.bin"), rebuilt, sizes };
}

/** A board whose boot path runs before DFU mode's code is loaded (the RP2040): link once to
 *  read which functions the boot path reaches, again with those first (tools/build/boot-set.ts),
 *  and check the result. Each process works in its own directory: tests build in parallel. */
function linkSplit(linkArgs: string[], elf: string, out: string): void {
  const dir = join(out, "boot-set", `p${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "boot-set.ld");
  const withDir = ["-L", relative(root, dir), ...linkArgs];
  const firstElf = join(dir, "first.elf"), firstMap = join(dir, "first.map");
  writeFileSync(script, "/* first link: no boot set yet */\n");
  run("arm-none-eabi-gcc", [...withDir.map((a) => a === relative(root, elf) ? relative(root, firstElf) : a.startsWith("-Wl,-Map=") ? `-Wl,-Map=${relative(root, firstMap)}` : a)]);
  writeFileSync(script, bootSetScript(firstElf, firstMap));
  run("arm-none-eabi-gcc", withDir);
  checkBootSet(elf);
  // The first link's image stays (test/rp2040-boot-path.test.ts checks that the check refuses it).
  renameSync(firstElf, join(out, "boot-set", "first.elf"));
  rmSync(dir, { recursive: true, force: true });
}

/** The example applications a board has: "example" (UART), and "example-usb" (a USB device
 *  that the host can detach into qspiboot, hal/app/qspiboot-usb.h) where its source exists. */
export function exampleVariants(name: string): string[] {
  const chip = BOARDS[name].halDir === "stm32h750" ? "h750" : "rp2040";
  return ["example", ...(existsSync(join(root, "hal/app", `example-usb-${chip}.c`)) ? ["example-usb"] : [])];
}

/** An example application for a board: build/<board>/<variant>.{elf,bin,hex,uf2}. */
export function buildExample(name: string, opts: { quiet?: boolean; variant?: string } = {}): { elf: string; bin: string } {
  const board = BOARDS[name];
  const variant = opts.variant ?? "example";
  const out = join(root, "build", board.name);
  mkdirSync(out, { recursive: true });
  const src = join(root, "hal/app", `${variant}-${board.halDir === "stm32h750" ? "h750" : "rp2040"}.c`);
  const ld = join(root, "link", board.example.linkerScript);
  const elf = join(out, `${variant}.elf`), bin = join(out, `${variant}.bin`);
  const args = [...board.cpuFlags, ...COMMON_FLAGS, ...HAL_WARNINGS, `-D${board.example.define}`, "-I", join(root, "hal/app"),
    "-nostartfiles", "-nostdlib", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-T", relative(root, ld), relative(root, src), "-lgcc", "-o", relative(root, elf)];
  const key = hash(readFileSync(src), headersHash([join(root, "hal/app")]), readFileSync(ld), args.join(" "), readFileSync(join(root, "tools/image/uf2.ts")));
  const rebuilt = cached(elf, key, () => {
    run("arm-none-eabi-gcc", args);
    run("arm-none-eabi-objcopy", ["-O", "binary", relative(root, elf), relative(root, bin)]);
    run("arm-none-eabi-objcopy", ["-O", "ihex", relative(root, elf), relative(root, join(out, `${variant}.hex`))]);
    writeUf2File(bin, board.example.base, board.example.uf2Family, join(out, `${variant}.uf2`));
  });
  if (!opts.quiet) console.log(`${board.name}: build/${board.name}/${variant}.{elf,bin,hex,uf2} (${readFileSync(bin).length} bytes at 0x${board.example.base.toString(16)})${rebuilt ? "" : " (up to date)"}`);
  return { elf, bin };
}

/** `--web-url URL`: the WebUSB landing page a browser is pointed at when the board is plugged in
 *  (hal/common/board-info.c; boot/descriptors.ts GET_URL). */
export function webUrlDefines(url: string): string[] {
  const m = /^(https?):\/\/([\x21-\x7e]{1,62})$/.exec(url);
  if (!m || /["\\]/.test(m[2])) throw new Error(`--web-url ${url}: an http:// or https:// URL of at most 62 characters after the scheme`);
  return [`BOARD_WEB_SCHEME=${m[1] === "https" ? 1 : 0}`, `BOARD_WEB_URL="${m[2]}"`];
}

/** The double-tap window a build uses by default when the option is given without a value (ms). */
export const DOUBLE_TAP_DEFAULT_MS = 500;

/** Optional features: each builds into its own directory, and its size table gets a row with
 *  what the option costs over the default build of the same board. */
export interface BuildOption { dir: string; row: string; defines?: string[]; uf2?: boolean; publicKey?: Uint8Array; lockKey?: Uint8Array }

export function doubleTapOption(name: string, doubleTapMs: number): BuildOption {
  const dir = doubleTapMs === DOUBLE_TAP_DEFAULT_MS ? `${name}-double-tap` : `${name}-double-tap-${doubleTapMs}`;
  return { dir, row: `option: double tap ${doubleTapMs} ms`, defines: [`BOARD_DOUBLE_TAP_MS=${doubleTapMs}`] };
}

/** The UF2 drive (mass storage next to DFU): build/<board>-uf2. */
export function uf2Option(name: string): BuildOption {
  return { dir: `${name}-uf2`, row: "option: UF2 drive", uf2: true };
}

export function optionVariant(name: string, doubleTapMs: number) {
  const o = doubleTapOption(name, doubleTapMs);
  return { outDir: join(root, "build", o.dir), defines: o.defines };
}

export async function buildOption(name: string, option: BuildOption, opts: { quiet?: boolean } = {}): Promise<BuildResult> {
  const base = await buildBoard(name, { quiet: true });
  const outDir = join(root, "build", option.dir);
  const r = await buildBoard(name, { quiet: true, outDir, defines: option.defines, uf2: option.uf2, publicKey: option.publicKey, lockKey: option.lockKey });
  const total = (t: BuildResult["sizes"]) => Object.values(t).reduce((a, x) => ({ flash: a.flash + x.flash, ram: a.ram + x.ram }), { flash: 0, ram: 0 });
  const a = total(base.sizes), b = total(r.sizes);
  if (!opts.quiet) {
    printSizeTable(BOARDS[name], r.sizes, r.rebuilt, relative(root, outDir), true);
    console.log(`  ${option.row.padEnd(20)}${String(b.flash - a.flash).padStart(8)}${String(b.ram - a.ram).padStart(8)}   (over the default build's ${a.flash})`);
  }
  return { ...r, optionCost: { flash: b.flash - a.flash, ram: b.ram - a.ram } };
}

export function buildWithOption(name: string, doubleTapMs: number, opts: { quiet?: boolean } = {}): Promise<BuildResult> {
  return buildOption(name, doubleTapOption(name, doubleTapMs), opts);
}

/** Signed updates with `publicKey` (and the UF2 drive too with `uf2`): build/<board>[-uf2]-signed. */
export function signedOption(name: string, publicKey: Uint8Array, uf2 = false): BuildOption {
  return { dir: `${name}${uf2 ? "-uf2" : ""}-signed`, row: uf2 ? "option: UF2 + signed" : "option: signed updates", uf2, publicKey };
}

/** Locked mode over signed updates: build/<board>[-uf2]-signed-locked. */
export function lockedOption(name: string, publicKey: Uint8Array, lockKey: Uint8Array, uf2 = false): BuildOption {
  return { ...signedOption(name, publicKey, uf2), dir: `${name}${uf2 ? "-uf2" : ""}-signed-locked`, row: uf2 ? "option: UF2+signed+locked" : "option: signed + locked", lockKey };
}

/** The key file a build uses without --key: qspiboot.pub in the project's root, if there is one. */
export const DEFAULT_KEY_FILE = join(root, "qspiboot.pub");

/** The board built with the UF2 drive, with its cost over the default build. */
export function buildWithUf2(name: string, opts: { quiet?: boolean } = {}): Promise<BuildResult> {
  return buildOption(name, uf2Option(name), opts);
}

async function main() {
  const args = process.argv.slice(2);
  // `--key PUB` as well as `--key=PUB`; the same for --locked.
  for (const [opt, what] of [["--key", "the public key file (flash.ts keygen makes one)"], ["--locked", "the lock file (flash.ts lock-key NAME.key FILE makes one)"]]) {
    const k = args.indexOf(opt);
    if (k < 0) continue;
    if (!args[k + 1] || args[k + 1].startsWith("--")) throw new Error(`${opt}: ${what}`);
    args.splice(k, 2, `${opt}=${args[k + 1]}`);
  }
  const what = args.find((a) => !a.startsWith("--")) ?? "all";
  const tap = args.find((a) => a === "--double-tap" || a.startsWith("--double-tap="));
  const web = args.find((a) => a.startsWith("--web-url="));
  const uf2 = args.includes("--uf2");
  const keyArg = args.find((a) => a.startsWith("--key="));
  const lockArg = args.find((a) => a.startsWith("--locked="));
  const unknown = args.filter((a) => a.startsWith("--") && a !== tap && a !== web && a !== "--uf2" && a !== keyArg && a !== lockArg);
  if (unknown.length) throw new Error(`unknown option ${unknown[0]}: the build knows --double-tap[=MS], --uf2, --key=PUB, --locked=LOCKFILE and --web-url=URL`);
  const keyFile = keyArg ? keyArg.slice("--key=".length) : existsSync(DEFAULT_KEY_FILE) ? DEFAULT_KEY_FILE : undefined;
  const publicKey = keyFile ? publicKeyRaw(keyFile) : undefined;
  if (keyFile) console.log(`signed updates: the board takes only images signed with the key of ${relative(process.cwd(), keyFile) || keyFile}`);
  if (publicKey && tap) throw new Error("--key and --double-tap: build them one at a time");
  if (lockArg && !publicKey) throw new Error("--locked needs --key PUB: a locked board that took any image would run one that reads the flash out");
  const lockKey = lockArg ? readLockFile(lockArg.slice("--locked=".length)) : undefined;
  if (lockKey) console.log("locked: the board gives no flash contents away over USB (no UPLOAD, keyed sector digests, no CURRENT.UF2)");
  if (tap && web) throw new Error("--double-tap and --web-url: build them one at a time");
  const webDefines = web ? webUrlDefines(web.slice("--web-url=".length)) : [];
  const tapMs = tap ? (tap.includes("=") ? Number(tap.split("=")[1]) : DOUBLE_TAP_DEFAULT_MS) : 0;
  if (tap && !(Number.isInteger(tapMs) && tapMs > 0 && tapMs < 65536)) throw new Error(`--double-tap: a window in ms, 1-65535`);
  if (what === "core") { await translateCore({ uf2 }); console.log(relative(root, join(coreDir({ uf2 }), "core.wasm"))); return; }
  checkTools(["wasm2c", "arm-none-eabi-gcc", "arm-none-eabi-objcopy"]);
  const names = what === "all" ? Object.keys(BOARDS) : [what];
  for (const n of names) {
    if (!BOARDS[n]) throw new Error(`unknown board ${n}: ${Object.keys(BOARDS).join(", ")}`);
    if (publicKey && lockKey) await buildOption(n, { ...lockedOption(n, publicKey, lockKey, uf2), defines: webDefines });
    else if (publicKey) await buildOption(n, { ...signedOption(n, publicKey, uf2), defines: webDefines });
    else if (tap && uf2) {
      const t = doubleTapOption(n, tapMs);
      await buildOption(n, { dir: `${t.dir}-uf2`, row: `${t.row} + UF2 drive`, defines: t.defines, uf2: true });
    } else if (tap) await buildWithOption(n, tapMs);
    else if (uf2) await buildOption(n, { ...uf2Option(n), defines: webDefines });
    else await buildBoard(n, { defines: webDefines });
    for (const variant of exampleVariants(n)) buildExample(n, { variant });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => { console.error(e.message); process.exit(1); });
}
