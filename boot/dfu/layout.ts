// The flash regions the DFU interface offers, and the DfuSe layout string that advertises them.
// Offsets count from the first byte of the flash chip; addresses add BoardInfo.flashBase.
//   [0, appStart)            the bootloader's own region (RP2040): readable, never written
//   [appStart, blockEnd)     the application region in erase blocks (64 KiB: hosts erase by block)
//   [blockEnd, appEnd)       the rest of the application region in sectors (4 KiB)
// The update-record sector, readable and written only by the bootloader, is either the last
// sector of the bootloader's region (RP2040: the application then owns the chip up to its end)
// or the chip's last sector, just after the application region (H750). A core with signed
// updates keeps a second record sector just before that one (boot/update.ts writes them in turn).
import { bootReserved, flashBase, recordOffsetHint } from "../board";
import { hex32, decimal } from "../usb/strings";

let appStart: u32 = 0;
let appEnd: u32 = 0;
let blockEnd: u32 = 0;
let readEnd: u32 = 0;
let recordOff: u32 = 0;
let recordOff2: u32 = 0;
let sectorSize: u32 = 4096;
let blockSize: u32 = 65536;

export function layoutInit(chipSize: u32, sector: u32, block: u32): void {
  sectorSize = sector;
  blockSize = block;
  appStart = bootReserved();
  const hint = recordOffsetHint();
  recordOff = hint != 0 && hint < chipSize ? hint : chipSize - sector;
  recordOff2 = isDefined(QSPIBOOT_SIGNED) ? recordOff - sector : recordOff;
  appEnd = recordOff < appStart ? chipSize : recordOff2;
  blockEnd = appEnd & ~(block - 1);
  if (blockEnd < appStart) blockEnd = appStart;
  readEnd = chipSize;
}

// No flash: nothing to read or write (boot.ts's bootMapped may have laid out a chip it assumed).
export function layoutClear(): void {
  appStart = 0; appEnd = 0; blockEnd = 0; readEnd = 0; recordOff = 0; recordOff2 = 0;
}

export function appStartOffset(): u32 { return appStart; }
export function appEndOffset(): u32 { return appEnd; }
export function recordOffset(): u32 { return recordOff; }
// The other record sector of a signed core (the same as recordOffset() otherwise).
export function recordOffset2(): u32 { return recordOff2; }
// Where qspiboot kept the record before it moved into the bootloader's region: the chip's last
// sector (boot/update.ts reads it once, when the new place is still empty).
export function legacyRecordOffset(): u32 { return readEnd - sectorSize; }
export function sectorBytes(): u32 { return sectorSize; }

// Flash offset of physical address `addr`, or -1 when it is outside the chip's readable part.
export function offsetOf(addr: u32): i64 {
  const off = addr - flashBase();
  return addr >= flashBase() && off < readEnd ? <i64>off : -1;
}

// Whether [off, off+len) may be erased or written by the host.
export function writable(off: u32, len: u32): bool {
  return off >= appStart && off <= appEnd && len <= appEnd - off;
}

// How many bytes from `off` on the host may read.
export function readableBytes(off: u32): u32 { return off < readEnd ? readEnd - off : 0; }

// The erase page (as the layout string describes it) that holds writable offset `off`.
export function pageStart(off: u32): u32 { return off < blockEnd ? off & ~(blockSize - 1) : off & ~(sectorSize - 1); }
export function pageSize(off: u32): u32 { return off < blockEnd ? blockSize : sectorSize; }

const NAME = memory.data<u8>([64, 81, 83, 80, 73, 32, 70, 108, 97, 115, 104, 32, 47]); // "@QSPI Flash /"

function segment(dst: usize, bytes: u32, unit: u32, type: u8): i32 {
  let n: i32 = 0;
  if (bytes == 0) return 0;
  store<u8>(dst, 47); // '/' before the first segment, ',' between them (patched by the caller)
  n = 1;
  n += decimal(dst + n, bytes / unit, 2);
  store<u8>(dst + n++, 42); // '*'
  const k = unit >= 1024 ? unit >> 10 : unit;
  n += decimal(dst + n, k, 3);
  store<u8>(dst + n++, unit >= 1024 ? 75 : 66); // 'K' or 'B'
  store<u8>(dst + n++, type);
  return n;
}

// Write the DfuSe layout string ("@QSPI Flash /0x90000000/127*064Kg,15*004Kg,01*004Ka") at
// `dst`; returns its length. Types: 'a' readable, 'g' readable + erasable + writable.
export function layoutString(dst: usize): i32 {
  memory.copy(dst, NAME, 13);
  let n: i32 = 13;
  n += hex32(dst + n, flashBase());
  const first = n;
  const reservedUnit = (appStart & (blockSize - 1)) == 0 ? blockSize : sectorSize;
  n += segment(dst + n, appStart, reservedUnit, 97);
  n += segment(dst + n, blockEnd - appStart, blockSize, 103);
  n += segment(dst + n, appEnd - blockEnd, sectorSize, 103);
  n += segment(dst + n, recordOff >= appEnd ? recordOff + sectorSize - recordOff2 : 0, sectorSize, 97);
  // Every segment began with '/': only the first keeps it.
  for (let i = first + 1; i < n; i++) if (load<u8>(dst + i) == 47) store<u8>(dst + i, 44);
  return n;
}
