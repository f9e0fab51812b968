// The RP2040 register data from pico-sdk (sim/rp2040/vendor-regs.json, written by
// extract-regs.ts) and a register file built from it: every register a model keeps takes its
// address, reset value and per-field access type from there, not from our reading of the
// datasheet. Writes follow the access types: RW and WO bits take the value (WO bits read as 0),
// WC bits clear where a 1 is written, RO bits keep what the model set, SC bits take the write
// and the model acts on it and clears them. RF/WF/RWF (FIFO) registers are the model's own job.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface VendorField { lsb: number; msb: number; access: string; reset: number | null; values?: Record<string, number> }
export interface VendorReg { address: number; reset: number; bits: number; fields: Record<string, VendorField> }
export interface VendorBlock { file: string; base: number; registers: Record<string, VendorReg> }
export interface VendorData {
  source: { repo: string; commit: string; commitInfo: string };
  defaults: Record<string, { value: number; file: string }>;
  blocks: Record<string, VendorBlock>;
}

export const VENDOR: VendorData = JSON.parse(readFileSync(join(import.meta.dirname, "vendor-regs.json"), "utf8"));

export function vendorReg(block: string, reg: string): VendorReg {
  const r = VENDOR.blocks[block]?.registers[reg];
  if (!r) throw new Error(`vendor-regs.json has no ${block}.${reg}`);
  return r;
}
export function vendorField(block: string, reg: string, field: string): VendorField {
  const f = vendorReg(block, reg).fields[field];
  if (!f) throw new Error(`vendor-regs.json has no ${block}.${reg}.${field}`);
  return f;
}
/** The reset value of a register. */
export const resetOf = (block: string, reg: string): number => vendorReg(block, reg).reset >>> 0;
/** A field's mask in its register. */
export function fieldMask(f: VendorField): number {
  const w = f.msb - f.lsb + 1;
  return (w === 32 ? 0xffffffff : ((1 << w) - 1) << f.lsb) >>> 0;
}
/** Bits of a register whose fields have one of the access types. */
export function accessMask(r: VendorReg, ...types: string[]): number {
  let m = 0;
  for (const f of Object.values(r.fields)) if (types.includes(f.access)) m |= fieldMask(f);
  return m >>> 0;
}

interface Slot { name: string; reg: VendorReg; value: number; take: number; wc: number; wo: number }

/** A block's registers (all of them, or the named ones) as plain storage with vendor semantics. */
export class RegFile {
  private slots = new Map<number, Slot>();
  private byName = new Map<string, Slot>();

  constructor(readonly block: string, names?: string[]) {
    const b = VENDOR.blocks[block];
    if (!b) throw new Error(`vendor-regs.json has no block ${block}`);
    for (const name of names ?? Object.keys(b.registers)) {
      const reg = vendorReg(block, name);
      const s: Slot = {
        name, reg, value: reg.reset >>> 0,
        take: accessMask(reg, "RW", "WO", "SC"), wc: accessMask(reg, "WC"), wo: accessMask(reg, "WO"),
      };
      this.slots.set(reg.address - b.base, s);
      this.byName.set(name, s);
    }
  }

  has(offset: number): boolean { return this.slots.has(offset); }
  /** The register's value as the bus reads it; undefined if the block has no such register here. */
  read(offset: number): number | undefined {
    const s = this.slots.get(offset);
    return s ? (s.value & ~s.wo) >>> 0 : undefined;
  }
  /** A bus write; false if there is no such register here. */
  write(offset: number, value: number): boolean {
    const s = this.slots.get(offset);
    if (!s) return false;
    s.value = ((s.value & ~s.take & ~(value & s.wc)) | (value & s.take)) >>> 0;
    return true;
  }
  /** The model's own view and updates (read-only status bits, clearing self-clearing bits). */
  get(name: string): number { return this.slot(name).value; }
  set(name: string, value: number): void { this.slot(name).value = value >>> 0; }
  reset(): void { for (const s of this.slots.values()) s.value = s.reg.reset >>> 0; }
  /** Offsets and names of every register kept. */
  entries(): [number, string][] { return [...this.slots].map(([o, s]) => [o, s.name]); }

  private slot(name: string): Slot {
    const s = this.byName.get(name);
    if (!s) throw new Error(`${this.block}: ${name} is not modelled`);
    return s;
  }
}
