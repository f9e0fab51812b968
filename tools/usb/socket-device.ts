// A WebUSB USBDevice over the simulator's USB socket (../shared/notes/usb-socket.md): the
// flasher talks to `sim/serve.ts` exactly as dfu-util does through the stand-in libusb.
import { connect, type Socket } from "node:net";
import type { USBDevice, USBControlTransferParameters, USBConfiguration, USBInTransferResult, USBOutTransferResult } from "../dfu/webusb";
import { ConnectionClosed, DeviceGone, DeviceStalled } from "./errors";
import { bmRequestTypeOf, bytesOf, requestName } from "./setup-bits";

export class SocketUsbDevice implements USBDevice {
  opened = false;
  configuration: USBConfiguration | null = null;
  vendorId = 0;
  productId = 0;
  serialNumber: string | null = null;
  productName: string | null = null;
  private sock?: Socket;
  private buf = Buffer.alloc(0);
  private waiting: { what: string; need: (b: Buffer) => number | undefined; resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  /** Why the connection ended (the socket's error, if it gave one), once it has. */
  private ended?: { cause?: Error; last?: string };
  private last?: string;

  constructor(readonly path: string, readonly timeoutMs = 5000) {}

  private async ensure(): Promise<void> {
    if (this.sock) return;
    await new Promise<void>((resolve, reject) => {
      let connected = false;
      const s = connect(this.path, () => { connected = true; resolve(); });
      s.on("error", (e) => {
        // A failed connect is the caller's to explain ("cannot reach"); later errors are a
        // connection lost in the middle of something.
        if (!connected) { this.sock = undefined; reject(e); } else if (this.sock === s) this.drop(e);
      });
      s.on("data", (d) => { this.buf = Buffer.concat([this.buf, d]); this.pump(); });
      // A socket this device closed itself (close()) is no news.
      s.on("close", () => { if (connected && this.sock === s) this.drop(); });
      this.sock = s;
    });
  }

  /** The server went away (killed, crashed, stopped): every request from now on fails with it. */
  private drop(cause?: Error) {
    this.ended ??= { cause, last: this.last };
    if (cause && !this.ended.cause) this.ended.cause = cause;
    for (const w of this.waiting.splice(0)) w.reject(new ConnectionClosed(this.path, `during ${w.what}`, this.ended.cause));
  }

  private pump() {
    while (this.waiting.length) {
      const n = this.waiting[0].need(this.buf);
      if (n === undefined) return;
      const reply = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      this.last = this.waiting[0].what;
      this.waiting.shift()!.resolve(reply);
    }
  }

  /** Send a request; the reply is `result` and, when `withData`, `result` bytes after it. */
  private async request(req: Buffer, withData: boolean, what: string): Promise<{ result: number; data: Buffer }> {
    if (this.ended) throw new ConnectionClosed(this.path, this.ended.last ? `after ${this.ended.last}` : "before any request", this.ended.cause);
    await this.ensure();
    const reply = new Promise<Buffer>((resolve, reject) => this.waiting.push({
      what,
      need: (b) => (b.length < 4 ? undefined : withData && b.readInt32LE(0) > 0 ? (b.length >= 4 + b.readInt32LE(0) ? 4 + b.readInt32LE(0) : undefined) : 4),
      resolve, reject,
    }));
    this.sock!.write(req);
    const r = await reply;
    return { result: r.readInt32LE(0), data: r.subarray(4) };
  }

  private async control(s: USBControlTransferParameters, dirIn: boolean, wLength: number, data?: Uint8Array) {
    const req = Buffer.alloc(13 + (dirIn ? 0 : wLength));
    req[0] = 1;
    req[1] = bmRequestTypeOf(s, dirIn);
    req[2] = s.request;
    req.writeUInt16LE(s.value, 3); req.writeUInt16LE(s.index, 5); req.writeUInt16LE(wLength, 7);
    req.writeUInt32LE(this.timeoutMs, 9);
    if (!dirIn && data) req.set(data, 13);
    const r = await this.request(req, dirIn, requestName(s));
    if (r.result === -4) { this.opened = false; throw new DeviceGone(); }
    if (r.result === -7) throw new Error("NetworkError: transfer timed out");
    return r;
  }

  private async string(index: number): Promise<string | null> {
    if (!index) return null;
    const r = await this.control({ requestType: "standard", recipient: "device", request: 6, value: 0x300 | index, index: 0x409 }, true, 255);
    let s = "";
    for (let i = 2; i + 1 < r.data.length; i += 2) s += String.fromCharCode(r.data[i] | (r.data[i + 1] << 8));
    return s;
  }

  async open(): Promise<void> {
    const ddSetup = { requestType: "standard", recipient: "device", request: 6, value: 0x100, index: 0 } as const;
    const ddr = await this.control(ddSetup, true, 18);
    if (ddr.result === -9) throw new DeviceStalled(`the simulator at ${this.path}`, requestName(ddSetup));
    if (ddr.result < 18) throw new Error(`the simulator at ${this.path} answered ${requestName(ddSetup)} with ${ddr.result < 0 ? `error ${ddr.result}` : `${ddr.result} bytes`}, not an 18-byte device descriptor`);
    const dd = ddr.data;
    this.vendorId = dd.readUInt16LE(8);
    this.productId = dd.readUInt16LE(10);
    this.productName = await this.string(dd[15]);
    this.serialNumber = await this.string(dd[16]);
    this.configuration = { configurationValue: 1, interfaces: [] };
    this.opened = true;
  }

  async close(): Promise<void> { this.opened = false; this.sock?.end(); this.sock = undefined; this.ended = undefined; this.last = undefined; }
  async selectConfiguration(): Promise<void> {}
  async claimInterface(): Promise<void> {}
  async releaseInterface(): Promise<void> {}
  async selectAlternateInterface(n: number, alt: number): Promise<void> {
    await this.control({ requestType: "standard", recipient: "interface", request: 11, value: alt, index: n }, false, 0);
  }

  async controlTransferIn(s: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    const r = await this.control(s, true, length);
    if (r.result === -9) return { status: "stall" };
    return { status: "ok", data: new DataView(r.data.buffer, r.data.byteOffset, r.data.length) };
  }

  async controlTransferOut(s: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    const bytes = bytesOf(data);
    const r = await this.control(s, false, bytes.length, bytes);
    return r.result === -9 ? { status: "stall", bytesWritten: 0 } : { status: "ok", bytesWritten: bytes.length };
  }

  async reset(): Promise<void> {
    const r = await this.request(Buffer.from([2]), false, "a bus reset");
    if (r.result === -4) { this.opened = false; throw new DeviceGone(); }
  }
}
