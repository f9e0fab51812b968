// `flash.ts flash FILE --watch`: the production line. Every qspiboot board that appears in DFU
// mode (plugged in, or reset into the bootloader) is flashed once, in parallel with the others,
// until stopped. Boards come from a DeviceSource: real USB (tools/cli/usb-source.ts), the
// simulator's socket (socket-source.ts), or simulated boards a test plugs in and pulls out
// (sim-source.ts).
import { appendFileSync } from "node:fs";
import { DfuDevice, hex, isGone, toSectors, type Progress, type Segment } from "../dfu/client";
import { imageSize } from "../image/segments";
import { EXIT, exitCodeOf } from "./exit-codes";
import { interruptedState } from "./interrupt";
import { BOOTSEL_STILL_HELD } from "./pico-rom";
import { refuseRom, isStRom } from "./install";
import { installBootloader } from "../dfu/rom-install";
import { installPico, hasQspiboot, switchToQspiboot } from "../picoboot/install";
import type { Target } from "./targets";

/** Where boards come from, and the time they live in. */
export interface DeviceSource {
  /** The boards in DFU mode now. */
  scan(): Promise<Target[]>;
  /** Resolves `ms` later in the source's time. */
  wait(ms: number): Promise<void>;
  /** The source's clock, in milliseconds. */
  now(): number;
}

export interface WatchResult {
  serial: string;
  /** Which appearance of this serial this is (1 for the first time it was seen). */
  appearance: number;
  ok: boolean;
  error?: string;
  exitCode?: number;
  bytes: number;
  /** Bytes the board was sent (whole sectors; only those that differed from the board's). */
  bytesSent: number;
  sectorsSent: number;
  sectorsTotal: number;
  seconds: number;
  /** The board was in its chip's ROM (ST's DFU bootloader, or a Pico in BOOTSEL mode) and got
   *  qspiboot itself (WatchOptions.install / installPico). */
  installed?: boolean;
  /** Which ROM the board was in, when it was in one. */
  rom?: "st" | "rp2040";
  /** A Pico in BOOTSEL mode with qspiboot was switched into qspiboot's DFU mode (flash kept). */
  switched?: boolean;
  /** The CRC-32 the board recorded for its image (INFO request after manifestation). */
  imageCrc?: number;
  time: string;
}

export interface WatchOptions {
  source: DeviceSource;
  /** The image for a board (refusing it throws): files may depend on the board (UF2 families). */
  load(dev: DfuDevice): Segment[];
  leave: boolean;
  smart: boolean;
  force: boolean;
  /** qspiboot's own image (build/h750/qspiboot.bin): an H750 that appears in ST's ROM bootloader
   *  gets it (flash.ts install), starts it, and comes back as a qspiboot board to be flashed.
   *  Without it such a board gets an error line. */
  install?: Uint8Array;
  /** qspiboot for the Pico (build/rp2040/qspiboot.bin): a Pico that appears in BOOTSEL mode gets
   *  it through PICOBOOT (flash.ts install) and comes back as a qspiboot board to be flashed.
   *  Without it, a Pico in BOOTSEL mode that has qspiboot is switched into qspiboot's DFU mode
   *  (its flash kept) and flashed when it comes back; one without qspiboot gets an error line. */
  installPico?: Uint8Array;
  /** Append one JSON line per result here. */
  log?: string;
  /** Resolves when the user asks to stop: no new boards are started, the running ones finish. */
  stop: Promise<unknown>;
  /** Resolves when the user insists: the boards still running are reported as interrupted. */
  abort?: Promise<unknown>;
  pollMs?: number;
  /** Called with each result line and its record. */
  report(line: string, r: WatchResult): void;
  /** A board's flash begins. */
  onStart?(serial: string): void;
  /** Progress of a board, for a display (optional). */
  progress?(serial: string, p: Progress): void;
  /** What the wall clock says, for the log's timestamps (a test may fix it). */
  date?: () => Date;
}

/** A Pico's ROM that comes back this soon after it was switched or installed: BOOTSEL is still
 *  held (the ROM's reboot went to the ROM again), not a new appearance to act on. */
const BOOTSEL_HELD_MS = 10_000;

export function resultLine(r: WatchResult): string {
  if (r.installed && r.rom === "rp2040") return `${r.serial}  ok     installed qspiboot (${r.bytes} bytes, verified) through the Pico's boot ROM  ${r.seconds.toFixed(2)} s  it reboots into qspiboot`;
  if (r.installed) return `${r.serial}  ok     installed qspiboot (${r.bytes} bytes, verified) in ST's ROM bootloader  ${r.seconds.toFixed(2)} s  it starts qspiboot`;
  if (r.switched) return `${r.serial}  ok     switched from BOOTSEL mode to qspiboot's DFU mode (flash kept)  ${r.seconds.toFixed(2)} s  it comes back as a qspiboot board`;
  const crc = r.imageCrc !== undefined ? `CRC 0x${hex(r.imageCrc)}` : "CRC -";
  return `${r.serial}  ${r.ok ? "ok   " : "error"}  ${r.bytesSent} bytes sent (${r.sectorsSent}/${r.sectorsTotal} sectors)  ` +
    `${r.seconds.toFixed(2)} s  ${crc}` + (r.ok ? "" : `  ${r.error}`);
}

/** Flash boards as they appear until stopped; returns every result, in the order they ended. */
export async function watch(o: WatchOptions): Promise<WatchResult[]> {
  const results: WatchResult[] = [];
  const running = new Map<string, Promise<void>>();
  // Serials flashed during their current appearance: forgotten when a scan no longer sees them.
  const handled = new Set<string>();
  const appearances = new Map<string, number>();
  // How far each running flash got, for the report when it is interrupted.
  const where = new Map<string, { phase: string; written: number }>();
  // When each Pico ROM (by serial) was last switched or installed.
  const romActed = new Map<string, number>();
  let stopped = false, aborted = false;
  void o.stop.then(() => { stopped = true; });

  const emit = (r: WatchResult) => {
    results.push(r);
    if (o.log) appendFileSync(o.log, JSON.stringify(r) + "\n");
    o.report(resultLine(r), r);
  };

  const job = async (t: Target, appearance: number) => {
    const t0 = o.source.now();
    const r: WatchResult = { serial: t.serial, appearance, ok: false, bytes: 0, bytesSent: 0, sectorsSent: 0, sectorsTotal: 0, seconds: 0, time: "" };
    let written = 0, toWrite = 0, phase = "open", dev: DfuDevice | undefined;
    const progress = (p: Progress) => {
      phase = p.phase;
      if (p.phase === "write") { written = p.done; toWrite = p.total; }
      where.set(t.serial, { phase, written });
      o.progress?.(t.serial, p);
    };
    try {
      if (t.openPicoboot) {
        r.rom = "rp2040";
        const last = romActed.get(t.serial);
        if (last !== undefined && o.source.now() - last < BOOTSEL_HELD_MS) {
          romActed.delete(t.serial);
          throw Object.assign(new Error(`${BOOTSEL_STILL_HELD}; nothing was done this time`), { exitCode: EXIT.failed });
        }
        const pb = await t.openPicoboot();
        try {
          if (o.installPico) {
            const rep = await installPico(pb, o.installPico, { reboot: true, progress });
            Object.assign(r, { installed: true, bytes: rep.bytes, bytesSent: rep.bytes, ok: true });
          } else if (!(await hasQspiboot(pb))) {
            throw Object.assign(new Error("a Pico in BOOTSEL mode without qspiboot: nothing written; --watch --install puts qspiboot on it"), { exitCode: EXIT.noDevice });
          } else {
            await switchToQspiboot(pb);
            Object.assign(r, { switched: true, ok: true });
          }
          romActed.set(t.serial, o.source.now());
        } finally { await pb.close().catch(() => {}); }
        return;
      }
      dev = await t.open();
      if (o.install && isStRom(dev)) {
        const rep = await installBootloader(dev, o.install, { leave: true, progress });
        Object.assign(r, { installed: true, bytes: rep.bytes, bytesSent: rep.bytes, ok: true });
        return;
      }
      refuseRom(dev);
      const segs = o.load(dev);
      r.bytes = imageSize(segs);
      r.sectorsTotal = toSectors(segs, dev.info?.sectorSize ?? 4096, dev.layout.segments[0].start).size;
      const f = await dev.flash(segs, { leave: false, smart: o.smart, force: o.force, progress });
      Object.assign(r, { sectorsSent: f.sectorsSent, sectorsTotal: f.sectorsTotal, bytesSent: f.bytesSent });
      // Manifested: the board has verified and recorded the image; its record says which.
      const info = await dev.readInfo();
      if (info.recordStatus === "valid") r.imageCrc = info.imageCrc;
      if (o.leave) await dev.leave(progress);
      if (t.sim && o.leave) t.sim.board.step();
      r.ok = true;
    } catch (e) {
      const sector = dev?.info?.sectorSize ?? 4096;
      r.sectorsSent = Math.round(written / sector);
      r.bytesSent = written;
      r.error = !isGone(e) ? `${t.serial}: ${(e as Error).message}`
        : r.rom === "rp2040" && o.installPico
          ? `${t.serial} (a Pico in BOOTSEL mode) went away in the middle of the install: boot2 is written last, so it comes up in BOOTSEL mode by itself; plug it in again`
        : r.rom === "rp2040"
          ? `${t.serial} (a Pico in BOOTSEL mode) went away before it was switched to qspiboot: its flash is untouched; plug it in again`
        : phase === "manifest"
          ? `${t.serial} went away in the middle (unplugged or reset) while it checked and recorded the image, all ${written} bytes sent: ` +
            "if it recorded it, it starts it; if it comes back in DFU mode, the next flash completes it"
          : `${t.serial} went away in the middle (unplugged or reset) after ${written} of ${toWrite || "?"} bytes: ` +
            "its record keeps the half-written image from starting; plug it in again and the next flash sends only the missing sectors";
      r.exitCode = (e as { exitCode?: number }).exitCode ?? exitCodeOf(e);
    } finally {
      await dev?.close();
      r.seconds = (o.source.now() - t0) / 1000;
      r.time = (o.date?.() ?? new Date()).toISOString();
      if (!aborted) emit(r);
    }
  };

  while (!stopped) {
    const seen = await o.source.scan();
    if (stopped) break;
    const now = new Set(seen.map((t) => t.serial));
    for (const s of [...handled]) if (!now.has(s)) handled.delete(s);
    for (const t of seen) {
      // A serial still being flashed (its board pulled out and back quickly) waits for that job.
      if (handled.has(t.serial) || running.has(t.serial)) continue;
      handled.add(t.serial);
      const n = (appearances.get(t.serial) ?? 0) + 1;
      appearances.set(t.serial, n);
      o.onStart?.(t.serial);
      where.set(t.serial, { phase: "open", written: 0 });
      const p = job(t, n).finally(() => { running.delete(t.serial); where.delete(t.serial); });
      running.set(t.serial, p);
    }
    await Promise.race([o.source.wait(o.pollMs ?? 250), o.stop]);
  }
  // Stopped: the boards in the middle of a flash finish, unless the user insists.
  const left = Promise.all(running.values()).then(() => "done" as const);
  const how = await Promise.race([left, ...(o.abort ? [o.abort.then(() => "abort" as const)] : [])]);
  if (how === "abort") {
    aborted = true;
    for (const serial of running.keys()) {
      const at = where.get(serial) ?? { phase: "open", written: 0 };
      emit({
        serial, appearance: appearances.get(serial) ?? 1, ok: false, bytes: 0, bytesSent: at.written, sectorsSent: 0, sectorsTotal: 0, seconds: 0,
        error: `${serial}: ${interruptedState("flash", at)}`,
        exitCode: EXIT.interrupted, time: (o.date?.() ?? new Date()).toISOString(),
      });
    }
  }
  return results;
}
