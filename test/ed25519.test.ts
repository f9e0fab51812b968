// The core's signature verifier (boot/sig/: Ed25519 of RFC 8032, SHA-512, SHA-256) compiled to
// Wasm as the firmware has it, through a test entry (boot/sig/test-entry.ts), against RFC 8032's
// own test vectors and against Node's crypto (OpenSSL) as the other side.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { buildCore, root } from "../tools/build-core";
import { Rng, randomBytes } from "./lib/dfu-requests";

const wasm = readFileSync(await buildCore("boot/sig/test-entry.ts", join(root, "build/sig-test/sig.wasm")));
// The test entry is compiled with the core (asconfig's entries) but calls none of the HAL.
const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), {
  hal: new Proxy({}, { get: (_, name) => () => { throw new Error(`the verifier called hal.${String(name)}`); } }),
});
const core = inst.exports as any;
const mem = () => new Uint8Array(core.memory.buffer);
const BUF = core.buffer() as number;
const SIG = BUF, PUB = BUF + 64, MSG = BUF + 96, OUT = BUF + 4096;

function verify(sig: Uint8Array, pub: Uint8Array, msg: Uint8Array): boolean {
  mem().set(sig, SIG); mem().set(pub, PUB); mem().set(msg, MSG);
  return core.verify(SIG, PUB, MSG, msg.length) === 1;
}

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const rawPub = (k: KeyObject) => new Uint8Array(k.export({ format: "der", type: "spki" }).subarray(12));

// RFC 8032 7.1, TEST 1, 2 and 3: secret key (seed), public key, message, signature.
const RFC = [
  ["9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"],
  ["4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"],
  ["c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
    "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"],
];

test("RFC 8032 7.1 tests 1-3 verify; a flipped bit of the signature, message or key does not", () => {
  for (const [seed, pub, msg, sig] of RFC) {
    // The vectors as typed are the RFC's: Node makes the same key and signature from the seed.
    const key = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed, "hex")]), format: "der", type: "pkcs8" });
    assert.is(Buffer.from(sign(null, hex(msg), key)).toString("hex"), sig);
    assert.ok(verify(hex(sig), hex(pub), hex(msg)), `vector ${pub.slice(0, 8)}`);
    for (const bit of [0, 7, 100, 255, 256, 300, 511]) {
      const s = hex(sig); s[bit >> 3] ^= 1 << (bit & 7);
      assert.not.ok(verify(s, hex(pub), hex(msg)), `signature bit ${bit}`);
    }
    for (const bit of [0, 13, 254]) {
      const p = hex(pub); p[bit >> 3] ^= 1 << (bit & 7);
      assert.not.ok(verify(hex(sig), p, hex(msg)), `key bit ${bit}`);
    }
    if (msg.length) { const m = hex(msg); m[0] ^= 1; assert.not.ok(verify(hex(sig), hex(pub), m), "message"); }
  }
});

test("Node's signatures of random messages with random keys verify; another key does not", () => {
  const rng = new Rng(5);
  const other = rawPub(generateKeyPairSync("ed25519").publicKey);
  for (let i = 0; i < 60; i++) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const msg = randomBytes(rng.int(301), 1000 + i);
    const sig = new Uint8Array(sign(null, msg, privateKey));
    assert.ok(verify(sig, rawPub(publicKey), msg), `message ${i} (${msg.length} bytes)`);
    if (i < 10) assert.not.ok(verify(sig, other, msg), "another key");
  }
});

test("every single-bit flip of a signature and of a 64-byte signed header is refused", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = rawPub(publicKey);
  const msg = randomBytes(64, 77);
  const sig = new Uint8Array(sign(null, msg, privateKey));
  assert.ok(verify(sig, pub, msg));
  for (let bit = 0; bit < 512; bit++) {
    const s = sig.slice(); s[bit >> 3] ^= 1 << (bit & 7);
    assert.not.ok(verify(s, pub, msg), `signature bit ${bit}`);
    const m = msg.slice(); m[bit >> 3] ^= 1 << (bit & 7);
    assert.not.ok(verify(sig, pub, m), `message bit ${bit}`);
  }
});

test("non-canonical encodings: S + L (the same point), a key with y >= p, a key that is no point", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = rawPub(publicKey);
  const msg = new TextEncoder().encode("qspiboot");
  const sig = new Uint8Array(sign(null, msg, privateKey));
  // S + L: the group order added to S (little-endian, 32 bytes) still fits 256 bits.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]);
  s += L;
  const big = sig.slice();
  for (let i = 0; i < 32; i++) { big[32 + i] = Number(s & 0xffn); s >>= 8n; }
  assert.not.ok(verify(big, pub, msg), "S >= L");
  // y = p + 1 (encodes y = 1 non-canonically: the neutral point's y).
  const p = 2n ** 255n - 19n;
  let y = p + 1n;
  const key = new Uint8Array(32);
  for (let i = 0; i < 32; i++) { key[i] = Number(y & 0xffn); y >>= 8n; }
  assert.not.ok(verify(sig, key, msg), "y >= p");
  // y = 2: u/v = 3/(4d + 1) has no square root mod p, so no point has it.
  const two = new Uint8Array(32); two[0] = 2;
  assert.not.ok(verify(sig, two, msg), "no point with y = 2");
});

test("SHA-256 and SHA-512 match Node's for lengths 0-300 and 4 KiB in uneven pieces", () => {
  for (let n = 0; n <= 300; n++) {
    const d = randomBytes(n, n + 1);
    mem().set(d, BUF);
    core.sha256(BUF, n, OUT, 0);
    assert.is(Buffer.from(mem().subarray(OUT, OUT + 32)).toString("hex"), createHash("sha256").update(d).digest("hex"), `sha256 ${n}`);
    core.sha512(BUF, n, OUT, 0);
    assert.is(Buffer.from(mem().subarray(OUT, OUT + 64)).toString("hex"), createHash("sha512").update(d).digest("hex"), `sha512 ${n}`);
  }
  const d = randomBytes(4000, 9);
  mem().set(d, BUF);
  for (const piece of [1, 7, 63, 64, 65, 127, 129, 1000]) {
    core.sha256(BUF, d.length, OUT, piece);
    assert.is(Buffer.from(mem().subarray(OUT, OUT + 32)).toString("hex"), createHash("sha256").update(d).digest("hex"), `sha256 in ${piece}s`);
    core.sha512(BUF, d.length, OUT, piece);
    assert.is(Buffer.from(mem().subarray(OUT, OUT + 64)).toString("hex"), createHash("sha512").update(d).digest("hex"), `sha512 in ${piece}s`);
  }
});

test.run();
