// A ControlHost device (such as the ST ROM model) served in this process on a Unix socket with
// the simulator's CONTROL and RESET frames (../../sim/serve-protocol.ts), so the real dfu-util
// reaches it through the stand-in libusb. Clients must run in child processes (spawn, not spawnSync).
import { createServer, type Server } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestLength, OP, ERR } from "../../sim/serve-protocol";
import type { ControlHost } from "../../sim/usb-host";

export class HostSocket {
  private constructor(private server: Server, readonly socket: string) {}

  static start(host: ControlHost): Promise<HostSocket> {
    const socket = join(mkdtempSync(join(tmpdir(), "qspiboot-rom-")), "usb.sock");
    const server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const need = requestLength(buf);
          if (need === "bad") { sock.destroy(); return; }
          if (need === undefined || buf.length < need) return;
          const req = buf.subarray(0, need);
          buf = buf.subarray(need);
          const head = Buffer.alloc(4);
          if (req[0] === OP.CONTROL) {
            const setup = { bmRequestType: req[1], bRequest: req[2], wValue: req.readUInt16LE(3), wIndex: req.readUInt16LE(5), wLength: req.readUInt16LE(7) };
            const isIn = (setup.bmRequestType & 0x80) !== 0;
            const r = host.control(setup, isIn ? undefined : new Uint8Array(req.subarray(13, 13 + setup.wLength)));
            if (r.status === "ok") {
              head.writeInt32LE(isIn ? r.data.length : setup.wLength);
              sock.write(isIn ? Buffer.concat([head, Buffer.from(r.data)]) : head);
              continue;
            }
            head.writeInt32LE(r.status === "stall" ? ERR.PIPE : r.status === "timeout" ? ERR.TIMEOUT : ERR.NO_DEVICE);
          } else if (req[0] === OP.RESET) {
            head.writeInt32LE(host.reset() === "ok" ? 0 : ERR.NO_DEVICE);
          } else {
            head.writeInt32LE(ERR.INVALID_PARAM);
          }
          sock.write(head);
        }
      });
      sock.on("error", () => sock.destroy());
    });
    return new Promise((resolve) => server.listen(socket, () => resolve(new HostSocket(server, socket))));
  }

  stop(): Promise<void> { return new Promise((r) => this.server.close(() => r())); }
}
