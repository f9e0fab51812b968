// GPIO ports A-E of the STM32H750 (RM0433 11.4): registers keep what is written from their
// reset values (ST's SVD through sim/h750/vendor.ts, with RM0433's per-port values where the
// SVD copies port A's to every port: port B's debug pins, the other ports all analog); BSRR
// sets and resets ODR bits; IDR reads the inputs the bench drives (K1 on PC13). pinAf() tells
// the peripheral models whether a pin is routed to them.
import { modelResetOf } from "./vendor";

const PORTS = ["A", "B", "C", "D", "E"];
const REGS = ["MODER", "OTYPER", "OSPEEDR", "PUPDR", "IDR", "ODR", "BSRR", "LCKR", "AFRL", "AFRH"];

export class GpioModel {
  regs: Uint32Array[] = PORTS.map((p) => Uint32Array.from(REGS.map((r) => modelResetOf(`GPIO${p}_${r}`))));
  /** Input levels per port (bit per pin), as the board drives them. */
  inputs = new Uint32Array(5);

  read(port: number, off: number): number {
    const r = this.regs[port];
    if (off === 0x10) return this.inputs[port];
    if (off === 0x18) return 0;               // BSRR reads 0
    return off < 0x28 ? r[off >> 2] : 0;
  }

  write(port: number, off: number, value: number): void {
    const r = this.regs[port];
    if (off === 0x18) { r[5] = ((r[5] | (value & 0xffff)) & ~(value >>> 16)) >>> 0; return; }
    if (off === 0x10) return;                 // IDR is read-only
    if (off < 0x28) r[off >> 2] = value >>> 0;
  }

  /** Pin `pin` of `port` in alternate-function mode with function `af`. */
  pinAf(port: number, pin: number, af: number): boolean {
    const r = this.regs[port];
    const mode = (r[0] >>> (2 * pin)) & 3;
    const sel = (r[8 + (pin >> 3)] >>> (4 * (pin & 7))) & 15;
    return mode === 2 && sel === af;
  }
}
