// Builds the AssemblyScript core (boot/**) into build/core/core.wasm, once per change of its
// sources: the simulator, the tests and the firmware builds all consume this one file.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");
export const coreWasm = join(root, "build/core/core.wasm");
/** The core with the UF2 drive (QSPIBOOT_UF2: mass storage next to DFU, boot/msc/). */
export const coreUf2Wasm = join(root, "build/core-uf2/core.wasm");
export const UF2_ASC_FLAGS = ["--use", "QSPIBOOT_UF2=1"];

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

/** The UF2-drive core: build/core-uf2/core.wasm. */
export function buildCoreUf2(): Promise<string> { return buildCore("boot/main.ts", coreUf2Wasm, true, UF2_ASC_FLAGS); }

if (import.meta.url === `file://${process.argv[1]}`) {
  buildCore(process.argv[2], process.argv[3], false).then((p) => console.log(p), (e) => { console.error(e.message); process.exit(1); });
}
