// Ctrl-C in the middle of flash, verify or erase: the progress display ends (on a terminal the
// bars stop, the cursor comes back, the message starts on a line of its own), the flasher says
// what state the board is left in, and exits with status 7. The board is served by sim/serve.ts
// behind a port that holds the host's traffic (test/lib/port.ts), so the signal certainly
// arrives while a transfer is under way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { SimServer } from "./lib/sim-server";
import { fakeApp } from "./lib/images";
import { Port } from "./lib/port";
import { Child } from "./lib/child";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-int-"));
const flashTs = join(root, "tools/flash.ts");
const SIZE = 100_000;
const app = join(dir, "app.bin"), old = join(dir, "old.bin");
writeFileSync(app, fakeApp("h750", SIZE, 91));
writeFileSync(old, fakeApp("h750", SIZE, 92));
const WRITING = "error: interrupted while writing \\(\\d+ KiB written\\): the board stays in DFU mode and its image is not recorded, " +
  "so it will not start a half-written image; run flash again: only the sectors that differ are sent";

let srv: SimServer, port: Port;
const cmd = (...args: string[]) => [process.execPath, "--import", "tsx", flashTs, "--socket", port.path, ...args];
// Not spawnSync: the port runs in this process and must go on forwarding.
async function run(...args: string[]) {
  const c = new Child(cmd()[0], cmd(...args).slice(1), { cwd: root });
  const status = await c.exited;
  return { status, stdout: c.out, stderr: c.err };
}

test.before(async () => {
  srv = await SimServer.start("h750", ["--button", "--timing", "instant"]);
  port = await Port.open(join(dir, "port.sock"));
  port.upstream = srv.socket;
});
test.after(async () => { await srv.stop(); await port.close(); });

// script(1) runs the command through $SHELL -c. dash (Debian's /bin/sh, used when SHELL is unset,
// as under CI) does not exec a lone command, so it would sit in the foreground process group, die
// of the ^C and make script report 130 whatever the flasher returned; `exec` makes the flasher
// the only process there, as in a person's terminal.
const onTerminal = (...args: string[]) =>
  new Child("script", ["-qec", "exec " + cmd(...args).join(" "), "/dev/null"], { cwd: root });

/** The board holds `old` (recorded), stays in DFU mode. */
async function withOldImage() {
  const r = await run("flash", old, "--no-leave");
  assert.is(r.status, 0, r.stdout + r.stderr);
}

test("flash, plain output: Ctrl-C half way says the board will not start the half-written image, exit 7; it does not, and flashing again completes it", async () => {
  await withOldImage();
  const held = port.holdAfter(SIZE / 2);
  const cli = new Child(cmd()[0], cmd("flash", app).slice(1), { cwd: root });
  await held;
  await cli.waitFor("out", /^write \d+%/m);
  cli.signal("SIGINT");
  assert.is(await cli.exited, 7, cli.out + cli.err);
  assert.match(cli.out, new RegExp(`^${WRITING}$`, "m"));
  port.release();
  await srv.powerCycle(false);
  assert.is((await srv.info()).mode, "bootloader", "neither the old image nor the half-written one starts");
  const again = await run("flash", app);
  assert.is(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /flashed 100000 bytes: \d+ of 25 sectors sent/);
  assert.is((await srv.infoOnce("app")).mode, "app");
});

test("flash on a terminal: Ctrl-C stops the bars, shows the cursor again, the message on a line of its own, exit 7", async () => {
  await srv.powerCycle(true);
  await withOldImage();
  const held = port.holdAfter(SIZE / 2);
  // script(1) gives the flasher a pseudo-terminal; a ^C typed into it is the terminal's SIGINT
  // to the foreground process group, as when a person presses Ctrl-C.
  const cli = onTerminal("flash", app);
  await held;
  await cli.waitFor("out", /write/);
  cli.proc.stdin!.write("\x03");
  assert.is(await cli.exited, 7, JSON.stringify(cli.out.slice(-3000)));
  const shown = cli.out.lastIndexOf("\x1b[?25h"), hidden = cli.out.lastIndexOf("\x1b[?25l");
  assert.ok(hidden >= 0, "the bars hid the cursor");
  assert.ok(shown > hidden, "the cursor is shown again");
  assert.match(cli.out, new RegExp(`\\r?\\n${WRITING}\\r?\\n`));
  assert.match(cli.out, /write\s+\|.*\| \d+% [\d.]+\/[\d.]+ KiB \d+ KiB\/s ETA [\d.]+s/, "the bar shows bytes, bytes/s and ETA");
  port.release();
  assert.is((await srv.info()).mode, "bootloader");
});

test("flash on a terminal, the board unplugged in the middle: the bars end, the cursor comes back, the error on a line of its own, exit 7", async () => {
  await srv.powerCycle(true);
  const held = port.holdAfter(SIZE / 2);
  const cli = onTerminal("flash", app);
  await held;
  port.unplug();
  assert.is(await cli.exited, 7, JSON.stringify(cli.out.slice(-3000)));
  assert.ok(cli.out.lastIndexOf("\x1b[?25h") > cli.out.lastIndexOf("\x1b[?25l"), "the cursor is shown again");
  assert.match(cli.out, /\r?\nerror: the simulator at \S+ closed the connection/);
  port.upstream = srv.socket;
});

test("verify: Ctrl-C says nothing changed; the board's image is still recorded", async () => {
  await srv.powerCycle(true);
  await withOldImage();
  const held = port.holdAtGetStatus();
  const cli = new Child(cmd()[0], cmd("verify", old).slice(1), { cwd: root });
  await held;
  cli.signal("SIGINT");
  assert.is(await cli.exited, 7, cli.out + cli.err);
  assert.match(cli.out, /^error: interrupted: reading changes nothing on the board; it stays in DFU mode$/m);
  port.release();
  const i = await srv.info();
  assert.is(i.mode, "bootloader");
  const list = await run("--json", "list");
  assert.is(JSON.parse(list.stdout)[0].recordStatus, "valid", list.stdout);
});

test("erase: Ctrl-C says what to do, exit 7", async () => {
  const held = port.holdAtGetStatus();
  const cli = new Child(cmd()[0], cmd("erase").slice(1), { cwd: root });
  await held;
  cli.signal("SIGINT");
  assert.is(await cli.exited, 7, cli.out + cli.err);
  assert.match(cli.out, /^error: interrupted: the board stays in DFU mode; .*run erase again$/m);
  port.release();
});

test.run();
