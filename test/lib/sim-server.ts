// Start sim/serve.ts in a child process and talk to it with the socket's own ops (INFO,
// READ_FLASH, POWER_CYCLE), as a test harness around outside clients such as dfu-util.
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../../tools/build-core";

export class SimServer {
  private constructor(readonly proc: ChildProcess, readonly socket: string, readonly dir: string) {}

  static async start(board: "h750" | "rp2040", extra: string[] = []): Promise<SimServer> {
    const dir = mkdtempSync(join(tmpdir(), "qspiboot-srv-"));
    const socket = join(dir, "usb.sock");
    const proc = spawn(process.execPath, ["--import", "tsx", join(root, "sim/serve.ts"), "--board", board, "--socket", socket, ...extra], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (d) => { out += d; if (out.includes(`listening ${socket}`)) resolve(); });
      proc.on("exit", (c) => reject(new Error(`serve.ts exited (${c}): ${out}`)));
      // unref: a pending start timeout must not keep a finished test process alive.
      setTimeout(() => reject(new Error(`serve.ts did not start: ${out}`)), 30000).unref();
    });
    // A server that dies mid-test would leave the test waiting on a closed socket: say why.
    let err = "";
    proc.stderr!.on("data", (d) => (err += d));
    proc.on("exit", (code, sig) => { if (code !== 0 && sig !== "SIGTERM") console.error(`sim/serve.ts died (${code ?? sig}):\n${err}`); });
    return new SimServer(proc, socket, dir);
  }

  /** One request, one reply (result and the bytes after it). */
  private request(req: Buffer): Promise<{ result: number; data: Buffer }> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socket, () => s.write(req));
      let buf = Buffer.alloc(0);
      s.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4) return;
        const result = buf.readInt32LE(0);
        const want = req[0] === 2 || req[0] === 5 ? 0 : Math.max(0, result);
        // Resolve only once the connection is closed: the server serves one client at a time,
        // and a caller that goes on with a blocking spawnSync would keep it open otherwise.
        if (buf.length >= 4 + want && !done) { done = true; s.end(); s.once("close", () => resolve({ result, data: buf.subarray(4, 4 + want) })); }
      });
      s.on("error", reject);
      let done = false;
      s.on("close", () => { if (!done) reject(new Error("the simulator closed the connection before replying")); });
    });
  }

  async info(): Promise<any> {
    const r = await this.request(Buffer.from([3]));
    return JSON.parse(r.data.toString());
  }

  /** INFO once the board has settled in `mode` (a DfuSe leave: the host is done at dfuMANIFEST
   *  and the board starts the application once the image is recorded), or after `ms`. */
  async infoOnce(mode: string, ms = 3000): Promise<any> {
    const end = Date.now() + ms;
    for (;;) {
      const i = await this.info();
      if (i.mode === mode || Date.now() > end) return i;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async readFlash(offset: number, length: number): Promise<Buffer> {
    const req = Buffer.alloc(9);
    req[0] = 4; req.writeUInt32LE(offset, 1); req.writeUInt32LE(length, 5);
    const r = await this.request(req);
    if (r.result < 0) throw new Error(`READ_FLASH: ${r.result}`);
    return r.data;
  }

  async powerCycle(button: boolean): Promise<void> {
    await this.request(Buffer.from([5, button ? 1 : 0]));
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await new Promise((r) => this.proc.once("exit", r));
  }
}
