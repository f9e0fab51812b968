// Reset and clock control, power control and the flash interface's ACR of the STM32H750, as far
// as start-up needs them. Follows RM0433 rev 8:
// - RCC (8.7): an oscillator or PLL reports ready (xxRDY) once enabled (xxON) and started: with
//   the emulator's clock, the HSE after its start-up time and each PLL after its lock time,
//   counted from when it was switched on or, for a PLL on the HSE, from when the HSE became ready
//   (times below, from the STM32H750xB datasheet DS12556, "HSE 4-48 MHz oscillator
//   characteristics" tSU(HSE) and "PLL characteristics" tLOCK, typical values: a real crystal's
//   start-up depends on the crystal and its load); HSI, CSI and HSI48 are ready at once. Without
//   a clock (register tests) everything is ready at once. CFGR.SWS follows SW when the selected source is ready (8.5.6); registers keep
//   what is written, from their documented reset values; SYSCLK is computed from the mux and
//   PLL1 dividers (8.7.11-8.7.13, DIVN/DIVP hold value - 1), for the emulator's time base.
// - PWR (6.8): the supply configuration in CR3 (LDOEN, BYPASS, SCUEN) takes the first write
//   after power-on only (6.8.4); CSR1.ACTVOSRDY is set once it is written; D3CR.VOSRDY is set
//   after a VOS write; CR3.USB33RDY follows USB33DEN (the regulator is always in range here);
//   CR1.DBP (6.8.1) unlocks writes to the backup domain (backup SRAM included).
// - FLASH_ACR (4.9.1): LATENCY and WRHIGHFREQ read back as written. The AXI clock (HCLK) each
//   LATENCY allows at VOS1 (4.3.8, table 17 "FLASH recommended number of wait states and
//   programming delay"; the other scales are not modelled): a switch of SYSCLK or of the HCLK prescalers that runs HCLK above
//   it is recorded in RccModel.violations (reads from the internal flash may then fail).
// - SYSCFG_PWRCR.ODEN (RM0433, SYSCFG chapter): the overdrive that turns VOS1 into VOS0 (RM0433,
//   PWR "Voltage scaling": ODEN is set once VOS1 is selected in PWR_D3CR; D3CR.VOSRDY says when
//   VOS0 is reached, here at once; ODEN set at another scale does not give VOS0 here).
//   SYSCFG takes writes only with its clock on (RCC_APB4ENR.SYSCFGEN).
// - The system clock's limit per voltage scale (the STM32H750xB datasheet's general operating
//   conditions, revision V silicon): VOS3 200 MHz, VOS2 300, VOS1 400, VOS0 480. A switch to a
//   faster SYSCLK than the scale allows is recorded in RccModel.violations (on silicon it may
//   work or crash: the model does not guess which).
// Reset values and read-only registers come from ST's SVD (sim/h750/vendor.ts).
import { modelResetOf, reg, vendorRegs } from "./vendor";

/** Reset values (by offset from `base`) and read-only offsets of the extracted registers named `prefix`*. */
function fromVendor(prefix: string, base: number) {
  const resets: [number, number][] = [], readOnly = new Set<number>();
  for (const [k, r] of vendorRegs()) {
    if (!k.startsWith(prefix)) continue;
    resets.push([r.address - base, modelResetOf(k)]);
    if (r.access === "read-only") readOnly.add(r.address - base);
  }
  return { resets, readOnly };
}
const RCC = fromVendor("RCC_", reg("RCC_CR").address);
const PWR = fromVendor("PWR_", reg("PWR_CR1").address);

export const HSI_HZ = 64_000_000;
export const HSE_HZ = 25_000_000;
/** DS12556 tSU(HSE), typical (crystal-dependent; ST's HAL allows 100 ms before it gives up). */
export const HSE_STARTUP_US = 2000;
/** DS12556 tLOCK, PLL in integer (normal) mode, typical. */
export const PLL_LOCK_US = 50;

const HSEON = 16, PLL_ON = [24, 26, 28];

export class RccModel {
  regs = new Uint32Array(0x400 / 4);
  /** SYSCLK switches beyond what the voltage scale allows (see above). */
  violations: string[] = [];
  /** When each xxON bit (by bit number) was last set, in the clock's microseconds. */
  private onSince = new Map<number, number>();
  constructor(private readonly maxSysclkHz: () => number = () => Infinity, private readonly nowUs?: () => number,
    private readonly maxHclkHz: () => number = () => Infinity) {
    for (const [off, v] of RCC.resets) this.regs[off >> 2] = v;
    for (let bit = 0; bit < 32; bit++) if (this.regs[0] & (1 << bit)) this.onSince.set(bit, -Infinity);
  }

  /** Everything that is on has been running for long: a set-up standing for what an earlier
   *  program (ST's ROM bootloader, say) left running. */
  settle(): void { for (const bit of this.onSince.keys()) this.onSince.set(bit, -Infinity); }

  /** When the oscillator or PLL switched on by CR bit `on` is (or will be) ready; Infinity if off. */
  readyAt(on: number): number {
    const since = this.onSince.get(on);
    if (since === undefined || !this.nowUs) return since === undefined ? Infinity : -Infinity;
    if (on === HSEON) return since + HSE_STARTUP_US;
    if (PLL_ON.includes(on)) {
      const src = this.regs[0x028 / 4] & 3; // PLLCKSELR.PLLSRC: 0 HSI, 1 CSI, 2 HSE, 3 none
      const input = src === 2 ? this.readyAt(HSEON) : src === 3 ? Infinity : since;
      return Math.max(since, input) + PLL_LOCK_US;
    }
    return since;
  }

  read(off: number): number {
    const v = this.regs[off >> 2];
    if (off === 0x000) {
      // xxRDY (bits 2, 8, 13, 17, 25, 27, 29) follow xxON (bits 0, 7, 12, 16, 24, 26, 28), once started.
      let r = v & ~((1 << 2) | (1 << 8) | (1 << 13) | (1 << 17) | (1 << 25) | (1 << 27) | (1 << 29));
      const now = this.nowUs ? this.nowUs() : Infinity;
      for (const [on, rdy] of [[0, 2], [7, 8], [12, 13], [16, 17], [24, 25], [26, 27], [28, 29]]) if (v & (1 << on) && this.readyAt(on) <= now) r |= 1 << rdy;
      return r >>> 0;
    }
    return v;
  }

  write(off: number, value: number): void {
    if (RCC.readOnly.has(off)) return;
    if (off === 0x010) {
      // SW takes effect (SWS) if its source runs: 0 HSI, 1 CSI, 2 HSE, 3 PLL1.
      const sw = value & 7;
      const cr = this.read(0);
      const ready = sw === 0 ? cr & 4 : sw === 1 ? cr & (1 << 8) : sw === 2 ? cr & (1 << 17) : sw === 3 ? cr & (1 << 25) : 0;
      const sws = ready ? sw : (this.regs[4] >> 3) & 7;
      this.regs[4] = (value & ~(7 << 3)) | (sws << 3);
      const hz = this.sysclk(), max = this.maxSysclkHz();
      if (hz > max) this.violations.push(`SYSCLK ${hz / 1e6} MHz above the voltage scale's ${max / 1e6} MHz`);
      this.checkHclk();
      return;
    }
    if (off === 0x018) { this.regs[off >> 2] = value >>> 0; this.checkHclk(); return; }
    // RM0433 8.7 (RCC_PLLCKSELR, RCC_PLLCFGR, RCC_PLLxDIVR): a PLL's settings can be written
    // only while it is off (PLLSRC only while all are); PLL1 cannot be stopped while it is SYSCLK.
    const cr = this.regs[0];
    const on = (n: number) => (cr & (1 << (24 + 2 * (n - 1)))) !== 0;
    if ((off === 0x028 || off === 0x02c) && (on(1) || on(2) || on(3))) return;
    if ((off === 0x030 && on(1)) || (off === 0x038 && on(2)) || (off === 0x040 && on(3))) return;
    if (off === 0x000 && ((this.regs[4] >> 3) & 7) === 3) value |= cr & (1 << 24);
    if (off === 0x000) {
      const now = this.nowUs ? this.nowUs() : -Infinity;
      for (let bit = 0; bit < 32; bit++) {
        const was = (cr & (1 << bit)) !== 0, is = (value & (1 << bit)) !== 0;
        if (is && !was) this.onSince.set(bit, now);
        if (!is) this.onSince.delete(bit);
      }
    }
    this.regs[off >> 2] = value >>> 0;
  }

  private checkHclk(): void {
    const hz = this.hclk(), max = this.maxHclkHz();
    if (hz > max) this.violations.push(`HCLK ${hz / 1e6} MHz above the ${max / 1e6} MHz the flash wait states allow`);
  }

  /** SYSCLK in Hz, from the switch status and PLL1's settings. */
  sysclk(): number {
    const sws = (this.regs[0x010 / 4] >> 3) & 7;
    if (sws === 2) return HSE_HZ;
    if (sws !== 3) return HSI_HZ;
    const sel = this.regs[0x028 / 4];
    const ref = (sel & 3) === 2 ? HSE_HZ : HSI_HZ;
    const divm = (sel >> 4) & 63;
    const div = this.regs[0x030 / 4];
    return divm ? (ref / divm) * ((div & 0x1ff) + 1) / (((div >> 9) & 0x7f) + 1) : HSI_HZ;
  }

  /** HCLK (rcc_hclk1-4, RM0433 8.5.6): SYSCLK through D1CPRE and HPRE (0xxx: /1, 1000-1111:
   *  /2 /4 /8 /16 /64 /128 /256 /512). */
  hclk(): number {
    const div = (v: number) => (v & 8 ? [2, 4, 8, 16, 64, 128, 256, 512][v & 7] : 1);
    const d1 = this.regs[0x018 / 4];
    return this.sysclk() / div((d1 >> 8) & 15) / div(d1 & 15);
  }

  /** PCLK2 (rcc_pclk2, 8.7.7): HCLK through D2PPRE2 (0xx: /1, 100-111: /2 /4 /8 /16). */
  pclk2(): number {
    const p = (this.regs[0x01c / 4] >> 8) & 7;
    return this.hclk() / (p & 4 ? 2 << (p & 3) : 1);
  }

  /** USART1 kernel clock (D2CCIP2R.USART16SEL, 8.7.21): only rcc_pclk2 (0) is modelled. */
  usart1KernelHz(): number {
    if ((this.regs[0x054 / 4] >> 3) & 7) throw new Error("RCC model: only PCLK2 is modelled as the USART1 kernel clock");
    return this.pclk2();
  }

  /** QUADSPI kernel clock (D1CCIPR.QSPISEL, 8.7.17): only HCLK3 (0) is modelled. */
  qspiKernelHz(): number {
    if ((this.regs[0x04c / 4] >> 4) & 3) throw new Error("RCC model: only HCLK3 is modelled as the QUADSPI kernel clock");
    return this.hclk();
  }

  /** Whether a clock-enable bit is set: register offset and bit. */
  enabled(off: number, bit: number): boolean { return (this.regs[off >> 2] & (1 << bit)) !== 0; }
}

export class PwrModel {
  regs = new Uint32Array(0x400 / 4);
  /** PWR_CR3's supply configuration is written once after reset (RM0433 6.8.4). */
  supplyWritten = false;
  constructor() {
    for (const [off, v] of PWR.resets) this.regs[off >> 2] = v;
  }
  read(off: number): number {
    let v = this.regs[off >> 2];
    if (off === 0x004) v = this.supplyWritten ? v | (1 << 13) : v & ~(1 << 13); // CSR1.ACTVOSRDY
    if (off === 0x00c) v = v & (1 << 24) ? v | (1 << 26) : v & ~(1 << 26);        // CR3.USB33RDY
    return v >>> 0;
  }
  write(off: number, value: number): void {
    if (PWR.readOnly.has(off)) return;
    if (off === 0x00c) {
      const supply = 7; // LDOEN, BYPASS, SCUEN: written once
      const keep = this.supplyWritten ? this.regs[3] & supply : value & supply;
      this.supplyWritten = true;
      this.regs[3] = ((value & ~supply) | keep) >>> 0;
      return;
    }
    if (off === 0x018) { this.regs[6] = ((value & (3 << 14)) | (1 << 13)) >>> 0; return; } // VOSRDY
    this.regs[off >> 2] = value >>> 0;
  }

  get backupWritable(): boolean { return (this.regs[0] & (1 << 8)) !== 0; }

  /** SYSCFG_PWRCR.ODEN changed (the overdrive): VOSRDY follows at once. */
  overdrive(on: boolean): void {
    this.oden = on;
    this.regs[6] |= 1 << 13;
  }
  private oden = false;

  /** The voltage scale in force: 0-3 (D3CR.VOS 11 = scale 1, 10 = 2, 01 = 3; scale 1 with ODEN = 0). */
  get scale(): number {
    const vos = (this.regs[6] >> 14) & 3;
    return vos === 3 ? (this.oden ? 0 : 1) : vos === 2 ? 2 : 3;
  }
  maxSysclkHz(): number { return [480e6, 400e6, 300e6, 200e6][this.scale]; }
}

export class SyscfgModel {
  pwrcr = modelResetOf("SYSCFG_PWRCR");
  constructor(private readonly rcc: RccModel, private readonly pwr: PwrModel) {}
  read(off: number): number {
    if (!this.rcc.enabled(0x0f4, 1)) return 0;           // SYSCFGEN off
    return off === 0x2c ? this.pwrcr : 0;
  }
  write(off: number, value: number): void {
    if (!this.rcc.enabled(0x0f4, 1) || off !== 0x2c) return;
    const was = this.pwrcr & 1;
    // ODEN counts only from VOS1 (see above); the SVD gives the field 4 bits, RM0433 uses bit 0.
    this.pwrcr = value & 0xf;
    if ((this.pwrcr & 1) !== was) this.pwr.overdrive((this.pwrcr & 1) === 1 && ((this.pwr.regs[6] >> 14) & 3) === 3);
  }
}

// RM0433 table 17 at VOS1, the scale DFU mode runs at: the highest AXI clock (MHz) for LATENCY
// 0, 1, 2, 3 (2 wait states reach 185 MHz with WRHIGHFREQ 1 and 210 with 2: the read latency is
// what limits reads). Cross-checked against a public H7 driver's VOS1 table (0/1/2/2/3 WS up to
// 70/140/185/210/225 MHz) and ST's CubeH7 examples (400 MHz CPU, 200 MHz HCLK, VOS1). The other
// scales' rows were not at hand to check: there, and beyond the listed latencies, no limit.
const ACR_MAX_MHZ_VOS1 = [70, 140, 210, 225];

export class FlashAcrModel {
  acr = modelResetOf("FLASH_ACR");
  read(off: number): number { return off === 0 ? this.acr : 0; }
  write(off: number, value: number): void { if (off === 0) this.acr = value & 0x3f; }
  /** The fastest HCLK the programmed LATENCY allows at voltage scale `scale`, Hz. */
  maxHclkHz(scale: number): number { return scale === 1 ? (ACR_MAX_MHZ_VOS1[this.acr & 0xf] ?? Infinity) * 1e6 : Infinity; }
}
