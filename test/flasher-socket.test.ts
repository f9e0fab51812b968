// The flasher over the simulator's Unix socket when the other end goes away: a server stopped
// in the middle of a flash is named as such, with the request it was doing, and the CLI fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createServer, connect, type Socket } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { SocketUsbDevice } from "../tools/usb/socket-device";
import { SimServer } from "./lib/sim-server";
import { fakeApp } from "./lib/images";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-sock-"));
const DNLOAD = { requestType: "class", recipient: "interface", request: 1, value: 2, index: 0 } as const;
const CLOSED = (path: string, when: string) => new RegExp(`^the simulator at ${path} closed the connection ${when}`);

test("a connection reset while a request waits (read ECONNRESET): named, with the request", async () => {
  const path = join(dir, "reset.sock");
  let conn: Socket | undefined;
  // The server never reads: when it closes, the request is still unread in its socket, and
  // the kernel resets the connection (what a killed sim/serve.ts does to a waiting client).
  const srv = createServer((s) => { s.pause(); conn = s; });
  await new Promise<void>((r) => srv.listen(path, r));
  const dev = new SocketUsbDevice(path);
  const p = dev.controlTransferOut(DNLOAD, new Uint8Array(4096));
  // Until the client has written its request (its socket's byte count: no other way to see it).
  for (let i = 0; i < 10000 && !(conn && (dev as any).sock?.bytesWritten > 0); i++) await new Promise((r) => setImmediate(r));
  conn!.destroy();
  try {
    await p;
    assert.unreachable("the transfer succeeded");
  } catch (e) {
    assert.match((e as Error).message, CLOSED(path, "during DFU_DNLOAD block 2"));
    assert.match((e as Error).message, /\(read ECONNRESET\)/);
  }
  // The next request does not try a dead socket: it says the same thing.
  try {
    await dev.controlTransferIn({ requestType: "class", recipient: "interface", request: 3, value: 0, index: 0 }, 6);
    assert.unreachable("the transfer succeeded");
  } catch (e) {
    assert.match((e as Error).message, CLOSED(path, "before any request"));
  }
  srv.close();
});

test("flash over --socket, the server gone mid-flash: a clear error and exit status 7 (interrupted)", async () => {
  const server = await SimServer.start("h750");
  // Between the CLI and the server: passes everything until 200 KB of requests have gone
  // through (the image is 300 KB), then drops both connections as a dying server would.
  const path = join(dir, "proxy.sock");
  let sent = 0;
  const proxy = createServer((client) => {
    const up = connect(server.socket);
    client.on("error", () => {});
    up.on("error", () => {});
    up.on("data", (d) => client.write(d));
    client.on("data", (d) => {
      sent += d.length;
      if (sent > 200_000) { client.destroy(); up.destroy(); } else up.write(d);
    });
    client.on("close", () => up.destroy());
  });
  await new Promise<void>((r) => proxy.listen(path, r));
  const app = join(dir, "app.bin");
  writeFileSync(app, fakeApp("h750", 300_000, 41));
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), "--socket", path, "flash", app], { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
  proxy.close();
  await server.stop();
  console.log(r.out.trim().split("\n").pop(), `(${sent} bytes)`);
  assert.ok(sent > 200_000, "the flash got as far as the cut");
  assert.is(r.code, 7, "exit status 7: the board went away in the middle: " + r.out + r.err);
  assert.match(r.out, new RegExp(`error: the simulator at ${path} closed the connection during DFU_(DNLOAD block \\d+|GETSTATUS)`));
  assert.not.match(r.out + r.err, /ECONNRESET\n|^error: read/m);
});

test.run();
