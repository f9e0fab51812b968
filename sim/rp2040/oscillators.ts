// The crystal oscillator and the PLLs as far as rp2040js leaves them out: its XOSC is stable the
// moment it is enabled and its clock runs whether enabled or not; its PLLs always report LOCK,
// give their output powered down, and keep their registers when RESETS holds them.
// - XOSC (RP2040 datasheet 2.16.3 "Startup Delay", pico-sdk hardware_regs/xosc.h): STATUS.STABLE
//   rises STARTUP.DELAY x 256 crystal cycles after ENABLE (x 4 more with STARTUP.X4); until then
//   the crystal's output is gated, so clk_ref, clk_sys, clk_peri or a PLL taken from it stand
//   still (0 Hz here). DISABLE stops it and STABLE falls (pico-sdk's xosc_disable waits for
//   that). The crystal's own start-up time is taken to fit inside the programmed delay, which is
//   what the delay is for.
// - PLL_SYS / PLL_USB (2.18.2, 2.18.4, pll.h): while RESETS holds a PLL its registers are at
//   their reset values (CS 1, PWR 0x2d, FBDIV_INT 0, PRIM 0x77000) and reads give those: pico-sdk's
//   pll_init reads CS on every cold boot, when the PLLs are still held from power-on, and
//   compares it with what it wants. Its output is 0 Hz while PD or VCOPD or POSTDIVPD is set,
//   and LOCK reads 1 only once the VCO is powered (lock time itself is not modelled: at once).
// - ROSC (2.17.4 "ROSC divider", rosc.h): the ring's output divided by DIV (0xaa0 + d: d 1-31
//   divides by d, 0 by 32, any other value by 31), glitch-free while running; at power-up the
//   divisor is 16, which the datasheet says keeps the output within 1.8-12 MHz (6.5 MHz
//   typical). `roscHz` is this chip's output at divisor 16 (the PVT corner a test picks); the
//   ring's own rate is 16 times that. FREQ_RANGE, FREQA/FREQB and PHASE are stored, not modelled.
// A clock that loses its source while clk_sys runs from it locks the chip up (xosc.h, on
// disabling the XOSC under clk_ref): the model throws there instead of running on.
import type { RP2040 } from "rp2040js";
import { RegFile, vendorReg } from "./vendor-regs";

type Periph = { readUint32(o: number): number; writeUint32(o: number, v: number): void };
type Pll = Periph & { cs: number; pwr: number; fbdivInt: number; prim: number; frequency: number };

const XOSC_HZ = 12e6;                                    // the Pico's crystal (pico.h: XOSC_HZ 12 MHz)
const CTRL = 0x00, STATUS = 0x04, STARTUP = 0x0c;
const ENABLE_SHIFT = 12, ENABLE = 0xfab, DISABLE = 0xd1e;
const STABLE = 1 << 31, ENABLED = 1 << 12;
const DELAY_MASK = 0x3fff, X4 = 1 << 20;
const PLL_CS = 0x0, PLL_LOCK = 1 << 31;
const PD = 1 << 0, POSTDIVPD = 1 << 3, VCOPD = 1 << 5;

export class LockUp extends Error {}

export class Oscillators {
  private enabled = false;
  private stableAt = Infinity;
  private readonly plls: Record<string, Pll> = {};

  private roscDiv = 16;
  /** Times the XOSC was enabled since this chip's last reset. */
  xoscStarts = 0;
  private readonly rosc = new RegFile("ROSC");

  constructor(private readonly mcu: RP2040, private readonly nanos: () => number, private readonly roscHz = 6.5e6) {}

  /** The ROSC's output divisor in force. */
  get roscDivisor(): number { return this.roscDiv; }

  get xoscStable(): boolean { return this.enabled && this.nanos() >= this.stableAt; }

  install(): void {
    const mcu = this.mcu;
    const p = (mcu as unknown as { peripherals: Record<number, Periph> }).peripherals;
    // Everything in rp2040js that runs from the crystal reads this field.
    Object.defineProperty(mcu, "xoscFreq", { configurable: true, get: () => (this.xoscStable ? XOSC_HZ : 0) });

    Object.defineProperty(mcu, "roscFreq", { configurable: true, get: () => (this.roscHz * 16) / this.roscDiv });
    const rosc = this.rosc, DIV = 0x10;
    rosc.set("STATUS", (1 << 31) | (1 << 16) | (1 << 12)); // STABLE, DIV_RUNNING, ENABLED
    const roscPeriph = {
      readUint32: (o: number) => rosc.read(o) ?? 0,
      writeUint32: (o: number, v: number) => {
        rosc.write(o, v);
        if (o !== DIV) return;
        const d = (v & 0xfff) - 0xaa0;
        this.roscDiv = d === 0 ? 32 : d > 0 && d < 32 ? d : 31;
        this.clocksChanged("the ROSC divider changed");
      },
      writeUint32Atomic(o: number, v: number, t: number) {
        const cur = this.readUint32(o);
        this.writeUint32(o, t === 0 ? v : t === 1 ? cur ^ v : t === 2 ? cur | v : cur & ~v);
      },
    };
    p[0x40060] = roscPeriph as unknown as Periph;

    const xosc = p[0x40024] as Periph & { ctrl: number; startup: number };
    const xRead = xosc.readUint32.bind(xosc), xWrite = xosc.writeUint32.bind(xosc);
    xosc.readUint32 = (o) => {
      if (o !== STATUS) return xRead(o);
      return (xRead(o) & ~(STABLE | ENABLED)) | (this.enabled ? ENABLED : 0) | (this.xoscStable ? STABLE : 0);
    };
    xosc.writeUint32 = (o, v) => {
      xWrite(o, v);
      if (o !== CTRL) return;
      const code = (v >>> ENABLE_SHIFT) & 0xfff;
      if (code === ENABLE && !this.enabled) {
        this.enabled = true;
        this.xoscStarts++;
        const cycles = (xosc.startup & DELAY_MASK) * 256 * (xosc.startup & X4 ? 4 : 1);
        this.stableAt = this.nanos() + (cycles * 1e9) / XOSC_HZ;
      } else if (code === DISABLE) {
        this.enabled = false;
        this.stableAt = Infinity;
        this.clocksChanged("the XOSC disabled");
      }
    };

    for (const [name, base] of [["PLL_SYS", 0x40028], ["PLL_USB", 0x4002c]] as const) {
      const pll = p[base] as Pll;
      this.plls[name] = pll;
      const proto = Object.getPrototypeOf(pll);
      const output = Object.getOwnPropertyDescriptor(proto, "frequency")!.get!;
      Object.defineProperty(pll, "frequency", {
        configurable: true,
        get: () => (pll.pwr & (PD | VCOPD | POSTDIVPD) ? 0 : output.call(pll)),
      });
      const read = pll.readUint32.bind(pll), write = pll.writeUint32.bind(pll);
      pll.readUint32 = (o) => {
        const v = read(o);
        return o === PLL_CS && pll.pwr & (PD | VCOPD) ? v & ~PLL_LOCK : v;
      };
      pll.writeUint32 = (o, v) => { write(o, v); this.clocksChanged(`${name} changed`); };
    }
  }

  /** clk_usb in Hz (2.15.7 CLK_USB_CTRL: ENABLE bit 11, AUXSRC bits 7:5; CLK_USB_DIV INT bits 9:8,
   *  0 meaning 4), which rp2040js does not compute: USB full speed needs 48 MHz +-0.25% (USB 2.0
   *  7.1.11), or the device answers nothing a host can decode. */
  clkUsbHz(): number {
    const mcu = this.mcu;
    const c = mcu.clocks as unknown as { usbCtrl: number; usbDiv: number };
    if (!(c.usbCtrl & (1 << 11))) return 0;
    const src = [mcu.pllUsb.frequency, mcu.pllSys.frequency, mcu.roscFreq, mcu.xoscFreq][(c.usbCtrl >>> 5) & 7] ?? 0;
    return src / (((c.usbDiv >>> 8) & 3) || 4);
  }

  /** RESETS has taken `block` into reset: a PLL's registers go back to their reset values. */
  heldInReset(block: string): void {
    const pll = this.plls[block];
    if (!pll) return;
    pll.cs = vendorReg(block, "CS").reset;
    pll.pwr = vendorReg(block, "PWR").reset;
    pll.fbdivInt = vendorReg(block, "FBDIV_INT").reset;
    pll.prim = vendorReg(block, "PRIM").reset;
    this.clocksChanged(`${block} held in reset`);
  }

  /** After a source changed: clk_sys must still have one (rp2040js keeps the old rate on 0 Hz). */
  private clocksChanged(what: string): void {
    const clocks = (this.mcu as unknown as { clocks?: { sysFreq: number } }).clocks;
    if (!clocks) return;
    if (clocks.sysFreq === 0) throw new LockUp(`${what} while clk_sys runs from it: the chip locks up`);
    this.mcu.updateClocks();
  }
}
