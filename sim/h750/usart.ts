// USART1 of the STM32H750 (RM0433 48.8), as much as an application's console needs: with UE
// and TE set in CR1, a byte written to TDR is sent at once (ISR.TXE stays 1); bytes the bench
// feeds are read from RDR while ISR.RXNE says one is there.
import { resetOf } from "./vendor";

export class UsartModel {
  cr1 = resetOf("USART1_CR1"); brr = resetOf("USART1_BRR"); // ST's SVD (sim/h750/vendor.ts)
  out = "";
  private rx: number[] = [];
  feed(byte: number): void { this.rx.push(byte & 0xff); }
  read(off: number): number {
    switch (off) {
      case 0x00: return this.cr1;
      case 0x0c: return this.brr;
      case 0x1c: return (1 << 7) | (1 << 6) | (this.rx.length ? 1 << 5 : 0); // TXE, TC, RXNE
      case 0x24: return this.rx.shift() ?? 0;
      default: return 0;
    }
  }
  write(off: number, value: number): void {
    if (off === 0x00) this.cr1 = value;
    else if (off === 0x0c) this.brr = value & 0xffff;
    else if (off === 0x28 && (this.cr1 & 9) === 9) this.out += String.fromCharCode(value & 0xff);
  }
}
