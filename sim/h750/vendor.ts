// ST's data for the STM32H750 registers the models implement (sim/h750/vendor-regs.json, written
// by tools/vendor/extract-h750-svd.ts from ST's SVD and CMSIS header), and the one list of the
// places where a model deliberately reads differently from that data at reset, each with its
// reason. test/h750-vendor-regs.test.ts holds every model and hal/stm32h750/regs.h to both.
import data from "./vendor-regs.json" with { type: "json" };

export interface VendorField { bit: number; width: number; access: string | null; svd?: string; write?: string; read?: string }
export interface VendorReg { svd: string; address: number; reset: number; access: string | null; fields: Record<string, VendorField> }

const REGS = new Map<string, VendorReg>(Object.entries(data.registers).map(([k, r]) => [k, {
  svd: r.svd, address: Number(r.address) >>> 0, reset: Number(r.reset) >>> 0, access: r.access,
  fields: r.fields as Record<string, VendorField>,
}]));

export const VENDOR_SOURCES = data.sources;
export const VENDOR_ADDRESSES: Record<string, number> = Object.fromEntries(Object.entries(data.addresses).map(([k, v]) => [k, Number(v) >>> 0]));

export function vendorRegs(): Map<string, VendorReg> { return REGS; }

export function reg(name: string): VendorReg {
  const r = REGS.get(name);
  if (!r) throw new Error(`sim/h750/vendor-regs.json has no ${name}: add it to tools/vendor/extract-h750-svd.ts`);
  return r;
}

/** Reset value from ST's data. */
export function resetOf(name: string): number { return reg(name).reset; }

/** Reset values of every extracted register of a peripheral (name prefix), by offset from `base`. */
export function resetsAt(prefix: string, base: number): [number, number][] {
  return [...REGS].filter(([k]) => k.startsWith(prefix)).map(([, r]) => [r.address - base, r.reset]);
}

/** Mask of a field. */
export function fieldMask(name: string, field: string): number {
  const f = reg(name).fields[field];
  if (!f) throw new Error(`${name}.${field} is not in the extract`);
  return (f.width === 32 ? 0xffffffff : ((1 << f.width) - 1) << f.bit) >>> 0;
}

/** Where a model, read at reset, deliberately differs from ST's reset value: the bits in `mask`
 *  read `value` instead, for `reason`. The only such list; the vendor test enforces it. */
export interface Deviation { reg: string; mask: number; value: number; reason: string }
const GPIO_PORT_RESETS = "the SVD derives GPIOB-K from GPIOA, so it gives every port port A's reset values; RM0433 11.4 gives each port its own (debug pins PA13-15, PB3-4 start in their alternate function with pulls)";
export const DEVIATIONS: Deviation[] = [
  { reg: "RCC_CR", mask: (1 << 2) | (1 << 8), value: (1 << 2) | (1 << 8),
    reason: "HSIRDY and CSIRDY: the SVD's 0x83 has HSI and CSI on but not yet ready; the model reports an oscillator ready as soon as it is on (RM0433 8.7.2), as the firmware sees them a few cycles after reset" },
  { reg: "OTG_GRSTCTL", mask: 0xa0000000, value: 0x80000000,
    reason: "AHBIDL (bit 31) is live status, 1 whenever the AHB master is idle (RM0433 57.14.5), which it is after reset; the SVD's 0x20000000 sets bit 29, which its own field list does not define" },
  ...[1, 2, 3].map((n) => ({ reg: `OTG_DTXFSTS${n}`, mask: 0xffff, value: 0x200,
    reason: `INEPTFSAV is live status, the free words of TX FIFO ${n} (RM0433 57.14.x), which after reset is the whole FIFO as DIEPTXF${n} resets (INEPTXFD 0x200 in the SVD); the SVD's 0 would be a full FIFO` })),
  { reg: "GPIOB_MODER", mask: 0xffffffff, value: 0xfffffebf, reason: GPIO_PORT_RESETS },
  { reg: "GPIOC_MODER", mask: 0xffffffff, value: 0xffffffff, reason: GPIO_PORT_RESETS },
  { reg: "GPIOD_MODER", mask: 0xffffffff, value: 0xffffffff, reason: GPIO_PORT_RESETS },
  { reg: "GPIOE_MODER", mask: 0xffffffff, value: 0xffffffff, reason: GPIO_PORT_RESETS },
  { reg: "GPIOA_PUPDR", mask: 0xffffffff, value: 0x64000000, reason: "PA13 (SWDIO) pull-up, PA14 (SWCLK) pull-down, PA15 (JTDI) pull-up at reset (RM0433 11.4.4); the SVD's 0x12100000 puts pulls on other pins" },
  { reg: "GPIOB_OSPEEDR", mask: 0xffffffff, value: 0x000000c0, reason: GPIO_PORT_RESETS },
  { reg: "GPIOB_PUPDR", mask: 0xffffffff, value: 0x00000100, reason: GPIO_PORT_RESETS },
  ...["C", "D", "E"].flatMap((p) => [
    { reg: `GPIO${p}_OSPEEDR`, mask: 0xffffffff, value: 0, reason: GPIO_PORT_RESETS },
    { reg: `GPIO${p}_PUPDR`, mask: 0xffffffff, value: 0, reason: GPIO_PORT_RESETS },
  ]),
];

/** The reset value a model should read: ST's, with the deviations above applied. */
export function modelResetOf(name: string): number {
  let v = resetOf(name);
  for (const d of DEVIATIONS) if (d.reg === name) v = ((v & ~d.mask) | (d.value & d.mask)) >>> 0;
  return v;
}
