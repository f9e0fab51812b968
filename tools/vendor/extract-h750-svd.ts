// Writes sim/h750/vendor-regs.json: the registers the STM32H750 HAL (hal/stm32h750/regs.h) and
// the emulator's register models (sim/h750/) use, with address, reset value, access and the
// fields we use, taken from ST's SVD for the die, plus the few addresses ST keeps only in the
// CMSIS device header (unique ID, backup SRAM, the OTG FIFO window). Nothing is typed in here
// but names: every number comes from the files given.
//   npx tsx tools/vendor/extract-h750-svd.ts SVD HEADER --svd-source "repo@commit:path" \
//     --header-source "repo@commit:path" [--note "..."]
// The sources used for the committed file are recorded in it (see its "sources"): ST's
// STM32H753.svd (the H750's die; ST's SVD pack publishes no separate H750 file in this version)
// and stm32h750xx.h, both fetched from GitHub; the SVD (4 MB) is not committed.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSvd, type SvdDevice } from "./svd";

// [our name (regs.h's, without the peripheral's index), SVD peripheral, SVD register, fields]
// A field "OURS=SVDS" is a field our code names differently from the SVD.
type Spec = [string, string, string, string[]];
const OTG = "OTG2_HS_GLOBAL", OTGD = "OTG2_HS_DEVICE"; // USB2 OTG_FS at 0x40080000 (RM0433 57)
const SPEC: Spec[] = [
  ["RCC_CR", "RCC", "CR", ["HSION", "HSIKERON", "HSIRDY", "HSIDIV", "HSIDIVF", "CSION", "CSIRDY", "RC48ON", "RC48RDY", "D1CKRDY", "D2CKRDY", "HSEON", "HSERDY", "PLL1ON", "PLL1RDY", "PLL2ON", "PLL2RDY", "PLL3ON", "PLL3RDY"]],
  ["RCC_CFGR", "RCC", "CFGR", ["SW", "SWS"]],
  ["RCC_D1CFGR", "RCC", "D1CFGR", ["HPRE", "D1PPRE", "D1CPRE"]],
  ["RCC_D2CFGR", "RCC", "D2CFGR", ["D2PPRE1", "D2PPRE2"]],
  ["RCC_D3CFGR", "RCC", "D3CFGR", ["D3PPRE"]],
  ["RCC_PLLCKSELR", "RCC", "PLLCKSELR", ["PLLSRC", "DIVM1", "DIVM3"]],
  ["RCC_PLLCFGR", "RCC", "PLLCFGR", ["PLL1FRACEN", "PLL1VCOSEL", "PLL1RGE", "DIVP1EN", "DIVQ1EN", "DIVR1EN"]],
  ["RCC_PLL1DIVR", "RCC", "PLL1DIVR", ["DIVN1", "DIVP1", "DIVQ1", "DIVR1"]],
  ["RCC_PLL1FRACR", "RCC", "PLL1FRACR", ["FRACN1"]],
  ["RCC_PLL3DIVR", "RCC", "PLL3DIVR", ["DIVN3", "DIVP3", "DIVQ3", "DIVR3"]],
  ["RCC_D1CCIPR", "RCC", "D1CCIPR", ["QSPISEL"]],
  ["RCC_D2CCIP2R", "RCC", "D2CCIP2R", ["USBSEL", "USART16SEL"]],
  ["RCC_AHB3ENR", "RCC", "AHB3ENR", ["QSPIEN"]],
  ["RCC_AHB1ENR", "RCC", "AHB1ENR", ["USB2OTGFSEN=USB2OTGHSEN"]],
  ["RCC_AHB4ENR", "RCC", "AHB4ENR", ["GPIOAEN", "GPIOBEN", "GPIOCEN", "GPIODEN", "GPIOEEN", "CRCEN", "BKPRAMEN"]],
  ["RCC_APB2ENR", "RCC", "APB2ENR", ["USART1EN"]],
  ["RCC_APB4ENR", "RCC", "APB4ENR", ["SYSCFGEN"]],
  ["SYSCFG_PWRCR", "SYSCFG", "PWRCR", ["ODEN"]],
  ["PWR_CR1", "PWR", "CR1", ["DBP"]],
  ["PWR_CSR1", "PWR", "CSR1", ["ACTVOSRDY", "ACTVOS"]],
  ["PWR_CR3", "PWR", "CR3", ["BYPASS", "LDOEN", "SCUEN", "USB33DEN", "USB33RDY"]],
  ["PWR_D3CR", "PWR", "D3CR", ["VOSRDY", "VOS"]],
  ["FLASH_ACR", "Flash", "ACR", ["LATENCY", "WRHIGHFREQ"]],
  ...["A", "B", "C", "D", "E"].flatMap((p): Spec[] => [
    [`GPIO${p}_MODER`, `GPIO${p}`, "MODER", []], [`GPIO${p}_OTYPER`, `GPIO${p}`, "OTYPER", []],
    [`GPIO${p}_OSPEEDR`, `GPIO${p}`, "OSPEEDR", []], [`GPIO${p}_PUPDR`, `GPIO${p}`, "PUPDR", []],
    [`GPIO${p}_IDR`, `GPIO${p}`, "IDR", []], [`GPIO${p}_ODR`, `GPIO${p}`, "ODR", []],
    [`GPIO${p}_BSRR`, `GPIO${p}`, "BSRR", []], [`GPIO${p}_LCKR`, `GPIO${p}`, "LCKR", []],
    [`GPIO${p}_AFRL`, `GPIO${p}`, "AFRL", []], [`GPIO${p}_AFRH`, `GPIO${p}`, "AFRH", []],
  ]),
  ["QSPI_CR", "QUADSPI", "CR", ["EN", "ABORT", "SSHIFT", "FTHRES", "PRESCALER"]],
  ["QSPI_DCR", "QUADSPI", "DCR", ["CKMODE", "CSHT", "FSIZE"]],
  ["QSPI_SR", "QUADSPI", "SR", ["TEF", "TCF", "FTF", "SMF", "TOF", "BUSY", "FLEVEL"]],
  ["QSPI_FCR", "QUADSPI", "FCR", ["CTEF", "CTCF", "CSMF", "CTOF"]],
  ["QSPI_DLR", "QUADSPI", "DLR", []],
  ["QSPI_CCR", "QUADSPI", "CCR", ["INSTRUCTION", "IMODE", "ADMODE", "ADSIZE", "ABMODE", "ABSIZE", "DCYC", "DMODE", "FMODE", "SIOO", "DDRM"]],
  ["QSPI_AR", "QUADSPI", "AR", []],
  ["QSPI_ABR", "QUADSPI", "ABR", []],
  ["QSPI_DR", "QUADSPI", "DR", []],
  ["QSPI_PSMKR", "QUADSPI", "PSMKR", []],
  ["QSPI_PSMAR", "QUADSPI", "PSMAR", []],
  ["QSPI_PIR", "QUADSPI", "PIR", []],
  ["QSPI_LPTR", "QUADSPI", "LPTR", []],
  ["CRC_DR", "CRC", "DR", []],
  ["CRC_IDR", "CRC", "IDR", []],
  ["CRC_CR", "CRC", "CR", ["RESET", "POLYSIZE", "REV_IN", "REV_OUT"]],
  ["CRC_INIT", "CRC", "INIT", []],
  ["CRC_POL", "CRC", "POL", []],
  ["USART1_CR1", "USART1", "CR1", ["UE", "TE", "RE"]],
  ["USART1_BRR", "USART1", "BRR", []],
  ["USART1_ISR", "USART1", "ISR", ["RXNE", "TC", "TXE"]],
  ["USART1_RDR", "USART1", "RDR", []],
  ["USART1_TDR", "USART1", "TDR", []],
  ["OTG_GOTGCTL", OTG, "OTG_HS_GOTGCTL", ["BVALOEN", "BVALOVAL"]],
  ["OTG_GAHBCFG", OTG, "OTG_HS_GAHBCFG", ["GINT"]],
  ["OTG_GUSBCFG", OTG, "OTG_HS_GUSBCFG", ["PHYSEL", "TRDT", "FHMOD", "FDMOD"]],
  ["OTG_GRSTCTL", OTG, "OTG_HS_GRSTCTL", ["CSRST", "RXFFLSH", "TXFFLSH", "TXFNUM", "AHBIDL"]],
  ["OTG_GINTSTS", OTG, "OTG_HS_GINTSTS", ["CMOD", "NPTXFE", "RXFLVL", "GONAKEFF=BOUTNAKEFF", "USBRST", "ENUMDNE", "IEPINT", "OEPINT", "PTXFE"]],
  ["OTG_GRXSTSR", OTG, "OTG_HS_GRXSTSR_Device", ["EPNUM", "BCNT", "DPID", "PKTSTS"]],
  ["OTG_GRXSTSP", OTG, "OTG_HS_GRXSTSP_Device", ["EPNUM", "BCNT", "DPID", "PKTSTS"]],
  ["OTG_GRXFSIZ", OTG, "OTG_HS_GRXFSIZ", ["RXFD"]],
  ["OTG_DIEPTXF0", OTG, "OTG_HS_DIEPTXF0_Device", ["TX0FSA", "TX0FD"]],
  ["OTG_GCCFG", OTG, "OTG_HS_GCCFG", ["PWRDWN", "VBDEN"]],
  ["OTG_CID", OTG, "OTG_HS_CID", []],
  ["OTG_DCFG", OTGD, "OTG_HS_DCFG", ["DSPD", "DAD"]],
  ["OTG_DCTL", OTGD, "OTG_HS_DCTL", ["SDIS", "GONSTS", "SGONAK", "CGONAK"]],
  ["OTG_DSTS", OTGD, "OTG_HS_DSTS", ["ENUMSPD"]],
  ["OTG_DIEPCTL0", OTGD, "OTG_HS_DIEPCTL0", ["MPSIZ", "NAKSTS", "STALL=Stall", "CNAK", "SNAK", "EPENA"]],
  ["OTG_DIEPINT0", OTGD, "OTG_HS_DIEPINT0", ["XFRC", "TXFE"]],
  ["OTG_DIEPTSIZ0", OTGD, "OTG_HS_DIEPTSIZ0", ["XFRSIZ", "PKTCNT"]],
  ["OTG_DTXFSTS0", OTGD, "OTG_HS_DTXFSTS0", ["INEPTFSAV"]],
  ["OTG_DOEPCTL0", OTGD, "OTG_HS_DOEPCTL0", ["NAKSTS", "STALL=Stall", "CNAK", "SNAK", "EPENA"]],
  ["OTG_DOEPINT0", OTGD, "OTG_HS_DOEPINT0", ["XFRC", "STUP"]],
  ["OTG_DOEPTSIZ0", OTGD, "OTG_HS_DOEPTSIZ0", ["XFRSIZ", "PKTCNT", "STUPCNT"]],
  // Bulk endpoints 1..3 (the UF2 drive, RM0433 57.14.16, 57.15.x): one TX FIFO each, control,
  // interrupt, transfer size and FIFO status registers 0x20 apart.
  ...[1, 2, 3].flatMap((n): Spec[] => [
    [`OTG_DIEPTXF${n}`, OTG, `OTG_HS_DIEPTXF${n}`, ["INEPTXSA", "INEPTXFD"]],
    [`OTG_DIEPCTL${n}`, OTGD, `OTG_HS_DIEPCTL${n}`, ["MPSIZ", "USBAEP", "DPID=EONUM_DPID", "NAKSTS", "EPTYP", "STALL=Stall", "TXFNUM", "CNAK", "SNAK", "SD0PID=SD0PID_SEVNFRM", "EPDIS", "EPENA"]],
    [`OTG_DIEPINT${n}`, OTGD, `OTG_HS_DIEPINT${n}`, ["XFRC", "EPDISD", "INEPNE", "TXFE"]],
    [`OTG_DIEPTSIZ${n}`, OTGD, `OTG_HS_DIEPTSIZ${n}`, ["XFRSIZ", "PKTCNT"]],
    [`OTG_DTXFSTS${n}`, OTGD, `OTG_HS_DTXFSTS${n}`, ["INEPTFSAV"]],
    [`OTG_DOEPCTL${n}`, OTGD, `OTG_HS_DOEPCTL${n}`, ["MPSIZ", "USBAEP", "DPID=EONUM_DPID", "NAKSTS", "EPTYP", "STALL=Stall", "CNAK", "SNAK", "SD0PID=SD0PID_SEVNFRM", "EPDIS", "EPENA"]],
    [`OTG_DOEPINT${n}`, OTGD, `OTG_HS_DOEPINT${n}`, ["XFRC", "EPDISD"]],
    [`OTG_DOEPTSIZ${n}`, OTGD, `OTG_HS_DOEPTSIZ${n}`, ["XFRSIZ", "PKTCNT"]],
  ]),
  ["OTG_PCGCCTL", "OTG2_HS_PWRCLK", "OTG_HS_PCGCR", ["STPPCLK", "GATEHCLK"]],
];
// Addresses the SVD does not describe, from the CMSIS device header: [our name, expression].
const HEADER: [string, string][] = [
  ["UID_BASE", "UID_BASE"],
  ["BKPSRAM_BASE", "D3_BKPSRAM_BASE"],
  ["OTG_FIFO0", "USB2_OTG_FS_PERIPH_BASE + USB_OTG_FIFO_BASE"],
  ["OTG_FIFO1", "USB2_OTG_FS_PERIPH_BASE + USB_OTG_FIFO_BASE + USB_OTG_FIFO_SIZE"],
];

const hex = (n: number) => "0x" + (n >>> 0).toString(16).toUpperCase().padStart(8, "0");

function fromSvd(dev: SvdDevice) {
  const out: Record<string, unknown> = {};
  for (const [ours, pName, rName, fields] of SPEC) {
    const p = dev.peripherals.get(pName);
    if (!p) throw new Error(`${ours}: no peripheral ${pName} in the SVD`);
    const r = p.registers.find((x) => x.name === rName) ?? p.registers.find((x) => x.name === `${pName}_${rName}` || x.name === `GPIO_${rName}`);
    if (!r) throw new Error(`${ours}: no register ${rName} in ${pName}`);
    const fo: Record<string, unknown> = {};
    for (const f of fields) {
      const [our, svd = our] = f.split("=");
      const x = r.fields.find((y) => y.name === svd);
      if (!x) throw new Error(`${ours}: no field ${svd} (have ${r.fields.map((y) => y.name).join(" ")})`);
      fo[our] = {
        ...(svd !== our ? { svd } : {}), bit: x.bitOffset, width: x.bitWidth, access: x.access ?? r.access,
        ...(x.modifiedWriteValues ? { write: x.modifiedWriteValues } : {}), ...(x.readAction ? { read: x.readAction } : {}),
      };
    }
    out[ours] = {
      svd: `${pName}${p.derivedFrom ? `(derivedFrom ${p.derivedFrom})` : ""}.${r.name}`,
      address: hex(p.baseAddress + r.addressOffset), reset: hex(r.resetValue), access: r.access ?? null, fields: fo,
    };
  }
  return out;
}

function fromHeader(src: string) {
  const defs = new Map<string, string>();
  for (const m of src.matchAll(/^#define\s+(\w+)\s+(\([^\n]*?\)|0x[0-9A-Fa-f]+UL?)\s*(?:\/\*.*)?$/gm)) defs.set(m[1], m[2]);
  const expand = (e: string, depth = 0): string => {
    if (depth > 20) throw new Error(`header: ${e} does not resolve`);
    return e.replace(/\b[A-Za-z_]\w*\b/g, (w) => (defs.has(w) ? `(${expand(defs.get(w)!, depth + 1)})` : w));
  };
  const out: Record<string, string> = {};
  for (const [ours, expr] of HEADER) {
    const js = expand(expr).replace(/\b(0x[0-9A-Fa-f]+|\d+)U?L?\b/g, "$1");
    if (!/^[\s()+0-9a-fA-Fx]*$/.test(js)) throw new Error(`header: ${expr} -> ${js}`);
    out[ours] = hex(Function(`return (${js})`)());
  }
  return out;
}

function main() {
  const [svdPath, headerPath] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  const opt = (k: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined; };
  if (!svdPath || !headerPath) throw new Error("usage: extract-h750-svd.ts SVD HEADER [--svd-source S] [--header-source S] [--out FILE]");
  const dev = readSvd(readFileSync(svdPath, "utf8"));
  const data = {
    about: "Generated by tools/vendor/extract-h750-svd.ts from the sources below; edit that script, not this file. Exceptions (deliberate model differences) are in sim/h750/vendor.ts.",
    sources: {
      svd: { device: dev.name, version: dev.version, from: opt("--svd-source") ?? svdPath },
      header: { from: opt("--header-source") ?? headerPath },
      ...(opt("--note") ? { note: opt("--note") } : {}),
    },
    registers: fromSvd(dev),
    addresses: fromHeader(readFileSync(headerPath, "utf8")),
  };
  const out = opt("--out") ?? join(import.meta.dirname, "..", "..", "sim", "h750", "vendor-regs.json");
  writeFileSync(out, JSON.stringify(data, null, 1) + "\n");
  console.log(`${out}: ${Object.keys(data.registers).length} registers, ${Object.keys(data.addresses).length} addresses from ${dev.name} v${dev.version}`);
}

main();
