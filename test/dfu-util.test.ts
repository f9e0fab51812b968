// An outside client: the unmodified dfu-util (Debian's 0.11) flashes the simulated board,
// through the stand-in libusb and the simulator's USB socket.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildShim, shimDir } from "../tools/libusb-shim/build";
import { hasTool } from "../tools/require-tools";
import { writeDfuse } from "../tools/image/dfuse";
import { SimServer } from "./lib/sim-server";
import { fakeApp } from "./lib/images";
import { root } from "../tools/build-core";

if (!hasTool("dfu-util")) throw new Error("dfu-util missing: npm run setup");
buildShim();

let srv: SimServer;
const env = () => ({ ...process.env, LD_LIBRARY_PATH: shimDir, QSPIBOOT_SIM_SOCKET: srv.socket });
function dfuUtil(...args: string[]) {
  const r = spawnSync("dfu-util", args, { env: env(), encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

test.before(async () => { srv = await SimServer.start("h750", ["--timing", "typical"]); });
test.after(async () => { await srv.stop(); });

const app = fakeApp("h750", 150_000, 41);
const settle = () => new Promise((r) => setTimeout(r, 100));

test("dfu-util -l lists the board with its DfuSe layout and serial number", () => {
  const r = dfuUtil("-l");
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /Found DFU: \[1209:0001\] ver=0100, devnum=7, cfg=1, intf=0, path="1-1", alt=0, name="@QSPI Flash \/0x90000000\/127\*064Kg,15\*004Kg,01\*004Ka", serial="31002E001251303438393633"/);
});

test("dfu-util -a 0 -s 0x90000000:leave -D app.bin: the board runs it", async () => {
  const f = join(srv.dir, "app.bin");
  writeFileSync(f, app);
  const t0 = Date.now();
  const r = dfuUtil("-a", "0", "-s", "0x90000000:leave", "-D", f);
  console.log(`dfu-util download of 150 KB: ${Date.now() - t0} ms wall time`);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /File downloaded successfully/);
  const info = await srv.infoOnce("app");
  assert.is(info.mode, "app");
  assert.is(info.appEntry, 0x90000000);
  assert.ok((await srv.readFlash(0, app.length)).equals(Buffer.from(app)));
});

test("dfu-util -s 0x90000000:len -U out.bin reads back the same bytes", async () => {
  await srv.powerCycle(true);
  const out = join(srv.dir, "out.bin");
  const r = dfuUtil("-a", "0", "-s", `0x90000000:${app.length}`, "-U", out);
  assert.is(r.code, 0, r.out);
  assert.equal(readFileSync(out), Buffer.from(app));
});

test("a .dfu file (DfuSe, written by tools/image) flashes without -s", async () => {
  const img = fakeApp("h750", 30_000, 42);
  const f = join(srv.dir, "app.dfu");
  writeFileSync(f, writeDfuse([{ address: 0x90000000, data: img }], { vid: 0x1209, pid: 1, bcdDevice: 0x100 }));
  const r = dfuUtil("-a", "0", "-D", f);
  assert.is(r.code, 0, r.out);
  await settle(); // the board finishes the blocks still queued when dfu-util exits
  assert.ok((await srv.readFlash(0, img.length)).equals(Buffer.from(img)));
});

test("-R: the board verifies what was written and starts the application", async () => {
  const f = join(srv.dir, "app2.bin");
  const img = fakeApp("h750", 20_000, 43);
  writeFileSync(f, img);
  const r = dfuUtil("-a", "0", "-s", "0x90000000", "-D", f, "-R");
  assert.is(r.code, 0, r.out);
  await settle(); // the board manifests, then leaves
  assert.is((await srv.infoOnce("app")).mode, "app");
});

test("a write outside the layout is refused by dfu-util; the flash is unchanged", async () => {
  await srv.powerCycle(true);
  const before = await srv.readFlash(0, 8 << 20);
  const f = join(srv.dir, "small.bin");
  writeFileSync(f, Buffer.alloc(4096, 0x55));
  for (const addr of ["0x08000000", "0x907ff000", "0x90800000"]) {
    const r = dfuUtil("-a", "0", "-s", addr, "-D", f);
    assert.is.not(r.code, 0, `${addr} accepted:\n${r.out}`);
  }
  await settle();
  assert.ok((await srv.readFlash(0, 8 << 20)).equals(before));
});

test("a dfu-util killed in the middle of a download leaves a board the next run recovers", async () => {
  await srv.powerCycle(true);
  const big = fakeApp("h750", 4 << 20, 44);
  const f = join(srv.dir, "big.bin");
  writeFileSync(f, big);
  const child = spawn("dfu-util", ["-a", "0", "-s", "0x90000000:leave", "-D", f], { env: env(), stdio: "ignore" });
  const exited = new Promise((res) => child.once("exit", res));
  await new Promise((res) => setTimeout(res, 300));
  assert.is(child.exitCode, null, "dfu-util still downloading when it is killed");
  child.kill("SIGKILL");
  await exited;
  assert.is((await srv.info()).mode, "bootloader", "killed before the end: still in DFU mode");
  const r = dfuUtil("-a", "0", "-s", "0x90000000:leave", "-D", f);
  assert.is(r.code, 0, r.out);
  assert.is((await srv.infoOnce("app")).mode, "app");
  assert.ok((await srv.readFlash(0, big.length)).equals(Buffer.from(big)));
});

test("tools/flash.ts flashes the same served board over the socket", async () => {
  await srv.powerCycle(true);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), "--socket", srv.socket, "flash", join(root, "build/h750/example.elf")], { cwd: root, encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`flashed ${readFileSync(join(root, "build/h750/example.bin")).length} bytes`));
  await settle();
  const info = await srv.infoOnce("app");
  assert.is(info.mode, "app");
  assert.is(info.appEntry, 0x90000000);
});

test("the stand-in libusb runs clean under valgrind", async () => {
  if (!hasTool("valgrind")) throw new Error("valgrind missing: npm run setup");
  await srv.powerCycle(true);
  const r = spawnSync("valgrind", ["--error-exitcode=9", "--leak-check=full", "--errors-for-leak-kinds=definite", "dfu-util", "-l"], { env: env(), encoding: "utf8", timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /ERROR SUMMARY: 0 errors/);
});

test("dfu-util -a 0 -s :leave -D app.dfu (a DfuSe file from our convert): flashed, started, exit 0", async () => {
  await srv.powerCycle(true);
  const f = join(srv.dir, "leave.dfu");
  const img = fakeApp("h750", 90_000, 44);
  writeFileSync(f, writeDfuse([{ address: 0x90000000, data: img }], { vid: 0x1209, pid: 1, bcdDevice: 0xffff }));
  // dfu-util sends SET_ADDRESS 0 before the leave's zero-length DNLOAD: the board takes it.
  const r = dfuUtil("-a", "0", "-s", ":leave", "-D", f);
  assert.is(r.code, 0, r.out);
  assert.is((await srv.infoOnce("app")).mode, "app");
  assert.ok((await srv.readFlash(0, img.length)).equals(Buffer.from(img)));
});

test.run();
