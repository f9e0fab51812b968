// Locked mode's secret (a board built with `--locked FILE`, boot/sig/keyed.ts): the key its
// sector digests are keyed with. It is derived from the signing key (HMAC-SHA256 of the Ed25519
// seed), so whoever signs can also match digests, and `flash --key` needs no second file; the
// build reads it from a file of its own (`flash.ts lock-key`), so no build sees the private key.
// node:crypto only. Like the private key, a lock file's content is never printed.
import { createHmac, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { crc32 } from "../dfu/crc32";
import { KeyError } from "./keys";

const DOMAIN = "qspiboot locked-mode sector digest key, version 1";

/** The 32-byte lock key of a signing key. */
export function lockKeyOf(privateKey: KeyObject): Uint8Array {
  const d = (privateKey.export({ format: "jwk" }) as { d?: string }).d;
  if (!d) throw new Error("not an Ed25519 private key");
  return new Uint8Array(createHmac("sha256", Buffer.from(d, "base64url")).update(DOMAIN).digest());
}

/** lock-key: the lock key into `out` (64 hex digits, mode 0600); refuses to overwrite. */
export function writeLockFile(privateKey: KeyObject, out: string): void {
  if (existsSync(out)) throw new KeyError(basename(out), "exists already: lock-key does not overwrite a file");
  writeFileSync(out, Buffer.from(lockKeyOf(privateKey)).toString("hex") + "\n", { flag: "wx", mode: 0o600 });
}

/** The lock key in a file lock-key wrote. */
export function readLockFile(file: string): Uint8Array {
  let text: string;
  try { text = readFileSync(file, "latin1"); } catch (e: any) { throw new KeyError(basename(file), e.code === "ENOENT" ? "no such lock file" : `cannot read it (${e.code ?? "error"})`); }
  if (/-----BEGIN/.test(text)) throw new KeyError(basename(file), "a PEM key, not a lock file: make one with flash.ts lock-key KEY FILE");
  if (!/^[0-9a-fA-F]{64}\s*$/.test(text)) throw new KeyError(basename(file), "not a lock file (64 hex digits; flash.ts lock-key KEY FILE makes one)");
  return new Uint8Array(Buffer.from(text.trim(), "hex"));
}

/** The digest a locked board answers for the sector at flash offset `offset` holding `data`:
 *  the first 4 bytes, little-endian, of HMAC-SHA256(lock key, "QSSD" | offset | CRC-32). */
export function keyedSectorDigest(lockKey: Uint8Array): (offset: number, data: Uint8Array) => number {
  return (offset, data) => {
    const msg = Buffer.alloc(12);
    msg.write("QSSD", 0, "latin1");
    msg.writeUInt32LE(offset >>> 0, 4);
    msg.writeUInt32LE(crc32(0, data) >>> 0, 8);
    return createHmac("sha256", lockKey).update(msg).digest().readUInt32LE(0);
  };
}
