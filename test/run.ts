// Runs every test/**/*.test.ts in its own process (two at a time), prints their output, and
// ends with the one summary line CI reads: "N passed, N failed".
// `npm test -- flash` runs only the files whose path contains "flash".
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { cpus } from "node:os";
import { checkTools } from "../tools/require-tools";
import { buildCore, buildCoreVariant } from "../tools/build-core";
import { buildBoard, buildExample, exampleVariants, buildWithUf2, buildOption, signedOption } from "../tools/build";
import { TEST_PUBLIC_KEY } from "./lib/test-key";
import { hasTool } from "../tools/require-tools";

const root = join(import.meta.dirname, "..");
const filters = process.argv.slice(2);

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

interface Result { file: string; passed: number; failed: number; skipped: number; output: string; ms: number }

function runFile(file: string): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root, env: { ...process.env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => {
      const num = (label: string) => {
        const m = output.match(new RegExp(`${label}:\\s+(\\d+)`, "g"));
        // A file may contain several suites; uvu prints one summary per process.
        return m ? Number(m[m.length - 1].replace(/\D+/g, "")) : 0;
      };
      const total = num("Total"), passed = num("Passed"), skipped = num("Skipped");
      let failed = total - passed - skipped;
      if (code !== 0 && failed === 0) failed = 1; // crashed or exited badly outside a test
      if (total === 0 && code === 0) failed = 1;  // a test file that ran no test is a failure too
      resolve({ file: relative(root, file), passed, failed, skipped, output, ms: Date.now() - started });
    });
  });
}

async function main() {
  checkTools(["node"]);
  // Build the core and the firmware once, before test files run in parallel and would each try to.
  await buildCore();
  for (const v of [{ uf2: true }, { signed: true }, { uf2: true, signed: true }]) await buildCoreVariant(v);
  if (hasTool("arm-none-eabi-gcc") && hasTool("wasm2c")) {
    for (const board of ["h750", "rp2040"]) { await buildBoard(board); for (const variant of exampleVariants(board)) buildExample(board, { quiet: true, variant }); }
    // The variants several test files use, once here: test files run in parallel processes.
    for (const board of ["h750", "rp2040"]) {
      await buildWithUf2(board, { quiet: true });
      await buildOption(board, signedOption(board, TEST_PUBLIC_KEY), { quiet: true });
    }
  }
  let files = findTests(join(root, "test"));
  if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
  const jobs = Math.max(1, Math.min(2, cpus().length));
  const results: Result[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < files.length) {
      const r = await runFile(files[next++]);
      results.push(r);
      const mark = r.failed ? "FAIL" : "ok  ";
      process.stdout.write(`${mark} ${r.file}  (${r.passed} passed, ${r.failed} failed, ${(r.ms / 1000).toFixed(1)} s)\n`);
      if (r.failed) process.stdout.write(r.output.replace(/^/gm, "    ") + "\n");
    }
  }));
  const passed = results.reduce((a, r) => a + r.passed, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed ? 1 : 0);
}
main();
