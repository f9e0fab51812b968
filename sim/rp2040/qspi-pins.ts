// The QSPI pins between the SSI and the flash chip: IO_QSPI (function select and overrides,
// RP2040 datasheet 2.19.6.3) and PADS_QSPI (pulls, drive, Schmitt trigger, 2.19.6.4), registers
// and reset values from pico-sdk (vendor-regs.json). Modelled, because a driver depends on it:
// - a pin reaches the SSI only with FUNCSEL 0 (xip); at reset FUNCSEL is 0x1f (null), so the
//   flash sees no clock and no data until something (the boot ROM's connect_internal_flash)
//   selects the XIP function;
// - the chip-select pad: driven when OEOVER enables it, or OEOVER is normal and FUNCSEL is xip
//   (the SSI always drives its select); its level is the SSI's select (active low) or what
//   OUTOVER forces; not driven, the pad's pull-up holds it high unless BOOTSEL pulls it low
//   (the Pico's button is between QSPI_SS and ground);
// - SD0 with the pad's output disabled (OD) leaves IO0 to the pad's pull (the boot ROM's
//   flash_exit_xip clocks with OD and a pull-up or pull-down on every data pad).
// Not modelled: the STATUS registers' live pin readings (they read their reset value 0),
// drive strength, slew and Schmitt trigger (electrical; kept as register state only),
// interrupt and input overrides.
import { RegFile } from "./vendor-regs";

const FUNC_XIP = 0;
export const PAD_OD = 1 << 7, PAD_PUE = 1 << 3, PAD_PDE = 1 << 2;

export type QspiPin = "SCLK" | "SS" | "SD0" | "SD1" | "SD2" | "SD3";
const PINS: QspiPin[] = ["SCLK", "SS", "SD0", "SD1", "SD2", "SD3"];

export class QspiPins {
  readonly io = new RegFile("IO_QSPI");
  readonly pads = new RegFile("PADS_QSPI");
  /** `bootsel()`: the BOOTSEL button is pressed (pulls QSPI_SS low through the board's resistor). */
  constructor(private readonly bootsel: () => boolean = () => false) {}

  reset(): void { this.io.reset(); this.pads.reset(); }

  // The names built once: every XIP read asks for them, and a fresh string per call was most of
  // the emulator's time in an application running from flash.
  private static readonly CTRL = Object.fromEntries(PINS.map((p) => [p, `GPIO_QSPI_${p}_CTRL`])) as Record<QspiPin, string>;
  private static readonly PAD = Object.fromEntries(PINS.map((p) => [p, `GPIO_QSPI_${p}`])) as Record<QspiPin, string>;
  ctrl(pin: QspiPin): number { return this.io.get(QspiPins.CTRL[pin]); }
  pad(pin: QspiPin): number { return this.pads.get(QspiPins.PAD[pin]); }
  private xip(pin: QspiPin): boolean { return (this.ctrl(pin) & 0x1f) === FUNC_XIP; }

  /** SCK and the data lines a transfer on `lines` lines needs reach the flash. */
  connected(lines: 1 | 4): boolean {
    const pins: QspiPin[] = lines === 1 ? ["SCLK", "SD0", "SD1"] : ["SCLK", "SD0", "SD1", "SD2", "SD3"];
    return pins.every((p) => this.xip(p));
  }

  /** The QSPI_SS pad level, given the SSI's own select (true = asserted, i.e. low). */
  ssLevel(ssiSelect: boolean): boolean {
    const c = this.ctrl("SS");
    const oeover = (c >>> 12) & 3, outover = (c >>> 8) & 3;
    const periphOe = this.xip("SS");
    const oe = oeover === 0 ? periphOe : oeover === 1 ? !periphOe : oeover === 3;
    if (!oe) return this.bootsel() ? false : (this.pad("SS") & PAD_PDE) === 0 || (this.pad("SS") & PAD_PUE) !== 0;
    const periphOut = periphOe ? !ssiSelect : false;
    return outover === 0 ? periphOut : outover === 1 ? !periphOut : outover === 3;
  }

  /** What the flash sees on IO0 for a byte the SSI sends: the pad's pull when its output is off. */
  io0(byte: number): number {
    const p = this.pad("SD0");
    if (!(p & PAD_OD)) return byte;
    if (p & PAD_PUE) return 0xff;
    if (p & PAD_PDE) return 0x00;
    throw new Error("QSPI model: SD0 output disabled with no pull: IO0 floats");
  }
}
