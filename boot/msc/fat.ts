// The drive's file system, made up sector by sector when the host reads it (nothing is stored):
// a 64 MiB FAT16 volume (Microsoft FAT specification 1.03: BPB, two FATs, a 512-entry root
// directory, 4 KiB clusters) holding INFO_UF2.TXT, INDEX.HTM and CURRENT.UF2 (the recorded
// image as UF2 blocks, read from the flash). What the host writes is offered to the UF2 code
// and otherwise dropped: the FAT and directory it writes are never read back by it, since the
// operating system keeps its own copy until the drive goes away.
import { flashBase, uf2Family, boardNamePtr, bcdDevice, webScheme, webUrlPtr, WEB_URL_MAX } from "../board";
import { flashRead, flashSize, flashJedecId } from "../flash/engine";
import { appStartOffset, appEndOffset } from "../dfu/layout";
import { recordStatus } from "../update";
import { recordBase, recordLength, RECORD_VALID } from "../record";
import { writerIdle } from "../writer";
import { decimal, hex32 } from "../usb/strings";
import { uf2Block, UF2_MAGIC0, UF2_MAGIC1, UF2_MAGIC_END } from "./uf2";

export const SECTOR: u32 = 512;
export const TOTAL_SECTORS: u32 = 131072;        // 64 MiB: room for the UF2 of a 16 MiB chip
const PER_CLUSTER: u32 = 8;                      // 4 KiB clusters
const FAT_SECTORS: u32 = 64;                     // 16365 entries of 2 bytes fit in 32 KiB
const FAT0: u32 = 1;                             // one reserved sector: the boot sector
const ROOT: u32 = FAT0 + 2 * FAT_SECTORS;
const ROOT_SECTORS: u32 = 32;                    // 512 entries of 32 bytes
const DATA: u32 = ROOT + ROOT_SECTORS;
const CLUSTER_INFO: u32 = 2;
const CLUSTER_INDEX: u32 = 3;
const CLUSTER_CURRENT: u32 = 4;
const DATE: u16 = (46 << 9) | (1 << 5) | 1;      // 2026-01-01: files of a drive made up at boot

// Boot sector up to the file system type (FAT spec 3.1-3.2).
// @ts-ignore: decorator
@lazy const BOOT = memory.data<u8>([
  0xeb, 0x3c, 0x90, 0x4d, 0x53, 0x57, 0x49, 0x4e, 0x34, 0x2e, 0x31,  // jump, "MSWIN4.1"
  0x00, 0x02, 8, 1, 0, 2, 0x00, 0x02, 0, 0, 0xf8, 64, 0,            // 512 B/sector, 8/cluster, 1 reserved, 2 FATs, 512 root entries, media F8, 64 sectors per FAT
  63, 0, 255, 0, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00,                 // geometry, no hidden sectors, 131072 sectors
  0x80, 0, 0x29, 0x42, 0x50, 0x53, 0x51,                             // drive 80h, extended boot signature, volume ID
  0x51, 0x53, 0x50, 0x49, 0x42, 0x4f, 0x4f, 0x54, 0x20, 0x20, 0x20,  // "QSPIBOOT   "
  0x46, 0x41, 0x54, 0x31, 0x36, 0x20, 0x20, 0x20,                    // "FAT16   "
]);
const BOOT_LEN: i32 = 62;

// Root directory: the volume label and three files (FAT spec 6): 8.3 name, attributes.
// @ts-ignore: decorator
@lazy const NAMES = memory.data<u8>([
  0x51, 0x53, 0x50, 0x49, 0x42, 0x4f, 0x4f, 0x54, 0x20, 0x20, 0x20, 0x08, // QSPIBOOT, volume label
  0x49, 0x4e, 0x46, 0x4f, 0x5f, 0x55, 0x46, 0x32, 0x54, 0x58, 0x54, 0x01, // INFO_UF2.TXT, read-only
  0x49, 0x4e, 0x44, 0x45, 0x58, 0x20, 0x20, 0x20, 0x48, 0x54, 0x4d, 0x01, // INDEX.HTM, read-only
  0x43, 0x55, 0x52, 0x52, 0x45, 0x4e, 0x54, 0x20, 0x55, 0x46, 0x32, 0x00, // CURRENT.UF2
]);

function text(dst: usize, s: string): usize {
  // Only ASCII literals reach here; AssemblyScript keeps them as UTF-16 in static memory.
  for (let i = 0; i < s.length; i++) store<u8>(dst + i, <u8>s.charCodeAt(i));
  return dst + s.length;
}

function cstr(dst: usize, src: usize, max: i32): usize {
  let n = 0;
  while (n < max && load<u8>(src + n) != 0) { store<u8>(dst + n, load<u8>(src + n)); n++; }
  return dst + n;
}

// Bytes of CURRENT.UF2: one 512-byte block per 256 bytes of the recorded image. A locked core
// has no such file: nothing on the drive comes from the flash.
function currentBlocks(): u32 {
  if (isDefined(QSPIBOOT_LOCKED)) return 0;
  return recordStatus() == RECORD_VALID ? (recordLength() + 255) / 256 : 0;
}
function currentClusters(): u32 { return (currentBlocks() * SECTOR + PER_CLUSTER * SECTOR - 1) / (PER_CLUSTER * SECTOR); }

// INFO_UF2.TXT (the UF2 spec's file of facts about the board; at most one sector).
function info(dst: usize): u32 {
  let p = text(dst, "UF2 Bootloader qspiboot ");
  const v = bcdDevice();
  p += decimal(p, v >> 8, 1);
  store<u8>(p++, 46);
  p += decimal(p, (v >> 4 & 15) * 10 + (v & 15), 2);
  p = text(p, "\r\nModel: ");
  p = cstr(p, boardNamePtr(), 16);
  p = text(p, "\r\nBoard-ID: qspiboot-");
  p = cstr(p, boardNamePtr(), 16);
  p = text(p, "\r\nFamily: ");
  p += hex32(p, uf2Family());
  p = text(p, "\r\nFlash: ");
  p += decimal(p, flashSize() >> 10, 1);
  p = text(p, " KiB, JEDEC ID ");
  p += hex32(p, flashJedecId());
  p = text(p, "\r\nApplication: ");
  p += hex32(p, flashBase() + appStartOffset());
  store<u8>(p++, 45);
  p += hex32(p, flashBase() + appEndOffset());
  p = text(p, "\r\nImage: ");
  if (recordStatus() == RECORD_VALID) {
    p += decimal(p, recordLength(), 1);
    p = text(p, " bytes recorded");
  } else {
    p = text(p, "none recorded");
  }
  p = text(p, "\r\n");
  return <u32>(p - dst);
}

// INDEX.HTM: the web flasher when the build has its address (--web-url), else where to read on.
function index(dst: usize): u32 {
  let p = text(dst, "<!doctype html><meta charset=utf-8><title>qspiboot</title>");
  let n = 0;
  while (n < WEB_URL_MAX && load<u8>(webUrlPtr() + n) != 0) n++;
  if (n > 0) {
    p = text(p, "<meta http-equiv=refresh content=\"0; url=");
    p = text(p, webScheme() == 1 ? "https://" : "http://");
    p = cstr(p, webUrlPtr(), n);
    p = text(p, "\">");
  }
  p = text(p, "<p>This board runs qspiboot. Copy a .uf2 file for it onto this drive, or flash it with <code>npx tsx tools/flash.ts app.elf</code>; README.md in the qspiboot sources explains both.</p>\n");
  return <u32>(p - dst);
}

function dirEntry(dst: usize, k: i32, cluster: u32, size: u32): void {
  memory.copy(dst, NAMES + 12 * k, 11);
  store<u8>(dst, load<u8>(NAMES + 12 * k + 11), 11);
  store<u16>(dst, DATE, 16);   // created
  store<u16>(dst, DATE, 18);   // accessed
  store<u16>(dst, DATE, 24);   // written
  store<u16>(dst, <u16>cluster, 26);
  store<u32>(dst, size, 28);
}

// @ts-ignore: decorator
@lazy const tmp = memory.data(512);

// The FAT entry of cluster c (FAT spec 4): the first two reserved, each file one chain.
function fatEntry(c: u32): u16 {
  if (c == 0) return 0xfff8;
  if (c == 1 || c == CLUSTER_INFO || c == CLUSTER_INDEX) return 0xffff;
  const n = currentClusters();
  if (c >= CLUSTER_CURRENT && c < CLUSTER_CURRENT + n) return c == CLUSTER_CURRENT + n - 1 ? 0xffff : <u16>(c + 1);
  return 0;
}

// One 512-byte block of CURRENT.UF2 (UF2 spec: header, 256 data bytes, zeros, final magic).
function currentBlock(dst: usize, no: u32): i32 {
  if (!writerIdle()) return 1;
  const n = currentBlocks();
  const off = recordBase() + no * 256;
  store<u32>(dst, UF2_MAGIC0);
  store<u32>(dst, UF2_MAGIC1, 4);
  store<u32>(dst, 0x00002000, 8);      // family ID present
  store<u32>(dst, flashBase() + off, 12);
  store<u32>(dst, 256, 16);
  store<u32>(dst, no, 20);
  store<u32>(dst, n, 24);
  store<u32>(dst, uf2Family(), 28);
  if (flashRead(off, dst + 32, 256) < 0) return -1;
  // The last block's bytes past the image are not part of it: as erased flash.
  const end = recordLength() - no * 256;
  if (end < 256) memory.fill(dst + 32 + end, 0xff, 256 - end);
  store<u32>(dst, UF2_MAGIC_END, 508);
  return 0;
}

// Fill `dst` with sector `lba`. 0 done, 1 not yet (the flash is busy), -1 the flash failed.
export function fatRead(lba: u32, dst: usize): i32 {
  memory.fill(dst, 0, SECTOR);
  if (lba == 0) {
    memory.copy(dst, BOOT, BOOT_LEN);
    store<u16>(dst, 0xaa55, 510);
    return 0;
  }
  if (lba < ROOT) {
    const first = ((lba - FAT0) % FAT_SECTORS) * 256;
    for (let i: u32 = 0; i < 256; i++) store<u16>(dst + 2 * i, fatEntry(first + i));
    return 0;
  }
  if (lba == ROOT) {
    dirEntry(dst, 0, 0, 0);
    dirEntry(dst + 32, 1, CLUSTER_INFO, info(tmp));
    dirEntry(dst + 64, 2, CLUSTER_INDEX, index(tmp));
    const n = currentBlocks();
    if (!isDefined(QSPIBOOT_LOCKED)) dirEntry(dst + 96, 3, n > 0 ? CLUSTER_CURRENT : 0, n * SECTOR);
    return 0;
  }
  if (lba < DATA) return 0;
  const rel = lba - DATA;
  const cluster = CLUSTER_INFO + rel / PER_CLUSTER;
  const within = rel % PER_CLUSTER;
  if (cluster == CLUSTER_INFO && within == 0) { info(dst); return 0; }
  if (cluster == CLUSTER_INDEX && within == 0) { index(dst); return 0; }
  if (cluster >= CLUSTER_CURRENT) {
    const no = (cluster - CLUSTER_CURRENT) * PER_CLUSTER + within;
    if (no < currentBlocks()) return currentBlock(dst, no);
  }
  return 0;
}

// The host wrote sector `lba`: UF2 blocks go to the flash (boot/msc/uf2.ts), the rest is dropped.
// Every sector is looked at, wherever the host put it: a UF2 block is recognised by its content.
export function fatWrite(src: usize): i32 {
  return uf2Block(src);
}
