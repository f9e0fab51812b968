// Parse a firmware file from its bytes: the format from its content (and the name's extension for
// raw binaries). Browser-safe (the web page uses it): no Node imports.
import { parseElf } from "./elf";
import { parseHex } from "./ihex";
import { parseUf2 } from "./uf2";
import { parseDfuse } from "./dfuse";
import { ImageError, normalize, type Segment } from "./segments";

const basename = (p: string) => p.replace(/^.*[\\/]/, "");
const extname = (p: string) => { const b = basename(p); const i = b.lastIndexOf("."); return i > 0 ? b.slice(i) : ""; };

export type Format = "elf" | "hex" | "uf2" | "dfu" | "bin";

export function detectFormat(name: string, b: Uint8Array): Format {
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return "elf";
  if (b.length >= 8 && b[0] === 0x55 && b[1] === 0x46 && b[2] === 0x32 && b[3] === 0x0a) return "uf2";
  if (b.length >= 5 && String.fromCharCode(...b.subarray(0, 5)) === "DfuSe") return "dfu";
  const ext = extname(name).toLowerCase();
  if (ext === ".hex" || ext === ".ihex" || (b.length && b[0] === 0x3a)) return "hex";
  if (ext === ".dfu") return "dfu";
  if (ext === ".uf2") return "uf2";
  if (ext === ".elf") return "elf";
  return "bin";
}

export interface LoadOptions { address?: number; family?: number; format?: Format }

/** The file's segments; `warnings` (each starting with the file's name, as errors do) are
 *  things left out of a file that parsed, for the caller to show. */
export interface Image { format: Format; segments: Segment[]; warnings: string[] }

export function parseImage(name: string, b: Uint8Array, opts: LoadOptions = {}): Image {
  const file = basename(name);
  const format = opts.format ?? detectFormat(name, b);
  const warnings: string[] = [];
  const segments = ((): Segment[] => {
    switch (format) {
      case "elf": return parseElf(file, b);
      case "hex": return parseHex(file, b);
      case "uf2": return parseUf2(file, b, opts.family, (w) => warnings.push(w));
      case "dfu": return parseDfuse(file, b);
      case "bin":
        if (opts.address === undefined) throw new ImageError(file, "a raw binary needs an address (--address)");
        return normalize(file, [{ address: opts.address, data: b }]);
    }
  })();
  return { format, segments, warnings };
}

