// Locked mode (QSPIBOOT_LOCKED): the digest a host compares a sector with before it sends it.
// A plain CRC-32 of a sector is 32 bits about its contents for anyone with a USB cable; this one
// is HMAC-SHA256 (RFC 2104) under the board's lock key of "QSSD", the sector's offset and its
// CRC-32, cut to its first 4 bytes. Only a host holding the lock key (tools/cli/keys.ts derives
// it from the signing key) can compute it; to anyone else it is noise, different per sector
// offset, so even two equal sectors do not show as equal. HMAC runs over the 12-byte message,
// not the sector: 4 SHA-256 compressions per sector on top of the CRC the scan already reads.
import { lockKeyPtr } from "../board";
import { sha256Init, sha256Update, sha256Final } from "./sha256";

// @ts-ignore: decorator
@lazy const pad = memory.data(64);
// @ts-ignore: decorator
@lazy const msg = memory.data(32);

function keyBlock(x: u8): void {
  memory.fill(pad, x, 64);
  const k = lockKeyPtr();
  for (let i = 0; i < 32; i++) store<u8>(pad + i, load<u8>(k + i) ^ x);
}

export function sectorDigest(offset: u32, crc: u32): u32 {
  store<u32>(msg, 0x44535351); // "QSSD"
  store<u32>(msg, offset, 4);
  store<u32>(msg, crc, 8);
  sha256Init();
  keyBlock(0x36);
  sha256Update(pad, 64);
  sha256Update(msg, 12);
  sha256Final(msg);
  sha256Init();
  keyBlock(0x5c);
  sha256Update(pad, 64);
  sha256Update(msg, 32);
  sha256Final(msg);
  return load<u32>(msg);
}
