// A USB port for flasher tests over the simulator's socket: a Unix socket in front of whichever
// sim/serve.ts is "plugged in" (none: connections are hung up at once, an empty port). It can
// hold the host's traffic part way through a flash, so that a test can act (Ctrl-C) while a
// transfer is certainly under way, and no timing decides the outcome.
import { createServer, connect, type Server, type Socket } from "node:net";

export class Port {
  /** The socket of the served board now plugged in, if any. */
  upstream?: string;
  private server!: Server;
  private armed?: { sent: number; when: (chunk: Buffer, sent: number) => boolean; resolve: () => void };
  private holding = false;
  private held: { up: Socket; data: Buffer }[] = [];
  private open = new Set<Socket>();

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<Port> {
    const p = new Port(path);
    p.server = createServer((client) => p.accept(client));
    await new Promise<void>((r) => p.server.listen(path, r));
    return p;
  }

  private accept(client: Socket) {
    client.on("error", () => {});
    this.open.add(client);
    client.on("close", () => this.open.delete(client));
    if (!this.upstream) { client.destroy(); return; }
    const up = connect(this.upstream);
    up.on("error", () => client.destroy());
    up.on("data", (d) => client.write(d));
    up.on("close", () => client.destroy());
    client.on("close", () => up.destroy());
    client.on("data", (d) => {
      if (this.armed && !this.holding) {
        this.armed.sent += d.length;
        if (this.armed.when(d, this.armed.sent)) { this.holding = true; this.armed.resolve(); this.armed = undefined; }
      }
      if (this.holding) this.held.push({ up, data: d });
      else up.write(d);
    });
  }

  /** Resolves once the host has sent `bytes` more: that request and all after it are held. */
  holdAfter(bytes: number): Promise<void> {
    return this.holdWhen((_d, sent) => sent >= bytes);
  }

  /** Resolves at the first DFU GETSTATUS from now on (socket frame: op 1 CONTROL, bmRequestType
   *  A1h, bRequest 3): the first request of any DFU operation after the device is opened. */
  holdAtGetStatus(): Promise<void> {
    return this.holdWhen((d) => d[0] === 1 && d[1] === 0xa1 && d[2] === 3);
  }

  /** Hold from the first chunk of the host's traffic for which `when` is true. */
  holdWhen(when: (chunk: Buffer, sent: number) => boolean): Promise<void> {
    this.release();
    return new Promise((resolve) => (this.armed = { sent: 0, when, resolve }));
  }

  /** Let the held traffic through. */
  release(): void {
    this.holding = false;
    for (const { up, data } of this.held.splice(0)) if (!up.destroyed) up.write(data);
  }

  /** Pull the cable: every connection goes now, and the port is empty. */
  unplug(): void {
    this.upstream = undefined;
    this.holding = false;
    this.held = [];
    for (const c of this.open) c.destroy();
  }

  close(): Promise<void> {
    for (const c of this.open) c.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
