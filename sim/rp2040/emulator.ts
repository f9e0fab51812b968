// The real RP2040 firmware (build/rp2040/qspiboot.bin) running as Cortex-M0+ machine code in
// rp2040js, with the project's flash model behind an SSI of our own (sim/rp2040/ssi.ts).
// What rp2040js does not do, this harness does, and says so:
// - the boot ROM's path to boot2 (sim/rp2040/boot-rom.ts): the BOOTSEL strap, the QSPI pins
//   and the SSI set up as the ROM does, boot2 read, checked, copied to 0x20041F00 and called
//   with lr = 0; BOOTSEL held or no valid boot2 leaves the chip in the ROM's USB boot (mode
//   "usb-boot", `usbBoot` says why; its PICOBOOT interface is sim/rp2040/picoboot.ts, its
//   mass-storage drive is not modelled);
// - resets: a watchdog trigger or reboot() restarts the chip with a fresh rp2040js instance
//   (every block back to its reset state), keeping the flash, the watchdog scratch registers
//   and simulated time; powerOn() also loses the scratch registers and the chip's volatile state;
//   runReset() is the RUN pin pulled low and released: a chip-level reset (RP2040 datasheet
//   2.11.5 "External Reset"), which also resets the watchdog and so its scratch registers (4.8:
//   they persist through soft resets only), while SRAM keeps its contents (the RP2040 does not
//   power-gate its RAMs: pico-sdk's pico_bootsel_via_double_reset.c relies on it, and its
//   maintainers say so in raspberrypi/pico-sdk#2203); powerOn() leaves SRAM as rp2040js starts
//   it (zeros; real SRAM powers up with arbitrary contents);
// - IO_QSPI and PADS_QSPI (sim/rp2040/qspi-pins.ts), XIP_CTRL as storage with its flush, from
//   pico-sdk's register data (vendor-regs.json); the BOOTSEL button on the QSPI_SS pad, read
//   through the SIO GPIO_HI_IN register;
// - the DMA sniffer and DMA transfer timing (sim/rp2040/dma-sniff.ts); DMA paced by the SSI's
//   requests, DREQ_XIP_SSITX and DREQ_XIP_SSIRX (sim/rp2040/ssi-dreq.ts);
// - RESETS (sim/rp2040/resets.ts): every block in reset at power-on, the ROM releasing what
//   it releases, and an error when code touches a block still held in reset;
// - the XOSC's start-up delay, PLLs held in reset and powered down (sim/rp2040/oscillators.ts);
// - USBPHY_DIRECT and USBPHY_DIRECT_OVERRIDE as storage (the RP2040-E5 workaround writes them);
//   an IN buffer's BUFF_STATUS bit set when the host takes the packet, not when it is armed
//   (EP0: when it reaches the host; endpoints 1..15: when the host's IN token takes it,
//   usbInTaken); on endpoints 1..15 BUFF_STATUS set only when the endpoint control register
//   asks for it (INTERRUPT_PER_BUFF; usb.h BUFF_STATUS: "if the buffer interrupt is enabled"),
//   which rp2040js ignores for single-buffered endpoints;
// - `chipId`: another SYSINFO CHIP_ID (a B2 chip).
// Time: rp2040js's SimulationClock, advanced by the cycles each instruction takes (plus XIP
// cache-miss stalls) at the current clk_sys; clk_sys starts at the ROSC's ~6.5 MHz.
import { RP2040 } from "rp2040js";
import { NorFlash, type FlashTiming } from "../nor-flash";
import { CHIPS, type ChipName } from "../chips";
import type { SimClock } from "../clock";
import { Rp2040Flash, SsiError } from "./ssi";
import { installDmaSniffer } from "./dma-sniff";
import { installSsiDreq } from "./ssi-dreq";
import { bootRom, flashExitXip, type RomHost } from "./boot-rom";
import { QspiPins } from "./qspi-pins";
import { RegFile } from "./vendor-regs";
import { Resets } from "./resets";
import { Oscillators } from "./oscillators";

const XIP_BASE = 0x10000000, XIP_END = 0x14000000;
const USB_DPRAM_END = 0x50101000; // RP2040 datasheet 2.2: 4 KiB of USB DPRAM at 0x50100000

export interface UsbHooks {
  enabled(): void;
  endpointWrite(ep: number, data: Uint8Array): void;
  endpointRead(ep: number, len: number): void;
  bufferControl(offset: number, value: number): void;
}

/** `chipId`: SYSINFO CHIP_ID (rp2040js reports 0x10002927, revision 1 = B0/B1; B2 is 0x20002927). */
/** `ungatedResets`: RESETS blocks whose registers may be accessed while held in reset (sim/rp2040/resets.ts). */
/** `roscHz`: this chip's ROSC at its power-up divisor (RP2040 datasheet 2.17.4: 1.8-12 MHz, 6.5 typical). */
export interface EmuOptions { chip?: ChipName; timing?: FlashTiming; serial?: number; chipId?: number; ungatedResets?: string[]; roscHz?: number }

/** A word for log lines: which reset this is and why. */
export type ResetCause = "power" | "watchdog" | "harness" | "run";

export class Rp2040Emu {
  // rp2040js does not export its SimulationClock: the first instance's clock is kept and
  // handed to every later one.
  readonly clock = new RP2040().clock as RP2040["clock"] & { nanos: number; nanosToNextAlarm: number; tick(ns: number): void };
  readonly nor: NorFlash;
  mcu!: RP2040;
  flash!: Rp2040Flash;
  /** Bytes the firmware sent on UART0, as a terminal at `terminalBaud` receives them. */
  uart = "";
  terminalBaud = 115200;
  bootsel = false;
  /** Cycles since the last reset, and in total. */
  cycles = 0;
  totalCycles = 0;
  resets: ResetCause[] = [];
  mode: "running" | "usb-boot" = "running";
  /** Why the ROM went to its USB boot instead of boot2 (mode "usb-boot"). */
  usbBoot: "bootsel" | "no valid boot2" | null = null;
  pins!: QspiPins;
  resetsBlock!: Resets;
  xipCtrl!: RegFile;
  /** rp2040js warnings and errors (unmodelled registers the firmware touched). */
  log: string[] = [];
  usb: UsbHooks | null = null;
  private stallCycles = 0;
  private ssiDreqChanged: () => void = () => {};
  private watchdogFired = false;
  private scratch = new Uint32Array(8);
  private chipId: number | undefined;
  private ungated: ReadonlySet<string>;

  constructor(opts: EmuOptions = {}) {
    const clock = this.clock;
    const simClock = {
      get now() { return clock.nanos / 1000; },
      advance() { throw new Error("the emulator's clock is advanced by the CPU only"); },
      advanceTo() { throw new Error("the emulator's clock is advanced by the CPU only"); },
      micros() { return Math.floor(clock.nanos / 1000) >>> 0; },
    } as unknown as SimClock;
    this.nor = new NorFlash(CHIPS[opts.chip ?? "W25Q16JV"], simClock, opts.timing ?? "typical", opts.serial ?? 0);
    this.chipId = opts.chipId;
    this.ungated = new Set(opts.ungatedResets ?? []);
    this.roscHz = opts.roscHz ?? 6.5e6;
    this.start("power");
  }

  /** Write an image into the flash array directly (a programmer's job, not the firmware's). */
  program(offset: number, bytes: Uint8Array): void { this.nor.data.set(bytes, offset); }

  /** Power cycle: the chip and the flash chip lose all volatile state. */
  powerOn(): void {
    this.scratch.fill(0);
    this.nor.powerOn();
    this.start("power");
  }

  /** A reset that keeps the watchdog scratch registers (the harness's stand-in for AIRCR). */
  reboot(): void { this.start("harness"); }

  /** The RUN pin pulled low and released (Pico's RUN button, or RUN shorted to ground): the
   *  scratch registers go, SRAM and the flash chip's state stay. */
  runReset(): void {
    this.scratch.fill(0);
    this.start("run");
  }

  private start(cause: ResetCause): void {
    this.resets.push(cause);
    const old = this.mcu;
    if (old) {
      // Alarms of the old instance may still fire on the shared clock: cut them off.
      old.usbCtrl.onUSBEnabled = undefined;
      old.usbCtrl.onEndpointWrite = undefined;
      old.usbCtrl.onEndpointRead = undefined;
      // Only a soft reset keeps them (was: every reset, so a power cycle kept them too).
      if (cause === "watchdog" || cause === "harness") for (let i = 0; i < 8; i++) this.scratch[i] = old.readUint32(0x4005800c + 4 * i);
    }
    const mcu = new RP2040(this.clock);
    this.mcu = mcu;
    // SRAM keeps its contents through every reset but a power cycle (the RP2040 has no power
    // gating on its SRAM: a watchdog or RUN reset keeps it, pico-sdk issue 2203, Raspberry Pi's
    // answer), and powers up holding whatever the cells settled to. Stand-in: a fixed pseudo-random pattern, so code that runs from SRAM
    // it never loaded (hal/rp2040/startup.c's split load) fails here as it would on the chip.
    if (old && cause !== "power") mcu.sram.set(old.sram);
    else powerUpPattern(mcu.sram);
    mcu.logger = {
      debug() {}, info() {},
      warn: (c: string, m: string) => { this.log.push(`${c}: ${m}`); },
      error: (c: string, m: string) => { this.log.push(`${c}: ${m}`); },
    };
    for (let i = 0; i < 8; i++) mcu.writeUint32(0x4005800c + 4 * i, this.scratch[i]);
    if (this.chipId !== undefined) {
      const sysinfo = (mcu as unknown as { peripherals: Record<number, { readUint32(o: number): number }> }).peripherals[0x40000];
      const read = sysinfo.readUint32.bind(sysinfo), id = this.chipId >>> 0;
      sysinfo.readUint32 = (o: number) => (o === 0 ? id : read(o));
    }
    this.installFlash(mcu);
    this.installUsb(mcu);
    installDmaSniffer(mcu);
    this.ssiDreqChanged = installSsiDreq(mcu, () => this.flash);
    const osc = this.oscillators = new Oscillators(mcu, () => this.clock.nanos, this.roscHz);
    osc.install();
    const resets = this.resetsBlock = new Resets(this.ungated);
    resets.onHeld = (block) => osc.heldInReset(block);
    resets.install(mcu); // last: it gates the blocks installed above
    // What a terminal on GP0 at `terminalBaud` shows: the PL011 sends at clk_peri / (16 x divisor)
    // (RP2040 datasheet 4.2.7.1), so a byte sent at a rate more than 3% off arrives as garbage,
    // and with clk_peri stopped (or taken from a crystal that is not running) nothing is sent.
    // rp2040js sends every byte whatever its clocks say.
    const uart0 = mcu.uart[0];
    uart0.onByte = (b: number) => {
      const peri = mcu.clocks.periFreq, div = uart0.baudDivider;
      if (!peri || !div) return;
      const baud = peri / (16 * div);
      this.uart += Math.abs(baud - this.terminalBaud) <= 0.03 * this.terminalBaud ? String.fromCharCode(b) : "\ufffd";
    };
    const wd = (mcu as unknown as { peripherals: Record<number, { onWatchdogTrigger?: () => void; alarm: { enable: boolean } }> }).peripherals[0x40058];
    wd.onWatchdogTrigger = () => {
      this.watchdogFired = true;
      // rp2040js re-arms a counted-down watchdog for 0 ns later, forever (Timer32PeriodicAlarm
      // with target 0 in decrement mode): the chip resets here anyway, so stop the countdown.
      wd.alarm.enable = false;
    };
    mcu.clkSys = mcu.roscFreq;
    this.cycles = 0;
    const romHost: RomHost = this.romHost = {
      mcu,
      idle: (c) => { this.cycles += c; this.totalCycles += c; this.clock.tick((c * 1e9) / mcu.clkSys); },
      resetUnreset: (...blocks) => {
        resets.release(...blocks);
        if (blocks.includes("IO_QSPI") || blocks.includes("PADS_QSPI")) { this.pins.reset(); this.flash.pinsChanged(); }
      },
    };
    const rom = bootRom(romHost);
    this.mode = rom.boot2 ? "running" : "usb-boot";
    this.usbBoot = rom.boot2 ? null : rom.usbBoot;
    // _usb_boot() -> _usb_clock_setup() (bootrom_main.c): XOSC, PLL_SYS 1200/5/5 = 48 MHz for
    // clk_sys and clk_usb. The clock blocks themselves are not modelled here, only the rate.
    if (!rom.boot2) mcu.clkSys = 48e6;
  }

  private installFlash(mcu: RP2040): void {
    this.pins = new QspiPins(() => this.bootsel);
    this.flash = new Rp2040Flash(this.nor, {
      nanos: () => this.clock.nanos,
      clkSys: () => mcu.clkSys,
      stall: (c) => { this.stallCycles += c; },
      dreqChanged: () => this.ssiDreqChanged(),
    }, this.pins);
    const f = this.flash, pins = this.pins;
    const periph = (read: (o: number) => number, write: (o: number, v: number) => void) => ({
      readUint32: read,
      writeUint32Atomic(offset: number, value: number, atomicType: number) {
        if (atomicType === 0) return write(offset, value); // no read: reading DR0 pops the FIFO
        const cur = read(offset);
        write(offset, atomicType === 1 ? cur ^ value : atomicType === 2 ? cur | value : cur & ~value);
      },
    });
    const p = (mcu as unknown as { peripherals: Record<number, unknown> }).peripherals;
    p[0x18000] = periph((o) => f.read(o), (o, v) => f.write(o, v));
    const regs = (rf: RegFile, written?: (o: number, v: number) => void) => periph(
      (o) => rf.read(o) ?? (this.log.push(`${rf.block}: read of unmodelled offset 0x${o.toString(16)}`), 0),
      (o, v) => {
        if (!rf.write(o, v)) this.log.push(`${rf.block}: write to unmodelled offset 0x${o.toString(16)}`);
        written?.(o, v);
      });
    p[0x40018] = regs(pins.io, () => f.pinsChanged());
    p[0x40020] = regs(pins.pads, () => f.pinsChanged());
    const xipCtrl = this.xipCtrl = new RegFile("XIP_CTRL");
    p[0x14000] = regs(xipCtrl, (o) => {
      if (o !== 4 || !(xipCtrl.get("FLUSH") & 1)) return;
      // FLUSH (SC): the flush is done by the time the write completes; STAT.FLUSH_READY says so.
      f.flushCache();
      xipCtrl.set("FLUSH", 0);
      xipCtrl.set("STAT", xipCtrl.get("STAT") | 1);
    });

    // XIP window: reads through the SSI model, stores refused.
    const r32 = mcu.readUint32.bind(mcu), r16 = mcu.readUint16.bind(mcu), r8 = mcu.readUint8.bind(mcu);
    const w32 = mcu.writeUint32.bind(mcu), w16 = mcu.writeUint16.bind(mcu), w8 = mcu.writeUint8.bind(mcu);
    const inXip = (a: number) => a >= XIP_BASE && a < XIP_END;
    const xip = (a: number) => f.readXip32(a & 0xfffffc, (a >>> 24) === 0x10);
    mcu.readUint32 = (a: number) => (inXip(a >>>= 0) ? xip(a) : r32(a));
    mcu.readUint16 = (a: number) => (inXip(a >>>= 0) ? (xip(a) >>> (8 * (a & 2))) & 0xffff : r16(a));
    mcu.readUint8 = (a: number) => (inXip(a >>>= 0) ? (xip(a) >>> (8 * (a & 3))) & 0xff : r8(a));
    const refuse = (a: number) => { throw new SsiError(`store to the XIP window at 0x${a.toString(16)}: flash is not written that way`); };
    mcu.writeUint32 = (a: number, v: number) => (inXip(a >>> 0) ? refuse(a >>> 0) : w32(a, v));
    mcu.writeUint16 = (a: number, v: number) => (inXip(a >>> 0) ? refuse(a >>> 0) : w16(a, v));
    mcu.writeUint8 = (a: number, v: number) => (inXip(a >>> 0) ? refuse(a >>> 0) : w8(a, v));

    // BOOTSEL: the SS pad level in SIO GPIO_HI_IN bit 1.
    const sio = mcu.sio;
    const sioRead = sio.readUint32.bind(sio);
    sio.readUint32 = (o: number) => {
      const v = sioRead(o);
      return o === 0x08 ? (v & ~2) | (f.ssPadLevel() ? 2 : 0) : v;
    };
  }

  private installUsb(mcu: RP2040): void {
    const u = mcu.usbCtrl;
    // USBPHY_DIRECT and its override, which rp2040js lacks (reads gave 0xffffffff): storage with
    // usb.h's reset values; the PHY's electrical behaviour is not modelled.
    const phy = new RegFile("USBCTRL_REGS", ["USBPHY_DIRECT", "USBPHY_DIRECT_OVERRIDE"]);
    const uRead = u.readUint32.bind(u), uWrite = u.writeUint32.bind(u);
    u.readUint32 = (o: number) => phy.read(o) ?? uRead(o);
    u.writeUint32 = (o: number, v: number) => { if (!phy.write(o, v)) uWrite(o, v); };
    u.onUSBEnabled = () => this.usb?.enabled();
    // rp2040js sets an IN buffer's BUFF_STATUS bit as soon as the firmware hands the buffer over;
    // the chip sets it when the host has taken the packet (RP2040 datasheet 4.1.2.5: the buffer
    // is done when the transaction completes). A device that acts on a completed status stage
    // (reboots after DFU_DETACH) would act before the host has its packet: the bit is raised
    // here when the packet reaches the host instead.
    const ready = (u as unknown as { indicateBufferReady(ep: number, out: boolean): void });
    const raw = ready.indicateBufferReady.bind(u);
    // Endpoints 1..15: a buffer done raises BUFF_STATUS only with the endpoint control
    // register's INTERRUPT_PER_BUFF set (usb_device_dpram.h EPx_CONTROL bit 29; usb.h
    // BUFF_STATUS). EP0's is governed by SIE_CTRL.EP0_INT_1BUF, which the HAL sets.
    const indicate = (ep: number, out: boolean) => {
      if (ep === 0 || (mcu.usbDPRAMView.getUint32(8 * ep + (out ? 4 : 0), true) & (1 << 29))) raw(ep, out);
    };
    ready.indicateBufferReady = (ep: number, out: boolean) => { if (out) indicate(ep, out); };
    this.usbInTaken = (ep: number) => indicate(ep, false);
    u.onEndpointWrite = (ep: number, data: Uint8Array) => { this.usb?.endpointWrite(ep, data); if (ep === 0) indicate(ep, false); };
    u.onEndpointRead = (ep: number, len: number) => this.usb?.endpointRead(ep, len);
    const updated = u.DPRAMUpdated.bind(u);
    u.DPRAMUpdated = (offset: number, value: number) => {
      if (offset >= 0x80 && offset < 0x100) this.usb?.bufferControl(offset, value);
      updated(offset, value);
    };
  }

  /** The host has taken the IN packet armed on endpoint `ep` (1..15): its buffer is done
   *  (RP2040 datasheet 4.1.2.5), BUFF_STATUS says so. */
  usbInTaken: (ep: number) => void = () => {};
  private romHost!: RomHost;
  private readonly roscHz: number;
  /** XOSC start-up and the PLLs held in reset (sim/rp2040/oscillators.ts). */
  oscillators!: Oscillators;
  /** The boot ROM's view of this chip (for models of the ROM's own routines: sim/rp2040/picoboot.ts). */
  get rom(): RomHost { return this.romHost; }
  /** The ROM's flash_exit_xip, as an application calls it through the ROM table before it erases
   *  or programs its flash (pico-sdk hardware_flash/flash.c). */
  romFlashExitXip(): void { flashExitXip(this.romHost); }

  /** Execute one instruction. */
  step(): void {
    if (this.mode !== "running") {
      // The ROM's USB boot runs no code of ours: time passes (its USB device, if a test attaches
      // one, is sim/rp2040/picoboot.ts); its watchdog reboot (PICOBOOT REBOOT) still resets.
      // In steps of at most 10 us, so a host waiting for a short time does not jump past it.
      const ns = Math.min(Math.max(this.clock.nanosToNextAlarm, 1000), 10_000);
      const cycles = Math.ceil((ns * this.mcu.clkSys) / 1e9);
      this.cycles += cycles;
      this.totalCycles += cycles;
      this.clock.tick(ns);
      if (this.watchdogFired) { this.watchdogFired = false; this.start("watchdog"); }
      return;
    }
    const core = this.mcu.core;
    let cycles: number;
    if (core.waiting) {
      const ns = Math.max(this.clock.nanosToNextAlarm, 1000);
      cycles = Math.ceil((ns * this.mcu.clkSys) / 1e9);
    } else {
      cycles = core.executeInstruction() + this.stallCycles;
      this.stallCycles = 0;
    }
    this.cycles += cycles;
    this.totalCycles += cycles;
    this.clock.tick((cycles * 1e9) / this.mcu.clkSys);
    if (this.watchdogFired) {
      this.watchdogFired = false;
      this.start("watchdog");
    }
  }

  /**
   * Call machine code at `addr` from the ROM's USB boot, as its PICOBOOT EXEC does
   * (async_task.c: `((void (*)())(addr | 1))()`): the core runs it until it returns, on the ROM
   * worker's stack (USB DPRAM, bootrom_main.c async_task_worker_thunk). Returns "returned", or
   * "reset" when the code reset the chip, or "hung" after `maxCycles`.
   */
  execFromRom(addr: number, maxCycles = 10_000_000): "returned" | "reset" | "hung" {
    if (this.mode !== "usb-boot") throw new Error("execFromRom: the chip is not in the ROM's USB boot");
    const core = this.mcu.core, resets = this.resets.length;
    const RETURN = 0x00000100; // a ROM address: where EXEC's call returns to
    core.SP = USB_DPRAM_END;
    core.LR = RETURN | 1;
    core.PC = addr & ~1;
    this.mode = "running";
    const limit = this.totalCycles + maxCycles;
    while (this.resets.length === resets && this.pc !== RETURN) {
      if (this.totalCycles >= limit) { this.mode = "usb-boot"; return "hung"; }
      this.step();
    }
    if (this.resets.length !== resets) return "reset";
    this.mode = "usb-boot";
    return "returned";
  }

  /** Run until `done()` holds (checked before each instruction) or `maxCycles` pass. */
  runUntil(done: () => boolean, maxCycles = 50_000_000): boolean {
    const limit = this.totalCycles + maxCycles;
    while (!done()) {
      if (this.totalCycles >= limit) return false;
      this.step();
    }
    return true;
  }

  /** Run for `us` microseconds of simulated time. */
  runFor(us: number): void {
    const end = this.clock.nanos + us * 1000;
    while (this.clock.nanos < end) this.step();
  }

  get pc(): number { return this.mcu.core.PC >>> 0; }
  /** Simulated time in microseconds. */
  get nowUs(): number { return this.clock.nanos / 1000; }
}

/** What SRAM holds at power-up here: xorshift32 from a fixed seed (deterministic tests). */
function powerUpPattern(sram: Uint8Array): void {
  const words = new Uint32Array(sram.buffer, sram.byteOffset, sram.byteLength >> 2);
  let x = 0x2545f491;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
}
