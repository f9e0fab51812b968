// The flasher ends: on a terminal with several boards of one batch (serials sharing their
// tail), and when a simulator socket has no board in DFU mode.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { boardLabels } from "../tools/cli/progress";
import { SimServer } from "./lib/sim-server";
import { fakeApp } from "./lib/images";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-hang-"));
const flashTs = join(root, "tools/flash.ts");

test("progress labels are unique tails of the serials, however much of them boards share", () => {
  assert.equal(boardLabels(["31002E001251303438393633"]), [""]);
  const batch = ["00002E001251303438393633", "01002E001251303438393633", "02002E001251303438393633"];
  const labels = boardLabels(batch);
  assert.is(new Set(labels).size, 3);
  labels.forEach((l, i) => assert.ok(batch[i].endsWith(l) && l.length >= 8, l));
  assert.equal(boardLabels(["ABCDEF0123456789", "XYZ0123456789"]), ["F0123456789", "Z0123456789"]);
});

test("flash --all on a terminal with three boards of one batch: the bars end and the command exits", () => {
  const app = join(dir, "app.bin");
  writeFileSync(app, fakeApp("h750", 40_000, 71));
  // script(1) gives the flasher a pseudo-terminal, so it draws bars instead of plain lines.
  const cmd = `${process.execPath} --import tsx ${flashTs} --sim h750 --sim-count 3 --all flash ${app}`;
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { cwd: root, encoding: "utf8", timeout: 60_000, env: { ...process.env, FORCE_COLOR: "0" } });
  assert.is(r.error, undefined, "it ended by itself (no timeout)");
  assert.is(r.status, 0, r.stdout);
  const lines = r.stdout.split(/\r?\n/).filter((l) => /flashed \d+ bytes/.test(l));
  assert.is(lines.length, 3, r.stdout.slice(-2000));
  assert.is(new Set(lines.map((l) => l.split(":")[0])).size, 3, "each board's result under its own serial");
  assert.ok(r.stdout.lastIndexOf("\x1b[?25h") > r.stdout.lastIndexOf("\x1b[?25l"), "the bars gave the cursor back");
});

test("--socket list with the board running its application: says so and exits", async () => {
  const img = join(dir, "board.img");
  const app = join(dir, "app2.bin");
  writeFileSync(app, fakeApp("h750", 20_000, 72));
  const flashed = spawnSync(process.execPath, ["--import", "tsx", flashTs, "--sim", "h750", "--sim-flash", img, "flash", app], { cwd: root, encoding: "utf8" });
  assert.is(flashed.status, 0, flashed.stderr);
  const srv = await SimServer.start("h750", ["--flash", img]);
  try {
    assert.is((await srv.info()).mode, "app");
    const r = spawnSync(process.execPath, ["--import", "tsx", flashTs, "--socket", srv.socket, "list"], { cwd: root, encoding: "utf8", timeout: 30_000 });
    assert.is(r.error, undefined, "it ended by itself (no timeout)");
    assert.match(r.stdout, /no board in DFU mode found/);
  } finally {
    await srv.stop();
  }
});

test.run();
