// `flash.ts flash FILE --watch --log F` as a person runs it on a production line: a child
// process, boards served by sim/serve.ts plugged one after another into one port (test/lib/port.ts),
// one result line each, the log's JSON lines, and Ctrl-C: the first lets a running flash finish,
// a second reports it interrupted. The port holds the host's traffic part way through a flash,
// so a signal certainly arrives in the middle of one: nothing depends on timing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { crc32 } from "../tools/dfu/crc32";
import { SimServer } from "./lib/sim-server";
import { fakeApp } from "./lib/images";
import { Port } from "./lib/port";
import { Child } from "./lib/child";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-watchcli-"));
const flashTs = join(root, "tools/flash.ts");
const SIZE = 100_000;
const app = join(dir, "app.bin"), app2 = join(dir, "app2.bin");
const image = fakeApp("h750", SIZE, 81), image2 = fakeApp("h750", SIZE, 82);
writeFileSync(app, image);
writeFileSync(app2, image2);
/** The CRC the board records: over the image padded with FFh to whole 4 KiB sectors. */
const recorded = (img: Uint8Array) => { const p = new Uint8Array(Math.ceil(img.length / 4096) * 4096).fill(0xff); p.set(img); return crc32(0, p) >>> 0; };
const hex8 = (n: number) => n.toString(16).padStart(8, "0");
const serve = (serial: number) => SimServer.start("h750", ["--button", "--timing", "instant", "--serial", String(serial)]);
const watchCli = (port: Port, file: string, log: string) =>
  new Child(process.execPath, ["--import", "tsx", flashTs, "--socket", port.path, "flash", file, "--watch", "--log", log], { cwd: root });
const RESULT = (serial: string, what: string) => new RegExp(`^${serial}  ${what}`, "m");
const logOf = (f: string) => readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));

let boardA: SimServer, port: Port;

test("boards plugged in one after another: each flashed once, a line and a log entry each; Ctrl-C lets the running flash finish", async () => {
  port = await Port.open(join(dir, "port.sock"));
  const log = join(dir, "line.jsonl");
  boardA = await serve(1);
  port.upstream = boardA.socket;
  const cli = watchCli(port, app, log);
  await cli.waitFor("err", /^watching for boards in DFU mode/m);
  // Board A: flashed, started (it runs its application: the port is empty as far as DFU goes).
  const a = (await cli.waitFor("out", /^(\S+)  ok /m))[1];
  // Board B in the same port after A.
  const boardB = await serve(2);
  port.upstream = boardB.socket;
  const b = (await cli.waitFor("out", new RegExp(`^((?!${a})\\S+)  ok `, "m")))[1];
  assert.is.not(a, b);
  // Board C, held half way through its image; Ctrl-C then.
  const boardC = await serve(3);
  const held = port.holdAfter(SIZE / 2);
  port.upstream = boardC.socket;
  await held;
  const c = (await cli.waitFor("err", new RegExp(`^((?!${a}|${b})\\S+)  flashing`, "m")))[1];
  cli.signal("SIGINT");
  await cli.waitFor("err", /^stopping: no new boards; waiting for 1 in the middle of a flash \(Ctrl-C again to stop now\)/m);
  port.release();
  const code = await cli.exited;
  assert.is(code, 0, cli.out + cli.err);
  assert.match(cli.err, /^watch stopped: 3 result\(s\), 3 ok, 0 failed$/m);
  const crc = `CRC 0x${hex8(recorded(image))}`;
  for (const s of [a, b, c]) {
    assert.match(cli.out, new RegExp(`^${s}  ok     102400 bytes sent \\(25/25 sectors\\)  \\d+\\.\\d\\d s  ${crc}$`, "m"));
  }
  assert.is(cli.out.trim().split("\n").length, 3, "one line per board: " + cli.out);
  // The log: one JSON line per board, in the order they ended.
  const entries = logOf(log);
  assert.equal(entries.map((e) => [e.serial, e.appearance, e.ok, e.bytesSent, e.sectorsSent, e.sectorsTotal, e.imageCrc]),
    [a, b, c].map((s) => [s, 1, true, 25 * 4096, 25, 25, recorded(image)]));
  for (const e of entries) assert.ok(!Number.isNaN(Date.parse(e.time)) && e.seconds >= 0 && e.bytes === SIZE, JSON.stringify(e));
  // Each board runs the image it was given.
  for (const srv of [boardA, boardB, boardC]) {
    const i = await srv.infoOnce("app");
    assert.is(i.mode, "app");
    assert.equal(new Uint8Array(await srv.readFlash(i.appEntry - i.flashBase, SIZE)), image);
  }
  await Promise.all([boardB.stop(), boardC.stop()]);
});

test("a second Ctrl-C: the board in the middle is reported interrupted, exit status 7; the board does not start the half-written image, flashing again sends only what is missing", async () => {
  // Board A again, reset into DFU mode (button held), its valid image to be replaced by app2.
  const log = join(dir, "second.jsonl");
  port.upstream = boardA.socket;
  await boardA.powerCycle(true);
  const held = port.holdAfter(SIZE / 2);
  const cli = watchCli(port, app2, log);
  await held;
  const a = (await cli.waitFor("err", /^(\S+)  flashing/m))[1];
  cli.signal("SIGINT");
  await cli.waitFor("err", /^stopping: no new boards; waiting for 1 in the middle/m);
  cli.signal("SIGINT");
  const code = await cli.exited;
  assert.is(code, 7, cli.out + cli.err);
  assert.match(cli.out, RESULT(a, "error  \\d+ bytes sent .*interrupted while writing \\(\\d+ KiB written\\): the board stays in DFU mode and its image is not recorded, so it will not start a half-written image; run flash again: only the sectors that differ are sent$"));
  assert.match(cli.err, /^watch stopped: 1 result\(s\), 0 ok, 1 failed$/m);
  const [e] = logOf(log);
  assert.is(e.serial, a);
  assert.is(e.ok, false);
  assert.is(e.exitCode, 7);
  assert.match(e.error, /interrupted while writing/);
  // What the message says: in DFU mode, and a power cycle does not start anything.
  port.release();
  assert.is((await boardA.info()).mode, "bootloader");
  await boardA.powerCycle(false);
  assert.is((await boardA.info()).mode, "bootloader", "the board did not start the half-written image (nor the one it replaced)");
  await boardA.powerCycle(true);
  const again = spawnSync(process.execPath, ["--import", "tsx", flashTs, "--socket", boardA.socket, "flash", app2], { cwd: root, encoding: "utf8" });
  assert.is(again.status, 0, again.stdout + again.stderr);
  const m = again.stdout.match(/(\d+) of 25 sectors sent/);
  assert.ok(m && Number(m[1]) < 25, again.stdout);
  console.log(`watch cli: interrupted at ${e.bytesSent} bytes; flashing again sent ${m![1]} of 25 sectors`);
  assert.is((await boardA.infoOnce("app")).mode, "app");
  await boardA.stop();
  await port.close();
});

test("--sim boards on the command line: each flashed once, Ctrl-C with none running ends the watch with the summary, exit 0", async () => {
  const log = join(dir, "sim.jsonl");
  const cli = new Child(process.execPath, ["--import", "tsx", flashTs, "--sim", "h750", "--sim-count", "3", "flash", app, "--watch", "--log", log], { cwd: root });
  await cli.waitFor("out", /^(\S+  ok .*\n){3}/);
  cli.signal("SIGINT");
  assert.is(await cli.exited, 0, cli.out + cli.err);
  assert.match(cli.err, /^stopping: no new boards$/m);
  assert.match(cli.err, /^watch stopped: 3 result\(s\), 3 ok, 0 failed$/m);
  const serials = cli.out.trim().split("\n").map((l) => l.split("  ")[0]);
  assert.is(new Set(serials).size, 3);
  assert.equal(logOf(log).map((e) => e.serial), serials);
});

test("--watch --json: one JSON document with every result when the watch stops; --log or --install without --watch is a usage error", async () => {
  const cli = new Child(process.execPath, ["--import", "tsx", flashTs, "--sim", "h750", "--sim-count", "2", "--json", "flash", app, "--watch"], { cwd: root });
  // With --json the results wait for the end; stderr still says when each board starts. Ctrl-C
  // once both have: they finish either way.
  await cli.waitFor("err", /^(\S+  flashing\n){2}/m);
  cli.signal("SIGINT");
  assert.is(await cli.exited, 0, cli.out + cli.err);
  const doc = JSON.parse(cli.out);
  assert.is(doc.length, 2);
  for (const r of doc) assert.ok(r.ok && r.imageCrc === recorded(image), JSON.stringify(r));
  const usage = spawnSync(process.execPath, ["--import", "tsx", flashTs, "--sim", "h750", "flash", app, "--log", join(dir, "x.jsonl")], { cwd: root, encoding: "utf8" });
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /--log goes with --watch/);
  const usage2 = spawnSync(process.execPath, ["--import", "tsx", flashTs, "--sim", "h750", "flash", app, "--install"], { cwd: root, encoding: "utf8" });
  assert.is(usage2.status, 2);
  assert.match(usage2.stderr, /--install goes with --watch/);
});

test.run();
