// A simulated board: the real core .wasm with its HAL imports bound to the hardware models
// (flash chip behind a QSPI bus, USB endpoint 0, clock, reset-surviving flag, button).
// Power cuts, resets and the jump into the application are modelled here; everything the
// bootloader decides is decided by the .wasm.
import { readFileSync } from "node:fs";
import { buildCore, buildCoreUf2, buildCoreVariant, type CoreVariant } from "../tools/build-core";
import { SimClock } from "./clock";
import { makeHalImports, ledReset, type SimLed } from "./hal";
import { BoardHalt } from "./halt";
import type { BoardFacts, FlashBus } from "./models";
import { Ep0Model } from "./usb-ep0";
import { BOARDS, type BoardName } from "./boards";
import { makeFlash, type FlashTiming, type SimFlash } from "./flash-setup";
import type { ChipName, ChipParams } from "./chips";

// boot2's read (hal/rp2040/boot2.S), in boot/flash/cmd.ts's format: EBh on one line, 24-bit
// address and mode byte A0h on four, 4 dummy clocks, data on four.
const BOOT2_READ = (0xeb | (1 << 8) | (3 << 10) | (2 << 12) | (3 << 14) | (0xa0 << 16) | (4 << 24) | (3 << 29)) >>> 0;

export interface CoreExports {
  memory: WebAssembly.Memory;
  _start(): void;
  boot(): void;
  init(): void;
  poll(): number;
}

export interface SimBoardOptions {
  board?: BoardName;
  timing?: FlashTiming;
  /** Another flash chip (default: the board's own: a name from sim/chips.ts, or a test's own
   *  parameters), or a whole prepared flash. */
  chip?: ChipName | ChipParams;
  flash?: SimFlash;
  /** Varies the MCU unique ID so several boards have different serial numbers. */
  serial?: number;
  /** A compiled core; default: build/core/core.wasm. */
  module?: WebAssembly.Module;
}

let cachedModule: WebAssembly.Module | undefined;
let cachedUf2Module: WebAssembly.Module | undefined;

/** Build (if needed) and compile the core once per process. */
export async function loadCore(): Promise<WebAssembly.Module> {
  if (!cachedModule) cachedModule = new WebAssembly.Module(readFileSync(await buildCore()));
  return cachedModule;
}

const variantModules = new Map<string, WebAssembly.Module>();
/** A core variant (tools/build-core.ts): pass it as `module`. A signed core needs the board's
 *  `facts.publicKey` set before power-on, a locked one `facts.lockKey` too. */
export async function loadCoreVariant(v: CoreVariant): Promise<WebAssembly.Module> {
  const key = `${!!v.uf2}-${!!v.signed}-${!!v.locked}`;
  if (!variantModules.has(key)) variantModules.set(key, new WebAssembly.Module(readFileSync(await buildCoreVariant(v))));
  return variantModules.get(key)!;
}

/** The core built with the UF2 drive (build/core-uf2/core.wasm): pass it as `module`. */
export async function loadUf2Core(): Promise<WebAssembly.Module> {
  if (!cachedUf2Module) cachedUf2Module = new WebAssembly.Module(readFileSync(await buildCoreUf2()));
  return cachedUf2Module;
}

// The application's "stay in DFU mode" request (hal/app/qspiboot.h, boot/boot.ts).
const FLAG_STAY_IN_DFU = 0x51424446;

// Simulated CPU time of one pass of the bootloader's main loop.
const LOOP_US = 1;
// How far an idle board may skip ahead when nothing is running (bounds the wait for timers).
const IDLE_QUANTUM_US = 50;
// Passes of the main loop that report no work before an idle board skips ahead (idleUntil).
const SPIN_PASSES = 4;

export class SimBoard {
  readonly facts: BoardFacts;
  readonly clock = new SimClock();
  readonly ep0: Ep0Model;
  readonly flash: SimFlash;
  readonly flags = { value: 0 };
  readonly button = { held: false };
  /** The status LED's pin (on/off) and every change of it in simulated time. */
  readonly led: SimLed = { on: false, timeline: [] };
  mode: "off" | "bootloader" | "app" = "off";
  /** Vector table address the bootloader jumped to, in "app" mode. */
  appEntry: number | null = null;
  /** Resets and jumps seen, for tests. */
  history: string[] = [];
  private core!: CoreExports;
  private readonly module: WebAssembly.Module;

  static async create(opts: SimBoardOptions = {}): Promise<SimBoard> {
    return new SimBoard({ ...opts, module: opts.module ?? (await loadCore()) });
  }

  constructor(opts: SimBoardOptions & { module: WebAssembly.Module }) {
    const base = BOARDS[opts.board ?? "h750"];
    const uid = base.uid.slice();
    if (opts.serial !== undefined && uid.length) new DataView(uid.buffer).setUint32(0, opts.serial >>> 0, true);
    this.facts = { ...base, uid };
    this.module = opts.module;
    this.flash = opts.flash ?? makeFlash(this.facts.id, this.clock, opts.timing ?? "typical", opts.serial, opts.chip);
    this.ep0 = new Ep0Model(() => new Uint8Array(this.core.memory.buffer));
  }

  get bus(): FlashBus { return this.flash.bus; }

  /** Apply power (after a cut or at first). The flag register loses its value.
   *  `button`: the user wants DFU mode: the bootloader button is held through this boot, then
   *  let go. A board without one (the Pico) gets there the way its users do: the application
   *  starts and asks for DFU mode (hal/app/qspiboot.h), which resets into the bootloader. */
  powerOn(opts: { button?: boolean } = {}): void {
    this.flags.value = 0;
    this.flash.powerOn?.();
    this.pressDuring(!!opts.button, () => this.boot());
  }

  private pressDuring(held: boolean, fn: () => void): void {
    this.button.held = held;
    try { fn(); } finally { this.button.held = false; }
    if (held && !this.facts.hasButton && this.mode === "app") this.appRebootToBootloader(FLAG_STAY_IN_DFU);
  }

  /** Remove power now (the flash model may also do this itself at a chosen operation). */
  powerOff(): void {
    this.mode = "off";
    ledReset(this.led, this.clock.now);
    this.ep0.disconnect();
  }

  /** A system reset: RAM and peripherals start over, the flag register survives. */
  reset(opts: { button?: boolean } = {}): void {
    this.pressDuring(!!opts.button, () => this.boot());
  }

  /** A reset due at a simulated time (see pressResetAt). */
  pendingReset?: { t: number };

  /** Press the reset button `us` microseconds from now, whatever the board is doing then. */
  pressResetAt(us: number): void { this.pendingReset = { t: this.clock.now + us }; }

  private boot(): void {
    const board = this;
    for (let resets = 0; ; resets++) {
      if (resets > 10) throw new Error("board keeps resetting itself");
      this.ep0.disconnect();
      ledReset(this.led, this.clock.now);
      this.appEntry = null;
      this.flash.bus.setSckHz(this.facts.flashSckHz.boot); // reset clocks
      if (this.facts.mappedAtReset) {
        // boot2 (hal/rp2040/boot2.S): one EBh read with mode bits A0h puts the chip in
        // continuous-read mode, then XIP reads with address and mode bits only.
        this.flash.bus.command(BOOT2_READ, 0, new Uint8Array(4));
        this.flash.bus.mmap(BOOT2_READ);
      }
      const instance = new WebAssembly.Instance(this.module, {
        hal: makeHalImports({
          facts: this.facts, usb: this.ep0, flash: this.flash.bus, clock: this.clock,
          flags: this.flags, button: this.button, led: this.led,
          memory: () => new Uint8Array(this.core.memory.buffer),
          get resetAt() { return board.pendingReset; },
          set resetAt(v) { board.pendingReset = v; },
        }),
      });
      this.core = instance.exports as unknown as CoreExports;
      this.mode = "bootloader";
      this.history.push("boot");
      const r = this.guard(() => { this.core._start(); this.core.boot(); this.core.init(); });
      if (r !== "reset") return;
    }
  }

  private guard(fn: () => void): "ok" | "reset" | "halt" {
    try {
      fn();
      return "ok";
    } catch (e) {
      if (!(e instanceof BoardHalt)) throw e;
      if (e.kind === "jump") {
        this.mode = "app";
        this.appEntry = e.vectors;
        this.ep0.disconnect();
        this.history.push(`jump 0x${e.vectors.toString(16)}`);
        return "halt";
      }
      if (e.kind === "power") { this.powerOff(); this.history.push("power cut"); return "halt"; }
      this.history.push("reset");
      return "reset";
    }
  }

  /** One pass of the bootloader's main loop. Returns 1 if it did work, 0 if it only waited. */
  step(): number {
    if (this.mode !== "bootloader") return 0;
    let worked = 0;
    const r = this.guard(() => { worked = this.core.poll(); });
    if (r === "reset") { this.boot(); return 1; }
    this.clock.advance(LOOP_US);
    return r === "ok" ? worked : 1;
  }

  /** Let an idle board skip ahead, at most to `t`: to the end of the flash operation, or a quantum.
   *  The firmware's main loop spins (hal/common/main.c), and a pass that reports no work may
   *  still have moved the flash engine on (a program found finished, a page of FFh passed over:
   *  the next pass starts the next page), so while the flash is idle the board gets a few more
   *  passes before it skips; skipping at once had cost a 50 us quantum per engine step (npm run
   *  bench, 1 MiB: ~70 ms; test/dfu-download.test.ts counts the gaps between pages). */
  idleUntil(t: number): void {
    for (let i = 0; i < SPIN_PASSES && this.clock.now < t; i++) {
      if (this.step()) return;
      if ((this.flash.bus.readyAt?.() ?? this.clock.now) > this.clock.now) break; // the flash started: wait for it
    }
    const ready = this.flash.bus.readyAt?.() ?? this.clock.now;
    const next = ready > this.clock.now ? ready : this.clock.now + IDLE_QUANTUM_US;
    this.clock.advanceTo(Math.min(t, next));
  }

  /** Run the board until simulated time `t`. */
  runUntil(t: number): void {
    while (this.clock.now < t) {
      if (this.mode !== "bootloader") { this.clock.advanceTo(t); return; }
      if (!this.step()) this.idleUntil(t);
    }
  }

  /** The application (which has no USB in the simulator) asks to reboot into the bootloader. */
  appRebootToBootloader(magic: number): void {
    this.flags.value = magic >>> 0;
    this.reset();
  }

  /** The core's linear memory, for tests that look inside. */
  memory(): Uint8Array { return new Uint8Array(this.core.memory.buffer); }
}
