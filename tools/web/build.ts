// Build the web page: tools/web/*.html and *.css copied, app.ts bundled with esbuild into one
// script (no CDN, no framework), into build/web/, which any static host can serve.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const here = import.meta.dirname;
export const WEB_OUT = join(here, "..", "..", "build", "web");

export async function buildWeb(out = WEB_OUT): Promise<string> {
  mkdirSync(out, { recursive: true });
  for (const f of ["index.html", "style.css"]) copyFileSync(join(here, f), join(out, f));
  await build({
    entryPoints: [join(here, "app.ts")], bundle: true, outfile: join(out, "app.js"),
    format: "iife", target: "es2022", platform: "browser", minify: true, sourcemap: false, logLevel: "error",
  });
  return out;
}

if (process.argv[1] === import.meta.filename) console.log(`web page: ${await buildWeb()}`);
