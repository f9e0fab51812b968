// Builds the stand-in libusb (tools/libusb-shim/libusb-shim.c) for the host:
// build/libusb-shim/libusb-1.0.so.0, for LD_LIBRARY_PATH. Rebuilt only when the source changes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { root } from "../build-core";

export const shimDir = join(root, "build/libusb-shim");

export function buildShim(): string {
  const src = join(root, "tools/libusb-shim/libusb-shim.c");
  const out = join(shimDir, "libusb-1.0.so.0");
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return out;
  if (!existsSync("/usr/include/libusb-1.0/libusb.h")) throw new Error("libusb.h missing (apt package libusb-1.0-0-dev). Fix: npm run setup");
  mkdirSync(shimDir, { recursive: true });
  execFileSync("cc", ["-shared", "-fPIC", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden",
    "-Wl,-soname,libusb-1.0.so.0", src, "-o", out], { stdio: ["ignore", "pipe", "pipe"] });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(buildShim());
