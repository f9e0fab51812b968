// The Cortex-M7's system control space that Unicorn does not provide (ARMv7-M ARM B3): SysTick
// (B3.3), NVIC enable/pending clears (B3.4), SCB VTOR, AIRCR (B3.2.6: a write with VECTKEY
// 05FAh and SYSRESETREQ asks for a system reset) and DEMCR, and the DWT cycle counter (C1.8),
// which counts the cycles the bench reports (one per instruction: Unicorn has no cycle model).
export class ScsModel {
  vtor = 0; aircr = 0xfa050000; demcr = 0; systick = [0, 0, 0, 0]; cpacr = 0;
  dwtCtrl = 0x40000000;
  resetRequested = false;
  constructor(private readonly cycles: () => number) {}
  private cycBase = 0;
  private cycStart = 0;

  read(off: number): number {
    if (off >= 0x010 && off < 0x020) return this.systick[(off - 0x10) >> 2];
    switch (off) {
      case 0xd00: return 0x411fc270; // CPUID: Cortex-M7 r1p0
      case 0xd08: return this.vtor;
      case 0xd0c: return this.aircr;
      case 0xd88: return this.cpacr;
      case 0xdfc: return this.demcr;
      default: return 0;
    }
  }
  write(off: number, value: number): void {
    if (off >= 0x010 && off < 0x020) { this.systick[(off - 0x10) >> 2] = value >>> 0; return; }
    switch (off) {
      case 0xd08: this.vtor = value & 0xffffff80; return;
      case 0xd0c:
        if ((value >>> 16) === 0x05fa && value & 4) this.resetRequested = true;
        return;
      case 0xd88: this.cpacr = value >>> 0; return;
      case 0xdfc: this.demcr = value >>> 0; return;
      default: return; // NVIC ICER/ICPR and the rest: nothing is enabled or pending here
    }
  }

  // DWT at 0xE0001000: CTRL bit 0 runs CYCCNT (when DEMCR.TRCENA is set).
  dwtRead(off: number): number {
    if (off === 0x000) return this.dwtCtrl;
    if (off === 0x004) return this.cyccnt();
    return 0;
  }
  dwtWrite(off: number, value: number): void {
    if (off === 0x000) { const c = this.cyccnt(); this.dwtCtrl = value >>> 0; this.cycBase = c; this.cycStart = this.cycles(); }
    else if (off === 0x004) { this.cycBase = value >>> 0; this.cycStart = this.cycles(); }
  }
  private cyccnt(): number {
    const running = (this.dwtCtrl & 1) && (this.demcr & (1 << 24));
    return running ? (this.cycBase + this.cycles() - this.cycStart) >>> 0 : this.cycBase;
  }
}
