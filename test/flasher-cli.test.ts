// The flasher as a user runs it: `npx tsx tools/flash.ts ...` against simulated boards.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { fakeApp } from "./lib/images";
import { writeDfuse } from "../tools/image/dfuse";
import { writeUf2, UF2_FAMILY } from "../tools/image/uf2";
import { parseImage } from "../tools/image/parse";
import { StubSocket, stubReply } from "./lib/stub-socket";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-cli-"));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The CLI without blocking this process, for stand-in servers that run in it. */
function cliAsync(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
  let out = "", err = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (err += d));
  return new Promise((resolve) => p.on("close", (code) => resolve({ code, out, err })));
}

const app = join(dir, "app.bin");
writeFileSync(app, fakeApp("h750", 70_000, 31));

test("flash the example ELF: progress lines, the board boots it", () => {
  const r = cli("--sim", "h750", "flash", join(root, "build/h750/example.elf"));
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /write 100%/);
  assert.match(r.out, /the board runs the application \(vector table 0x90000000\)/);
});

test("--sim-flash keeps the board between runs: list, info, verify, read, unchanged re-flash", () => {
  const img = join(dir, "board.img");
  assert.is(cli("--sim", "h750", "--sim-flash", img, "flash", app).code, 0);
  const list = cli("--sim", "h750", "--sim-flash", img, "list");
  assert.match(list.out, /WeAct STM32H750\s+bootloader 1\.00\s+flash 8 MiB\s+image: valid \(73728 bytes/);
  assert.match(list.out, /image: valid \(73728 bytes, CRC [0-9a-f]{8}\)  in DFU mode: \w[\w ]*$/m, "why the board is in DFU mode");
  const info = cli("--sim", "h750", "--sim-flash", img, "info");
  assert.match(info.out, /update record\s+0x907ff000: valid/);
  assert.match(info.out, /image\s+73728 bytes at 0x90000000, CRC-32 0x[0-9a-f]{8}/);
  assert.match(info.out, /writable\s+0x90000000-0x907f0000, 0x907f0000-0x907ff000/);
  assert.is(cli("--sim", "h750", "--sim-flash", img, "verify", app).code, 0);
  const out = join(dir, "back.bin");
  assert.is(cli("--sim", "h750", "--sim-flash", img, "read", out, "--length", "70000").code, 0);
  assert.equal(readFileSync(out), readFileSync(app));
  const again = cli("--sim", "h750", "--sim-flash", img, "--json", "flash", app);
  assert.is(JSON.parse(again.out).result.sectorsSent, 0, "nothing to send");
  const other = join(dir, "other.bin");
  writeFileSync(other, fakeApp("h750", 70_000, 32));
  const v = cli("--sim", "h750", "--sim-flash", img, "verify", other);
  assert.is(v.code, 6, "exit status 6: verify found differences");
  assert.match(v.out, /sector\(s\) differ: 0x90000000/);
});

test("--json gives parseable results", () => {
  const r = cli("--sim", "rp2040", "--json", "flash", join(root, "build/rp2040/example.uf2"));
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.ok);
  assert.is(j.result.started, "0x10010000");
});

test("--all flashes several boards in parallel; several boards without --serial/--all is refused", () => {
  const all = cli("--sim", "rp2040", "--sim-count", "3", "--all", "--json", "flash", join(root, "build/rp2040/example.elf"));
  assert.is(all.code, 0, all.err);
  const j = JSON.parse(all.out);
  assert.is(j.length, 3);
  assert.ok(j.every((x: any) => x.ok && x.result.started === "0x10010000"));
  assert.is(new Set(j.map((x: any) => x.serial)).size, 3, "three different serials");
  const refused = cli("--sim", "rp2040", "--sim-count", "2", "flash", join(root, "build/rp2040/example.elf"));
  assert.is(refused.code, 2);
  assert.match(refused.err, /2 boards found: pick one with --serial, or use --all/);
  const one = cli("--sim", "rp2040", "--sim-count", "2", "--serial", j[1].serial, "flash", join(root, "build/rp2040/example.elf"));
  assert.is(one.code, 0, one.err);
});

test("bad input is refused with the reason, before anything is written", () => {
  const wrongFamily = cli("--sim", "h750", "flash", join(root, "build/rp2040/example.uf2"));
  assert.is(wrongFamily.code, 4, "exit status 4: the file");
  assert.match(wrongFamily.out + wrongFamily.err, /family 0xe48bff56, this board needs 0x6db66082/);
  const outside = cli("--sim", "rp2040", "flash", app, "--address", "0x10000000");
  assert.match(outside.out, /not inside the board's writable flash/);
  const dfu = join(dir, "bad.dfu");
  const good = writeDfuse([{ address: 0x90000000, data: new Uint8Array(100) }], { vid: 0x1209, pid: 1, bcdDevice: 0x100 });
  good[50] ^= 1;
  writeFileSync(dfu, good);
  const damaged = cli("--sim", "h750", "flash", dfu);
  assert.match(damaged.out + damaged.err, /CRC does not match/);
  const missing = cli("--sim", "h750", "flash", join(dir, "missing.elf"));
  assert.match(missing.out + missing.err, /missing\.elf: no such file/);
});

test("a UF2 with blocks flagged not-main-flash: flashed without them, and the user is told how many", () => {
  const uf2 = writeUf2([{ address: 0x10010000, data: fakeApp("rp2040", 4096, 33) }], UF2_FAMILY.RP2040); // 16 blocks
  const v = new DataView(uf2.buffer);
  for (const n of [14, 15]) v.setUint32(n * 512 + 8, v.getUint32(n * 512 + 8, true) | 1, true);
  const f = join(dir, "comments.uf2");
  writeFileSync(f, uf2);
  const r = cli("--sim", "rp2040", "--json", "flash", f);
  assert.is(r.code, 0, r.err);
  assert.is(JSON.parse(r.out).result.bytes, 14 * 256);
  assert.match(r.err, /^warning: comments\.uf2: 2 of 16 blocks skipped: flagged "not main flash" \(UF2 flag 0x1\)/m);
});

test("--socket: a device that stalls every request is reported as such, a missing simulator as unreachable", async () => {
  const stub = await StubSocket.start(() => stubReply(-9)); // LIBUSB_ERROR_PIPE: a stall
  try {
    for (const cmd of ["list", "info"]) {
      const r = await cliAsync("--socket", stub.path, cmd);
      assert.is(r.code, 1, cmd);
      assert.not.match(r.err, /cannot reach/);
      assert.match(r.err, new RegExp(`error: the simulator at ${stub.path} answered, but the device stalled the GET_DESCRIPTOR \\(device\\) request`));
    }
  } finally { await stub.stop(); }
  const none = cli("--socket", join(dir, "nobody.sock"), "list");
  assert.is(none.code, 3, "exit status 3: nobody there");
  assert.match(none.err, /cannot reach the simulator at .*nobody\.sock \(connect ENOENT/);
});

test("erase and boot", () => {
  const img = join(dir, "board2.img");
  assert.is(cli("--sim", "h750", "--sim-flash", img, "flash", app, "--no-leave").code, 0);
  const boot = cli("--sim", "h750", "--sim-flash", img, "boot");
  assert.match(boot.out, /the board is in its application mode/);
  assert.match(cli("--sim", "h750", "--sim-flash", img, "erase").out, /application region erased/);
  // Erased: no image, in words (the board's record says "updating", which reads as work going on).
  const list = cli("--sim", "h750", "--sim-flash", img, "list").out;
  assert.match(list, /image: none recorded \(erased, or an update not finished: flash one\)  in DFU mode: [a-z ]+$/m);
  assert.not.match(list, /updating/);
  assert.match(cli("--sim", "h750", "--sim-flash", img, "info").out, /^image\s+none$/m);
  const bootBlank = cli("--sim", "h750", "--sim-flash", img, "boot");
  assert.is(bootBlank.code, 5, "exit status 5: the board refused");
  assert.match(bootBlank.out, /errFIRMWARE/);
});

test("flash FILE --sim: the simulated board follows from the file (the issue's own command line)", () => {
  const r = cli("flash", join(root, "build/rp2040/example.elf"), "--sim");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /vector table 0x10010000/);
});

test("convert writes a DfuSe file that dfu-suffix -c accepts and parses back", () => {
  const out = join(dir, "example.dfu");
  const r = cli("convert", join(root, "build/h750/example.elf"), out);
  assert.is(r.code, 0, r.err);
  const size = readFileSync(join(root, "build/h750/example.bin")).length;
  assert.match(r.out, new RegExp(`1 element\\(s\\), ${size} bytes at 0x90000000`));
  const check = spawnSync("dfu-suffix", ["-c", out], { encoding: "utf8" });
  assert.is(check.status, 0);
  assert.match(check.stdout, /BCD DFU:\s+0x011A/);
});

test("convert to .uf2: whole 256-byte blocks, the family from the address, or --family; a wrong family name is a usage error", () => {
  const out = join(dir, "example.uf2");
  const r = cli("convert", join(root, "build/rp2040/example.elf"), out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /blocks of 256 bytes, family 0xe48bff56/);
  const uf2 = new Uint8Array(readFileSync(out));
  const bin = readFileSync(join(root, "build/rp2040/example.bin"));
  assert.is(uf2.length, Math.ceil(bin.length / 256) * 512);
  const v = new DataView(uf2.buffer, uf2.byteOffset);
  for (let o = 0; o < uf2.length; o += 512) assert.is(v.getUint32(o + 16, true), 256, "payload 256, as the RP2040 ROM needs");
  const segs = parseImage("example.uf2", uf2, { family: UF2_FAMILY.RP2040 }).segments;
  assert.is(segs[0].address, 0x10010000);
  assert.equal(segs[0].data.subarray(0, bin.length), new Uint8Array(bin));
  const h7 = cli("convert", join(root, "build/h750/example.elf"), join(dir, "h7.uf2"));
  assert.match(h7.out, /family 0x6db66082/);
  const bad = cli("convert", join(root, "build/h750/example.elf"), join(dir, "x.uf2"), "--family", "esp32");
  assert.is(bad.code, 2, bad.err);
  assert.match(bad.err, /--family esp32: rp2040, stm32h7/);
});

test("--help for every command", () => {
  for (const c of ["list", "info", "flash", "read", "verify", "erase", "boot", "convert"]) {
    const r = cli(c, "--help");
    assert.is(r.code, 0);
    assert.match(r.out, new RegExp(`Usage: flash.ts ${c}`));
  }
});

test.run();
