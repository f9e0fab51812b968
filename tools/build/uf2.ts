// The RP2040 firmware as UF2 (for the boot ROM's drag-and-drop), from the linked .bin.
import { readFileSync, writeFileSync } from "node:fs";
import { writeUf2 } from "../image/uf2";

export function writeUf2File(binPath: string, base: number, family: number, out: string): void {
  writeFileSync(out, writeUf2([{ address: base, data: readFileSync(binPath) }], family));
}
