// qspiboot's own vendor requests on the DFU interface (bmRequestType 0xC1, wIndex 0), for hosts
// that want more than DFU offers:
//   REQ_INFO (0x49 'I'): the board and image state, INFO_SIZE bytes (layout below).
//   REQ_CRC  (0x43 'C'): CRC-32 of wLength/4 consecutive 4 KiB sectors (at most 1024)
//                        starting at sector wValue (flash offset / 4096): lets a host send
//                        only what differs. A locked core answers keyed digests instead
//                        (boot/sig/keyed.ts), which only a host with the lock key can match.
// Both wait (NAK) while flash writes are in progress.
import { bmRequestType, bRequest, wValue, wIndex, wLength, ctrlData, CTRL_PENDING, CTRL_STALL } from "./usb/control";
import { flashBase, bcdDevice, boardId, ramStart, ramEnd, publicKeyPtr } from "./board";
import { flashScanSector, flashSize, flashSectorSize, flashJedecId } from "./flash/engine";
import { writerIdle } from "./writer";
import { appStartOffset, appEndOffset, recordOffset, recordOffset2 } from "./dfu/layout";
import { recordStatus, recordVersionFloor, manifestBusy } from "./update";
import { sectorDigest } from "./sig/keyed";
import { sigResult, sigChecked } from "./sig/check";
import { record } from "./record";
import { bootReason } from "./boot";

export const REQ_INFO: u32 = 0x49;
export const REQ_CRC: u32 = 0x43;

// INFO layout (little-endian), 56 bytes:
//   +0 u16 protocol version (1)   +2 u16 bcdDevice (bootloader version)  +4 u8 boardId
//   +5 u8 record status (0 none, 1 valid, 2 updating, 3 bad)  +6 u8 boot reason
//   +7 u8 flags: bit 0 signed updates (only images signed with the key at +56 are recorded)
//                bit 1 locked: no reads of the flash; REQ_CRC answers keyed digests
//                (boot/sig/keyed.ts) and the image CRC at +40 is 0
//   +8 u32 flashBase  +12 u32 flash size  +16 u32 sector size  +20 u32 JEDEC ID
//   +24 u32 application start offset  +28 u32 application end offset  +32 u32 record offset
//   +36 u32 image length (record)  +40 u32 image CRC (record)  +44 u32 record sequence
//   +48 u32 RAM start  +52 u32 RAM end: where an application's initial stack pointer may point
// A core with signed updates only (100 bytes then):
//   +56 32 bytes the board's Ed25519 public key
//   +88 u32 version floor: the highest firmware version accepted; an older image needs a
//       signature with ALLOW_DOWNGRADE    +92 u32 the second record sector's offset
//   +96 u8 the last signature check since reset: 0 none, 1 accepted, 2 not a signed image,
//       3 image changed after signing, 4 not signed with this key, 5 older than the floor
// (hosts check a file against the board's own rules before they erase anything)
export const INFO_SIZE: i32 = isDefined(QSPIBOOT_SIGNED) ? 100 : 56;

const REPLY_SIZE: u32 = 4096;
const reply = memory.data(<i32>REPLY_SIZE);

function info(): i32 {
  memory.fill(reply, 0, INFO_SIZE);
  store<u16>(reply, 1);
  store<u16>(reply, bcdDevice(), 2);
  store<u8>(reply, boardId(), 4);
  store<u8>(reply, <u8>recordStatus(), 5);
  store<u8>(reply, bootReason, 6);
  store<u32>(reply, flashBase(), 8);
  store<u32>(reply, flashSize(), 12);
  store<u32>(reply, flashSectorSize(), 16);
  store<u32>(reply, flashJedecId(), 20);
  store<u32>(reply, appStartOffset(), 24);
  store<u32>(reply, appEndOffset(), 28);
  store<u32>(reply, recordOffset(), 32);
  store<u32>(reply, load<u32>(record, 12), 36);
  if (!isDefined(QSPIBOOT_LOCKED)) store<u32>(reply, load<u32>(record, 16), 40);
  store<u32>(reply, load<u32>(record, 20), 44);
  store<u32>(reply, ramStart(), 48);
  store<u32>(reply, ramEnd(), 52);
  if (isDefined(QSPIBOOT_SIGNED)) {
    store<u8>(reply, isDefined(QSPIBOOT_LOCKED) ? 3 : 1, 7);
    memory.copy(reply + 56, publicKeyPtr(), 32);
    store<u32>(reply, recordVersionFloor(), 88);
    store<u32>(reply, recordOffset2(), 92);
    store<u8>(reply, sigChecked() ? <u8>(sigResult() + 1) : 0, 96);
  }
  ctrlData(reply);
  return INFO_SIZE;
}

function sectorCrcs(): i32 {
  const sector = flashSectorSize();
  const count = wLength() >> 2;
  const first = wValue();
  // Bounded by the reply buffer as well as by the chip: a longer wLength once ran the loop
  // past `reply` over the core's function tables.
  if (count == 0 || count > REPLY_SIZE / 4 || (first + count) * sector > flashSize()) return CTRL_STALL;
  if (!writerIdle()) return CTRL_PENDING;
  // A locked core's digests share the SHA-256 state with the signature check.
  if (isDefined(QSPIBOOT_LOCKED) && manifestBusy()) return CTRL_PENDING;
  for (let i: u32 = 0; i < count; i++) {
    const r = flashScanSector(first + i);
    if (r < 0) return CTRL_STALL;
    const crc = <u32>r;
    const base = (first + i) * sector;
    store<u32>(reply + 4 * i, isDefined(QSPIBOOT_LOCKED) ? sectorDigest(base, crc) : crc);
  }
  ctrlData(reply);
  return <i32>(count << 2);
}

export function vendorSetup(): i32 {
  if (bmRequestType() != 0xc1 || wIndex() != 0) return CTRL_STALL;
  if (bRequest() == REQ_INFO) return info();
  if (bRequest() == REQ_CRC) return sectorCrcs();
  return CTRL_STALL;
}
