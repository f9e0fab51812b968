// Firmware as UF2 from a linked .bin: the RP2040 bootloader for the boot ROM's drag-and-drop,
// the example applications for qspiboot's UF2 drive. Whole 256-byte blocks: the ROM takes no other.
import { readFileSync, writeFileSync } from "node:fs";
import { writeUf2 } from "../image/uf2";

export function writeUf2File(binPath: string, base: number, family: number, out: string): void {
  writeFileSync(out, writeUf2([{ address: base, data: readFileSync(binPath) }], family, 256, true));
}
