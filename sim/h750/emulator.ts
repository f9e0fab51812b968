// The real STM32H750 firmware (build/h750/qspiboot.bin) running as Cortex-M7 machine code in
// Unicorn, with the peripherals it touches as register models (sim/h750/*.ts, each saying which
// RM0433 sections it follows) and the project's NOR flash model behind QUADSPI.
// The harness does what the chip does around the CPU: loads SP and PC from the vector table at
// reset (Unicorn does not), resets on AIRCR.SYSRESETREQ keeping SRAM, backup SRAM (where the
// reset-surviving flag lives: readable with RCC_AHB4ENR.BKPRAMEN, writable with PWR_CR1.DBP,
// RM0433 2.3.2, 6.8.1) and the flash, and serves the QUADSPI window at 0x90000000 only while QUADSPI
// is memory-mapped: any other access there faults, as do accesses to anything not modelled.
// Time: one cycle per instruction (Unicorn has no cycle model) at the SYSCLK the RCC model
// computes; instructions are counted in chunks, so time moves in steps of `chunk` instructions.
import { Unicorn, PROT, REG } from "./unicorn";
import { RccModel, PwrModel, FlashAcrModel, SyscfgModel } from "./rcc";
import { GpioModel } from "./gpio";
import { UsartModel } from "./usart";
import { CrcModel } from "./crc";
import { ScsModel } from "./scs";
import { QuadspiModel } from "./quadspi";
import { OtgFsModel } from "./otg-fs";
import { reg, VENDOR_ADDRESSES } from "./vendor";
import { NorFlash, type FlashTiming } from "../nor-flash";
import { CHIPS, type ChipName } from "../chips";
import type { SimClock } from "../clock";

const FLASH = 0x08000000, DTCM = 0x20000000, AXI = 0x24000000, QSPI_WINDOW = 0x90000000;
const UID_PAGE = VENDOR_ADDRESSES.UID_BASE & ~0xfff; // the system-memory page holding the unique ID
const BKPSRAM = VENDOR_ADDRESSES.BKPSRAM_BASE;
// Peripheral windows at ST's addresses (sim/h750/vendor.ts), 1 KiB each unless said.
const AT = (name: string) => reg(name).address & ~0x3ff;
export const H750_UID = Uint8Array.from([0x31, 0x00, 0x2e, 0x00, 0x12, 0x51, 0x30, 0x34, 0x38, 0x39, 0x36, 0x33]);

export interface H750Options {
  chip?: ChipName; timing?: FlashTiming;
  /** Count every instruction through a code hook (slow: a JS call each), for countUntil(); and
   *  the flash wait states their fetches would cost with nothing to hide them (`fetchWaits`). */
  exactCount?: boolean;
  /** Addresses whose execution is recorded in `executed` (a hook on each, cheap elsewhere). */
  watch?: number[];
}

interface Models {
  rcc: RccModel; pwr: PwrModel; syscfg: SyscfgModel; acr: FlashAcrModel; gpio: GpioModel; usart: UsartModel;
  crc: CrcModel; scs: ScsModel; qspi: QuadspiModel; otg: OtgFsModel;
}

export class H750Emu {
  readonly uc = new Unicorn();
  readonly nor: NorFlash;
  m!: Models;
  /** Instructions since the last reset, and in total. */
  instructions = 0;
  totalInstructions = 0;
  /** Simulated time in microseconds. */
  nowUs = 0;
  resets = 0;
  /** K1 held. */
  button = false;
  chunk = 2000;
  private windowSize: number;
  /** Backup SRAM: kept through resets, lost at power-on (no battery on the WeAct board). */
  readonly backupSram = new Uint8Array(0x1000);
  private exact: { count: number; target: number; hit: boolean; waits: number; beat: number } | null = null;
  /** For each watched address: how often the CPU executed it, and the reset it last did so after. */
  executed = new Map<number, { times: number; afterReset: number }>();

  constructor(opts: H750Options = {}) {
    const self = this;
    const clock = { get now() { return self.nowUs; }, micros() { return Math.floor(self.nowUs) >>> 0; } } as unknown as SimClock;
    this.nor = new NorFlash(CHIPS[opts.chip ?? "W25Q64JV"], clock, opts.timing ?? "typical");
    this.windowSize = this.nor.params.size;
    const uc = this.uc;
    uc.map(0x00000000, 0x10000);                   // ITCM
    uc.map(FLASH, 0x20000, PROT.READ | PROT.EXEC); // internal flash: the bootloader
    uc.map(UID_PAGE, 0x1000, PROT.READ);           // system memory page with the unique ID
    uc.map(DTCM, 0x20000);
    uc.map(AXI, 0x80000);
    uc.map(0x30000000, 0x48000);                   // SRAM1-3
    uc.map(0x38000000, 0x10000);                   // SRAM4
    uc.map(QSPI_WINDOW, this.windowSize, 0);        // nothing until QUADSPI maps it
    uc.write(VENDOR_ADDRESSES.UID_BASE, H750_UID);
    this.m = this.newModels();
    const m = () => this.m;
    const word = (f: (o: number) => number) => (o: number) => f(o & ~3);
    uc.mmio(AT("RCC_CR"), 0x400, word((o) => m().rcc.read(o)), (o, _s, v) => m().rcc.write(o & ~3, v));
    uc.mmio(AT("PWR_CR1"), 0x400, word((o) => m().pwr.read(o)), (o, _s, v) => m().pwr.write(o & ~3, v));
    uc.mmio(AT("SYSCFG_PWRCR"), 0x400, word((o) => m().syscfg.read(o)), (o, _s, v) => m().syscfg.write(o & ~3, v));
    uc.mmio(AT("CRC_DR"), 0x400, (o, s) => m().crc.read(o & ~3) >>> (8 * (o & 3)) & (s === 4 ? 0xffffffff : (1 << (8 * s)) - 1),
      (o, s, v) => m().crc.write(o & ~3, s, v));
    uc.mmio(AT("GPIOA_MODER"), 0x1400, word((o) => m().gpio.read(o >> 10, o & 0x3ff)), (o, _s, v) => m().gpio.write(o >> 10, (o & 0x3ff) & ~3, v));
    uc.mmio(AT("FLASH_ACR"), 0x400, word((o) => m().acr.read(o)), (o, _s, v) => m().acr.write(o & ~3, v));
    uc.mmio(AT("QSPI_CR"), 0x400, (o, s) => m().qspi.read(o & ~3, s), (o, s, v) => m().qspi.write(o & ~3, s, v));
    uc.mmio(AT("OTG_GOTGCTL"), 0x5000, word((o) => m().otg.read(o)), (o, _s, v) => m().otg.write(o & ~3, v));
    uc.mmio(AT("USART1_CR1"), 0x400, word((o) => m().usart.read(o)), (o, _s, v) => m().usart.write(o & ~3, v));
    uc.mmio(BKPSRAM, 0x1000, (o, sz) => {
      if (!m().rcc.enabled(0x0e0, 28)) return 0;
      let v = 0;
      for (let i = 0; i < sz; i++) v |= this.backupSram[o + i] << (8 * i);
      return v >>> 0;
    }, (o, sz, v) => {
      if (!m().rcc.enabled(0x0e0, 28) || !m().pwr.backupWritable) return; // clock off or domain locked
      for (let i = 0; i < sz; i++) this.backupSram[o + i] = (v >>> (8 * i)) & 0xff;
    });
    uc.mmio(0xe000e000, 0x1000, word((o) => m().scs.read(o)), (o, _s, v) => {
      m().scs.write(o & ~3, v);
      if (m().scs.resetRequested) this.uc.stop();
    });
    uc.mmio(0xe0001000, 0x1000, word((o) => m().scs.dwtRead(o)), (o, _s, v) => m().scs.dwtWrite(o & ~3, v));
    uc.hookFaults((kind, addr, size) => `bus fault: ${size}-byte access (Unicorn type ${kind}) at 0x${(addr >>> 0).toString(16)}: nothing modelled or mapped there now`);
    for (const a of opts.watch ?? []) {
      const at = (a & ~1) >>> 0;
      uc.hookCode(at, at, () => {
        const e = this.executed.get(at) ?? { times: 0, afterReset: 0 };
        e.times++;
        e.afterReset = this.resets;
        this.executed.set(at, e);
      });
    }
    if (opts.exactCount) {
      const ex = { count: 0, target: -1, hit: false as boolean, waits: 0, beat: -1 };
      this.exact = ex;
      uc.hookCode(1, 0, (addr) => {
        if (addr === ex.target) { ex.hit = true; uc.stop(); return; }
        ex.count++;
        // Instruction-fetch stalls, pessimistically: the core fetches 64 bits at a time over AXI
        // (Cortex-M7 TRM, 2.3 "Prefetch Unit"); with the caches off, as at reset and through the
        // boot path, each new 64-bit beat from the internal flash is taken to wait
        // FLASH_ACR.LATENCY cycles (RM0433 4.3.8; reset value 7), none hidden by a read buffer,
        // the prefetch or the pipeline. Data loads from the flash and bus latencies are not counted.
        const beat = Math.floor(addr / 8);
        if (addr >= FLASH && addr < FLASH + 0x20000 && beat !== ex.beat) ex.waits += this.m.acr.acr & 0xf;
        ex.beat = beat;
      });
    }
    this.reset();
  }

  private newModels(): Models {
    const gpio = new GpioModel();
    const pwr = new PwrModel();
    const acr = new FlashAcrModel();
    const rcc = new RccModel(() => pwr.maxSysclkHz(), () => this.nowUs, () => acr.maxHclkHz(pwr.scale));
    const qspi = new QuadspiModel(this.nor, () =>
      rcc.enabled(0x0d4, 14) && gpio.pinAf(1, 2, 9) && gpio.pinAf(1, 6, 10) && gpio.pinAf(3, 11, 9) &&
      gpio.pinAf(3, 12, 9) && gpio.pinAf(3, 13, 9) && gpio.pinAf(4, 2, 9), () => rcc.qspiKernelHz());
    qspi.onMapped = (data) => {
      if (data) {
        this.uc.write(QSPI_WINDOW, data.subarray(0, this.windowSize));
        this.uc.removeCode(QSPI_WINDOW, QSPI_WINDOW + this.windowSize); // no code translated from the old contents may run
        this.uc.protect(QSPI_WINDOW, this.windowSize, PROT.READ | PROT.EXEC);
      } else {
        this.uc.protect(QSPI_WINDOW, this.windowSize, 0);
      }
    };
    return {
      rcc, pwr, syscfg: new SyscfgModel(rcc, pwr), acr, gpio, usart: new UsartModel(),
      crc: new CrcModel(), scs: new ScsModel(() => this.instructions), qspi, otg: new OtgFsModel(),
    };
  }

  /** Load the bootloader image into internal flash. */
  loadFirmware(bin: Uint8Array): void {
    this.uc.write(FLASH, bin);
    this.reset();
  }

  /** A system reset: peripherals to their reset state, SRAM and flash kept; SP/PC from the vectors. */
  reset(): void {
    this.resets++;
    if (this.m?.qspi.mapped) this.uc.protect(QSPI_WINDOW, this.windowSize, 0);
    this.m = this.newModels();
    this.m.gpio.inputs[2] = this.button ? 1 << 13 : 0; // K1 (PC13) pulls high when pressed
    this.instructions = 0;
    const v = this.uc.read(FLASH, 8);
    const dv = new DataView(v.buffer);
    this.uc.reg(REG.MSP, dv.getUint32(0, true));
    this.uc.reg(REG.SP, dv.getUint32(0, true));
    this.uc.reg(REG.PC, dv.getUint32(4, true) & ~1);
  }

  /** Power cycle: also the flash chip's volatile state and the SRAM contents go. */
  powerOn(): void {
    this.nor.powerOn();
    this.uc.write(DTCM, new Uint8Array(0x20000));
    this.backupSram.fill(0);
    this.reset();
  }

  get pc(): number { return this.uc.reg(REG.PC); }

  /** Run one chunk of instructions; handles reset requests. */
  step(count = this.chunk): void {
    this.m.gpio.inputs[2] = this.button ? 1 << 13 : 0;
    this.uc.run(count);
    // A stop (reset request, breakpoint) cuts the chunk short: counted as run, a small error.
    this.instructions += count;
    this.totalInstructions += count;
    this.nowUs += count / (this.m.rcc.sysclk() / 1e6);
    if (this.m.scs.resetRequested) this.reset();
  }

  /** Run until `done()` (checked between chunks) or `maxInstructions`. */
  runUntil(done: () => boolean, maxInstructions = 100_000_000): boolean {
    const limit = this.totalInstructions + maxInstructions;
    while (!done()) {
      if (this.totalInstructions >= limit) return false;
      this.step();
    }
    return true;
  }

  runForUs(us: number): void {
    const end = this.nowUs + us;
    while (this.nowUs < end) this.step();
  }

  /** Whether the CPU is executing in the QSPI window (the application). */
  get inApplication(): boolean { const pc = this.pc; return pc >= QSPI_WINDOW && pc < QSPI_WINDOW + this.windowSize; }
  get uart(): string { return this.m.usart.out; }

  /** With `exactCount`: instructions executed from now until the CPU is about to execute
   *  `address` (-1 if it does not within `max`). */
  countUntil(address: number, max = 50_000_000): number {
    if (!this.exact) throw new Error("H750Emu: create it with { exactCount: true }");
    this.exact.count = 0;
    this.exact.waits = 0;
    this.exact.beat = -1;
    this.exact.target = (address & ~1) >>> 0;
    this.exact.hit = false;
    while (!this.exact.hit && this.exact.count < max) this.step();
    this.exact.target = -1;
    return this.exact.hit ? this.exact.count : -1;
  }
  /** Flash wait states of the instruction fetches the last countUntil() counted (its comment
   *  says what the bound assumes). */
  get fetchWaits(): number { return this.exact?.waits ?? 0; }
}
