// Serve a simulated board's USB device on a Unix socket, for programs outside Node (the
// stand-in libusb that runs the real dfu-util, the flasher, any checker). Contract:
// ../shared/notes/usb-socket.md.
//   npx tsx sim/serve.ts --board h750|rp2040 --socket PATH [--flash FILE] [--timing typical|instant|maximum] [--button]
import { createServer, type Socket } from "node:net";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { SimBoard } from "./board";
import { SimUsbHost } from "./usb-host";
import { handleRequest, requestLength, type ServedBoard } from "./serve-protocol";
import type { BoardName } from "./boards";
import type { FlashTiming } from "./nor-flash";

const USAGE = `usage: npx tsx sim/serve.ts --board h750|rp2040 --socket PATH [--flash FILE] [--timing typical|instant|maximum] [--button]
  --board    the simulated board (default h750)
  --socket   the Unix socket to serve its USB device on (contract: shared/notes/usb-socket.md)
  --flash    keep the flash contents in this file across runs
  --timing   flash chip timings: the datasheet's typical (default) or maximum, or instant
  --button   power on into DFU mode: K1 held (H750); on the Pico, which has no bootloader button,
             the application's request for DFU mode (hal/app/qspiboot.h)
  --serial   a number that varies the board's unique ID, hence its USB serial (several boards)`;
let values: { board?: string; socket?: string; flash?: string; timing?: string; button?: boolean; serial?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      board: { type: "string", default: "h750" },
      socket: { type: "string" },
      flash: { type: "string" },
      timing: { type: "string", default: "typical" },
      button: { type: "boolean", default: false },
      serial: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) { console.log(USAGE); process.exit(0); }
if (!values.socket) { console.error(USAGE); process.exit(2); }
if (!["typical", "instant", "maximum"].includes(values.timing!)) { console.error(`unknown timing ${values.timing}\n${USAGE}`); process.exit(2); }
if (!["h750", "rp2040"].includes(values.board!)) { console.error(`unknown board ${values.board}`); process.exit(2); }
if (values.serial !== undefined && !/^\d+$/.test(values.serial)) { console.error(`--serial takes a number, not ${values.serial}\n${USAGE}`); process.exit(2); }

const board = await SimBoard.create({ board: values.board as BoardName, timing: values.timing as FlashTiming, serial: values.serial === undefined ? undefined : Number(values.serial) });
if (values.flash && existsSync(values.flash)) board.flash.data.set(readFileSync(values.flash).subarray(0, board.flash.data.length));
board.powerOn({ button: values.button });
const host = new SimUsbHost(board);
if (host.present()) host.enumerate();

// Simulated time runs at least as fast as wall time: before every request it is brought up
// to the wall clock, and in the background it advances by the wall time that passes, even
// when requests have pushed it ahead (the board goes on working after a client is done).
const wall0 = performance.now(), sim0 = board.clock.now;
let dirty = false;
const served: ServedBoard = {
  board, host,
  catchUp() { board.runUntil(sim0 + (performance.now() - wall0) * 1000); },
  onFlashChanged() { dirty = true; },
};
let lastTick = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  board.runUntil(Math.max(board.clock.now + (now - lastTick) * 1000, sim0 + (now - wall0) * 1000));
  lastTick = now;
}, 5);

function save() {
  if (values.flash && dirty) { writeFileSync(values.flash, board.flash.data); dirty = false; }
}

// One client at a time; the others wait in the queue, unread.
const queue: Socket[] = [];
let active: Socket | null = null;

function serveNext() {
  if (active || !queue.length) return;
  const sock = queue.shift()!;
  active = sock;
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const need = requestLength(buf);
      if (need === "bad") { sock.destroy(); return; }
      if (need === undefined || buf.length < need) return;
      const req = buf.subarray(0, need);
      buf = buf.subarray(need);
      sock.write(handleRequest(served, req));
    }
  };
  sock.on("data", onData);
  sock.on("close", () => { save(); active = null; serveNext(); });
  sock.on("error", () => sock.destroy());
  sock.resume();
}

const server = createServer({ pauseOnConnect: true }, (sock) => { queue.push(sock); serveNext(); });
if (existsSync(values.socket)) rmSync(values.socket);
server.listen(values.socket, () => console.log(`listening ${values.socket}`));

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => { clearInterval(ticker); save(); server.close(); rmSync(values.socket!, { force: true }); process.exit(0); });
}
