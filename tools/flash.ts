// qspiboot's flasher: `npx tsx tools/flash.ts <command> [options]`. One DFU client
// (tools/dfu/) for real boards (WebUSB through the `usb` package) and the simulator (--sim).
import { Command, Option } from "commander";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadImage } from "./image/load";
import { imageSize, type Segment } from "./image/segments";
import { UF2_FAMILY } from "./image/uf2";
import { writeDfuse } from "./image/dfuse";
import { DfuDevice, DfuError, hex, type FlashReport } from "./dfu/client";
import { realTargets, simTarget, socketTarget, setTrace, NO_BOARD_HINT, type Target } from "./cli/targets";
import { EXIT, exitCodeOf, UsageError, NoDeviceError, MismatchError } from "./cli/exit-codes";
import { ImageError } from "./image/segments";
import { basename } from "node:path";
import { makeReporters, boardLabels } from "./cli/progress";
import { runInstall, romSimTarget, refuseRom, isStRom } from "./cli/install";
import { runWatch } from "./cli/watch-run";
import type { BoardName } from "../sim/boards";

interface Global { socket?: string; sim?: BoardName | "h750-rom" | true; simCount: number; simFlash?: string; serial?: string; all?: boolean; json?: boolean; verbose?: boolean }

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

let simBoards: Target[] = [];
/** --sim-flash: the simulated board's flash outlives the command. */
function saveSimFlash(g: Global) {
  const sim = simBoards[0]?.sim;
  if (!g.sim || !g.simFlash || !sim) return;
  // The board would go on working after the host is done: let it finish (erases, records).
  sim.board.runUntil(sim.board.clock.now + 3e6);
  writeFileSync(g.simFlash, sim.board.flash.data);
}

async function findTargets(g: Global): Promise<Target[]> {
  if (g.socket) return socketTarget(g.socket);
  if (g.sim === "h750-rom") return [await romSimTarget()];
  if (g.sim) {
    const out: Target[] = [];
    const flash = g.simFlash && existsSync(g.simFlash) ? readFileSync(g.simFlash) : undefined;
    const board = g.sim === true ? "h750" : g.sim;
    if (board !== "h750" && board !== "rp2040") throw new UsageError(`--sim ${board}: the simulated boards are h750 and rp2040`);
    for (let i = 0; i < g.simCount; i++) out.push(await simTarget(board, { serial: i, flash }));
    simBoards = out;
    return out;
  }
  return realTargets();
}

async function selectTargets(g: Global): Promise<Target[]> {
  let ts = await findTargets(g);
  if (g.serial) ts = ts.filter((t) => t.serial === g.serial);
  if (!ts.length) throw new NoDeviceError(g.serial ? `no board with serial ${g.serial}. ${NO_BOARD_HINT}` : NO_BOARD_HINT);
  if (ts.length > 1 && !g.all) {
    throw new UsageError(`${ts.length} boards found: pick one with --serial, or use --all:\n` + ts.map((t) => `  ${t.serial}  ${t.label}`).join("\n"));
  }
  return ts;
}

function clockOf(targets: Target[]): () => number {
  const sim = targets[0]?.sim;
  return sim ? () => sim.board.clock.now / 1000 : () => performance.now();
}

function familyOf(dev: DfuDevice): number | undefined {
  return dev.info?.boardId === 1 ? UF2_FAMILY.STM32H7 : dev.info?.boardId === 2 ? UF2_FAMILY.RP2040 : undefined;
}

function appBase(dev: DfuDevice): number {
  return dev.layout.segments.find((s) => s.writable)!.start;
}

function friendly(e: Error): string {
  if (e instanceof DfuError && e.status === 0x0a) {
    return "the board found no valid application to record and start (errFIRMWARE): flash one; the board stays in DFU mode";
  }
  if (e.name === "NotFoundError" || /disconnected|LIBUSB_ERROR_NO_DEVICE/.test(e.message)) {
    return "the board left DFU mode in the middle (unplugged or reset?). Its update record keeps a half-written image " +
      "from running: put it back in DFU mode and flash again.";
  }
  return e.message;
}

/** Run `fn` on every selected board, in parallel, and report. */
async function each<T>(g: Global, fn: (dev: DfuDevice, t: Target, report: (p: any) => void) => Promise<T>, summary: (r: T, t: Target) => string) {
  const targets = await selectTargets(g);
  const mode = g.json ? "json" : process.stdout.isTTY ? "tty" : "plain";
  const reporters = makeReporters(boardLabels(targets.map((t) => t.serial)), mode, clockOf(targets));
  const results = await Promise.allSettled(targets.map(async (t, i) => {
    const dev = await t.open();
    try { refuseRom(dev); return await fn(dev, t, (p) => reporters[i].update(p)); } finally { reporters[i].stop(); await dev.close(); }
  }));
  const out = results.map((r, i) => r.status === "fulfilled"
    ? { serial: targets[i].serial, ok: true, result: r.value }
    : { serial: targets[i].serial, ok: false, error: friendly(r.reason as Error), exitCode: exitCodeOf(r.reason) });
  if (g.json) console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
  else out.forEach((o, i) => console.log((targets.length > 1 ? `${o.serial}: ` : "") + (o.ok ? summary((o as any).result, targets[i]) : `error: ${(o as any).error}`)));
  // Several boards: the exit status of the first that failed.
  const failed = out.find((o) => !o.ok) as { exitCode: number } | undefined;
  if (failed) process.exitCode = failed.exitCode;
}

/** The simulated board a file is meant for, from where its data goes (a .bin: the H750). */
function boardForFile(file: string): BoardName {
  try {
    const { segments } = loadImage(file, { address: 0x90000000 });
    return segments[0].address >= 0x10000000 && segments[0].address < 0x20000000 ? "rp2040" : "h750";
  } catch {
    return "h750";
  }
}

const warned = new Set<string>();
/** A file's warnings on stderr (stdout may be --json), once each when several boards load it. */
function warn(warnings: string[]) {
  for (const w of warnings) if (!warned.has(w)) { warned.add(w); console.error(`warning: ${w}`); }
}

/** The file's segments for this board; for flashing (`flash` set), refused unless it would boot. */
function loadFor(dev: DfuDevice, file: string, address?: number, flash?: { force: boolean }): Segment[] {
  const { segments, warnings } = loadImage(file, { address: address ?? appBase(dev), family: familyOf(dev) });
  warn(warnings);
  if (flash) dev.checkImage(segments, flash.force);
  else dev.checkWritable(segments);
  return segments;
}

const program = new Command("flash.ts")
  .description("qspiboot flasher: put firmware on WeAct STM32H750 and Raspberry Pi Pico boards over USB DFU")
  .addOption(new Option("--sim [board]", "use a simulated board in this process instead of USB (h750 or rp2040; for flash: from the file's addresses when not given; for install: h750-rom, ST's ROM bootloader)"))
  .addOption(new Option("--sim-count <n>", "with --sim: this many simulated boards").default(1).argParser(Number))
  .option("--sim-flash <file>", "with --sim: keep the simulated flash in this file between runs")
  .option("--socket <path>", "the simulated board served by sim/serve.ts on this Unix socket")
  .option("--serial <serial>", "the board with this serial number")
  .option("--all", "every attached board, in parallel")
  .option("--json", "machine-readable output: one JSON document on stdout, errors included")
  .option("-v, --verbose", "show every USB control transfer (DFU requests) with its answer and time, on stderr")
  .version(VERSION, "-V, --version", "print the flasher's version")
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError()
  // Commander's own errors (unknown option, missing argument) are usage errors: exit 2; it has
  // printed them already. Help and version are not errors.
  .exitOverride((err) => {
    if (err.exitCode === 0 || /help|version/.test(err.code)) process.exit(0);
    throw Object.assign(new UsageError(err.message), { printed: true });
  })
  .hook("preAction", () => { if (program.opts<Global>().verbose) setTrace((l) => console.error(`usb: ${l}`)); });

program.addHelpText("after", `
Exit status: 0 done; 1 failed (transfer error, USB unavailable); 2 usage; 3 no board found (or no
simulator at --socket); 4 the file cannot be read or would not boot; 5 the board refused a
request; 6 verify found differences; 7 the board went away in the middle. With several boards,
the status of the first that failed.`);

program.command("version").description("print the flasher's version").action(() => console.log(VERSION));

const num = (v: string) => { const n = Number(v); if (!Number.isFinite(n) || n < 0) throw new UsageError(`not a number: ${v}`); return n; };

program.command("list").description("boards in DFU mode: board, serial, bootloader version, flash, image state").action(async () => {
  const g = program.opts<Global>();
  const ts = await findTargets(g);
  const rows = [];
  for (const t of ts) {
    const d = await t.open();
    rows.push({ serial: t.serial, label: t.label, ...d.info, layout: d.layoutText(), stRom: isStRom(d) });
    await d.close();
  }
  if (g.json) return console.log(JSON.stringify(rows, null, 2));
  if (!rows.length) return console.log(NO_BOARD_HINT);
  for (const r of rows) {
    if (r.stRom) { console.log(`${r.serial}  ${r.label}: ST's ROM bootloader, not qspiboot (flash.ts install puts qspiboot on it)`); continue; }
    console.log(`${r.serial}  ${r.board ?? r.label}  bootloader ${r.bootloaderVersion ?? "?"}  flash ${((r.flashSize ?? 0) >> 20)} MiB  image: ${r.recordStatus ?? "?"}${r.recordStatus === "valid" ? ` (${r.imageLength} bytes, CRC ${hex(r.imageCrc!)})` : ""}  in DFU mode: ${r.bootReason ?? "?"}`);
  }
});

program.command("info").description("everything the board says about itself").action(async () => {
  const g = program.opts<Global>();
  await each(g, async (d) => ({ ...d.info, transferSize: d.transferSize, layout: d.layout }), (r: any) => {
    // For a person: addresses (not flash offsets), sizes in units, and "none" for what is not there.
    const at = (off: number) => `0x${hex(r.flashBase + off)}`;
    const valid = r.recordStatus === "valid";
    const rows: [string, string][] = [
      ["board", `${r.board} (bootloader ${r.bootloaderVersion})`],
      ["boot reason", r.bootReason],
      ["flash", `${r.flashSize >> 20} MiB at 0x${hex(r.flashBase)}, JEDEC ID 0x${(r.jedecId >>> 0).toString(16)}, ${r.sectorSize / 1024} KiB sectors`],
      ["application", `${at(r.appStart)}-${at(r.appEnd)} (${(r.appEnd - r.appStart) >> 10} KiB)`],
      ["update record", `${at(r.recordOffset)}: ${r.recordStatus}`],
      ["image", valid ? `${r.imageLength} bytes at ${at(r.appStart)}, CRC-32 0x${hex(r.imageCrc)}, record #${r.sequence}` : "none"],
      ["RAM", r.ramStart !== undefined ? `0x${hex(r.ramStart)}-0x${hex(r.ramEnd)}` : "not reported (older bootloader)"],
      ["transfer size", `${r.transferSize} bytes`],
      ["writable", r.layout.segments.filter((s: any) => s.writable).map((s: any) => `0x${hex(s.start)}-0x${hex(s.end)}`).join(", ")],
    ];
    return rows.map(([k, v]) => `${k.padEnd(14)} ${v}`).join("\n");
  });
});

program.command("flash <file>").description("write .elf, .hex, .bin, .uf2 or .dfu, then start it")
  .option("--address <addr>", "where a .bin goes (default: the application start)", num)
  .option("--no-leave", "stay in DFU mode afterwards")
  .option("--no-smart", "send every sector, even those the board already holds")
  .option("--force", "write a file even if the board would not boot it (no vector table, linked for another address)")
  .option("--watch", "production line: flash every board as it appears in DFU mode, once per appearance, in parallel, until Ctrl-C; one line per board and result")
  .option("--log <file>", "with --watch: append one JSON line per board result (serial, result, bytes, seconds, image CRC, time)")
  .action(async (file: string, o: { address?: number; leave: boolean; smart: boolean; force?: boolean; watch?: boolean; log?: string }) => {
    const g = program.opts<Global>();
    // The file first: a missing or broken file is the file's fault, whatever is plugged in.
    if (!existsSync(file)) throw new ImageError(basename(file), "no such file");
    if (o.address === undefined) { try { loadImage(file, { address: 0 }); } catch (e) { if (e instanceof ImageError) throw e; } }
    if (g.sim === true) g.sim = boardForFile(file);
    if (o.log && !o.watch) throw new UsageError("--log goes with --watch");
    if (o.watch) {
      if (g.sim === "h750-rom") throw new UsageError("--watch flashes qspiboot boards: --sim h750 or rp2040");
      return runWatch({ load: (d) => loadFor(d, file, o.address, { force: !!o.force }), leave: o.leave, smart: o.smart, force: !!o.force,
        log: o.log, json: g.json, serial: g.serial, sim: g.sim || undefined, simCount: g.simCount });
    }
    // Parse and check the file against the first board before anything is erased anywhere.
    const t0 = performance.now();
    await each<FlashReport & { seconds: number; started?: string }>(g, async (d, t, report) => {
      const segs = loadFor(d, file, o.address, { force: !!o.force });
      const start = t.sim ? t.sim.board.clock.now : performance.now() * 1000;
      const r = await d.flash(segs, { leave: o.leave, smart: o.smart, force: !!o.force, progress: report });
      const seconds = ((t.sim ? t.sim.board.clock.now : performance.now() * 1000) - start) / 1e6;
      let started: string | undefined;
      if (t.sim && o.leave) { t.sim.board.step(); started = t.sim.board.mode === "app" ? `0x${hex(t.sim.board.appEntry!)}` : undefined; }
      return { ...r, seconds, started, bytes: imageSize(segs) } as any;
    }, (r: any) => `flashed ${r.bytes} bytes: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent (${r.sectorsTotal - r.sectorsSent} already there), ` +
      `${r.seconds.toFixed(2)} s${g.sim ? " simulated" : ""}` + (r.started ? `; the board runs the application (vector table ${r.started})` : o.leave ? "; the board starts the application" : ""));
    void t0;
  });

program.command("convert <file> <out>").description("write any input as a DfuSe .dfu file (for dfu-util and ST's tools)")
  .option("--address <addr>", "where a .bin goes", num)
  .option("--vid <vid>", "USB vendor ID in the suffix", num, 0x1209)
  .option("--pid <pid>", "USB product ID in the suffix", num, 0x0001)
  .action((file: string, out: string, o: { address?: number; vid: number; pid: number }) => {
    const { segments, warnings } = loadImage(file, { address: o.address });
    warn(warnings);
    writeFileSync(out, writeDfuse(segments, { vid: o.vid, pid: o.pid, bcdDevice: 0xffff }));
    console.log(`${out}: ${segments.length} element(s), ${imageSize(segments)} bytes at ${segments.map((s) => "0x" + hex(s.address)).join(", ")}`);
  });

program.command("read <file>").description("read flash into a file")
  .option("--address <addr>", "start (default: the application start)", num)
  .option("--length <bytes>", "how much (default: the image the board has recorded)", num)
  .action(async (file: string, o: { address?: number; length?: number }) => {
    const g = program.opts<Global>();
    if (g.all) throw new UsageError("read takes one board: use --serial");
    await each(g, async (d, _t, report) => {
      const address = o.address ?? appBase(d);
      const length = o.length ?? (d.info?.recordStatus === "valid" ? d.info.imageLength : undefined);
      if (!length) throw new UsageError(`the board has no recorded image (record: ${d.info?.recordStatus ?? "unknown"}): give --length`);
      const data = await d.read(address, length, report);
      writeFileSync(file, data);
      return { address, length };
    }, (r) => `read ${r.length} bytes from 0x${hex(r.address)} into ${file}`);
  });

program.command("verify <file>").description("compare the board's flash with a file (by sector CRC)")
  .option("--address <addr>", "where a .bin goes", num)
  .action(async (file: string, o: { address?: number }) => {
    const g = program.opts<Global>();
    await each(g, async (d) => {
      const bad = await d.verify(loadFor(d, file, o.address));
      if (bad.length) throw new MismatchError(`${bad.length} sector(s) differ: ${bad.slice(0, 8).map((a) => "0x" + hex(a)).join(", ")}${bad.length > 8 ? ", ..." : ""}`);
      return { differing: 0 };
    }, () => "the board holds exactly this file");
  });

program.command("erase").description("erase the application region (the bootloader keeps itself)").action(async () => {
  const g = program.opts<Global>();
  await each(g, async (d) => { await d.eraseAll(); return {}; }, () => "application region erased");
});

program.command("boot").description("leave DFU mode and run the application").action(async () => {
  const g = program.opts<Global>();
  await each(g, async (d, t) => {
    await d.leave();
    if (t.sim) t.sim.board.step();
    return { mode: t.sim?.board.mode };
  }, (r) => (r.mode ? `the board is in ${r.mode === "app" ? "its application" : r.mode} mode` : "the board starts its application"));
});

program.command("install [file]").description("put qspiboot on a WeAct H750 through ST's ROM DFU bootloader (hold BOOT0 at reset); default build/h750/qspiboot.bin")
  .option("--no-leave", "stay in the ROM bootloader afterwards")
  .action(async (file: string | undefined, o: { leave: boolean }) => {
    const g = program.opts<Global>();
    await runInstall({ file, sim: g.sim === true ? "h750-rom" : g.sim, simFlash: g.simFlash, json: g.json, leave: o.leave, serial: g.serial });
  });

program.parseAsync().then(() => saveSimFlash(program.opts<Global>()), (e: Error) => {
  const code = exitCodeOf(e);
  if (program.opts<Global>().json) console.log(JSON.stringify({ ok: false, error: e.message, exitCode: code }, null, 2));
  else if (!(e as { printed?: boolean }).printed) console.error(`error: ${e.message}`);
  process.exit(code === EXIT.ok ? EXIT.failed : code);
});
