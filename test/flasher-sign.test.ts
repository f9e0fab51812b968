// Signed images, the host half (issue 21): keygen, sign, verify-signature and flash --key, run as a
// user runs them (`npx tsx tools/flash.ts ...`), and the files checked field by field against the
// format in tools/image/signature.ts with node:crypto itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, verify } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { fakeApp } from "./lib/images";
import { parseImage } from "../tools/image/parse";
import { writeHex } from "../tools/image/ihex";
import { UF2_FAMILY } from "../tools/image/uf2";
import { writeDfuse } from "../tools/image/dfuse";
import { parseTrailer, mergeImage } from "../tools/image/signature";
import { publicKeyRaw, loadPrivateKey } from "../tools/cli/keys";
import { lockKeyOf, readLockFile } from "../tools/cli/lock";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-sign-"));
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr, all: r.stdout + r.stderr };
}
const f = (name: string) => join(dir, name);
const H750 = 0x90000000;

const app = f("app.bin");
const appBytes = fakeApp("h750", 70_000, 41);
writeFileSync(app, appBytes);
const L = 70_000, P = 70_144; // roundup(70000, 256)

const key = f("k");
const gen = cli(["keygen", key]);

/** The private key's secret in every form it could leak in. */
function secrets(keyFile: string) {
  const pem = readFileSync(keyFile, "utf8");
  const body = pem.split("\n").filter((l) => l && !l.startsWith("-----")).join("");
  const d = Buffer.from((createPrivateKey(pem).export({ format: "jwk" }) as { d: string }).d, "base64url");
  return [body, body.slice(0, 24), d.toString("hex"), d.toString("base64"), d.toString("base64url"), d.toString("base64").slice(0, 20)];
}
function assertNoSecret(text: string, keyFile = `${key}.key`) {
  for (const s of secrets(keyFile)) assert.not.ok(text.includes(s) || text.toLowerCase().includes(s.toLowerCase()), `key material in the output: ${s.slice(0, 6)}...`);
}

test("keygen writes NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM), prints no private key material", () => {
  assert.is(gen.code, 0, gen.err);
  const pem = readFileSync(`${key}.key`, "utf8");
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.is(createPrivateKey(pem).asymmetricKeyType, "ed25519");
  const pub = readFileSync(`${key}.pub`, "utf8");
  assert.match(pub, /^-----BEGIN PUBLIC KEY-----\n/);
  assert.is(createPublicKey(pub).asymmetricKeyType, "ed25519");
  assert.is(statSync(`${key}.key`).mode & 0o777, 0o600, "only the owner may read the private key");
  const pubMode = statSync(`${key}.pub`).mode & 0o777;
  assert.ok((pubMode & 0o400) && !(pubMode & 0o022), `public key mode ${pubMode.toString(8)}`);
  assertNoSecret(gen.all);
  // The public key it prints is the raw 32 bytes the build takes.
  const raw = Buffer.from(publicKeyRaw(`${key}.pub`)).toString("hex");
  assert.match(gen.out, new RegExp(`public key \\(raw, hex\\): ${raw}`));
  assert.is(Buffer.from((createPublicKey(pub).export({ format: "der", type: "spki" }) as Buffer).subarray(12)).toString("hex"), raw);
});

test("keygen refuses to overwrite either file, and leaves them as they were", () => {
  const before = readFileSync(`${key}.key`, "utf8");
  const again = cli(["keygen", key]);
  assert.is(again.code, 4, again.all);
  assert.match(again.err, /k\.key: exists already: keygen does not overwrite a key/);
  assert.is(readFileSync(`${key}.key`, "utf8"), before);
  assertNoSecret(again.all);
  // Only the .pub there: refused too, and no .key written.
  writeFileSync(f("lone.pub"), "x");
  const lone = cli(["keygen", f("lone")]);
  assert.is(lone.code, 4);
  assert.match(lone.err, /lone\.pub: exists already/);
  assert.not.ok(existsSync(f("lone.key")));
});

test("key file errors do not echo the key: malformed, wrong passphrase, missing passphrase, a private key as --pub", () => {
  const pem = readFileSync(`${key}.key`, "utf8");
  const lines = pem.split("\n");
  const bad = f("bad.key");
  writeFileSync(bad, [lines[0], lines[1].slice(0, 20) + "!!" + lines[1].slice(22), lines[2]].join("\n"));
  const malformed = cli(["sign", app, f("x.bin"), "--address", "0x90000000", "--version", "1", "--key", bad]);
  assert.is(malformed.code, 4);
  assert.match(malformed.err, /bad\.key: the PEM private key is malformed/);
  assertNoSecret(malformed.all);
  assert.not.ok(malformed.all.includes(lines[1].slice(0, 20)), "not even the damaged body");
  const junk = f("junk.key");
  writeFileSync(junk, "SECRETJUNK0123456789");
  const notPem = cli(["sign", app, f("x.bin"), "--address", "0x90000000", "--version", "1", "--key", junk]);
  assert.is(notPem.code, 4);
  assert.match(notPem.err, /junk\.key: not a PKCS#8 PEM private key/);
  assert.not.match(notPem.all, /SECRETJUNK/);
  // An encrypted key (keygen with the passphrase in the environment).
  const enc = f("enc");
  const g = cli(["keygen", enc], { QSPIBOOT_KEY_PASSPHRASE: "right horse" });
  assert.is(g.code, 0, g.err);
  assert.match(readFileSync(`${enc}.key`, "utf8"), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.not.match(g.all, /right horse/);
  const sign = (env: Record<string, string>) => cli(["sign", app, f("enc.bin"), "--address", "0x90000000", "--version", "1", "--key", `${enc}.key`], env);
  const encBody = readFileSync(`${enc}.key`, "utf8").split("\n")[1];
  const wrong = sign({ QSPIBOOT_KEY_PASSPHRASE: "wrong horse" });
  assert.is(wrong.code, 4);
  assert.match(wrong.err, /enc\.key: cannot decrypt the private key: wrong passphrase \(QSPIBOOT_KEY_PASSPHRASE\)/);
  assert.not.ok(wrong.all.includes(encBody.slice(0, 16)));
  assert.not.match(wrong.all, /horse/);
  const none = sign({ QSPIBOOT_KEY_PASSPHRASE: "" });
  assert.is(none.code, 4);
  assert.match(none.err, /the private key is encrypted: set QSPIBOOT_KEY_PASSPHRASE/);
  const right = sign({ QSPIBOOT_KEY_PASSPHRASE: "right horse" });
  assert.is(right.code, 0, right.err);
  const asPub = cli(["verify-signature", f("enc.bin"), "--pub", `${key}.key`]);
  assert.is(asPub.code, 4);
  assert.match(asPub.err, /k\.key: a private key: give the public key/);
  assertNoSecret(asPub.all);
  const pubAsKey = cli(["sign", app, f("x.bin"), "--address", "0x90000000", "--version", "1", "--key", `${key}.pub`]);
  assert.is(pubAsKey.code, 4);
  assert.match(pubAsKey.err, /k\.pub: a public key: sign with the private key/);
});

const signedBin = f("signed.bin");
const signRun = cli(["sign", app, signedBin, "--key", `${key}.key`, "--version", "258", "--address", "0x90000000"]);

test("sign: image, FFh padding to a multiple of 256, the 128-byte trailer, each field as specified", () => {
  assert.is(signRun.code, 0, signRun.err);
  const b = new Uint8Array(readFileSync(signedBin));
  assert.is(b.length, P + 128);
  assert.equal(b.subarray(0, L), appBytes, "the image unchanged");
  assert.ok(b.subarray(L, P).every((x) => x === 0xff), "padding FFh");
  assert.is(P - L, 144);
  const v = new DataView(b.buffer, b.byteOffset + P, 128);
  assert.is(v.getUint32(0, true), 0x47535351, "magic");
  assert.is(new TextDecoder().decode(b.subarray(P, P + 4)), "QSSG");
  assert.is(v.getUint16(4, true), 1, "format version");
  assert.is(v.getUint16(6, true), 0, "flags: no downgrade");
  assert.is(v.getUint32(8, true), L, "L");
  assert.is(v.getUint32(12, true), 258, "firmware version");
  assert.equal(Buffer.from(b.subarray(P + 16, P + 48)), createHash("sha256").update(appBytes).digest(), "SHA-256 of the L bytes");
  assert.ok(b.subarray(P + 48, P + 64).every((x) => x === 0), "reserved zero");
  const pub = createPublicKey(readFileSync(`${key}.pub`, "utf8"));
  assert.ok(verify(null, b.subarray(P, P + 64), pub, b.subarray(P + 64, P + 128)), "Ed25519 over the 64 header bytes");
  assert.not.ok(verify(null, b.subarray(0, P + 64), pub, b.subarray(P + 64, P + 128)), "not over anything else");
  const t = parseTrailer(b.subarray(P));
  assert.is(t.length, L); assert.is(t.version, 258); assert.is(t.allowDowngrade, false);
  const sha = createHash("sha256").update(appBytes).digest("hex");
  assert.match(signRun.out, new RegExp(`signed .*signed\\.bin: 70000 bytes at 0x90000000, firmware version 258, SHA-256 ${sha.slice(0, 16)}\\.\\.\\.; 144 bytes of FFh padding`));
  assertNoSecret(signRun.all);
});

test("an image whose length is a multiple of 256 gets no padding; the trailer follows it", () => {
  const a = f("even.bin");
  writeFileSync(a, fakeApp("h750", 4096, 42));
  const r = cli(["sign", a, f("even.signed.bin"), "--key", `${key}.key`, "--version", "1", "--address", "0x90000000"]);
  assert.is(r.code, 0, r.err);
  const b = readFileSync(f("even.signed.bin"));
  assert.is(b.length, 4096 + 128);
  assert.is(b.readUInt32LE(4096), 0x47535351);
});

test("--allow-downgrade sets flag bit 0", () => {
  const r = cli(["sign", app, f("down.bin"), "--key", `${key}.key`, "--version", "7", "--allow-downgrade", "--address", "0x90000000"]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /downgrade allowed/);
  const b = readFileSync(f("down.bin"));
  assert.is(b.readUInt16LE(P + 6), 1);
  assert.is(parseTrailer(new Uint8Array(b.subarray(P))).allowDowngrade, true);
  assert.is(cli(["verify-signature", f("down.bin"), "--pub", `${key}.pub`]).code, 0);
});

test("--version is required, an integer 0..4294967295: otherwise a usage error (exit 2)", () => {
  const base = ["sign", app, f("v.bin"), "--key", `${key}.key`, "--address", "0x90000000"];
  const missing = cli(base);
  assert.is(missing.code, 2);
  assert.match(missing.err, /sign needs --version N: the firmware version/);
  for (const v of ["abc", "-1", "4294967296", "1.5", ""]) {
    const r = cli([...base, "--version", v]);
    assert.is(r.code, 2, `--version ${v}`);
    assert.match(r.err, /the firmware version is an integer 0\.\.4294967295/);
  }
  const noValue = cli([...base, "--version"]);
  assert.is(noValue.code, 2);
  assert.match(noValue.err, /--version \(no value\)/);
  const max = cli([...base, "--version", "4294967295"]);
  assert.is(max.code, 0, max.err);
  assert.is(readFileSync(f("v.bin")).readUInt32LE(P + 12), 0xffffffff);
  const eq = cli([...base, "--version=0x10"]);
  assert.is(eq.code, 0, eq.err);
  assert.is(readFileSync(f("v.bin")).readUInt32LE(P + 12), 16);
  // The flasher's own --version still prints its version.
  assert.match(cli(["--version"]).out, /^\d+\.\d+\.\d+/);
  const noKey = cli(["sign", app, f("v.bin"), "--version", "1", "--address", "0x90000000"]);
  assert.is(noKey.code, 2);
  assert.match(noKey.err, /sign needs --key FILE/);
  const badOut = cli(["sign", app, f("v.elf"), "--key", `${key}.key`, "--version", "1", "--address", "0x90000000"]);
  assert.is(badOut.code, 2);
  assert.match(badOut.err, /the output is \.bin, \.hex, \.uf2 or \.dfu/);
});

test("verify-signature accepts the signed file, with the .pub or its 64 hex digits", () => {
  const r = cli(["verify-signature", signedBin, "--pub", `${key}.pub`]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /signed\.bin: good signature \(k\.pub\): 70000 bytes, firmware version 258, SHA-256 [0-9a-f]{16}/);
  writeFileSync(f("k.hex"), Buffer.from(publicKeyRaw(`${key}.pub`)).toString("hex") + "\n");
  assert.is(cli(["verify-signature", signedBin, "--pub", f("k.hex")]).code, 0);
});

test("verify-signature rejects a wrong key, a flipped image byte (digest), a flipped signature bit, a changed header, no trailer", () => {
  const other = f("other");
  assert.is(cli(["keygen", other]).code, 0);
  const wrong = cli(["verify-signature", signedBin, "--pub", `${other}.pub`]);
  assert.is(wrong.code, 4);
  assert.match(wrong.err, /the signature does not verify with other\.pub \(signature check failed\)/);
  const flip = (name: string, at: number, bit: number) => {
    const b = readFileSync(signedBin);
    b[at] ^= bit;
    writeFileSync(f(name), b);
    return cli(["verify-signature", f(name), "--pub", `${key}.pub`]);
  };
  const img = flip("img.bin", 12345, 0x01);
  assert.is(img.code, 4);
  assert.match(img.err, /img\.bin: the image's SHA-256 does not match the trailer's \(digest check failed\)/);
  const sig = flip("sig.bin", P + 100, 0x08);
  assert.is(sig.code, 4);
  assert.match(sig.err, /sig\.bin: the signature does not verify .*\(signature check failed\)/);
  const ver = flip("ver.bin", P + 12, 0x01); // the firmware version, under the signature
  assert.is(ver.code, 4);
  assert.match(ver.err, /signature check failed/);
  const magic = flip("magic.bin", P, 0x01);
  assert.is(magic.code, 4);
  assert.match(magic.err, /no signature trailer \(magic 0x47535350/);
  const plain = cli(["verify-signature", app, "--pub", `${key}.pub`]);
  assert.is(plain.code, 4);
  assert.match(plain.err, /app\.bin: no signature trailer/);
});

test(".uf2 output: whole 256-byte blocks, the family from the address, parsing back to the signed bytes", () => {
  const out = f("signed.uf2");
  const r = cli(["sign", join(root, "build/rp2040/example.elf"), out, "--key", `${key}.key`, "--version", "5"]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /at 0x10010000, firmware version 5/);
  const uf2 = new Uint8Array(readFileSync(out));
  const v = new DataView(uf2.buffer, uf2.byteOffset);
  for (let o = 0; o < uf2.length; o += 512) {
    assert.is(v.getUint32(o + 16, true), 256, "payload 256");
    assert.is(v.getUint32(o + 28, true), UF2_FAMILY.RP2040);
  }
  const bin = readFileSync(join(root, "build/rp2040/example.bin"));
  const p = Math.ceil(bin.length / 256) * 256;
  assert.is(uf2.length / 512, p / 256 + 1, "image blocks and one for the trailer");
  const segs = parseImage("signed.uf2", uf2, { family: UF2_FAMILY.RP2040 }).segments;
  assert.is(segs.length, 1);
  assert.is(segs[0].address, 0x10010000);
  // The same bytes as the .bin output; the trailer's block is filled up with FFh.
  assert.is(cli(["sign", join(root, "build/rp2040/example.elf"), f("pico.bin"), "--key", `${key}.key`, "--version", "5"]).code, 0);
  const signed = new Uint8Array(readFileSync(f("pico.bin")));
  assert.is(signed.length, p + 128);
  assert.equal(segs[0].data.subarray(0, p + 128), signed);
  assert.ok(segs[0].data.subarray(p + 128).every((x) => x === 0xff));
  assert.equal(signed.subarray(0, bin.length), new Uint8Array(bin));
  assert.is(cli(["verify-signature", out, "--pub", `${key}.pub`]).code, 0);
});

test(".hex and .dfu outputs parse back to the same signed bytes", () => {
  const bin = new Uint8Array(readFileSync(signedBin));
  for (const ext of ["hex", "dfu"]) {
    const out = f(`signed.${ext}`);
    const r = cli(["sign", app, out, "--key", `${key}.key`, "--version", "258", "--address", "0x90000000"]);
    assert.is(r.code, 0, r.err);
    const segs = parseImage(out, new Uint8Array(readFileSync(out))).segments;
    assert.is(segs.length, 1);
    assert.is(segs[0].address, H750);
    assert.equal(segs[0].data, bin, ext);
    assert.is(cli(["verify-signature", out, "--pub", `${key}.pub`]).code, 0);
  }
});

test("segments: gaps up to 64 KiB are filled with FFh and signed; a larger gap is refused; a signed file is not signed again", () => {
  const a = fakeApp("h750", 1000, 43), b = new Uint8Array(500).fill(0x5a);
  writeFileSync(f("gap.hex"), writeHex([{ address: H750, data: a }, { address: H750 + 1000 + 0x10000, data: b }]));
  const ok = cli(["sign", f("gap.hex"), f("gap.bin"), "--key", `${key}.key`, "--version", "1"]);
  assert.is(ok.code, 0, ok.err);
  const s = readFileSync(f("gap.bin"));
  const len = 1000 + 0x10000 + 500;
  assert.is(s.readUInt32LE(Math.ceil(len / 256) * 256 + 8), len, "L spans the gap");
  assert.ok(s.subarray(1000, 1000 + 0x10000).every((x) => x === 0xff), "the gap is FFh");
  writeFileSync(f("far.hex"), writeHex([{ address: H750, data: a }, { address: H750 + 1000 + 0x10001, data: b }]));
  const far = cli(["sign", f("far.hex"), f("far.bin"), "--key", `${key}.key`, "--version", "1"]);
  assert.is(far.code, 4);
  assert.match(far.err, /far\.hex: a gap of 65537 bytes between 0x900003e8 and 0x900103e9: a signed image is one contiguous run/);
  assert.throws(() => mergeImage("x", [{ address: 0, data: a }, { address: 0x20000, data: b }]), /a gap of/);
  const again = cli(["sign", signedBin, f("twice.bin"), "--key", `${key}.key`, "--version", "2", "--address", "0x90000000"]);
  assert.is(again.code, 2);
  assert.match(again.err, /signed\.bin is already signed \(firmware version 258\): sign the unsigned image/);
});

test("flash --key --sim: the board's flash holds image, padding and trailer at the application start", () => {
  const img = f("board.img");
  const r = cli(["flash", join(root, "build/rp2040/example.elf"), "--sim", "--sim-flash", img, "--key", `${key}.key`, "--version", "5"]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /flashed \d+ bytes \(signed, firmware version 5\)/);
  assert.match(r.out, /vector table 0x10010000/);
  assertNoSecret(r.all);
  const flash = new Uint8Array(readFileSync(img));
  const signed = new Uint8Array(readFileSync(f("pico.bin"))); // sign's output for the same image, key and version
  const appStart = 0x10000; // 0x10010000 in the RP2040's flash
  assert.equal(flash.subarray(appStart, appStart + signed.length), signed);
  assert.ok(flash.subarray(appStart + signed.length, appStart + signed.length + 4096).every((x) => x === 0xff), "nothing after the trailer");
  // A signed file is flashed as it is (the .uf2's FFh after the trailer left out): the same bytes.
  const img2 = f("board2.img");
  const again = cli(["--sim", "rp2040", "--sim-flash", img2, "--json", "flash", f("signed.uf2")]);
  assert.is(again.code, 0, again.err);
  const j = JSON.parse(again.out);
  assert.is(j.result.bytes, signed.length);
  assert.is(j.result.signedVersion, 5);
  assert.equal(new Uint8Array(readFileSync(img2)).subarray(appStart, appStart + signed.length), signed);
  // On an H750: the application start is the flash's start.
  const h = f("board3.img");
  const h750 = cli(["--sim", "h750", "--sim-flash", h, "flash", app, "--key", `${key}.key`, "--version", "258"]);
  assert.is(h750.code, 0, h750.err);
  assert.equal(new Uint8Array(readFileSync(h)).subarray(0, P + 128), new Uint8Array(readFileSync(signedBin)));
});

test("flash: --key with a signed file, --version or --allow-downgrade without --key, --key without --version are usage errors", () => {
  const signedKey = cli(["--sim", "rp2040", "flash", f("signed.uf2"), "--key", `${key}.key`, "--version", "6"]);
  assert.is(signedKey.code, 2);
  assert.match(signedKey.err, /signed\.uf2 is already signed \(firmware version 5\): flash it without --key/);
  const noKey = cli(["--sim", "h750", "flash", app, "--version", "3"]);
  assert.is(noKey.code, 2);
  assert.match(noKey.err, /--version goes with --key/);
  const down = cli(["--sim", "h750", "flash", app, "--allow-downgrade"]);
  assert.is(down.code, 2);
  assert.match(down.err, /--allow-downgrade goes with --key/);
  const noVersion = cli(["--sim", "h750", "flash", app, "--key", `${key}.key`]);
  assert.is(noVersion.code, 2);
  assert.match(noVersion.err, /flash --key needs --version N/);
});

test("sign takes the flasher's other inputs (.uf2, .dfu); flash --key reads an encrypted key's passphrase from the environment", () => {
  const fromUf2 = cli(["sign", join(root, "build/rp2040/example.uf2"), f("from-uf2.bin"), "--key", `${key}.key`, "--version", "5"]);
  assert.is(fromUf2.code, 0, fromUf2.err);
  const bin = readFileSync(join(root, "build/rp2040/example.bin"));
  const b = readFileSync(f("from-uf2.bin"));
  assert.equal(new Uint8Array(b.subarray(0, bin.length)), new Uint8Array(bin));
  assert.is(cli(["verify-signature", f("from-uf2.bin"), "--pub", `${key}.pub`]).code, 0);
  writeFileSync(f("in.dfu"), writeDfuse([{ address: H750, data: appBytes }], { vid: 0x1209, pid: 1, bcdDevice: 0xffff }));
  const fromDfu = cli(["sign", f("in.dfu"), f("from-dfu.bin"), "--key", `${key}.key`, "--version", "258"]);
  assert.is(fromDfu.code, 0, fromDfu.err);
  assert.equal(readFileSync(f("from-dfu.bin")), readFileSync(signedBin), "Ed25519 is deterministic: the same bytes as from the .bin");
  const img = f("board-enc.img");
  const flashArgs = ["--sim", "h750", "--sim-flash", img, "flash", app, "--key", f("enc.key"), "--version", "9"];
  const wrong = cli(flashArgs, { QSPIBOOT_KEY_PASSPHRASE: "wrong horse" });
  assert.is(wrong.code, 4);
  assert.match(wrong.err, /wrong passphrase/);
  assert.not.ok(existsSync(img), "nothing flashed");
  const r = cli(flashArgs, { QSPIBOOT_KEY_PASSPHRASE: "right horse" });
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(img).readUInt32LE(P + 12), 9);
});

test("lock-key writes the lock secret (mode 0600, never printed, never overwritten): the key flash --key derives for a locked board", () => {
  const out = f("k.lock");
  const r = cli(["lock-key", `${key}.key`, out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /wrote .*k\.lock: the lock secret \(mode 0600\)/);
  assert.is(statSync(out).mode & 0o777, 0o600);
  const text = readFileSync(out, "latin1");
  assert.match(text, /^[0-9a-f]{64}\n$/);
  assert.not.ok(r.all.includes(text.trim()), "the secret is not printed");
  assertNoSecret(r.all);
  const lockKey = readLockFile(out);
  assert.equal(lockKey, lockKeyOf(loadPrivateKey(`${key}.key`)), "the same key flash --key derives from the signing key");
  const again = cli(["lock-key", `${key}.key`, out]);
  assert.is(again.code, 4);
  assert.match(again.err, /k\.lock: exists already/);
  assert.is(readFileSync(out, "latin1"), text, "unchanged");
  const pub = cli(["lock-key", `${key}.pub`, f("x.lock")]);
  assert.is(pub.code, 4);
  assert.match(pub.err, /a public key/);
  assert.not.ok(existsSync(f("x.lock")));
  writeFileSync(f("bad.lock"), "not hex");
  assert.throws(() => readLockFile(f("bad.lock")), /not a lock file/);
});

test("a signed, locked board (--sim-key, --sim-locked): downgrades and unsigned files refused before erasing, reads refused, verify and skipping with the key only", () => {
  const img = f("locked.img"), lock = f("sim.lock");
  assert.is(cli(["lock-key", `${key}.key`, lock]).code, 0);
  const sim = ["--sim", "h750", "--sim-flash", img, "--sim-key", `${key}.pub`, "--sim-locked", lock];
  const first = cli([...sim, "flash", app, "--key", `${key}.key`, "--version", "5"]);
  assert.is(first.code, 0, first.err);
  assert.match(first.out, /flashed \d+ bytes \(signed, firmware version 5\)/);
  const after = readFileSync(img);
  const info = cli([...sim, "info"]);
  assert.match(info.out, /CRC not shown \(locked board\)/);
  assert.match(info.out, /firmware version floor 5; locked: no reads of the flash/);
  const older = cli([...sim, "flash", app, "--key", `${key}.key`, "--version", "4"]);
  assert.not.equal(older.code, 0);
  assert.match(older.all, /firmware version 4 is older than version 5, the highest this board has accepted.*--allow-downgrade/);
  const unsigned = cli([...sim, "flash", app]);
  assert.not.equal(unsigned.code, 0);
  assert.match(unsigned.all, /takes only images signed with its key/);
  assert.equal(readFileSync(img), after, "neither changed the flash");
  const read = cli([...sim, "read", f("out.bin"), "--length", "4096"]);
  assert.not.equal(read.code, 0);
  assert.match(read.all, /locked .* gives no flash contents away/);
  assert.not.ok(existsSync(f("out.bin")));
  assert.is(cli(["sign", app, f("v5.bin"), "--key", `${key}.key`, "--version", "5", "--address", "0x90000000"]).code, 0);
  const blind = cli([...sim, "verify", f("v5.bin"), "--address", "0x90000000"]);
  assert.not.equal(blind.code, 0);
  assert.match(blind.all, /keyed; compare with the signing key \(--key\)/);
  const verified = cli([...sim, "verify", f("v5.bin"), "--address", "0x90000000", "--key", `${key}.key`]);
  assert.is(verified.code, 0, verified.err);
  assert.match(verified.out, /holds exactly this file/);
  const again = cli([...sim, "--json", "flash", app, "--key", `${key}.key`, "--version", "5"]);
  assert.is(again.code, 0, again.err);
  const r = JSON.parse(again.out).result;
  assert.ok(r.sectorsSent <= 2 && r.sectorsTotal > 10, `the same image again: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent`);
  const noKey = cli(["--sim", "h750", "--sim-locked", lock, "info"]);
  assert.is(noKey.code, 2);
  assert.match(noKey.err, /--sim-locked goes with --sim-key/);
});

test("a public key of small order or with y >= p is refused (the build would make a board that takes forged signatures)", () => {
  const small = ["00", "01", "ec" + "ff".repeat(30) + "7f", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"]
    .map((h) => (h.length === 2 ? h + "00".repeat(31) : h));
  for (const y of small) {
    for (const sign of [0, 0x80]) {
      const raw = Buffer.from(y, "hex");
      raw[31] |= sign;
      writeFileSync(f("weak.hex"), raw.toString("hex"));
      assert.throws(() => publicKeyRaw(f("weak.hex")), /weak\.hex: a point of small order/, `${raw.toString("hex")}`);
    }
  }
  // The same in a PEM file (an SPKI wrapper around the identity point).
  const identity = Buffer.from("01" + "00".repeat(31), "hex");
  writeFileSync(f("weak.pub"), createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), identity]), format: "der", type: "spki" }).export({ format: "pem", type: "spki" }));
  assert.throws(() => publicKeyRaw(f("weak.pub")), /small order/);
  writeFileSync(f("big.hex"), "ed" + "ff".repeat(30) + "7f");
  assert.throws(() => publicKeyRaw(f("big.hex")), /not below 2\^255 - 19/);
  const build = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/build.ts"), "h750", "--key", f("weak.hex")], { cwd: root, encoding: "utf8" });
  assert.is(build.status, 1);
  assert.match(build.stderr, /small order/);
  assert.is(publicKeyRaw(`${key}.pub`).length, 32, "keygen's key passes");
});

test("--help for keygen, sign, verify-signature", () => {
  for (const c of ["keygen", "sign", "verify-signature", "lock-key"]) {
    const r = cli([c, "--help"]);
    assert.is(r.code, 0);
    assert.match(r.out, new RegExp(`Usage: flash.ts ${c}`));
  }
  assert.match(cli(["sign", "--help"]).out, /--version <n>/);
});

test.run();
