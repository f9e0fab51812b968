// The flasher keeps the conventions of dfu-util and picotool: a version, a verbose mode showing
// the DFU requests, exit statuses that tell a script what happened, one JSON document with
// --json (errors included), help that shows the global options; and sim/serve.ts explains itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { fakeApp } from "./lib/images";
import { SimServer } from "./lib/sim-server";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-conv-"));
const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--version, -V and version print the version and exit 0", () => {
  for (const a of [["--version"], ["-V"], ["version"]]) {
    const r = cli(...a);
    assert.is(r.code, 0, a.join(" "));
    assert.is(r.out.trim(), version);
  }
});

test("a subcommand's help shows the global options too, and the exit statuses are in the help", () => {
  const r = cli("flash", "--help");
  assert.is(r.code, 0);
  assert.match(r.out, /Global Options:[\s\S]*--serial <serial>[\s\S]*--json/);
  assert.match(cli("--help").out, /Exit status: 0 done; 1 failed[\s\S]*7 the board went away/);
});

test("exit statuses: usage 2, bad file 4, refused 5, and --json writes one document with the error", () => {
  assert.is(cli("flash").code, 2, "missing argument");
  assert.is(cli("--bogus", "list").code, 2, "unknown option");
  const missing = cli("--json", "flash", join(dir, "missing.elf"));
  assert.is(missing.code, 4);
  assert.equal(JSON.parse(missing.out), { ok: false, error: "missing.elf: no such file", exitCode: 4 });
  // No board attached is no excuse to blame the board for a missing file.
  assert.match(cli("flash", join(dir, "missing.elf")).err, /missing\.elf: no such file/);
  const boot = cli("--sim", "h750", "--json", "boot");
  assert.is(boot.code, 5);
  const j = JSON.parse(boot.out);
  assert.is(j.ok, false);
  assert.is(j.exitCode, 5);
  assert.match(j.error, /no valid application.*errFIRMWARE/);
});

test("-v shows every DFU request with its answer and time, on stderr", () => {
  const app = join(dir, "app.bin");
  writeFileSync(app, fakeApp("h750", 8192, 91));
  const r = cli("--sim", "h750", "-v", "flash", app);
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /^usb: IN  GET_DESCRIPTOR \(configuration\) value 0x200 index 0 wLength 9: ok 9 B \[09 02/m);
  assert.match(r.err, /^usb: OUT DFU_DNLOAD block 2 value 0x2 index 0 4096 B: ok \d+\.\d ms/m);
  assert.match(r.err, /^usb: IN  DFU_GETSTATUS value 0x0 index 0 wLength 6: ok 6 B/m);
  assert.not.match(r.out, /usb:/, "stdout stays the command's");
});

test("read and info on a board without an image: a clear refusal, and 'none' where nothing is", () => {
  const read = cli("--sim", "h750", "read", join(dir, "out.bin"));
  assert.is(read.code, 2);
  assert.match(read.err + read.out, /no recorded image \(record: none\): give --length/);
  const info = cli("--sim", "h750", "info");
  assert.match(info.out, /^image\s+none$/m);
  assert.match(info.out, /^application\s+0x90000000-0x907ff000 \(8188 KiB\)$/m);
  assert.not.match(info.out, /ffffffff/);
});

test("sim/serve.ts: --help explains the options; --button starts the served board in DFU mode", async () => {
  const h = spawnSync(process.execPath, ["--import", "tsx", join(root, "sim/serve.ts"), "--help"], { cwd: root, encoding: "utf8" });
  assert.is(h.status, 0);
  assert.match(h.stdout, /--button\s+power on into DFU mode/);
  assert.not.match(h.stdout + h.stderr, /at .*\.ts:\d+/, "no stack trace");
  const bad = spawnSync(process.execPath, ["--import", "tsx", join(root, "sim/serve.ts"), "--bogus"], { cwd: root, encoding: "utf8" });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /Unknown option '--bogus'\nusage:/);
  const img = join(dir, "board.img");
  assert.is(cli("--sim", "h750", "--sim-flash", img, "flash", join(dir, "app.bin")).code, 0);
  for (const [args, mode] of [[[], "app"], [["--button"], "bootloader"]] as const) {
    const srv = await SimServer.start("h750", ["--flash", img, ...args]);
    try { assert.is((await srv.info()).mode, mode, args.join(" ")); } finally { await srv.stop(); }
  }
});

test.run();
