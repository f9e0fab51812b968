// The RP2040's RESETS block (datasheet 2.14) in place of rp2040js's, which starts with every
// block out of reset and reports RESET_DONE all ones whatever is written: registers and reset
// values from pico-sdk's resets.h (vendor-regs.json). At power-on every block is held in
// reset (RESET = 0x01ffffff); the boot ROM stand-in releases what the ROM releases. RESET_DONE
// follows RESET at once (a block comes out of reset within a few cycles on silicon).
// Held in reset, a block's registers do not take part in bus accesses that matter: a driver
// touching one has forgotten to release it, so such an access throws (`gate`), for the blocks
// this project's firmware and harness use. `ungated` lifts that for named blocks, for start-up
// code that does this on purpose and works on silicon: pico-sdk's runtime_init_usb_power_down
// reads (and may set bits in) USBCTRL's SIE_CTRL on every cold boot, while USBCTRL is still held
// in reset (the boot ROM releases it only for its own USB boot); what silicon returns then is not
// modelled beyond rp2040js's register (reset value 0 on a fresh chip). The PLLs' registers may be
// read while held (pico-sdk's pll_init reads CS on every cold boot, when the PLLs are still held
// from power-on): reads give the reset values (sim/rp2040/oscillators.ts puts them back when a PLL
// is taken into reset); writes are refused.
import type { RP2040 } from "rp2040js";
import { RegFile, VENDOR, fieldMask, vendorField } from "./vendor-regs";

export class BlockInReset extends Error {}

type Periph = { readUint32(o: number): number; writeUint32Atomic(o: number, v: number, t: number): void };

/** Peripheral base (rp2040js's key) per RESETS field, for the blocks gated. */
const GATED: Record<string, number> = {
  SYSINFO: 0x40000, IO_BANK0: 0x40014, IO_QSPI: 0x40018, PADS_BANK0: 0x4001c, PADS_QSPI: 0x40020,
  PLL_SYS: 0x40028, PLL_USB: 0x4002c, UART0: 0x40034, UART1: 0x40038, TIMER: 0x40054, DMA: 0x50000, USBCTRL: 0x50110,
};

export class Resets {
  readonly regs = new RegFile("RESETS");
  private readonly all = VENDOR.blocks.RESETS.registers.RESET.bits >>> 0;

  /** Told of each block RESET takes into reset (its bit 0 -> 1). */
  onHeld?: (block: string) => void;

  constructor(private readonly ungated: ReadonlySet<string> = new Set()) { this.update(); }

  bit(block: string): number { return fieldMask(vendorField("RESETS", "RESET", block)); }
  inReset(block: string): boolean { return (this.regs.get("RESET") & this.bit(block)) !== 0; }
  /** Pulse the blocks through reset and release them (what reset_unreset_block_wait does). */
  release(...blocks: string[]): void {
    for (const b of blocks) this.regs.set("RESET", this.regs.get("RESET") & ~this.bit(b));
    this.update();
  }

  private update(): void { this.regs.set("RESET_DONE", ~this.regs.get("RESET") & this.all); }

  /** Install in place of rp2040js's RESETS, and gate the blocks' registers on it. */
  install(mcu: RP2040): void {
    const p = (mcu as unknown as { peripherals: Record<number, Periph> }).peripherals;
    const rf = this.regs;
    p[0x4000c] = {
      readUint32: (o) => rf.read(o & 0xfff) ?? 0,
      writeUint32Atomic: (o, v, t) => {
        const cur = rf.read(o) ?? 0, was = this.regs.get("RESET");
        rf.write(o, t === 0 ? v : t === 1 ? cur ^ v : t === 2 ? cur | v : cur & ~v);
        this.update();
        const held = this.regs.get("RESET") & ~was;
        if (held && this.onHeld) {
          for (const f of Object.keys(VENDOR.blocks.RESETS.registers.RESET.fields)) if (held & this.bit(f)) this.onHeld(f);
        }
      },
    };
    for (const [block, key] of Object.entries(GATED)) {
      if (this.ungated.has(block)) continue;
      const dev = p[key];
      const read = dev.readUint32.bind(dev), write = dev.writeUint32Atomic.bind(dev);
      const check = (o: number, what: string) => {
        if (this.inReset(block)) throw new BlockInReset(`${what} ${block} + 0x${o.toString(16)} while ${block} is held in reset (RESETS.RESET): release it first`);
      };
      const readable = block === "PLL_SYS" || block === "PLL_USB";
      dev.readUint32 = (o) => { if (!readable) check(o, "read of"); return read(o); };
      dev.writeUint32Atomic = (o, v, t) => { check(o, "write to"); write(o, v, t); };
    }
  }
}
