// Simulated boards for `--watch`: a DeviceSource whose boards a test plugs in and pulls out at
// chosen simulated times. Each board keeps its own simulated clock (sim/board.ts); a SimWorld
// keeps them in step: a board's next USB transfer waits until the world's time has reached the
// board's, and the world moves to the earliest thing waiting (a transfer, a poll, a plug event).
// Nothing reads the wall clock, so a run is the same every time.
import { setImmediate } from "node:timers";
import { SimBoard } from "../../sim/board";
import { SimUsbHost } from "../../sim/usb-host";
import type { BoardName } from "../../sim/boards";
import { DfuDevice } from "../dfu/client";
import type { USBDevice } from "../dfu/webusb";
import { SimUsbDevice } from "../usb/sim-device";
import type { Target } from "./targets";
import type { DeviceSource } from "./watch";

interface Waiter { t: number; seq: number; run(): void }

/** Discrete-event time for several simulated boards and the host, in microseconds. */
export class SimWorld {
  now = 0;
  private queue: Waiter[] = [];
  private seq = 0;

  /** Resolves when the world's time reaches `t` (at once, in order, if it is past). */
  at(t: number): Promise<void> { return new Promise((run) => this.schedule(t, run)); }

  schedule(t: number, run: () => void): void { this.queue.push({ t: Math.max(t, this.now), seq: this.seq++, run }); }

  /** Run the world until `p` settles. Everything in it must wait only on the world (no real I/O,
   *  no timers): once the microtasks have settled, whatever is not finished waits in the queue.
   *  `idleMs`: something may also wait on real time (the command line's paced polls): with
   *  nothing queued, look again that much later instead of calling it a deadlock. */
  async run<T>(p: Promise<T>, opts: { idleMs?: number } = {}): Promise<T> {
    let settled = false;
    p.then(() => { settled = true; }, () => { settled = true; });
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (settled) return p;
      if (!this.queue.length && opts.idleMs) { await new Promise((r) => setTimeout(r, opts.idleMs)); continue; }
      if (!this.queue.length) throw new Error("simulated world: nothing left to wait for, and the run has not ended");
      let k = 0;
      for (let i = 1; i < this.queue.length; i++) {
        const a = this.queue[i], b = this.queue[k];
        if (a.t < b.t || (a.t === b.t && a.seq < b.seq)) k = i;
      }
      const [w] = this.queue.splice(k, 1);
      this.now = Math.max(this.now, w.t);
      w.run();
    }
  }
}

/** A simulated board as the watch sees it: its transfers wait for the world's time. */
class WorldDevice implements USBDevice {
  constructor(private readonly inner: SimUsbDevice, private readonly board: SimBoard, private readonly world: SimWorld) {}
  get vendorId() { return this.inner.vendorId; }
  get productId() { return this.inner.productId; }
  get serialNumber() { return this.inner.serialNumber; }
  get productName() { return this.inner.productName; }
  get opened() { return this.inner.opened; }
  get configuration() { return this.inner.configuration; }
  /** The board's time may be ahead (a transfer took time) or behind (it sat idle) the world's. */
  private async sync() {
    await this.world.at(this.board.clock.now);
    this.board.runUntil(this.world.now);
  }
  async open() { await this.sync(); return this.inner.open(); }
  async close() { await this.sync(); return this.inner.close(); }
  async selectConfiguration(v: number) { return this.inner.selectConfiguration(v); }
  async claimInterface(n: number) { await this.sync(); return this.inner.claimInterface(n); }
  async releaseInterface(n: number) { return this.inner.releaseInterface(n); }
  async selectAlternateInterface(n: number, alt: number) { await this.sync(); return this.inner.selectAlternateInterface(n, alt); }
  async controlTransferIn(s: Parameters<USBDevice["controlTransferIn"]>[0], length: number) { await this.sync(); return this.inner.controlTransferIn(s, length); }
  async controlTransferOut(s: Parameters<USBDevice["controlTransferOut"]>[0], data?: BufferSource) { await this.sync(); return this.inner.controlTransferOut(s, data); }
  async reset() { await this.sync(); return this.inner.reset(); }
}

interface Plugged { board: SimBoard; target?: Target }

/** Simulated boards that come and go at the world's times. */
export class SimSource implements DeviceSource {
  readonly boards: SimBoard[] = [];
  private plugged = new Map<SimBoard, Plugged>();
  private serials = new Map<SimBoard, string>();

  constructor(readonly world = new SimWorld()) {}

  /** A new board, unplugged. */
  async add(board: BoardName = "h750", serial = this.boards.length): Promise<SimBoard> {
    const b = await SimBoard.create({ board, serial });
    this.boards.push(b);
    return b;
  }

  /** Plug the board in now (`button`: held, so it stays in DFU mode whatever its image). */
  plug(b: SimBoard, opts: { button?: boolean } = {}): void {
    b.clock.advanceTo(this.world.now);
    b.powerOn({ button: opts.button });
    this.plugged.set(b, { board: b });
  }

  /** Pull the board's cable now, whatever it is doing. */
  unplug(b: SimBoard): void {
    b.clock.advanceTo(this.world.now);
    b.powerOff();
    this.plugged.delete(b);
  }

  /** The board is on the bus in DFU mode (not running its application, not unplugged). */
  inDfu(b: SimBoard): boolean { return this.plugged.has(b) && b.mode === "bootloader" && b.ep0.connected; }

  async scan(): Promise<Target[]> {
    const out: Target[] = [];
    for (const p of this.plugged.values()) {
      const b = p.board;
      if (!this.inDfu(b)) { p.target = undefined; continue; }
      p.target ??= await this.target(b);
      out.push(p.target);
    }
    return out;
  }

  private async target(b: SimBoard): Promise<Target> {
    b.runUntil(this.world.now);
    const host = new SimUsbHost(b);
    host.enumerate();
    const usb = new SimUsbDevice(host);
    await usb.open();
    this.serials.set(b, usb.serialNumber ?? "");
    const dev = new WorldDevice(usb, b, this.world);
    return {
      label: `${usb.productName} (simulated)`,
      serial: usb.serialNumber ?? "",
      sim: { board: b, host },
      open: () => new DfuDevice(dev, { sleep: async (ms) => host.sleep(ms), now: () => b.clock.now / 1000 }).open(),
    };
  }

  /** The serial number the board showed the host (once it has been seen in DFU mode). */
  serialOf(b: SimBoard): string | undefined { return this.serials.get(b); }

  wait(ms: number): Promise<void> { return this.world.at(this.world.now + ms * 1000); }
  now(): number { return this.world.now / 1000; }
}
