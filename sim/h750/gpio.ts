// GPIO ports A-E of the STM32H750 (RM0433 11.4): registers keep what is written from their
// reset values (11.4.1: port A MODER A BFF FFFF, port B FFFF FEBF, others all analog); BSRR
// sets and resets ODR bits; IDR reads the inputs the bench drives (K1 on PC13). pinAf() tells
// the peripheral models whether a pin is routed to them.
const RESET_MODER = [0xabffffff, 0xfffffebf, 0xffffffff, 0xffffffff, 0xffffffff];

export class GpioModel {
  regs: Uint32Array[] = RESET_MODER.map((m) => Uint32Array.from([m, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
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
