// qspiboot's flasher: `npx tsx tools/flash.ts <command> [options]`. One DFU client
// (tools/dfu/) for real boards (WebUSB through the `usb` package) and the simulator (--sim).
import { Command, Option } from "commander";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { loadImage } from "./image/load";
import { imageSize, type Segment } from "./image/segments";
import { UF2_FAMILY, writeUf2 } from "./image/uf2";
import { writeDfuse } from "./image/dfuse";
import { DfuDevice, DfuError, hex, type FlashReport, type Progress } from "./dfu/client";
import { friendly, recordWords } from "./dfu/messages";
import { familyOf, appBase } from "./dfu/board-image";
import { interruptedState, onInterrupt, type Command as Cmd, type Where } from "./cli/interrupt";
import { realTargets, realTarget, realBus, simTarget, socketTarget, setTrace, NO_BOARD_HINT, type Target } from "./cli/targets";
import { detachOne, findDetachable, detachableRow, type DetachWay } from "./cli/detach";
import { usbDevices } from "./cli/targets";
import { EXIT, exitCodeOf, UsageError, NoDeviceError, MismatchError } from "./cli/exit-codes";
import { ImageError } from "./image/segments";
import { basename } from "node:path";
import { makeReporters, boardLabels } from "./cli/progress";
import { runInstall, romSimTarget, refuseRom, isStRom, loadBin, DEFAULT_BIN, DEFAULT_PICO_BIN } from "./cli/install";
import { checkPicoInstallable } from "./picoboot/install";
import { checkInstallable } from "./dfu/rom-install";
import { runWatch } from "./cli/watch-run";
import { SimPicoRom, picoRomDevices, switchFromBootsel } from "./cli/pico-rom";
import type { BoardName } from "../sim/boards";
import { findSigned, roundUp, toHex, TRAILER_SIZE, type Signed } from "./image/signature";
import { lockKeyOf, keyedSectorDigest, writeLockFile, readLockFile } from "./cli/lock";
import { generateKeyFiles, loadPrivateKey, publicKeyRaw, signWithKey, verifyImage, checkSignedForBoard, PASSPHRASE_ENV } from "./cli/keys";
import { writeHex } from "./image/ihex";
import type { KeyObject } from "node:crypto";

interface Global { detach?: DetachWay | true; socket?: string; sim?: BoardName | "h750-rom" | "pico-rom" | true; simCount: number; simFlash?: string; simKey?: string; simLocked?: string; serial?: string; all?: boolean; json?: boolean; verbose?: boolean }

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

let simBoards: Target[] = [];
/** --sim-flash: the simulated board's flash outlives the command. */
function saveSimFlash(g: Global) {
  const sim = simBoards[0]?.sim;
  if (g.sim && g.simFlash && simBoards[0]?.flashData) return writeFileSync(g.simFlash, simBoards[0].flashData());
  if (!g.sim || !g.simFlash || !sim) return;
  // The board would go on working after the host is done: let it finish (erases, records).
  sim.board.runUntil(sim.board.clock.now + 3e6);
  writeFileSync(g.simFlash, sim.board.flash.data);
}

async function findTargets(g: Global): Promise<Target[]> {
  if (g.socket) return socketTarget(g.socket);
  if (g.sim === "h750-rom") return [await romSimTarget()];
  if (g.sim === "pico-rom") { picoSim = new SimPicoRom(g.simFlash); return []; } // a ROM, no qspiboot board yet
  if (g.sim) {
    const out: Target[] = [];
    const flash = g.simFlash && existsSync(g.simFlash) ? readFileSync(g.simFlash) : undefined;
    const board = g.sim === true ? "h750" : g.sim;
    if (board !== "h750" && board !== "rp2040") throw new UsageError(`--sim ${board}: the simulated boards are h750 and rp2040`);
    if (g.simLocked && !g.simKey) throw new UsageError("--sim-locked goes with --sim-key (a locked board is built with a key)");
    const publicKey = g.simKey ? publicKeyRaw(g.simKey) : undefined;
    const lockKey = g.simLocked ? readLockFile(g.simLocked) : undefined;
    for (let i = 0; i < g.simCount; i++) out.push(await simTarget(board, { serial: i, flash, publicKey, lockKey }));
    simBoards = out;
    return out;
  }
  return realTargets();
}

let picoSim: SimPicoRom | undefined;

/** Picos in BOOTSEL mode, when no qspiboot board is there: the RP2040 boot ROM, not qspiboot. */
async function bootselPicos(g: Global) {
  if (g.sim === "pico-rom") return [{ serial: picoSim!.rom.serial, label: "RP2 Boot (emulated Pico in BOOTSEL mode)" }];
  if (g.sim || g.socket) return [];
  return (await picoRomDevices().catch(() => [])).map((d) => ({ serial: d.serialNumber ?? "", label: `${d.productName ?? "RP2 Boot"} (2e8a:0003)`, usb: d }));
}

async function selectTargets(g: Global): Promise<Target[]> {
  let ts = await findTargets(g);
  // A Pico in BOOTSEL mode answers with the ROM's serial, not qspiboot's: with --serial, only the
  // board itself is meant.
  if (!ts.length && !g.serial) {
    const picos = await bootselPicos(g);
    if (picos.length > 1 && !g.all) {
      throw new UsageError(`${picos.length} Picos in BOOTSEL mode: use --all to switch them all into qspiboot, or plug in one at a time`);
    }
    if (picos.length) {
      ts = await switchFromBootsel(picos.flatMap((p) => ("usb" in p ? [p.usb] : [])), { sim: picoSim, log: (l) => console.error(l), listDfu: realTargets });
      simBoards = ts;
      return ts;
    }
  }
  if (g.serial) ts = ts.filter((t) => t.serial === g.serial);
  // No board in DFU mode: a running application that can be detached into qspiboot is used.
  if (!ts.length && !g.sim && !g.socket) {
    const way = g.detach === true ? undefined : g.detach;
    if (way !== undefined && way !== "dfu" && way !== "cdc") throw new UsageError(`--detach ${way}: dfu or cdc`);
    const d = await detachOne(realBus, { serial: g.serial, any: !!g.detach, way, say: (l) => console.error(l) });
    if (d) ts = [realTarget(d)];
  }
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


type Outcome<T> = { serial: string; ok: true; result: T } | { serial: string; ok: false; error: string; exitCode: number };

/** Run `fn` on every selected board, in parallel, and report. Ctrl-C stops the progress display,
 *  says for each board still working what state it is left in, and exits with status 7. */
async function each<T>(g: Global, command: Cmd, fn: (dev: DfuDevice, t: Target, report: (p: Progress) => void) => Promise<T>, summary: (r: T, t: Target) => string) {
  const targets = await selectTargets(g);
  const mode = g.json ? "json" : process.stdout.isTTY ? "tty" : "plain";
  const reporters = makeReporters(boardLabels(targets.map((t) => t.serial)), mode, clockOf(targets));
  const out: (Outcome<T> | undefined)[] = targets.map(() => undefined);
  const where: Where[] = targets.map(() => ({ phase: "open", written: 0 }));
  const print = (all: Outcome<T>[]) => {
    if (g.json) console.log(JSON.stringify(all.length === 1 ? all[0] : all, null, 2));
    else all.forEach((o, i) => console.log((targets.length > 1 ? `${o.serial}: ` : "") + (o.ok ? summary(o.result, targets[i]) : `error: ${o.error}`)));
    // Several boards: the exit status of the first that failed.
    const failed = all.find((o) => !o.ok) as { exitCode: number } | undefined;
    return failed?.exitCode;
  };
  const off = onInterrupt(() => {
    reporters.forEach((r) => r.stop());
    const all = out.map((o, i) => o ?? { serial: targets[i].serial, ok: false as const, error: interruptedState(command, where[i]), exitCode: EXIT.interrupted });
    process.exit(print(all) ?? EXIT.interrupted);
  });
  await Promise.all(targets.map(async (t, i) => {
    const report = (p: Progress) => {
      where[i] = { phase: p.phase, written: p.phase === "write" ? p.done : where[i].written };
      reporters[i].update(p);
    };
    try {
      const dev = await t.open();
      try { refuseRom(dev); out[i] = { serial: t.serial, ok: true, result: await fn(dev, t, report) }; } finally { await dev.close(); }
    } catch (e) {
      out[i] = { serial: t.serial, ok: false, error: friendly(e as Error), exitCode: exitCodeOf(e) };
    } finally {
      reporters[i].stop();
    }
  }));
  off();
  const code = print(out as Outcome<T>[]);
  if (code !== undefined) process.exitCode = code;
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

/** What goes to a board built with a key must be signed with it (checked here, before anything is erased). */
function forBoard(dev: DfuDevice, segs: Segment[], file: string): Segment[] {
  if (dev.info?.publicKey) checkSignedForBoard(segs, dev.info.publicKey, basename(file), dev.info.versionFloor);
  return segs;
}

const program = new Command("flash.ts")
  .description("qspiboot flasher: put firmware on WeAct STM32H750 and Raspberry Pi Pico boards over USB DFU")
  .addOption(new Option("--sim [board]", "use a simulated board in this process instead of USB (h750 or rp2040; for flash: from the file's addresses when not given; h750-rom: ST's ROM bootloader on a WeAct H750; pico-rom: an emulated Pico held in BOOTSEL, the RP2040 boot ROM)"))
  .addOption(new Option("--sim-count <n>", "with --sim: this many simulated boards").default(1).argParser(Number))
  .option("--sim-flash <file>", "with --sim: keep the simulated flash in this file between runs")
  .option("--sim-key <pub>", "with --sim: the simulated board is built with this public key (signed updates)")
  .option("--sim-locked <lockfile>", "with --sim-key: and locked with this lock file (flash.ts lock-key)")
  .option("--socket <path>", "the simulated board served by sim/serve.ts on this Unix socket")
  .option("--serial <serial>", "the board with this serial number")
  .addOption(new Option("--detach [way]", "with no board in DFU mode: detach any running application with a DFU runtime interface or a CDC port, not only those with qspiboot's VID:PID 1209:0001 (way: dfu or cdc)"))
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
request; 6 verify found differences; 7 the board went away in the middle, or Ctrl-C stopped the
command (it says what state each board is left in). With several boards, the status of the first
that failed.`);

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
  const picos = ts.length ? [] : await bootselPicos(g);
  // Running applications that `flash` would detach (real USB only).
  const apps = g.sim || g.socket ? [] : findDetachable(await usbDevices(), !!g.detach).map(detachableRow);
  if (g.json) return console.log(JSON.stringify([...rows, ...picos.map((p) => ({ serial: p.serial, label: p.label, picoRom: true })), ...apps], null, 2));
  for (const p of picos) {
    console.log(`${p.serial}  ${p.label}: a Pico in BOOTSEL mode (the RP2040 boot ROM), not qspiboot: flash.ts flash switches it into qspiboot, flash.ts install puts qspiboot on it`);
  }
  for (const a of apps) console.log(`${a.serial || "(no serial)"}  ${a.label}: running application; flash detaches it (${a.detach.join(" or ")})`);
  if (!rows.length && !picos.length && !apps.length) return console.log(NO_BOARD_HINT);
  for (const r of rows) {
    if (r.stRom) { console.log(`${r.serial}  ${r.label}: ST's ROM bootloader, not qspiboot (flash.ts install puts qspiboot on it)`); continue; }
    console.log(`${r.serial}  ${r.board ?? r.label}  bootloader ${r.bootloaderVersion ?? "?"}  flash ${((r.flashSize ?? 0) >> 20)} MiB  image: ${recordWords(r.recordStatus)}${r.recordStatus === "valid" ? ` (${r.imageLength} bytes${r.locked ? ", locked" : `, CRC ${hex(r.imageCrc!)}`})` : ""}  in DFU mode: ${r.bootReason ?? "?"}`);
  }
});

program.command("info").description("everything the board says about itself").action(async () => {
  const g = program.opts<Global>();
  await each(g, "info", async (d) => ({ ...d.info, transferSize: d.transferSize, layout: d.layout }), (r: any) => {
    // For a person: addresses (not flash offsets), sizes in units, and "none" for what is not there.
    const at = (off: number) => `0x${hex(r.flashBase + off)}`;
    const valid = r.recordStatus === "valid";
    const rows: [string, string][] = [
      ["board", `${r.board} (bootloader ${r.bootloaderVersion})`],
      ["boot reason", r.bootReason],
      ["flash", `${r.flashSize >> 20} MiB at 0x${hex(r.flashBase)}, JEDEC ID 0x${(r.jedecId >>> 0).toString(16)}, ${r.sectorSize / 1024} KiB sectors`],
      ["application", `${at(r.appStart)}-${at(r.appEnd)} (${(r.appEnd - r.appStart) >> 10} KiB)`],
      ["update record", `${at(r.recordOffset)}: ${r.recordStatus === "valid" || r.recordStatus === "none" ? r.recordStatus : recordWords(r.recordStatus)}`],
      ["image", valid ? `${r.imageLength} bytes at ${at(r.appStart)}, ${r.locked ? "CRC not shown (locked board)" : `CRC-32 0x${hex(r.imageCrc)}`}, record #${r.sequence}` : "none"],
      ...(r.publicKey ? [["signed updates", `key ...${toHex(r.publicKey).slice(-8)}, firmware version floor ${r.versionFloor ?? "?"}${r.locked ? "; locked: no reads of the flash" : ""}`] as [string, string]] : []),
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
  .option("--key <file>", "sign the image with this private key (from keygen) before writing it; a file that is signed already is flashed as it is")
  .option("--version <n>", "with --key: the firmware version to sign (an integer 0..4294967295; downgrade protection compares it)", parseFwVersion)
  .option("--allow-downgrade", "with --key: the signed image may replace one with a higher version")
  .option("--install [bin]", "with --watch: a board that appears in its chip's ROM gets qspiboot first and is flashed when it comes back as a qspiboot board: a WeAct H750 in ST's ROM bootloader (BOOT0 held; build/h750/qspiboot.bin), a Pico in BOOTSEL mode (build/rp2040/qspiboot.bin); a given bin is used for the chip it is built for. Without --install a Pico in BOOTSEL mode that has qspiboot is switched into it (flash kept) and flashed")
  .action(async (file: string, o: { address?: number; leave: boolean; smart: boolean; force?: boolean; watch?: boolean; log?: string; install?: string | true; key?: string; version?: number; allowDowngrade?: boolean }) => {
    const g = program.opts<Global>();
    // The file first: a missing or broken file is the file's fault, whatever is plugged in.
    if (!existsSync(file)) throw new ImageError(basename(file), "no such file");
    if (o.address === undefined) { try { loadImage(file, { address: 0 }); } catch (e) { if (e instanceof ImageError) throw e; } }
    const prepare = signingFor(file, o);
    if (g.sim === true) g.sim = boardForFile(file);
    if (o.log && !o.watch) throw new UsageError("--log goes with --watch");
    if (o.install && !o.watch) throw new UsageError("--install goes with --watch (for one board: flash.ts install)");
    if (o.watch) {
      if (g.sim === "h750-rom") throw new UsageError("--watch flashes qspiboot boards: --sim h750 or rp2040");
      let install: Uint8Array | undefined, installPico: Uint8Array | undefined;
      if (o.install === true) {
        // Each chip's own build, where it has been built; at least one must be there.
        if (existsSync(DEFAULT_BIN)) { install = loadBin(DEFAULT_BIN); checkInstallable(install); }
        if (existsSync(DEFAULT_PICO_BIN)) { installPico = loadBin(DEFAULT_PICO_BIN); checkPicoInstallable(installPico); }
        if (!install && !installPico) loadBin(DEFAULT_BIN); // "does not exist: build it first"
      } else if (o.install) {
        const bin = loadBin(o.install);
        // A Pico build is recognised by its boot2 and marker; anything else is taken as the H750's.
        let pico = true;
        try { checkPicoInstallable(bin); } catch { pico = false; }
        if (pico) installPico = bin; else { checkInstallable(bin); install = bin; }
      }
      return runWatch({ install, installPico, load: (d) => { unlockDigests(d, prepare.key); return forBoard(d, prepare(loadFor(d, file, o.address, { force: !!o.force })), file); }, leave: o.leave, smart: o.smart, force: !!o.force,
        log: o.log, json: g.json, serial: g.serial, sim: g.sim || undefined, simCount: g.simCount, socket: g.socket, verbose: g.verbose });
    }
    // Parse and check the file against the first board before anything is erased anywhere.
    const t0 = performance.now();
    await each<FlashReport & { seconds: number; started?: string }>(g, "flash", async (d, t, report) => {
      const segs = forBoard(d, prepare(loadFor(d, file, o.address, { force: !!o.force })), file);
      unlockDigests(d, prepare.key);
      const start = t.sim ? t.sim.board.clock.now : performance.now() * 1000;
      const r = await d.flash(segs, { leave: o.leave, smart: o.smart, force: !!o.force, progress: report });
      const seconds = ((t.sim ? t.sim.board.clock.now : performance.now() * 1000) - start) / 1e6;
      let started: string | undefined;
      if (t.sim && o.leave) { t.sim.board.step(); started = t.sim.board.mode === "app" ? `0x${hex(t.sim.board.appEntry!)}` : undefined; }
      const signed = findSigned(segs);
      return { ...r, seconds, started, bytes: imageSize(segs), ...(signed ? { signedVersion: signed.trailer.version } : {}) } as any;
    }, (r: any) => `flashed ${r.bytes} bytes${r.signedVersion !== undefined ? ` (signed, firmware version ${r.signedVersion})` : ""}: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent (${r.sectorsTotal - r.sectorsSent} already there), ` +
      `${r.seconds.toFixed(2)} s${g.sim ? " simulated" : ""}` + (r.started ? `; the board runs the application (vector table ${r.started})` : o.leave ? "; the board starts the application" : ""));
    void t0;
  });

/** `--version N` of sign and flash --key: the firmware version in the trailer. */
function parseFwVersion(v: string): number {
  const n = /^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--version ${v === "" ? "(no value)" : v}: the firmware version is an integer 0..4294967295`);
  return n;
}

const NEED_VERSION = "--version N: the firmware version to sign (an integer 0..4294967295, which the bootloader's downgrade protection compares)";

/** flash: what goes to the board. With --key the file's image signed here; a file that carries a
 *  trailer already as it is (without FFh after the trailer, as in a .uf2's last block). */
function signingFor(file: string, o: { address?: number; key?: string; version?: number; allowDowngrade?: boolean }): ((segs: Segment[]) => Segment[]) & { key?: KeyObject } {
  if (!o.key && o.version !== undefined) throw new UsageError("--version goes with --key (the version is signed into the image)");
  if (!o.key && o.allowDowngrade) throw new UsageError("--allow-downgrade goes with --key (the flag is signed into the image)");
  let already: Signed | undefined;
  try { already = findSigned(loadImage(file, { address: o.address ?? 0 }).segments); } catch { /* loadFor says what is wrong */ }
  let key: KeyObject | undefined;
  if (o.key) {
    if (already) throw new UsageError(`${basename(file)} is already signed (firmware version ${already.trailer.version}): flash it without --key`);
    if (o.version === undefined) throw new UsageError(`flash --key needs ${NEED_VERSION}`);
    key = loadPrivateKey(o.key);
  }
  return Object.assign((segs: Segment[]) => {
    if (key) return signWithKey(segs, key, { version: o.version!, allowDowngrade: !!o.allowDowngrade }, basename(file));
    const signed = findSigned(segs);
    return signed ? [{ address: signed.address, data: signed.signed }] : segs;
  }, { key });
}

/** A locked board's sector digests are keyed: with the signing key the flasher can match them
 *  (and send only what changed); without it every sector goes. */
function unlockDigests(d: DfuDevice, key: KeyObject | undefined): void {
  if (key && d.info?.locked && !d.sectorDigest) d.sectorDigest = keyedSectorDigest(lockKeyOf(key));
}

const describe = (s: Signed) => `${s.trailer.length} bytes at 0x${hex(s.address)}, firmware version ${s.trailer.version}, ` +
  `SHA-256 ${toHex(s.trailer.sha256).slice(0, 16)}...${s.trailer.allowDowngrade ? ", downgrade allowed" : ""}`;

program.command("keygen <name>").description("make an Ed25519 signing key: NAME.key (private, PKCS#8 PEM, mode 0600) and NAME.pub (public, SPKI PEM)")
  .addHelpText("after", `\nWith ${PASSPHRASE_ENV} set, NAME.key is encrypted with it (sign and flash --key read it from there too).\nNeither file is overwritten. The private key is never printed.`)
  .action((name: string) => {
    const k = generateKeyFiles(name);
    console.log(`wrote ${k.keyFile}: the private key (mode 0600${k.encrypted ? `, encrypted with ${PASSPHRASE_ENV}` : ""}); keep it secret, out of version control and builds`);
    console.log(`wrote ${k.pubFile}: the public key, for the bootloader build and verify-signature`);
    console.log(`public key (raw, hex): ${toHex(k.publicRaw)}`);
  });

program.command("lock-key <key> <out>").description("derive the secret a locked bootloader build needs (npm run build -- --key NAME.pub --locked OUT) from the signing key; OUT is written with mode 0600")
  .addHelpText("after", "\nThe secret keys the board's sector digests; flash --key and verify --key derive it from the signing key themselves.\nOUT is never overwritten, and its content is never printed.")
  .action((keyFile: string, out: string) => {
    writeLockFile(loadPrivateKey(keyFile), out);
    console.log(`wrote ${out}: the lock secret (mode 0600); keep it as secret as the signing key`);
  });

program.command("sign <file> <out>").description("sign an application image: OUT (.bin, .hex, .uf2 or .dfu) is the image, FFh up to a multiple of 256 bytes, and a 128-byte trailer with the version, SHA-256 and Ed25519 signature")
  .option("--key <file>", "the private key (from keygen)")
  .option("--version <n>", "the firmware version (required; an integer 0..4294967295; downgrade protection compares it)", parseFwVersion)
  .option("--allow-downgrade", "the signed image may replace one with a higher version")
  .option("--address <addr>", "where a .bin goes", num)
  .option("--vid <vid>", "with .dfu: USB vendor ID in the suffix", num, 0x1209)
  .option("--pid <pid>", "with .dfu: USB product ID in the suffix", num, 0x0001)
  .option("--family <f>", "with .uf2: rp2040 or stm32h7 (default: from the address)")
  .action((file: string, out: string, o: { key?: string; version?: number; allowDowngrade?: boolean; address?: number; vid: number; pid: number; family?: string }) => {
    if (!o.key) throw new UsageError("sign needs --key FILE: the private key (flash.ts keygen NAME makes NAME.key)");
    if (o.version === undefined) throw new UsageError(`sign needs ${NEED_VERSION}`);
    const ext = out.toLowerCase().replace(/^.*(\.[^.]*)$/, "$1");
    if (![".bin", ".hex", ".uf2", ".dfu"].includes(ext)) throw new UsageError(`${out}: the output is .bin, .hex, .uf2 or .dfu`);
    const { segments, warnings } = loadImage(file, { address: o.address });
    warn(warnings);
    const already = findSigned(segments);
    if (already) throw new UsageError(`${basename(file)} is already signed (firmware version ${already.trailer.version}): sign the unsigned image`);
    const key = loadPrivateKey(o.key);
    const signed = signWithKey(segments, key, { version: o.version, allowDowngrade: !!o.allowDowngrade }, basename(file));
    const data = ext === ".bin" ? signed[0].data
      : ext === ".hex" ? new TextEncoder().encode(writeHex(signed))
      : ext === ".uf2" ? writeUf2(signed, uf2FamilyFor(signed, o.family), 256, true)
      : writeDfuse(signed, { vid: o.vid, pid: o.pid, bcdDevice: 0xffff });
    writeFileSync(out, data);
    const s = findSigned(signed)!;
    const pad = roundUp(s.trailer.length) - s.trailer.length;
    console.log(`signed ${out}: ${describe(s)}; ${pad} bytes of FFh padding and the ${TRAILER_SIZE}-byte trailer make ${s.signed.length} bytes`);
  });

program.command("verify-signature <file>").description("check a signed file on the host before flashing it: the trailer, the image's SHA-256 and the Ed25519 signature")
  .requiredOption("--pub <file>", "the public key: NAME.pub from keygen, or a file of 64 hex digits")
  .option("--address <addr>", "where a .bin goes (not covered by the signature)", num)
  .action((file: string, o: { pub: string; address?: number }) => {
    const pub = publicKeyRaw(o.pub);
    const { segments, warnings, format } = loadImage(file, { address: o.address ?? 0 });
    warn(warnings);
    const v = verifyImage(segments, pub, basename(file));
    const name = basename(file);
    if (!v.digestOk) throw new ImageError(name, `the image's SHA-256 does not match the trailer's (digest check failed): the image bytes were changed after signing`);
    if (!v.signatureOk) throw new ImageError(name, `the signature does not verify with ${basename(o.pub)} (signature check failed): signed with another key, or the trailer was changed`);
    const s = findSigned(segments)!;
    const at = format === "bin" && o.address === undefined ? `${s.trailer.length} bytes` : undefined;
    console.log(`${name}: good signature (${basename(o.pub)}): ${at ? describe(s).replace(/^\d+ bytes at 0x[0-9a-f]+/, at) : describe(s)}`);
  });

/** The UF2 family a converted file gets: --family, else the chip whose QSPI window holds it. */
function uf2FamilyFor(segs: Segment[], family?: string): number {
  const names: Record<string, number> = { rp2040: UF2_FAMILY.RP2040, stm32h7: UF2_FAMILY.STM32H7, h750: UF2_FAMILY.STM32H7 };
  if (family !== undefined) {
    const f = names[family.toLowerCase()] ?? (/^0x[0-9a-f]{1,8}$/i.test(family) ? Number(family) : undefined);
    if (f === undefined) throw new UsageError(`--family ${family}: rp2040, stm32h7, or a number like 0xe48bff56`);
    return f;
  }
  const lo = segs[0].address;
  if (lo >= 0x10000000 && lo < 0x11000000) return UF2_FAMILY.RP2040;   // RP2040 XIP window
  if (lo >= 0x90000000 && lo < 0xa0000000) return UF2_FAMILY.STM32H7;  // H750 QUADSPI window
  throw new UsageError(`the image starts at 0x${hex(lo)}, in neither board's flash window: give --family`);
}

program.command("convert <file> <out>").description("write any input as a DfuSe .dfu file (for dfu-util and ST's tools), or as a .uf2 (for the UF2 drive)")
  .option("--address <addr>", "where a .bin goes", num)
  .option("--vid <vid>", "USB vendor ID in the suffix", num, 0x1209)
  .option("--pid <pid>", "USB product ID in the suffix", num, 0x0001)
  .option("--family <f>", "UF2 family: rp2040 or stm32h7 (default: from the address)")
  .action((file: string, out: string, o: { address?: number; vid: number; pid: number; family?: string }) => {
    const { segments, warnings } = loadImage(file, { address: o.address });
    warn(warnings);
    if (out.toLowerCase().endsWith(".uf2")) {
      const family = uf2FamilyFor(segments, o.family);
      const uf2 = writeUf2(segments, family, 256, true);
      writeFileSync(out, uf2);
      console.log(`${out}: ${uf2.length / 512} blocks of 256 bytes, family 0x${hex(family)}, ${imageSize(segments)} bytes at ${segments.map((s) => "0x" + hex(s.address)).join(", ")}`);
      return;
    }
    writeFileSync(out, writeDfuse(segments, { vid: o.vid, pid: o.pid, bcdDevice: 0xffff }));
    console.log(`${out}: ${segments.length} element(s), ${imageSize(segments)} bytes at ${segments.map((s) => "0x" + hex(s.address)).join(", ")}`);
  });

program.command("read <file>").description("read flash into a file")
  .option("--address <addr>", "start (default: the application start)", num)
  .option("--length <bytes>", "how much (default: the image the board has recorded)", num)
  .action(async (file: string, o: { address?: number; length?: number }) => {
    const g = program.opts<Global>();
    if (g.all) throw new UsageError("read takes one board: use --serial");
    await each(g, "read", async (d, _t, report) => {
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
  .option("--key <file>", "a locked board: the signing key (its sector digests are keyed with a key derived from it)")
  .action(async (file: string, o: { address?: number; key?: string }) => {
    const g = program.opts<Global>();
    const key = o.key ? loadPrivateKey(o.key) : undefined;
    await each(g, "verify", async (d) => {
      unlockDigests(d, key);
      const bad = await d.verify(loadFor(d, file, o.address));
      if (bad.length) throw new MismatchError(`${bad.length} sector(s) differ: ${bad.slice(0, 8).map((a) => "0x" + hex(a)).join(", ")}${bad.length > 8 ? ", ..." : ""}`);
      return { differing: 0 };
    }, () => "the board holds exactly this file");
  });

program.command("erase").description("erase the application region (the bootloader keeps itself)").action(async () => {
  const g = program.opts<Global>();
  await each(g, "erase", async (d) => { await d.eraseAll(); return {}; }, () => "application region erased");
});

program.command("boot").description("leave DFU mode and run the application").action(async () => {
  const g = program.opts<Global>();
  await each(g, "boot", async (d, t) => {
    await d.leave();
    if (t.sim) t.sim.board.step();
    return { mode: t.sim?.board.mode };
  }, (r) => (r.mode ? `the board is in ${r.mode === "app" ? "its application" : r.mode} mode` : "the board starts its application"));
});

program.command("install [file]").description("put qspiboot on a board through the chip's ROM: a WeAct H750 in ST's ROM DFU bootloader (hold BOOT0 at reset; default build/h750/qspiboot.bin) or a Pico in BOOTSEL mode (hold BOOTSEL while plugging in; default build/rp2040/qspiboot.bin)")
  .option("--no-leave", "stay in the ROM bootloader afterwards")
  .action(async (file: string | undefined, o: { leave: boolean }) => {
    const g = program.opts<Global>();
    await runInstall({ file, sim: g.sim === true ? "h750-rom" : g.sim, simFlash: g.simFlash, json: g.json, leave: o.leave, serial: g.serial });
  });

/** `--version N` after sign or flash is the firmware version, not the flasher's own --version (a
 *  global option, which commander would take anywhere): passed as --version=N, which the global
 *  flag (it takes no value) leaves to the command. */
function firmwareVersionArgs(argv: string[]): string[] {
  const valued = new Set(["--sim-count", "--sim-flash", "--sim-key", "--sim-locked", "--socket", "--serial"]);
  const i = argv.findIndex((a, j) => j >= 2 && (a === "sign" || a === "flash") && !valued.has(argv[j - 1]));
  if (i < 0) return argv;
  const out = argv.slice(0, i + 1);
  for (let j = i + 1; j < argv.length; j++) {
    if (argv[j] === "--") { out.push(...argv.slice(j)); break; }
    if (argv[j] !== "--version") { out.push(argv[j]); continue; }
    const next = argv[j + 1];
    if (next !== undefined && !next.startsWith("--")) { out.push(`--version=${next}`); j++; } else out.push("--version=");
  }
  return out;
}

program.parseAsync(firmwareVersionArgs(process.argv)).then(() => saveSimFlash(program.opts<Global>()), (e: Error) => {
  const code = exitCodeOf(e);
  if (program.opts<Global>().json) console.log(JSON.stringify({ ok: false, error: e.message, exitCode: code }, null, 2));
  else if (!(e as { printed?: boolean }).printed) console.error(`error: ${e.message}`);
  process.exit(code === EXIT.ok ? EXIT.failed : code);
});
