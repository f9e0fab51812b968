// Build the web page: tools/web/*.html and *.css copied, app.ts bundled with esbuild into one
// script (no CDN, no framework), into build/web/, which any static host can serve.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const here = import.meta.dirname;
export const WEB_OUT = join(here, "..", "..", "build", "web");

export async function buildWeb(out = WEB_OUT): Promise<string> {
  mkdirSync(out, { recursive: true });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(here, f), join(out, f));
  // The bootloaders the page installs through the chips' ROMs, when they are built.
  for (const board of ["h750", "rp2040"]) {
    const bin = join(here, "..", "..", "build", board, "qspiboot.bin");
    if (existsSync(bin)) copyFileSync(bin, join(out, `qspiboot-${board}.bin`));
  }
  await build({
    entryPoints: [join(here, "app.ts")], bundle: true, outfile: join(out, "app.js"),
    format: "iife", target: "es2022", platform: "browser", minify: true, sourcemap: false, logLevel: "error",
  });
  return out;
}

if (process.argv[1] === import.meta.filename) console.log(`web page: ${await buildWeb()}`);
