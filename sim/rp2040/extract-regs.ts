// Writes sim/rp2040/vendor-regs.json: the RP2040 registers our models (sim/rp2040/) and the
// HAL (hal/rp2040/) use, as pico-sdk's generated hardware_regs headers give them: address,
// reset value, writable bits and, per field, position, access type and reset value.
// Run by hand, never at build or test time, against a local pico-sdk git mirror:
//   npx tsx sim/rp2040/extract-regs.ts /work/.mirror/raspberrypi+pico-sdk/repo [commit]
// The headers are generated from the same source as the RP2040 datasheet's register tables
// (and RP2040.svd in the same directory). Access types as pico-sdk writes them: RW, RO, WO,
// WC (write 1 to clear), SC (self-clearing), RF/WF/RWF (a read or write has a side effect,
// e.g. a FIFO). A field reset of "-" (undefined, e.g. a chip revision) is recorded as null.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VendorBlock, VendorField, VendorReg } from "./vendor-regs";

const DIR = "src/rp2040/hardware_regs/include/hardware/regs";

interface Pick { block: string; file: string; base: string; prefix: string; regs: string[] | "all" }

// What is used, block by block. "all" where a model implements the whole block.
const PICKS: Pick[] = [
  { block: "SSI", file: "ssi.h", base: "XIP_SSI_BASE", prefix: "SSI_", regs: "all" },
  { block: "IO_QSPI", file: "io_qspi.h", base: "IO_QSPI_BASE", prefix: "IO_QSPI_", regs: "all" },
  { block: "PADS_QSPI", file: "pads_qspi.h", base: "PADS_QSPI_BASE", prefix: "PADS_QSPI_", regs: "all" },
  { block: "XIP_CTRL", file: "xip.h", base: "XIP_CTRL_BASE", prefix: "XIP_", regs: ["CTRL", "FLUSH", "STAT"] },
  { block: "DMA", file: "dma.h", base: "DMA_BASE", prefix: "DMA_",
    regs: ["CH0_READ_ADDR", "CH0_WRITE_ADDR", "CH0_TRANS_COUNT", "CH0_CTRL_TRIG", "SNIFF_CTRL", "SNIFF_DATA"] },
  { block: "RESETS", file: "resets.h", base: "RESETS_BASE", prefix: "RESETS_", regs: ["RESET", "WDSEL", "RESET_DONE"] },
  { block: "PSM", file: "psm.h", base: "PSM_BASE", prefix: "PSM_", regs: ["WDSEL"] },
  { block: "WATCHDOG", file: "watchdog.h", base: "WATCHDOG_BASE", prefix: "WATCHDOG_",
    regs: ["CTRL", "LOAD", "SCRATCH0", "SCRATCH1", "SCRATCH4", "TICK"] },
  { block: "TIMER", file: "timer.h", base: "TIMER_BASE", prefix: "TIMER_", regs: ["TIMERAWL"] },
  { block: "ROSC", file: "rosc.h", base: "ROSC_BASE", prefix: "ROSC_", regs: ["CTRL", "DIV", "STATUS"] },
  { block: "XOSC", file: "xosc.h", base: "XOSC_BASE", prefix: "XOSC_", regs: ["CTRL", "STATUS", "STARTUP"] },
  { block: "PLL_SYS", file: "pll.h", base: "PLL_SYS_BASE", prefix: "PLL_", regs: ["CS", "PWR", "FBDIV_INT", "PRIM"] },
  { block: "PLL_USB", file: "pll.h", base: "PLL_USB_BASE", prefix: "PLL_", regs: ["CS", "PWR", "FBDIV_INT", "PRIM"] },
  { block: "CLOCKS", file: "clocks.h", base: "CLOCKS_BASE", prefix: "CLOCKS_",
    regs: ["CLK_REF_CTRL", "CLK_REF_DIV", "CLK_REF_SELECTED", "CLK_SYS_CTRL", "CLK_SYS_DIV", "CLK_SYS_SELECTED", "CLK_USB_CTRL", "CLK_USB_DIV", "CLK_PERI_CTRL"] },
  { block: "SIO", file: "sio.h", base: "SIO_BASE", prefix: "SIO_", regs: ["GPIO_HI_IN", "GPIO_OUT", "GPIO_OUT_SET", "GPIO_OUT_CLR", "GPIO_OE", "GPIO_OE_SET"] },
  { block: "SYSINFO", file: "sysinfo.h", base: "SYSINFO_BASE", prefix: "SYSINFO_", regs: ["CHIP_ID"] },
  { block: "IO_BANK0", file: "io_bank0.h", base: "IO_BANK0_BASE", prefix: "IO_BANK0_", regs: ["GPIO15_CTRL", "GPIO25_CTRL"] },
  { block: "PADS_BANK0", file: "pads_bank0.h", base: "PADS_BANK0_BASE", prefix: "PADS_BANK0_", regs: ["GPIO15"] },
  { block: "USBCTRL_REGS", file: "usb.h", base: "USBCTRL_REGS_BASE", prefix: "USB_",
    regs: ["ADDR_ENDP", "MAIN_CTRL", "SIE_CTRL", "SIE_STATUS", "BUFF_STATUS", "EP_STALL_ARM", "USB_MUXING", "USB_PWR",
      "USBPHY_DIRECT", "USBPHY_DIRECT_OVERRIDE"] },
  { block: "USBCTRL_DPRAM", file: "usb_device_dpram.h", base: "USBCTRL_DPRAM_BASE", prefix: "USB_DEVICE_DPRAM_",
    regs: ["SETUP_PACKET_LOW", "EP1_IN_CONTROL", "EP1_OUT_CONTROL", "EP3_OUT_CONTROL", "EP15_OUT_CONTROL",
      "EP0_IN_BUFFER_CONTROL", "EP0_OUT_BUFFER_CONTROL", "EP1_IN_BUFFER_CONTROL", "EP1_OUT_BUFFER_CONTROL",
      "EP3_OUT_BUFFER_CONTROL", "EP15_OUT_BUFFER_CONTROL"] },
  { block: "M0PLUS", file: "m0plus.h", base: "PPB_BASE", prefix: "M0PLUS_", regs: ["SYST_CSR", "NVIC_ICER", "NVIC_ICPR", "VTOR"] },
];





const num = (s: string): number => Number(s.replace(/^_u\((.*)\)$/, "$1"));

function defines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^#define\s+(\w+)\s+(.+?)\s*$/gm)) out.set(m[1], m[2]);
  return out;
}

/** Register names in file order (the "// Register    : NAME" lines). */
function registerNames(text: string): string[] {
  return [...text.matchAll(/^\/\/ Register\s+: (\w+)/gm)].map((m) => m[1]);
}
function fieldNames(text: string, reg: string): string[] {
  const start = text.indexOf(`// Register    : ${reg}\n`);
  const end = text.indexOf("// Register    : ", start + 1);
  const body = text.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/^\/\/ Field\s+: (\w+)/gm)].map((m) => m[1]);
}

function main(): void {
  const [mirror, commitArg] = process.argv.slice(2);
  if (!mirror) throw new Error("usage: extract-regs.ts <pico-sdk git dir> [commit]");
  const git = (...a: string[]) => execFileSync("git", ["--git-dir", mirror, ...a], { encoding: "utf8", maxBuffer: 64 << 20 });
  const commit = git("rev-parse", commitArg ?? "HEAD").trim();
  const describe = git("log", "-1", "--format=%ci %s", commit).trim();
  const show = (f: string) => git("show", `${commit}:${DIR}/${f}`);
  const addressMap = defines(show("addressmap.h"));
  const blocks: Record<string, VendorBlock> = {};
  for (const p of PICKS) {
    const text = show(p.file);
    const d = defines(text);
    const base = num(addressMap.get(p.base) ?? (() => { throw new Error(`${p.base} not in addressmap.h`); })());
    const all = registerNames(text);
    const wanted = p.regs === "all" ? all.map((r) => r.slice(p.prefix.length)) : p.regs;
    const registers: Record<string, VendorReg> = {};
    for (const name of wanted) {
      const full = p.prefix + name;
      if (!all.includes(full)) throw new Error(`${full} not in ${p.file}`);
      const fields: Record<string, VendorField> = {};
      const field = (fname: string, key: string): VendorField => {
        const reset = d.get(`${key}_RESET`);
        const values: Record<string, number> = {};
        for (const [k, v] of d) if (k.startsWith(`${key}_VALUE_`)) values[k.slice(key.length + 7)] = num(v);
        return {
          lsb: num(d.get(`${key}_LSB`)!), msb: num(d.get(`${key}_MSB`)!),
          access: JSON.parse(d.get(`${key}_ACCESS`)!), reset: reset === undefined || reset === '"-"' ? null : num(reset),
          ...(Object.keys(values).length ? { values } : {}),
        };
      };
      const names = fieldNames(text, full);
      if (names.length) for (const f of names) fields[f.slice(full.length + 1)] = field(f, f);
      else fields[name] = field(name, full); // a register that is one field
      const reset = d.get(`${full}_RESET`);
      registers[name] = {
        address: base + num(d.get(`${full}_OFFSET`)!),
        reset: reset === undefined || reset === '"-"' ? 0 : num(reset),
        bits: num(d.get(`${full}_BITS`)!),
        fields,
      };
    }
    blocks[p.block] = { file: `${DIR}/${p.file}`, base, registers };
  }
  // Defaults of pico-sdk's own bring-up that we follow (hal/rp2040/board.h).
  const xoscH = "src/rp2_common/hardware_xosc/include/hardware/xosc.h";
  const mult = /#define PICO_XOSC_STARTUP_DELAY_MULTIPLIER (\d+)/.exec(git("show", `${commit}:${xoscH}`));
  if (!mult) throw new Error(`no PICO_XOSC_STARTUP_DELAY_MULTIPLIER in ${xoscH}`);
  const defaults = { PICO_XOSC_STARTUP_DELAY_MULTIPLIER: { value: Number(mult[1]), file: xoscH } };
  const out = {
    about: "Generated by sim/rp2040/extract-regs.ts from pico-sdk's hardware_regs headers; do not edit by hand. " +
      "Numbers are decimal (JSON has no hex). access: RW, RO, WO, WC = write 1 to clear, SC = self-clearing, " +
      "RF/WF/RWF = read/write has a side effect. reset null = undefined in the header (\"-\").",
    source: { repo: "raspberrypi/pico-sdk", commit, commitInfo: describe },
    blocks,
  };
  const path = join(import.meta.dirname, "vendor-regs.json");
  // One line per register: small enough to read and to review in a diff.
  const regLines = (b: VendorBlock) => Object.entries(b.registers).map(([n, r]) => `    ${JSON.stringify(n)}: ${JSON.stringify(r)}`).join(",\n");
  const blockText = Object.entries(blocks).map(([n, b]) =>
    `  ${JSON.stringify(n)}: {"file": ${JSON.stringify(b.file)}, "base": ${b.base}, "registers": {\n${regLines(b)}\n  }}`).join(",\n");
  writeFileSync(path, `{"about": ${JSON.stringify(out.about)},\n"source": ${JSON.stringify(out.source)},\n"defaults": ${JSON.stringify(defaults)},\n"blocks": {\n${blockText}\n}}\n`);
  const count = Object.values(blocks).reduce((a, b) => a + Object.keys(b.registers).length, 0);
  console.log(`${path}: ${count} registers in ${Object.keys(blocks).length} blocks from pico-sdk ${commit.slice(0, 12)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
