// A stand-in for sim/serve.ts on a Unix socket, in the test's own process: it frames requests
// as the server does and answers each with what the test's handler says (a reply, or "drop"
// to end the connection there), for devices that misbehave in ways the simulator never does.
import { createServer, type Server, type Socket } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestLength } from "../../sim/serve-protocol";

export type StubHandler = (req: Buffer, socket: Socket) => Buffer | "drop" | "ignore";

export class StubSocket {
  /** Requests received, for the test to look at. */
  requests: Buffer[] = [];
  private constructor(readonly server: Server, readonly path: string) {}

  static async start(handler: StubHandler): Promise<StubSocket> {
    const path = join(mkdtempSync(join(tmpdir(), "qspiboot-stub-")), "usb.sock");
    let stub!: StubSocket;
    const server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("error", () => {});
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const n = requestLength(buf);
          if (n === undefined || n === "bad" || buf.length < n) return;
          const req = buf.subarray(0, n);
          buf = buf.subarray(n);
          stub.requests.push(req);
          const r = handler(req, sock);
          if (r === "drop") { sock.destroy(); return; }
          if (r !== "ignore") sock.write(r);
        }
      });
    });
    stub = new StubSocket(server, path);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return stub;
  }

  stop(): Promise<void> { return new Promise((r) => this.server.close(() => r())); }
}

/** A reply frame: the result, then the data for an IN transfer. */
export function stubReply(result: number, data?: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeInt32LE(result);
  return data ? Buffer.concat([head, Buffer.from(data)]) : head;
}
