// BoardInfo: the record hal.board_info() writes. Chip facts come from the HAL (hal/<chip>/),
// so the same core serves every board. Layout (little-endian), 116 bytes:
//   +0  u32 flashBase     address at which flash offset 0 appears when memory-mapped
//   +4  u32 bootReserved  bytes at the start of flash that belong to the bootloader (never written)
//   +8  u32 ramStart      RAM range an application's initial stack pointer must lie in
//   +12 u32 ramEnd
//   +16 u16 vid, +18 u16 pid, +20 u16 bcdDevice
//   +22 u8  boardId       1 = WeAct STM32H750, 2 = Raspberry Pi Pico (RP2040)
//   +23 u8  flags         bit 0: check the whole image's CRC on every boot (slower boot)
//                         bit 1: older qspiboot kept the record in the chip's last sector
//   +24 u32 recordOffset  flash offset of the update-record sector (0 = last sector of the chip)
//   +28 u16 doubleTapMs   double-tap-reset window in ms (0: off, the default: no boot delay)
//   +30 u16 reserved
//   +32 16 bytes          board name, ASCII, zero-padded
//   +48 u8  webScheme     WebUSB landing page URL scheme (WebUSB 4.3.1: 0 http://, 1 https://)
//   +49 63 bytes          the URL after the scheme, ASCII, zero-padded (empty: no landing page)
//   +112 u32 uf2Family    the UF2 family ID of the chip (UF2 spec, uf2families.json): what the
//                         UF2 drive accepts and what CURRENT.UF2 is tagged with
//   +116 32 bytes         (a core with signed updates only, QSPIBOOT_SIGNED: 148 bytes in all)
//                         the Ed25519 public key (RFC 8032 encoding) images must be signed with
//   +148 32 bytes         (a locked core only, QSPIBOOT_LOCKED: 180 bytes in all) the secret the
//                         sector digests are keyed with (boot/sig/keyed.ts)
import { board_info } from "./hal";

export const BOARD_INFO_SIZE: i32 = isDefined(QSPIBOOT_LOCKED) ? 180 : isDefined(QSPIBOOT_SIGNED) ? 148 : 116;
const info = memory.data(BOARD_INFO_SIZE);

export function loadBoardInfo(): void { board_info(info); }
export function flashBase(): u32 { return load<u32>(info, 0); }
export function bootReserved(): u32 { return load<u32>(info, 4); }
export function ramStart(): u32 { return load<u32>(info, 8); }
export function ramEnd(): u32 { return load<u32>(info, 12); }
export function usbVid(): u16 { return load<u16>(info, 16); }
export function usbPid(): u16 { return load<u16>(info, 18); }
export function bcdDevice(): u16 { return load<u16>(info, 20); }
export function boardId(): u8 { return load<u8>(info, 22); }
export function bootCrcCheck(): bool { return (load<u8>(info, 23) & 1) != 0; }
export function legacyRecord(): bool { return (load<u8>(info, 23) & 2) != 0; }
export function doubleTapMs(): u32 { return load<u16>(info, 28); }
export function recordOffsetHint(): u32 { return load<u32>(info, 24); }
export function boardNamePtr(): usize { return info + 32; }
export function webScheme(): u8 { return load<u8>(info, 48); }
export function webUrlPtr(): usize { return info + 49; }
export const WEB_URL_MAX: i32 = 63;
export function uf2Family(): u32 { return load<u32>(info, 112); }
export function publicKeyPtr(): usize { return info + 116; }
export function lockKeyPtr(): usize { return info + 148; }
