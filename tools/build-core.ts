// Builds the AssemblyScript core (boot/**) into build/core/core.wasm, once per change of its
// sources: the simulator, the tests and the firmware builds all consume this one file.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");
export const coreWasm = join(root, "build/core/core.wasm");
/** Core variants, each compiled on its own: the UF2 drive (QSPIBOOT_UF2: mass storage next to
 *  DFU, boot/msc/), signed updates (QSPIBOOT_SIGNED: boot/sig/, an image is recorded only with a
 *  signature by the board's key), locked mode (QSPIBOOT_LOCKED, with signed updates only: no
 *  reads of the flash over USB, keyed sector digests). build/core-<variant>/core.wasm. */
export interface CoreVariant { uf2?: boolean; signed?: boolean; locked?: boolean }
export function coreDir(v: CoreVariant = {}): string {
  const parts = [v.uf2 ? "uf2" : "", v.signed ? "signed" : "", v.locked ? "locked" : ""].filter(Boolean);
  return join(root, "build", ["core", ...parts].join("-"));
}
export function coreFlags(v: CoreVariant = {}): string[] {
  if (v.locked && !v.signed) throw new Error("locked mode goes with signed updates: anyone could otherwise flash an image that reads the rest out");
  return [...(v.uf2 ? ["--use", "QSPIBOOT_UF2=1"] : []), ...(v.signed ? ["--use", "QSPIBOOT_SIGNED=1"] : []),
    ...(v.locked ? ["--use", "QSPIBOOT_LOCKED=1"] : [])];
}
export const coreUf2Wasm = join(coreDir({ uf2: true }), "core.wasm");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (n.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Hash of everything that determines the .wasm: the sources, asconfig and the compiler version. */
export function coreInputsHash(entry = "boot/main.ts", flags: string[] = []): string {
  const h = createHash("sha256");
  for (const f of [...sources(join(root, "boot")), join(root, "asconfig.json"), join(root, "node_modules/assemblyscript/package.json")]) {
    h.update(f.slice(root.length)); h.update(readFileSync(f));
  }
  h.update(entry);
  h.update(flags.join(" "));
  return h.digest("hex");
}

/**
 * Compile `entry` (default: the core) to `outFile` unless the sources are unchanged since the
 * last build. Returns the path of the .wasm. Throws with asc's diagnostics on an error.
 */
export async function buildCore(entry = "boot/main.ts", outFile = coreWasm, quiet = true, flags: string[] = []): Promise<string> {
  const hash = coreInputsHash(entry, flags);
  const stamp = outFile + ".hash";
  if (existsSync(outFile) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return outFile;
  mkdirSync(join(outFile, ".."), { recursive: true });
  const { default: asc } = await import("assemblyscript/asc"); // heavy: only when building
  let diag = "";
  const { error } = await asc.main([
    entry, "--config", join(root, "asconfig.json"), "--target", "release",
    "--outFile", outFile, "--textFile", outFile.replace(/\.wasm$/, ".wat"), ...flags,
  ], {
    stdout: { write: (s: string) => { if (!quiet) process.stdout.write(s); return true; } } as any,
    stderr: { write: (s: string) => { diag += s; return true; } } as any,
  });
  if (error) throw new Error(`AssemblyScript build of ${entry} failed:\n${diag}`);
  writeFileSync(stamp, hash);
  return outFile;
}

/** A core variant: build/core-<variant>/core.wasm. */
export function buildCoreVariant(v: CoreVariant = {}): Promise<string> {
  if (!v.uf2 && !v.signed && !v.locked) return buildCore();
  return buildCore("boot/main.ts", join(coreDir(v), "core.wasm"), true, coreFlags(v));
}

/** The UF2-drive core: build/core-uf2/core.wasm. */
export function buildCoreUf2(): Promise<string> { return buildCoreVariant({ uf2: true }); }

if (import.meta.url === `file://${process.argv[1]}`) {
  buildCore(process.argv[2], process.argv[3], false).then((p) => console.log(p), (e) => { console.error(e.message); process.exit(1); });
}
