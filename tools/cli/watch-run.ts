// `flash.ts flash FILE --watch [--log FILE]` on the command line: real USB, or with --sim the
// simulated boards of --sim-count, plugged in at the start. Ctrl-C stops looking for boards and
// lets the ones in the middle of a flash finish; a second Ctrl-C reports them interrupted.
import type { DfuDevice, Segment } from "../dfu/client";
import type { BoardName } from "../../sim/boards";
import { EXIT } from "./exit-codes";
import { SimSource } from "./sim-source";
import { watch, type DeviceSource, type WatchResult } from "./watch";
import { usbSource } from "./usb-source";
import { socketSource } from "./socket-source";

export interface WatchCli {
  load(dev: DfuDevice): Segment[];
  /** qspiboot's image, for boards in ST's ROM bootloader (watch.ts WatchOptions.install). */
  install?: Uint8Array;
  /** qspiboot for Picos in BOOTSEL mode (watch.ts WatchOptions.installPico). */
  installPico?: Uint8Array;
  leave: boolean; smart: boolean; force: boolean;
  log?: string; json?: boolean; serial?: string; verbose?: boolean;
  sim?: BoardName; simCount: number;
  /** The simulator's USB socket (sim/serve.ts), watched as one USB port. */
  socket?: string;
}

/** Only the board with this serial, when one is given. */
function only(src: DeviceSource, serial?: string): DeviceSource {
  if (!serial) return src;
  return { ...src, scan: async () => (await src.scan()).filter((t) => t.serial === serial) };
}

export async function runWatch(o: WatchCli): Promise<void> {
  let stop!: () => void, abort!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const aborted = new Promise<void>((r) => (abort = r));
  let running = 0, interrupts = 0;
  const onInt = () => {
    if (++interrupts === 1) {
      console.error(`stopping: no new boards${running ? `; waiting for ${running} in the middle of a flash (Ctrl-C again to stop now)` : ""}`);
      stop();
    } else abort();
  };
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onInt);
  // On stderr, --json or not: stdout is the results' (one document with --json).
  console.error(`watching for boards in DFU mode${o.serial ? ` with serial ${o.serial}` : ""}: each is flashed once when it appears (Ctrl-C stops)`);

  const common = {
    load: o.load, install: o.install, installPico: o.installPico, leave: o.leave, smart: o.smart, force: o.force, log: o.log, stop: stopped, abort: aborted,
    onStart: (serial: string) => { running++; console.error(`${serial}  flashing`); },
    report: (line: string) => { running--; if (!o.json) console.log(line); },
  };
  let results: WatchResult[];
  if (o.sim) {
    const src = new SimSource();
    for (let i = 0; i < o.simCount; i++) src.plug(await src.add(o.sim, i));
    // Simulated time runs as fast as it can; between polls real time passes too, so that a
    // simulated watch does not spin while it waits for Ctrl-C.
    const paced: DeviceSource = { scan: () => src.scan(), now: () => src.now(), wait: (ms) => new Promise((r) => setTimeout(r, ms)).then(() => src.wait(ms)) };
    results = await src.world.run(watch({ ...common, source: only(paced, o.serial), pollMs: 100 }), { idleMs: 20 });
  } else if (o.socket) {
    results = await watch({ ...common, source: only(socketSource(o.socket), o.serial) });
  } else {
    const usb = await usbSource();
    if (o.verbose) console.error(`usb: ${usb.mode === "events" ? "hot-plug events, and a look every 2 s" : "no hot-plug events here: polling every 250 ms"}`);
    try { results = await watch({ ...common, source: only(usb, o.serial) }); } finally { await usb.close(); }
  }
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onInt);
  const ok = results.filter((r) => r.ok).length;
  if (o.json) console.log(JSON.stringify(results, null, 2));
  else console.error(`watch stopped: ${results.length} result(s), ${ok} ok, ${results.length - ok} failed`);
  const failed = results.find((r) => !r.ok);
  if (failed) process.exitCode = failed.exitCode ?? EXIT.failed;
  // Stopped now: the transfers still under way (a board that does not answer) must not keep
  // the process alive.
  if (interrupts > 1) process.exit(process.exitCode);
}

