// The UF2 drive as the tests meet it: a simulated board running the UF2-drive core, a host's
// mass-storage driver on it, and the file system as an operating system sees and changes it.
// What an OS writes for a copy is made by a real FAT implementation (mtools' mcopy on an image
// of what the drive showed), so the tests replay genuine FAT, directory and data writes.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimBoard, loadUf2Core, type SimBoardOptions } from "../../sim/board";
import { SimUsbHost } from "../../sim/usb-host";
import { MscHost } from "../../sim/msc-host";
import { BOARDS, type BoardName } from "../../sim/boards";
import { writeUf2, UF2_FAMILY } from "../../tools/image/uf2";
import { appBase } from "./images";

export const FAMILY: Record<BoardName, number> = { h750: UF2_FAMILY.STM32H7, rp2040: UF2_FAMILY.RP2040 };

export interface Drive { b: SimBoard; host: SimUsbHost; msc: MscHost }

/** A board in bootloader mode with the UF2 drive, enumerated, the drive ready. */
export async function uf2Board(board: BoardName, opts: Omit<SimBoardOptions, "board" | "module"> = {}): Promise<Drive> {
  const b = await SimBoard.create({ ...opts, board, module: await loadUf2Core() });
  b.powerOn({ button: true });
  return attach(b);
}

/** Enumerate a board already in bootloader mode and start its drive as an OS does. */
export function attach(b: SimBoard): Drive {
  const host = new SimUsbHost(b);
  if (host.enumerate() !== "ok") throw new Error("enumeration failed");
  const msc = new MscHost(host);
  msc.maxLun();
  msc.inquiry();
  if (msc.testUnitReady() !== 0) throw new Error("drive not ready");
  msc.readCapacity();
  return { b, host, msc };
}

/** The geometry a host reads from the boot sector (FAT specification 3.1). */
export function bpb(boot: Uint8Array) {
  const v = new DataView(boot.buffer, boot.byteOffset, 512);
  const bytes = v.getUint16(11, true), perCluster = boot[13], reserved = v.getUint16(14, true);
  const fats = boot[16], rootEntries = v.getUint16(17, true), fatSectors = v.getUint16(22, true);
  const total = v.getUint16(19, true) || v.getUint32(32, true);
  const root = reserved + fats * fatSectors;
  return { bytes, perCluster, reserved, fats, fatSectors, root, rootSectors: (rootEntries * 32) / bytes, data: root + (rootEntries * 32) / bytes, total };
}

/** What an OS reads to mount the drive: boot sector, FATs, root directory. The rest of the
 *  returned image is zeros: the OS does not read file data to add a file. */
export function mountView(msc: MscHost): Uint8Array {
  const boot = msc.read(0, 1);
  const g = bpb(boot);
  const img = new Uint8Array(g.total * 512);
  img.set(msc.read(0, g.data, 128));
  return img;
}

/** Every sector of the drive, 64 KiB per READ(10) as Linux's usb-storage asks. */
export function readWholeDrive(msc: MscHost): Uint8Array {
  const { lastLba } = msc.readCapacity();
  return msc.read(0, lastLba + 1, 128);
}

/** Run an mtools command on an image file. */
export function mtools(cmd: string, image: string, args: string[]): string {
  return execFileSync(cmd, ["-i", image, ...args], { encoding: "utf8", env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
}

/** The image after an OS has copied `files` onto it (mtools mcopy; `prepare` runs more mtools
 *  commands first, e.g. the hidden folders macOS makes). */
export function copyOnto(image: Uint8Array, files: { name: string; data: Uint8Array }[], prepare?: (img: string, dir: string) => void): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-uf2-"));
  try {
    const img = join(dir, "drive.img");
    writeFileSync(img, image);
    prepare?.(img, dir);
    for (const f of files) {
      const src = join(dir, f.name.replace(/[^\w.]/g, "_"));
      writeFileSync(src, f.data);
      mtools("mcopy", img, ["-o", src, `::${f.name}`]);
    }
    return new Uint8Array(readFileSync(img));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SectorWrite { lba: number; data: Uint8Array }

/** The sectors that differ between two images. */
export function changedSectors(before: Uint8Array, after: Uint8Array): SectorWrite[] {
  const out: SectorWrite[] = [];
  for (let lba = 0; lba * 512 < after.length; lba++) {
    const a = before.subarray(lba * 512, lba * 512 + 512), b = after.subarray(lba * 512, lba * 512 + 512);
    if (!a.every((x, i) => x === b[i])) out.push({ lba, data: b.slice() });
  }
  return out;
}

/** Consecutive sectors merged into WRITE(10) commands of at most `max` sectors. */
export function runs(writes: SectorWrite[], max = 128): SectorWrite[] {
  const out: { lba: number; parts: Uint8Array[] }[] = [];
  for (const w of writes) {
    const last = out[out.length - 1];
    if (last && last.lba + last.parts.length === w.lba && last.parts.length < max) last.parts.push(w.data);
    else out.push({ lba: w.lba, parts: [w.data] });
  }
  return out.map((r) => {
    const data = new Uint8Array(r.parts.length * 512);
    r.parts.forEach((p, i) => data.set(p, i * 512));
    return { lba: r.lba, data };
  });
}

/** Replay writes; returns the CSW status of each (0 passed). Stops when the device has gone
 *  (the image started): the remaining writes are what an OS would fail to send. */
export function replay(d: Drive, writes: SectorWrite[]): { statuses: number[]; gone: number } {
  const statuses: number[] = [];
  for (let i = 0; i < writes.length; i++) {
    if (d.b.mode !== "bootloader" || !d.host.present()) return { statuses, gone: writes.length - i };
    statuses.push(d.msc.write(writes[i].lba, writes[i].data).status);
  }
  return { statuses, gone: 0 };
}

/** A UF2 file of `image` at the board's application start. */
export function uf2Of(board: BoardName, image: Uint8Array, at = appBase(board), family = FAMILY[board]): Uint8Array {
  return writeUf2([{ address: at, data: image }], family);
}

export function flashHolds(b: SimBoard, board: BoardName, image: Uint8Array): boolean {
  const off = appBase(board) - BOARDS[board].flashBase;
  const d = b.flash.data.subarray(off, off + image.length);
  return d.length === image.length && d.every((x, i) => x === image[i]);
}
