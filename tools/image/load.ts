// Load a firmware file from disk (Node): tools/image/parse.ts does the parsing.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ImageError } from "./segments";
import { parseImage, type LoadOptions } from "./parse";

export { parseImage, detectFormat, type Format, type LoadOptions, type Image } from "./parse";

export function loadImage(path: string, opts: LoadOptions = {}) {
  let b: Uint8Array;
  try { b = readFileSync(path); } catch (e: any) { throw new ImageError(basename(path), e.code === "ENOENT" ? "no such file" : e.message); }
  return parseImage(path, b, opts);
}
