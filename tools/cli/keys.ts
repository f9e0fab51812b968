// Signing keys and the host's crypto for signed images (tools/image/signature.ts has the format).
// Node's own node:crypto: Ed25519 (RFC 8032) and SHA-256; nothing written here.
//
// Key files: NAME.key, the private key as PKCS#8 PEM (mode 0600; encrypted with AES-256-CBC when
// QSPIBOOT_KEY_PASSPHRASE is set), and NAME.pub, the public key as SPKI PEM. publicKeyRaw also
// reads a file of 64 hex digits, the raw 32-byte key. No message here ever includes a key file's
// content or node:crypto's own error text about it: a private key must not end up in a log.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { ImageError, type Segment } from "../image/segments";
import { HEADER_SIZE, TRAILER_SIZE, mergeImage, trailerIn, roundUp, signImage, type Trailer, type SignOptions } from "../image/signature";

/** A key file that cannot be used; exit status 4, like any file that cannot be read. */
export class KeyError extends ImageError {}

export const PASSPHRASE_ENV = "QSPIBOOT_KEY_PASSPHRASE";

export const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

function readKeyFile(file: string): string {
  let text: string;
  try { text = readFileSync(file, "latin1"); } catch (e: any) { throw new KeyError(basename(file), e.code === "ENOENT" ? "no such key file" : `cannot read it (${e.code ?? "error"})`); }
  return text;
}

/** The public key's raw 32 bytes (RFC 8032 encoding). */
export function rawOf(key: KeyObject): Uint8Array {
  const x = (key.export({ format: "jwk" }) as { x?: string }).x;
  if (!x) throw new Error("not an Ed25519 public key");
  return new Uint8Array(Buffer.from(x, "base64url"));
}

/** keygen: NAME.key and NAME.pub; refuses when either exists. */
export function generateKeyFiles(name: string, passphrase = process.env[PASSPHRASE_ENV]) {
  const keyFile = `${name}.key`, pubFile = `${name}.pub`;
  for (const f of [keyFile, pubFile]) if (existsSync(f)) throw new KeyError(basename(f), "exists already: keygen does not overwrite a key (move it away, or pick another name)");
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pem = passphrase
    ? privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase })
    : privateKey.export({ format: "pem", type: "pkcs8" });
  // "wx": fails if the file appeared in the meantime; 0600 before a byte is in it.
  writeFileSync(keyFile, pem, { flag: "wx", mode: 0o600 });
  writeFileSync(pubFile, publicKey.export({ format: "pem", type: "spki" }), { flag: "wx", mode: 0o644 });
  return { keyFile, pubFile, publicRaw: rawOf(publicKey), encrypted: !!passphrase };
}

/** The Ed25519 private key in a PKCS#8 PEM file. */
export function loadPrivateKey(file: string, passphrase = process.env[PASSPHRASE_ENV]): KeyObject {
  const name = basename(file);
  const text = readKeyFile(file);
  if (/-----BEGIN PUBLIC KEY-----/.test(text)) throw new KeyError(name, "a public key: sign with the private key (the .key file keygen wrote)");
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text);
  if (!encrypted && !/-----BEGIN PRIVATE KEY-----/.test(text)) throw new KeyError(name, "not a PKCS#8 PEM private key (no \"-----BEGIN PRIVATE KEY-----\" line): give the .key file keygen wrote");
  if (encrypted && !passphrase) throw new KeyError(name, `the private key is encrypted: set ${PASSPHRASE_ENV} to its passphrase`);
  let key: KeyObject;
  try {
    key = createPrivateKey(encrypted ? { key: text, format: "pem", passphrase } : { key: text, format: "pem" });
  } catch {
    // node:crypto's text is not passed on: it is not needed, and it is about the key.
    throw new KeyError(name, encrypted ? `cannot decrypt the private key: wrong passphrase (${PASSPHRASE_ENV})` : "the PEM private key is malformed (damaged or truncated)");
  }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyError(name, `a ${key.asymmetricKeyType} key: signed images use Ed25519 (flash.ts keygen makes one)`);
  return key;
}

// The y coordinates (little-endian, x's sign bit cleared) of the eight points of order dividing
// 8 (identity, order 2, the two of order 4, the four of order 8), as libsodium's small-order
// blocklist lists them. A public key there makes [S]B = R + [k]A hold for forged signatures, so
// a board built for one would take anything; keygen never makes one.
const SMALL_ORDER_Y = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
];
// p = 2^255 - 19, little-endian: an encoding whose y is p or more is no canonical point.
const P_LE = Buffer.from("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "hex");

/** Refuse a 32-byte public key that no signer could have made: a non-canonical encoding or a
 *  point of small order. */
export function checkPublicKey(raw: Uint8Array, name: string): Uint8Array {
  const y = Buffer.from(raw);
  y[31] &= 0x7f;
  let geP = true; // y >= p, compared from the top byte down
  for (let i = 31; i >= 0; i--) if (y[i] !== P_LE[i]) { geP = y[i] > P_LE[i]; break; }
  if (geP) throw new KeyError(name, "not an Ed25519 public key (its y coordinate is not below 2^255 - 19)");
  if (SMALL_ORDER_Y.includes(y.toString("hex"))) throw new KeyError(name, "a point of small order, not a real public key: a board built for it would take signatures anyone can make (flash.ts keygen makes a real one)");
  return raw;
}

/** The raw 32-byte public key from an SPKI PEM file (NAME.pub) or a file of 64 hex digits. */
export function publicKeyRaw(file: string): Uint8Array {
  const name = basename(file);
  const text = readKeyFile(file);
  const hex = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return checkPublicKey(new Uint8Array(Buffer.from(hex, "hex")), name);
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) throw new KeyError(name, "a private key: give the public key (the .pub file keygen wrote); keep the private key out of builds");
  if (!/-----BEGIN PUBLIC KEY-----/.test(text)) throw new KeyError(name, "not a public key: an SPKI PEM file (\"-----BEGIN PUBLIC KEY-----\") or 64 hex digits");
  let key: KeyObject;
  try { key = createPublicKey({ key: text, format: "pem" }); } catch { throw new KeyError(name, "the PEM public key is malformed (damaged or truncated)"); }
  if (key.asymmetricKeyType !== "ed25519") throw new KeyError(name, `a ${key.asymmetricKeyType} key: signed images use Ed25519`);
  return checkPublicKey(rawOf(key), name);
}

export const signerOf = (key: KeyObject) => (msg: Uint8Array) => new Uint8Array(edSign(null, msg, key));

/** signImage with node:crypto's Ed25519 and SHA-256. */
export function signWithKey(segments: Segment[], key: KeyObject, o: Omit<SignOptions, "sha256">, file?: string): Segment[] {
  return signImage(segments, signerOf(key), { ...o, sha256 }, file);
}

export interface Verified {
  address: number; trailer: Trailer;
  /** The SHA-256 of the image bytes equals the trailer's; the signature verifies with the key. */
  digestOk: boolean; signatureOk: boolean;
}

/** Check a signed image: the trailer (an ImageError when there is none, or it is malformed),
 *  the digest and the signature, each on its own. */
export function verifyImage(segments: Segment[], publicKey32: Uint8Array, file = "image"): Verified {
  if (publicKey32.length !== 32) throw new Error(`an Ed25519 public key is 32 bytes, not ${publicKey32.length}`);
  const img = mergeImage(file, segments);
  let trailer: Trailer;
  try { trailer = trailerIn(img.data); } catch (e) { throw new ImageError(file, (e as Error).message); }
  const p = roundUp(trailer.length);
  const digest = sha256(img.data.subarray(0, trailer.length));
  const digestOk = Buffer.from(digest).equals(Buffer.from(trailer.sha256));
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey32).toString("base64url") }, format: "jwk" });
  const header = img.data.subarray(p, p + HEADER_SIZE);
  const signatureOk = edVerify(null, header, key, img.data.subarray(p + HEADER_SIZE, p + TRAILER_SIZE));
  return { address: img.address, trailer, digestOk, signatureOk };
}

/** A board built with a key (its INFO names it) takes only images signed with that key, and no
 *  version older than the highest it has accepted unless the signer allowed it: say so before
 *  anything is erased, in the words of what is wrong. */
export function checkSignedForBoard(segments: Segment[], publicKey32: Uint8Array, file = "image", versionFloor?: number): void {
  const tail = Buffer.from(publicKey32).toString("hex").slice(-8);
  let v: Verified;
  try { v = verifyImage(segments, publicKey32, file); } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    throw new ImageError(file, `this board takes only images signed with its key (public key ...${tail}), and this one is not signed: ` +
      "flash it with --key KEY --version N, or sign it first (flash.ts sign)");
  }
  if (!v.signatureOk) throw new ImageError(file, `signed with another key than this board's (public key ...${tail}): the board would refuse it`);
  if (!v.digestOk) throw new ImageError(file, "the image was changed after it was signed (its SHA-256 is not the signed one): the board would refuse it");
  if (versionFloor !== undefined && v.trailer.version < versionFloor && !v.trailer.allowDowngrade) {
    throw new ImageError(file, `firmware version ${v.trailer.version} is older than version ${versionFloor}, the highest this board has accepted: ` +
      "the board refuses downgrades. Flash a newer version, or sign this one with --allow-downgrade");
  }
}
