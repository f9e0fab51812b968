// The STM32H750 register models (sim/h750/) and the HAL's register constants
// (hal/stm32h750/regs.h) against ST's own data (sim/h750/vendor-regs.json, extracted from ST's
// SVD and CMSIS header by tools/vendor/extract-h750-svd.ts): every modelled register reads its
// SVD reset value after reset, except for the deviations listed with their reasons in
// sim/h750/vendor.ts; read-only registers ignore writes; every address and bit position in
// regs.h is the vendor's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEVIATIONS, VENDOR_ADDRESSES, VENDOR_SOURCES, reg, resetOf, vendorRegs, type VendorReg } from "../sim/h750/vendor";
import { RccModel, PwrModel, FlashAcrModel, SyscfgModel } from "../sim/h750/rcc";
import { GpioModel } from "../sim/h750/gpio";
import { QuadspiModel } from "../sim/h750/quadspi";
import { CrcModel } from "../sim/h750/crc";
import { UsartModel } from "../sim/h750/usart";
import { OtgFsModel } from "../sim/h750/otg-fs";
import { NorFlash } from "../sim/nor-flash";
import { CHIPS } from "../sim/chips";
import type { SimClock } from "../sim/clock";

const hex = (n: number) => "0x" + (n >>> 0).toString(16).padStart(8, "0");

// One fresh set of models; for each extracted register, how to read and write it there.
interface Port { read(addr: number): number; write(addr: number, v: number): void }
function models(): (name: string) => Port {
  const rcc = new RccModel(), pwr = new PwrModel(), acr = new FlashAcrModel(), gpio = new GpioModel();
  const clockOn = new RccModel();
  clockOn.write(0x0f4, 1 << 1); // SYSCFGEN: SYSCFG answers only with its clock on
  const syscfg = new SyscfgModel(clockOn, pwr);
  const clock = { now: 0, micros: () => 0 } as unknown as SimClock;
  const qspi = new QuadspiModel(new NorFlash(CHIPS.W25Q64JV, clock), () => true);
  const crc = new CrcModel(), usart = new UsartModel(), otg = new OtgFsModel();
  const at = (base: number, read: (o: number) => number, write: (o: number, v: number) => void): Port =>
    ({ read: (a) => read(a - base) >>> 0, write: (a, v) => write(a - base, v) });
  const ports: Record<string, Port> = {
    RCC: at(reg("RCC_CR").address, (o) => rcc.read(o), (o, v) => rcc.write(o, v)),
    PWR: at(reg("PWR_CR1").address, (o) => pwr.read(o), (o, v) => pwr.write(o, v)),
    SYSCFG: at(reg("SYSCFG_PWRCR").address & ~0x3ff, (o) => syscfg.read(o), (o, v) => syscfg.write(o, v)),
    FLASH: at(reg("FLASH_ACR").address, (o) => acr.read(o), (o, v) => acr.write(o, v)),
    QSPI: at(reg("QSPI_CR").address, (o) => qspi.read(o, 4), (o, v) => qspi.write(o, 4, v)),
    CRC: at(reg("CRC_DR").address, (o) => crc.read(o), (o, v) => crc.write(o, 4, v)),
    USART1: at(reg("USART1_CR1").address, (o) => usart.read(o), (o, v) => usart.write(o, v)),
    OTG: at(reg("OTG_GOTGCTL").address, (o) => otg.read(o), (o, v) => otg.write(o, v)),
  };
  for (const [i, p] of ["A", "B", "C", "D", "E"].entries()) {
    ports[`GPIO${p}`] = at(reg(`GPIO${p}_MODER`).address, (o) => gpio.read(i, o), (o, v) => gpio.write(i, o, v));
  }
  return (name) => {
    const port = ports[name.slice(0, name.indexOf("_"))];
    if (!port) throw new Error(`no model for ${name}`);
    return port;
  };
}

test("the extract says where it came from", () => {
  assert.match(VENDOR_SOURCES.svd.from, /@[0-9a-f]{40}:.*\.svd/);
  assert.match(VENDOR_SOURCES.header.from, /STMicroelectronics\/cmsis_device_h7@[0-9a-f]{40}:Include\/stm32h750xx\.h/);
  assert.ok(vendorRegs().size > 50);
});

test("every modelled register reads ST's reset value after reset, or a listed deviation", () => {
  const port = models();
  const wrong: string[] = [];
  for (const [name, r] of vendorRegs()) {
    const got = port(name).read(r.address);
    let want = r.reset;
    for (const d of DEVIATIONS) if (d.reg === name) want = ((want & ~d.mask) | (d.value & d.mask)) >>> 0;
    if (got !== want) wrong.push(`${name} (${r.svd}): model ${hex(got)}, ST ${hex(r.reset)}${want !== r.reset ? `, listed deviation -> ${hex(want)}` : ""}`);
  }
  assert.equal(wrong, [], "reset values");
});

test("each listed deviation is needed, names a register in the extract, and says why", () => {
  for (const d of DEVIATIONS) {
    const r = reg(d.reg);
    assert.ok((r.reset & d.mask) !== (d.value & d.mask) >>> 0, `${d.reg}: ST's reset value already has these bits; drop the deviation`);
    assert.ok(d.reason.length > 40, `${d.reg}: a reason`);
  }
});

test("read-only registers ignore writes", () => {
  const port = models();
  for (const [name, r] of vendorRegs()) {
    if (r.access !== "read-only") continue;
    const p = port(name);
    const before = p.read(r.address);
    p.write(r.address, 0xffffffff);
    p.write(r.address, 0);
    assert.is(hex(p.read(r.address)), hex(before), `${name} (${r.svd}) is read-only`);
  }
});

// ---- hal/stm32h750/regs.h ----
interface Def { params?: string[]; body: string }
const REGS_H = readFileSync(join(import.meta.dirname, "..", "hal", "stm32h750", "regs.h"), "utf8");
const defs = new Map<string, Def>();
for (const m of REGS_H.matchAll(/^#define\s+(\w+)(\(([^)]*)\))?[ \t]*(.*?)\s*(?:\/\/.*)?$/gm)) {
  defs.set(m[1], { params: m[2] ? m[3].split(",").map((s) => s.trim()) : undefined, body: m[4] });
}

function expand(text: string, depth = 0): string {
  if (depth > 30) throw new Error(`regs.h: runaway expansion of ${text}`);
  let out = "";
  for (let i = 0; i < text.length; ) {
    const m = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (!m) { out += text[i++]; continue; }
    const id = m[0];
    i += id.length;
    const d = defs.get(id);
    if (!d || id === "REG32") { out += id; continue; }
    if (!d.params) { out += `(${expand(d.body, depth + 1)})`; continue; }
    let j = i;
    while (text[j] === " ") j++;
    if (text[j] !== "(") { out += id; continue; }
    const args: string[] = [];
    let level = 0, cur = "";
    for (j++; j < text.length; j++) {
      const c = text[j];
      if (c === "(") level++;
      if (c === ")" && level-- === 0) break;
      if (c === "," && level === 0) { args.push(cur); cur = ""; } else cur += c;
    }
    args.push(cur);
    i = j + 1;
    const body = d.body.replace(/\b[A-Za-z_]\w*\b/g, (w) => { const k = d.params!.indexOf(w); return k >= 0 ? `(${args[k]})` : w; });
    out += `(${expand(body, depth + 1)})`;
  }
  return out;
}

function evaluate(expr: string): number {
  const js = expand(expr)
    .replace(/REG32\s*\(/g, "(")
    .replace(/\*\s*\(\s*volatile\s+uint(8|16|32)_t\s*\*\s*\)/g, "")
    .replace(/\b(0x[0-9A-Fa-f]+|\d+)[uU]?[lL]?\b/g, "$1");
  if (!/^[\s()+\-*<>|&~0-9a-fA-Fx]*$/.test(js)) throw new Error(`regs.h: cannot evaluate ${expr}: ${js}`);
  return Function(`return (${js})`)() >>> 0;
}

const isRegister = (d: Def) => /REG32\s*\(|volatile/.test(expand(d.body));

// Function-like register macros: the instances the HAL uses, and the extract's names for them.
const PORTS = ["A", "B", "C", "D", "E"];
const INSTANCES: Record<string, [string, string][]> = {
  GPIO_MODER: PORTS.map((p) => [`GPIO_MODER(PORT_${p})`, `GPIO${p}_MODER`]),
  GPIO_OSPEEDR: PORTS.map((p) => [`GPIO_OSPEEDR(PORT_${p})`, `GPIO${p}_OSPEEDR`]),
  GPIO_PUPDR: PORTS.map((p) => [`GPIO_PUPDR(PORT_${p})`, `GPIO${p}_PUPDR`]),
  GPIO_IDR: PORTS.map((p) => [`GPIO_IDR(PORT_${p})`, `GPIO${p}_IDR`]),
  GPIO_AFR: PORTS.flatMap((p): [string, string][] => [[`GPIO_AFR(PORT_${p}, 0)`, `GPIO${p}_AFRL`], [`GPIO_AFR(PORT_${p}, 1)`, `GPIO${p}_AFRH`]]),
  GPIO_BASE: PORTS.map((p) => [`GPIO_BASE(PORT_${p})`, `GPIO${p}_MODER`]),
  ...Object.fromEntries(["DIEPTXF", "DIEPCTL", "DIEPINT", "DIEPTSIZ", "DTXFSTS", "DOEPCTL", "DOEPINT", "DOEPTSIZ", "FIFO"]
    .map((r) => [`OTG_${r}`, [1, 2, 3].map((n): [string, string] => [`OTG_${r}(${n})`, r === "FIFO" && n > 1 ? "" : `OTG_${r}${n}`]).filter(([, k]) => k)])),
};
// Register macros whose extract name differs from theirs.
const SAME_REGISTER: Record<string, string> = { QSPI_DR8: "QSPI_DR", CRC_DR8: "CRC_DR" };
// Base addresses: the first register of the block.
const BASES: Record<string, string> = { RCC_BASE: "RCC_CR", PWR_BASE: "PWR_CR1", QSPI_BASE: "QSPI_CR", CRC_BASE: "CRC_DR", OTG_BASE: "OTG_GOTGCTL" };
// Constants named for a group of registers (EP0 IN and OUT share bit positions), or for values
// of a field: [name prefix, registers, field or undefined to take it from the rest of the name].
const GROUPS: [string, string[], string?][] = [
  ["OTG_EPCTL_", ["OTG_DIEPCTL0", "OTG_DOEPCTL0", "OTG_DIEPCTL1", "OTG_DOEPCTL1"]],
  ["OTG_EPINT_", ["OTG_DIEPINT0", "OTG_DOEPINT0", "OTG_DIEPINT1", "OTG_DOEPINT1"]],
  ["OTG_TSIZ_", ["OTG_DIEPTSIZ0", "OTG_DOEPTSIZ0", "OTG_DIEPTSIZ1", "OTG_DOEPTSIZ1"]],
  ["OTG_RXSTS_", ["OTG_GRXSTSP"]],
  ["QSPI_FMODE_", ["QSPI_CCR"], "FMODE"],
  ["PKTSTS_", ["OTG_GRXSTSP"], "PKTSTS"],
];
// Not in ST's data, on purpose: the Cortex-M7's own registers (ARM's ARMv7-M Architecture
// Reference Manual, not ST's SVD), the macro that makes a register, the include guard, and the
// board's port and pin numbers.
const NOT_VENDOR = new Set(["REGS_H750_H", "REG32", "SCB_VTOR", "SCB_AIRCR", "SCB_AIRCR_RESET", "SYSTICK_CTRL", "NVIC_ICER", "NVIC_ICPR",
  "DEMCR", "DEMCR_TRCENA", "DWT_CTRL", "DWT_CYCCNT", "DWT_LAR", "PORT_A", "PORT_B", "PORT_C", "PORT_D", "PORT_E", "K1_PIN"]);

const fieldValue = (r: VendorReg, f: string, shiftedValue: number, what: string): string | null => {
  const fd = r.fields[f];
  if (!fd) return `${what}: ${r.svd} has no field ${f} in the extract`;
  const mask = (fd.width === 32 ? 0xffffffff : ((1 << fd.width) - 1) << fd.bit) >>> 0;
  if (shiftedValue === 0 || (shiftedValue & ~mask) !== 0) return `${what} = ${hex(shiftedValue)} is not inside ${r.svd}.${f} (bits ${fd.bit + fd.width - 1}:${fd.bit})`;
  return null;
};

function checkConstant(name: string, d: Def): string | null {
  // Which register (or registers) and which field the name speaks of.
  let regs: string[] = [], rest = "", fixedField: string | undefined;
  const group = GROUPS.find(([p]) => name.startsWith(p));
  if (group) { regs = group[1]; rest = name.slice(group[0].length); fixedField = group[2]; } else {
    const owner = [...vendorRegs().keys()].filter((k) => name.startsWith(k + "_")).sort((a, b) => b.length - a.length)[0];
    if (!owner) return `${name}: not a register, field or value of the extract, and not listed as NOT_VENDOR`;
    regs = [owner];
    rest = name.slice(owner.length + 1);
  }
  const problems: string[] = [];
  let matched = 0;
  for (const rn of regs) {
    const r = reg(rn);
    const field = fixedField ?? Object.keys(r.fields).filter((f) => rest === f || rest.startsWith(f)).sort((a, b) => b.length - a.length)[0];
    if (!field) { if (regs.length === 1) problems.push(`${name}: no field of ${rn} in the extract matches "${rest}"`); continue; }
    matched++;
    const fd = r.fields[field];
    if (d.params) { // extractor macro: (((v) >> N) & M)
      const m = /^\(\(\(v\) >> (\d+)\) & (0x[0-9A-Fa-f]+|\d+)u?\)$/.exec(d.body);
      if (!m) { problems.push(`${name}: cannot read ${d.body}`); continue; }
      const [bit, mask] = [Number(m[1]), Number(m[2].replace(/u$/, ""))];
      if (bit !== fd.bit || mask !== (1 << fd.width) - 1) problems.push(`${name}: bits ${bit}+${Math.log2(mask + 1)}, ${rn}.${field} is ${fd.bit}+${fd.width}`);
    } else if (rest.endsWith("_SHIFT")) {
      if (evaluate(d.body) !== fd.bit) problems.push(`${name} = ${evaluate(d.body)}, ${rn}.${field} starts at bit ${fd.bit}`);
    } else if (fixedField) { // a value of the field, unshifted
      const v = evaluate(d.body);
      if (v >= 2 ** fd.width) problems.push(`${name} = ${v} does not fit ${rn}.${field} (${fd.width} bits)`);
    } else {
      let v = evaluate(d.body);
      if (fd.bit > 0 && v !== 0 && v < 2 ** fd.width && rest !== field) v = (v << fd.bit) >>> 0; // a value like SW_PLL1 = 3
      const p = fieldValue(r, field, v, name);
      if (p) problems.push(p);
    }
  }
  if (!matched && !problems.length) problems.push(`${name}: no field of ${regs.join("/")} matches "${rest}"`);
  return problems.length ? problems.join("; ") : null;
}

test("every register address and bit position in hal/stm32h750/regs.h is ST's", () => {
  const problems: string[] = [];
  let registers = 0, constants = 0;
  for (const [name, d] of defs) {
    if (NOT_VENDOR.has(name)) continue;
    if (INSTANCES[name]) {
      for (const [call, key] of INSTANCES[name]) {
        registers++;
        const got = evaluate(call), want = VENDOR_ADDRESSES[key] ?? reg(key).address;
        if (got !== want) problems.push(`${call} = ${hex(got)}, ST's ${key} is at ${hex(want)}`);
      }
      continue;
    }
    if (d.params && !GROUPS.some(([p]) => name.startsWith(p))) { problems.push(`${name}(...): add its instances to INSTANCES`); continue; }
    if (BASES[name] || VENDOR_ADDRESSES[name] !== undefined || (!d.params && isRegister(d))) {
      registers++;
      const key = BASES[name] ?? SAME_REGISTER[name] ?? name;
      const want = VENDOR_ADDRESSES[key] ?? (vendorRegs().has(key) ? reg(key).address : undefined);
      if (want === undefined) { problems.push(`${name}: not in the extract (add it to tools/vendor/extract-h750-svd.ts)`); continue; }
      const got = evaluate(name);
      if (got !== want) problems.push(`${name} = ${hex(got)}, ST's is ${hex(want)}`);
      continue;
    }
    constants++;
    const p = checkConstant(name, d);
    if (p) problems.push(p);
  }
  assert.equal(problems, []);
  assert.ok(registers > 60 && constants > 60, `${registers} register addresses, ${constants} field constants checked`);
});

test("the checks catch drift: a wrong address, bit or reset value is reported", () => {
  const saved = defs.get("OTG_GUSBCFG_PHYSEL")!;
  defs.set("OTG_GUSBCFG_PHYSEL", { body: "(1u << 7)" });
  assert.ok(checkConstant("OTG_GUSBCFG_PHYSEL", defs.get("OTG_GUSBCFG_PHYSEL")!), "PHYSEL at bit 7 is caught");
  defs.set("OTG_GUSBCFG_PHYSEL", saved);
  assert.is(checkConstant("OTG_GUSBCFG_PHYSEL", saved), null);
  defs.set("OTG_DCTL", { body: "REG32(OTG_BASE + 0x808)" });
  assert.is.not(evaluate("OTG_DCTL"), reg("OTG_DCTL").address, "DCTL at 0x808 would differ from ST's");
  defs.set("OTG_DCTL", { body: "REG32(OTG_BASE + 0x804)" });
  assert.is(resetOf("OTG_GUSBCFG"), 0x00000a00, "GUSBCFG's reset value in ST's SVD");
});

test.run();
