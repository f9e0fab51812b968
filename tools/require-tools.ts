// Names a missing tool and the fix, instead of letting a build or test fail obscurely later.
import { execFileSync } from "node:child_process";

const HINT: Record<string, string> = {
  "arm-none-eabi-gcc": "apt package gcc-arm-none-eabi (and libnewlib-arm-none-eabi)",
  "arm-none-eabi-objcopy": "apt package binutils-arm-none-eabi",
  wasm2c: "apt package wabt",
  "dfu-util": "apt package dfu-util",
  "dfu-suffix": "apt package dfu-util",
  valgrind: "apt package valgrind",
  cc: "apt package gcc",
};

export function hasTool(name: string): boolean {
  try { execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }); return true; } catch { return false; }
}

export function checkTools(names: string[]): void {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return;
  for (const n of missing) console.error(`missing tool: ${n} (${HINT[n] ?? "see README"}). Fix: npm run setup`);
  process.exit(2);
}
