// Our RP2040 register models and the HAL's register constants against pico-sdk's register data
// (sim/rp2040/vendor-regs.json, extracted by sim/rp2040/extract-regs.ts from
// src/rp2040/hardware_regs at the commit it records): reset values, writable bits, addresses and
// field positions. A model or a constant that drifts from the vendor's data fails here, unless
// it is one of the deliberate deviations (sim/rp2040/deviations.ts), each with its reason.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RP2040 } from "rp2040js";
import { VENDOR, accessMask, fieldMask, vendorField, vendorReg } from "../sim/rp2040/vendor-regs";
import { Rp2040Flash } from "../sim/rp2040/ssi";
import { QspiPins } from "../sim/rp2040/qspi-pins";
import { installDmaSniffer } from "../sim/rp2040/dma-sniff";
import { DEVIATIONS, RP2040JS_DIFFERENCES } from "../sim/rp2040/deviations";
import { Resets } from "../sim/rp2040/resets";
import { NorFlash } from "../sim/nor-flash";
import { CHIPS } from "../sim/chips";
import type { SimClock } from "../sim/clock";

const HAL = join(import.meta.dirname, "..", "hal", "rp2040");
const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;
const deviates = (block: string, reg: string) => DEVIATIONS.some((d) => d.block === block && d.register === reg);

// ---- helpers naming vendor facts: "BLOCK.REG", "BLOCK.REG.FIELD", "BLOCK.REG.FIELD.VALUE" ----
const split = (s: string) => s.split(".");
const A = (s: string) => { const [b, r] = split(s); return vendorReg(b, r).address; };
const BASE = (b: string) => VENDOR.blocks[b].base;
const F = (s: string) => { const [b, r, f] = split(s); return vendorField(b, r, f); };
const M = (s: string) => fieldMask(F(s));           // a field's mask (a one-bit field: its bit)
const L = (s: string) => F(s).lsb;                  // a field's position
const V0 = (s: string) => {                         // an enumerated value, unshifted
  const [b, r, f, v] = split(s);
  const x = vendorField(b, r, f).values?.[v];
  if (x === undefined) throw new Error(`no value ${s}`);
  return x;
};
const V = (s: string) => (V0(s) << L(split(s).slice(0, 3).join("."))) >>> 0; // ... in place
/** A number the register headers do not hold: the reason says where it comes from. */
const N = (v: number, _why: string) => v;
const SET = N(0x2000, "datasheet 2.1.2: atomic set alias; an address map fact, not a register");
const CLR = N(0x3000, "datasheet 2.1.2: atomic clear alias");

// Every #define in hal/rp2040/regs.h, as pico-sdk's data gives it. Function-like macros are
// checked through the calls listed.
const REGS_H: Record<string, number> = {
  SET_ALIAS: SET, CLR_ALIAS: CLR,
  RESETS_BASE: BASE("RESETS"), RESETS_RESET: A("RESETS.RESET"),
  RESETS_RESET_SET: A("RESETS.RESET") + SET, RESETS_RESET_CLR: A("RESETS.RESET") + CLR,
  RESETS_DONE: A("RESETS.RESET_DONE"),
  RESET_DMA: M("RESETS.RESET.DMA"), RESET_IO_QSPI: M("RESETS.RESET.IO_QSPI"), RESET_PADS_QSPI: M("RESETS.RESET.PADS_QSPI"),
  RESET_PLL_SYS: M("RESETS.RESET.PLL_SYS"), RESET_PLL_USB: M("RESETS.RESET.PLL_USB"), RESET_TIMER: M("RESETS.RESET.TIMER"),
  RESET_USBCTRL: M("RESETS.RESET.USBCTRL"),
  RESET_IO_BANK0: M("RESETS.RESET.IO_BANK0"), RESET_PADS_BANK0: M("RESETS.RESET.PADS_BANK0"), RESET_SYSINFO: M("RESETS.RESET.SYSINFO"),
  PSM_WDSEL: A("PSM.WDSEL"),
  PSM_ALL_BUT_OSCILLATORS: (vendorReg("PSM", "WDSEL").bits & ~(M("PSM.WDSEL.ROSC") | M("PSM.WDSEL.XOSC"))) >>> 0,
  WATCHDOG_BASE: BASE("WATCHDOG"), WATCHDOG_CTRL: A("WATCHDOG.CTRL"), WATCHDOG_CTRL_TRIGGER: M("WATCHDOG.CTRL.TRIGGER"),
  WATCHDOG_SCRATCH0: A("WATCHDOG.SCRATCH0"), WATCHDOG_SCRATCH1: A("WATCHDOG.SCRATCH1"),
  WATCHDOG_TICK: A("WATCHDOG.TICK"), WATCHDOG_TICK_ENABLE: M("WATCHDOG.TICK.ENABLE"),
  TIMER_TIMERAWL: A("TIMER.TIMERAWL"),
  ROSC_DIV: A("ROSC.DIV"), ROSC_DIV_PASS: V0("ROSC.DIV.DIV.PASS"),
  XOSC_BASE: BASE("XOSC"), XOSC_CTRL: A("XOSC.CTRL"), XOSC_STATUS: A("XOSC.STATUS"), XOSC_STARTUP: A("XOSC.STARTUP"),
  XOSC_CTRL_1_15MHZ: V("XOSC.CTRL.FREQ_RANGE.1_15MHZ"), XOSC_CTRL_ENABLE: V("XOSC.CTRL.ENABLE.ENABLE"),
  XOSC_CTRL_DISABLE: V("XOSC.CTRL.ENABLE.DISABLE"),
  XOSC_STATUS_STABLE: M("XOSC.STATUS.STABLE"),
  PLL_SYS_BASE: BASE("PLL_SYS"), PLL_USB_BASE: BASE("PLL_USB"),
  "PLL_CS(PLL_SYS_BASE)": A("PLL_SYS.CS"), "PLL_PWR(PLL_SYS_BASE)": A("PLL_SYS.PWR"),
  "PLL_FBDIV_INT(PLL_SYS_BASE)": A("PLL_SYS.FBDIV_INT"), "PLL_PRIM(PLL_SYS_BASE)": A("PLL_SYS.PRIM"),
  "PLL_CS(PLL_USB_BASE)": A("PLL_USB.CS"), "PLL_PWR(PLL_USB_BASE)": A("PLL_USB.PWR"),
  "PLL_FBDIV_INT(PLL_USB_BASE)": A("PLL_USB.FBDIV_INT"), "PLL_PRIM(PLL_USB_BASE)": A("PLL_USB.PRIM"),
  PLL_CS_LOCK: M("PLL_SYS.CS.LOCK"), PLL_PWR_PD: M("PLL_SYS.PWR.PD"), PLL_PWR_POSTDIVPD: M("PLL_SYS.PWR.POSTDIVPD"),
  PLL_PWR_VCOPD: M("PLL_SYS.PWR.VCOPD"), PLL_PWR_DSMPD: M("PLL_SYS.PWR.DSMPD"),
  PLL_PRIM_POSTDIV1_SHIFT: L("PLL_SYS.PRIM.POSTDIV1"), PLL_PRIM_POSTDIV2_SHIFT: L("PLL_SYS.PRIM.POSTDIV2"),
  CLOCKS_BASE: BASE("CLOCKS"),
  CLK_REF_CTRL: A("CLOCKS.CLK_REF_CTRL"), CLK_REF_DIV: A("CLOCKS.CLK_REF_DIV"), CLK_REF_SELECTED: A("CLOCKS.CLK_REF_SELECTED"),
  CLK_SYS_CTRL: A("CLOCKS.CLK_SYS_CTRL"), CLK_SYS_DIV: A("CLOCKS.CLK_SYS_DIV"), CLK_SYS_SELECTED: A("CLOCKS.CLK_SYS_SELECTED"),
  CLK_USB_CTRL: A("CLOCKS.CLK_USB_CTRL"), CLK_USB_DIV: A("CLOCKS.CLK_USB_DIV"),
  CLK_REF_SRC_ROSC: V0("CLOCKS.CLK_REF_CTRL.SRC.ROSC_CLKSRC_PH"), CLK_REF_SRC_XOSC: V0("CLOCKS.CLK_REF_CTRL.SRC.XOSC_CLKSRC"),
  CLK_SYS_SRC_AUX: V("CLOCKS.CLK_SYS_CTRL.SRC.CLKSRC_CLK_SYS_AUX"), CLK_USB_ENABLE: M("CLOCKS.CLK_USB_CTRL.ENABLE"),
  CLK_DIV_1: (1 << L("CLOCKS.CLK_REF_DIV.INT")) >>> 0,
  DMA_BASE: BASE("DMA"),
  DMA_CH0_READ_ADDR: A("DMA.CH0_READ_ADDR"), DMA_CH0_WRITE_ADDR: A("DMA.CH0_WRITE_ADDR"),
  DMA_CH0_TRANS_COUNT: A("DMA.CH0_TRANS_COUNT"), DMA_CH0_CTRL_TRIG: A("DMA.CH0_CTRL_TRIG"),
  DMA_CTRL_EN: M("DMA.CH0_CTRL_TRIG.EN"), DMA_CTRL_INCR_READ: M("DMA.CH0_CTRL_TRIG.INCR_READ"),
  DMA_CTRL_INCR_WRITE: M("DMA.CH0_CTRL_TRIG.INCR_WRITE"), DMA_CTRL_SIZE_WORD: V("DMA.CH0_CTRL_TRIG.DATA_SIZE.SIZE_WORD"),
  DMA_CTRL_TREQ_PERMANENT: V("DMA.CH0_CTRL_TRIG.TREQ_SEL.PERMANENT"), DMA_CTRL_IRQ_QUIET: M("DMA.CH0_CTRL_TRIG.IRQ_QUIET"),
  DMA_CTRL_SNIFF_EN: M("DMA.CH0_CTRL_TRIG.SNIFF_EN"), DMA_CTRL_BUSY: M("DMA.CH0_CTRL_TRIG.BUSY"),
  // The extracted data holds channel 0 only; dma.h puts channel n at 0x40 * n (DMA_CH1_READ_ADDR_OFFSET 0x40).
  DMA_CH1_READ_ADDR: N(A("DMA.CH0_READ_ADDR") + 0x40, "dma.h DMA_CH1_READ_ADDR_OFFSET"),
  DMA_CH1_WRITE_ADDR: N(A("DMA.CH0_WRITE_ADDR") + 0x40, "dma.h DMA_CH1_WRITE_ADDR_OFFSET"),
  DMA_CH1_TRANS_COUNT: N(A("DMA.CH0_TRANS_COUNT") + 0x40, "dma.h DMA_CH1_TRANS_COUNT_OFFSET"),
  DMA_CH1_CTRL_TRIG: N(A("DMA.CH0_CTRL_TRIG") + 0x40, "dma.h DMA_CH1_CTRL_TRIG_OFFSET"),
  DMA_CTRL_CHAIN_TO_SELF1: (1 << L("DMA.CH0_CTRL_TRIG.CHAIN_TO")) >>> 0, DMA_CTRL_BSWAP: M("DMA.CH0_CTRL_TRIG.BSWAP"),
  DMA_CTRL_TREQ_SSITX: (N(38, "dreq.h DREQ_XIP_SSITX") << L("DMA.CH0_CTRL_TRIG.TREQ_SEL")) >>> 0,
  DMA_CTRL_TREQ_SSIRX: (N(39, "dreq.h DREQ_XIP_SSIRX") << L("DMA.CH0_CTRL_TRIG.TREQ_SEL")) >>> 0,
  DMA_SNIFF_CTRL: A("DMA.SNIFF_CTRL"), DMA_SNIFF_DATA: A("DMA.SNIFF_DATA"),
  DMA_SNIFF_EN: M("DMA.SNIFF_CTRL.EN"), DMA_SNIFF_CALC_CRC32_REV: V("DMA.SNIFF_CTRL.CALC.CRC32R"),
  DMA_SNIFF_OUT_REV: M("DMA.SNIFF_CTRL.OUT_REV"), DMA_SNIFF_OUT_INV: M("DMA.SNIFF_CTRL.OUT_INV"),
  XIP_CTRL_FLUSH: A("XIP_CTRL.FLUSH"),
  SSI_BASE: BASE("SSI"), SSI_CTRLR0: A("SSI.CTRLR0"), SSI_CTRLR1: A("SSI.CTRLR1"), SSI_SSIENR: A("SSI.SSIENR"),
  SSI_BAUDR: A("SSI.BAUDR"), SSI_SR: A("SSI.SR"), SSI_DR0: A("SSI.DR0"), SSI_RX_SAMPLE_DLY: A("SSI.RX_SAMPLE_DLY"),
  SSI_SPI_CTRLR0: A("SSI.SPI_CTRLR0"),
  SSI_DMACR: A("SSI.DMACR"), SSI_DMATDLR: A("SSI.DMATDLR"), SSI_DMARDLR: A("SSI.DMARDLR"),
  SSI_DMACR_RDMAE: M("SSI.DMACR.RDMAE"), SSI_DMACR_TDMAE: M("SSI.DMACR.TDMAE"),
  SSI_CTRLR0_DFS32_SHIFT: L("SSI.CTRLR0.DFS_32"), SSI_CTRLR0_TMOD_SHIFT: L("SSI.CTRLR0.TMOD"),
  SSI_TMOD_TX_AND_RX: V0("SSI.CTRLR0.TMOD.TX_AND_RX"), SSI_TMOD_TX_ONLY: V0("SSI.CTRLR0.TMOD.TX_ONLY"),
  SSI_TMOD_EEPROM_READ: V0("SSI.CTRLR0.TMOD.EEPROM_READ"), SSI_CTRLR0_SPI_FRF_SHIFT: L("SSI.CTRLR0.SPI_FRF"),
  SSI_FRF_STD: V0("SSI.CTRLR0.SPI_FRF.STD"), SSI_FRF_QUAD: V0("SSI.CTRLR0.SPI_FRF.QUAD"),
  SSI_SR_BUSY: M("SSI.SR.BUSY"), SSI_SR_TFNF: M("SSI.SR.TFNF"), SSI_SR_TFE: M("SSI.SR.TFE"), SSI_SR_RFNE: M("SSI.SR.RFNE"),
  SSI_SPI_TRANS_TYPE_SHIFT: L("SSI.SPI_CTRLR0.TRANS_TYPE"), SSI_SPI_ADDR_L_SHIFT: L("SSI.SPI_CTRLR0.ADDR_L"),
  SSI_SPI_INST_L_SHIFT: L("SSI.SPI_CTRLR0.INST_L"), SSI_SPI_WAIT_CYCLES_SHIFT: L("SSI.SPI_CTRLR0.WAIT_CYCLES"),
  SSI_SPI_XIP_CMD_SHIFT: L("SSI.SPI_CTRLR0.XIP_CMD"),
  SSI_FIFO_DEPTH: N(16, "ssi.h block description: FIFO depth 16 words (TXFLR counts 0..16)"),
  IO_QSPI_SS_CTRL: A("IO_QSPI.GPIO_QSPI_SS_CTRL"),
  SS_CTRL_OUTOVER_SHIFT: L("IO_QSPI.GPIO_QSPI_SS_CTRL.OUTOVER"), SS_CTRL_OUTOVER_MASK: M("IO_QSPI.GPIO_QSPI_SS_CTRL.OUTOVER"),
  SS_CTRL_OUTOVER_LOW: V("IO_QSPI.GPIO_QSPI_SS_CTRL.OUTOVER.LOW"), SS_CTRL_OUTOVER_HIGH: V("IO_QSPI.GPIO_QSPI_SS_CTRL.OUTOVER.HIGH"),
  "PADS_QSPI_SD(0)": A("PADS_QSPI.GPIO_QSPI_SD0"), "PADS_QSPI_SD(1)": A("PADS_QSPI.GPIO_QSPI_SD1"),
  "PADS_QSPI_SD(2)": A("PADS_QSPI.GPIO_QSPI_SD2"), "PADS_QSPI_SD(3)": A("PADS_QSPI.GPIO_QSPI_SD3"),
  // Also used on PADS_BANK0 GPIO15 (usb.c): the same positions there.
  PAD_PUE: M("PADS_QSPI.GPIO_QSPI_SD0.PUE") & M("PADS_BANK0.GPIO15.PUE"), PAD_PDE: M("PADS_QSPI.GPIO_QSPI_SD0.PDE") & M("PADS_BANK0.GPIO15.PDE"),
  USBCTRL_DPRAM: BASE("USBCTRL_DPRAM"), USBCTRL_REGS: BASE("USBCTRL_REGS"),
  USB_ADDR_ENDP: A("USBCTRL_REGS.ADDR_ENDP"), USB_MAIN_CTRL: A("USBCTRL_REGS.MAIN_CTRL"), USB_SIE_CTRL: A("USBCTRL_REGS.SIE_CTRL"),
  USB_SIE_STATUS: A("USBCTRL_REGS.SIE_STATUS"), USB_BUFF_STATUS: A("USBCTRL_REGS.BUFF_STATUS"),
  USB_EP_STALL_ARM: A("USBCTRL_REGS.EP_STALL_ARM"), USB_MUXING: A("USBCTRL_REGS.USB_MUXING"), USB_PWR: A("USBCTRL_REGS.USB_PWR"),
  USB_MAIN_CTRL_CONTROLLER_EN: M("USBCTRL_REGS.MAIN_CTRL.CONTROLLER_EN"),
  USB_SIE_CTRL_EP0_INT_1BUF: M("USBCTRL_REGS.SIE_CTRL.EP0_INT_1BUF"), USB_SIE_CTRL_PULLUP_EN: M("USBCTRL_REGS.SIE_CTRL.PULLUP_EN"),
  USB_SIE_STATUS_SETUP_REC: M("USBCTRL_REGS.SIE_STATUS.SETUP_REC"), USB_SIE_STATUS_BUS_RESET: M("USBCTRL_REGS.SIE_STATUS.BUS_RESET"),
  USB_BUFF_EP0_IN: M("USBCTRL_REGS.BUFF_STATUS.EP0_IN"), USB_BUFF_EP0_OUT: M("USBCTRL_REGS.BUFF_STATUS.EP0_OUT"),
  USB_MUXING_TO_PHY: M("USBCTRL_REGS.USB_MUXING.TO_PHY"), USB_MUXING_SOFTCON: M("USBCTRL_REGS.USB_MUXING.SOFTCON"),
  USB_PWR_VBUS_DETECT: M("USBCTRL_REGS.USB_PWR.VBUS_DETECT"), USB_PWR_VBUS_DETECT_OVERRIDE_EN: M("USBCTRL_REGS.USB_PWR.VBUS_DETECT_OVERRIDE_EN"),
  USB_PHY_DIRECT: A("USBCTRL_REGS.USBPHY_DIRECT"), USB_PHY_DIRECT_OVERRIDE: A("USBCTRL_REGS.USBPHY_DIRECT_OVERRIDE"),
  USB_SIE_STATUS_CONNECTED: M("USBCTRL_REGS.SIE_STATUS.CONNECTED"), USB_SIE_STATUS_LINE_STATE_MASK: M("USBCTRL_REGS.SIE_STATUS.LINE_STATE"),
  USB_PHY_DP_PULLUP_EN: M("USBCTRL_REGS.USBPHY_DIRECT.DP_PULLUP_EN"),
  USB_PHY_OVERRIDE_DP_PULLUP_EN: M("USBCTRL_REGS.USBPHY_DIRECT_OVERRIDE.DP_PULLUP_EN_OVERRIDE_EN"),
  USB_MUXING_TO_DIGITAL_PAD: M("USBCTRL_REGS.USB_MUXING.TO_DIGITAL_PAD"),
  SYSINFO_CHIP_ID: A("SYSINFO.CHIP_ID"), CHIP_ID_REVISION_SHIFT: L("SYSINFO.CHIP_ID.REVISION"),
  IO_BANK0_GPIO15_CTRL: A("IO_BANK0.GPIO15_CTRL"), PADS_BANK0_GPIO15: A("PADS_BANK0.GPIO15"),
  GPIO_FUNCSEL_MASK: M("IO_BANK0.GPIO15_CTRL.FUNCSEL"), GPIO_FUNCSEL_USB_DP: V0("IO_BANK0.GPIO15_CTRL.FUNCSEL.USB_MUXING_DIGITAL_DP"),
  GPIO_OEOVER_MASK: M("IO_BANK0.GPIO15_CTRL.OEOVER"), GPIO_OEOVER_DISABLE: V("IO_BANK0.GPIO15_CTRL.OEOVER.DISABLE"),
  GPIO_INOVER_MASK: M("IO_BANK0.GPIO15_CTRL.INOVER"), GPIO_INOVER_HIGH: V("IO_BANK0.GPIO15_CTRL.INOVER.HIGH"),
  IO_BANK0_GPIO25_CTRL: A("IO_BANK0.GPIO25_CTRL"), GPIO_FUNCSEL_SIO: V0("IO_BANK0.GPIO25_CTRL.FUNCSEL.SIO_25"),
  SIO_GPIO_OUT_SET: A("SIO.GPIO_OUT_SET"), SIO_GPIO_OUT_CLR: A("SIO.GPIO_OUT_CLR"), SIO_GPIO_OE_SET: A("SIO.GPIO_OE_SET"),
  DPRAM_SETUP: A("USBCTRL_DPRAM.SETUP_PACKET_LOW"),
  DPRAM_EP0_IN_CTRL: A("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL"), DPRAM_EP0_OUT_CTRL: A("USBCTRL_DPRAM.EP0_OUT_BUFFER_CONTROL"),
  DPRAM_EP0_BUF: N(BASE("USBCTRL_DPRAM") + 0x100, "datasheet 4.1.2.5: EP0's buffer at DPRAM 0x100 (memory, not a register)"),
  BUF_FULL: M("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL.FULL_0"), BUF_DATA1: M("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL.PID_0"),
  BUF_STALL: M("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL.STALL"), BUF_AVAILABLE: M("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL.AVAILABLE_0"),
  BUF_LEN_MASK: M("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL.LENGTH_0"),
  // Endpoint i = 2 * number + OUT, BUFF_STATUS's bit order (EP1_IN = bit 2, EP15_OUT = bit 31).
  "DPRAM_EP_CTRL(2)": A("USBCTRL_DPRAM.EP1_IN_CONTROL"), "DPRAM_EP_CTRL(3)": A("USBCTRL_DPRAM.EP1_OUT_CONTROL"),
  "DPRAM_EP_CTRL(7)": A("USBCTRL_DPRAM.EP3_OUT_CONTROL"), "DPRAM_EP_CTRL(31)": A("USBCTRL_DPRAM.EP15_OUT_CONTROL"),
  "DPRAM_BUF_CTRL(0)": A("USBCTRL_DPRAM.EP0_IN_BUFFER_CONTROL"), "DPRAM_BUF_CTRL(1)": A("USBCTRL_DPRAM.EP0_OUT_BUFFER_CONTROL"),
  "DPRAM_BUF_CTRL(2)": A("USBCTRL_DPRAM.EP1_IN_BUFFER_CONTROL"), "DPRAM_BUF_CTRL(3)": A("USBCTRL_DPRAM.EP1_OUT_BUFFER_CONTROL"),
  "DPRAM_BUF_CTRL(7)": A("USBCTRL_DPRAM.EP3_OUT_BUFFER_CONTROL"), "DPRAM_BUF_CTRL(31)": A("USBCTRL_DPRAM.EP15_OUT_BUFFER_CONTROL"),
  "DPRAM_EP_BUF(2)": N(BASE("USBCTRL_DPRAM") + 0x180, "usb_dpram.h's device layout: data buffers after EP0's, from DPRAM 0x180 (memory)"),
  "DPRAM_EP_BUF(7)": N(BASE("USBCTRL_DPRAM") + 0x180 + 5 * 64, "one 64-byte buffer per direction of EP1..3"),
  EP_CTRL_ENABLE: M("USBCTRL_DPRAM.EP1_IN_CONTROL.ENABLE") & M("USBCTRL_DPRAM.EP1_OUT_CONTROL.ENABLE"),
  EP_CTRL_INT_PER_BUFF: M("USBCTRL_DPRAM.EP1_IN_CONTROL.INTERRUPT_PER_BUFF") & M("USBCTRL_DPRAM.EP1_OUT_CONTROL.INTERRUPT_PER_BUFF"),
  EP_CTRL_TYPE_BULK: V("USBCTRL_DPRAM.EP1_IN_CONTROL.ENDPOINT_TYPE.BULK") & V("USBCTRL_DPRAM.EP1_OUT_CONTROL.ENDPOINT_TYPE.BULK"),
  SCB_VTOR: A("M0PLUS.VTOR"), SYSTICK_CTRL: A("M0PLUS.SYST_CSR"), NVIC_ICER: A("M0PLUS.NVIC_ICER"), NVIC_ICPR: A("M0PLUS.NVIC_ICPR"),
};

// boot2.S's .equ names (assembly cannot include regs.h's C casts).
const BOOT2_S: Record<string, number> = {
  SSI_BASE: BASE("SSI"), CTRLR0: A("SSI.CTRLR0") - BASE("SSI"), CTRLR1: A("SSI.CTRLR1") - BASE("SSI"),
  SSIENR: A("SSI.SSIENR") - BASE("SSI"), BAUDR: A("SSI.BAUDR") - BASE("SSI"), SR: A("SSI.SR") - BASE("SSI"),
  DR0: A("SSI.DR0") - BASE("SSI"), SPI_CTRLR0: A("SSI.SPI_CTRLR0") - BASE("SSI"), RX_SAMPLE_DLY: A("SSI.RX_SAMPLE_DLY") - BASE("SSI"),
  SR_TFE_BUSY: M("SSI.SR.TFE") | M("SSI.SR.BUSY"),
  CTRLR0_STD: 7 << L("SSI.CTRLR0.DFS_32"),
  CTRLR0_XIP: (V0("SSI.CTRLR0.SPI_FRF.QUAD") << L("SSI.CTRLR0.SPI_FRF")) | (31 << L("SSI.CTRLR0.DFS_32")) | V("SSI.CTRLR0.TMOD.EEPROM_READ"),
  WAIT_CYCLES: N(4, "W25Q16JV datasheet 8.2.x (EBh): 4 dummy clocks after the mode byte"),
  MODE_CONTINUOUS: N(0xa0, "W25Q16JV datasheet: M5-4 = 10b keeps continuous read"),
  SPI_ENTER: (4 << L("SSI.SPI_CTRLR0.WAIT_CYCLES")) | V("SSI.SPI_CTRLR0.INST_L.8B") | (8 << L("SSI.SPI_CTRLR0.ADDR_L")) | V("SSI.SPI_CTRLR0.TRANS_TYPE.1C2A"),
  SPI_XIP: ((0xa0 << L("SSI.SPI_CTRLR0.XIP_CMD")) | (4 << L("SSI.SPI_CTRLR0.WAIT_CYCLES")) | (8 << L("SSI.SPI_CTRLR0.ADDR_L")) | V("SSI.SPI_CTRLR0.TRANS_TYPE.2C2A")) >>> 0,
  PADS_QSPI_BASE: BASE("PADS_QSPI"),
  PAD_SCLK: A("PADS_QSPI.GPIO_QSPI_SCLK") - BASE("PADS_QSPI"), PAD_SD0: A("PADS_QSPI.GPIO_QSPI_SD0") - BASE("PADS_QSPI"),
  PAD_SD1: A("PADS_QSPI.GPIO_QSPI_SD1") - BASE("PADS_QSPI"), PAD_SD2: A("PADS_QSPI.GPIO_QSPI_SD2") - BASE("PADS_QSPI"),
  PAD_SD3: A("PADS_QSPI.GPIO_QSPI_SD3") - BASE("PADS_QSPI"),
  PAD_DRIVE_LSB: L("PADS_QSPI.GPIO_QSPI_SCLK.DRIVE"), PAD_DRIVE_8MA: V0("PADS_QSPI.GPIO_QSPI_SCLK.DRIVE.8MA"),
  PAD_SLEWFAST: M("PADS_QSPI.GPIO_QSPI_SCLK.SLEWFAST"), PAD_SCHMITT: M("PADS_QSPI.GPIO_QSPI_SD0.SCHMITT"),
  PPB_VTOR: A("M0PLUS.VTOR"),
  VECTORS: N(0x10000100, "our memory map (shared/design.md): the bootloader's vectors after boot2"),
};

/** The value of each macro (or macro call) as the host C compiler computes it from regs.h. */
function evalRegsH(names: string[]): Map<string, number> {
  const text = readFileSync(join(HAL, "regs.h"), "utf8");
  const isReg = (n: string) => new RegExp(`#define\\s+${n.replace(/\(.*/, "")}(\\([^)]*\\))?\\s+REG32\\(`).test(text);
  const dir = mkdtempSync(join(tmpdir(), "regs-h-"));
  const src = [`#include <stdio.h>`, `#include <stdint.h>`, `#include "${join(HAL, "regs.h")}"`, `int main(void) {`,
    ...names.map((n) => `  printf("%s %lu\\n", ${JSON.stringify(n)}, (unsigned long)(uintptr_t)(${isReg(n) ? "&" : ""}${n}));`),
    `  return 0;`, `}`].join("\n");
  writeFileSync(join(dir, "t.c"), src);
  execFileSync("cc", ["-w", "-o", join(dir, "t"), join(dir, "t.c")]);
  const out = execFileSync(join(dir, "t"), { encoding: "utf8" });
  return new Map(out.trim().split("\n").map((l) => { const [n, v] = l.split(" "); return [n, Number(v) >>> 0]; }));
}

test("the extract says where it came from", () => {
  assert.is(VENDOR.source.repo, "raspberrypi/pico-sdk");
  assert.match(VENDOR.source.commit, /^[0-9a-f]{40}$/);
  for (const [name, b] of Object.entries(VENDOR.blocks)) assert.match(b.file, /^src\/rp2040\/hardware_regs\/include\/hardware\/regs\/\w+\.h$/, name);
});

test("every constant in hal/rp2040/regs.h matches pico-sdk's address, field position or value", () => {
  const text = readFileSync(join(HAL, "regs.h"), "utf8");
  const defined = [...text.matchAll(/^#define\s+(\w+)(\()?/gm)].map((m) => ({ name: m[1], fn: !!m[2] }))
    .filter((d) => d.name !== "REGS_RP2040_H" && d.name !== "REG32");
  const keys = Object.keys(REGS_H);
  for (const d of defined) {
    const covered = d.fn ? keys.some((k) => k.startsWith(`${d.name}(`)) : keys.includes(d.name);
    assert.ok(covered, `${d.name} in regs.h has no vendor counterpart in this test: add one`);
  }
  for (const k of keys) assert.ok(defined.some((d) => d.name === k.replace(/\(.*/, "")), `${k}: not in regs.h any more`);
  const got = evalRegsH(keys);
  const wrong = keys.filter((k) => got.get(k) !== REGS_H[k] >>> 0).map((k) => `${k} = ${hex(got.get(k)!)}, pico-sdk: ${hex(REGS_H[k])}`);
  assert.equal(wrong, []);
});

test("boot2.S's register offsets and field values match pico-sdk's", () => {
  const text = readFileSync(join(HAL, "boot2.S"), "utf8");
  const equ = new Map<string, number>();
  for (const m of text.matchAll(/^\s*\.equ\s+(\w+),\s*(.+?)\s*(\/\*.*)?$/gm)) {
    // Simple integer expressions over earlier names: evaluate them as JavaScript.
    const expr = m[2].replace(/(?<!\w)[A-Za-z_]\w*/g, (n) => {
      if (!equ.has(n)) throw new Error(`boot2.S .equ ${m[1]}: unknown ${n}`);
      return String(equ.get(n));
    });
    if (!/^[\d\sxa-fA-F()<>|&+\-*~]+$/.test(expr)) throw new Error(`boot2.S .equ ${m[1]}: ${expr}`);
    equ.set(m[1], Number(new Function(`return (${expr}) >>> 0`)()));
  }
  for (const n of equ.keys()) assert.ok(n in BOOT2_S, `boot2.S .equ ${n} has no vendor counterpart in this test`);
  const wrong = Object.keys(BOOT2_S).filter((k) => equ.get(k) !== BOOT2_S[k] >>> 0).map((k) => `${k} = ${hex(equ.get(k) ?? NaN)}, expected ${hex(BOOT2_S[k])}`);
  assert.equal(wrong, []);
});

// ---- the models' reset state ----
function freshSsi(): Rp2040Flash {
  const clock = { now: 0, micros: () => 0 } as unknown as SimClock;
  const nor = new NorFlash(CHIPS.W25Q16JV, clock, "typical", 0);
  return new Rp2040Flash(nor, { nanos: () => 0, clkSys: () => 125e6, stall: () => {} }, new QspiPins());
}

test("the SSI model comes out of reset with ssi.h's values, and takes only ssi.h's writable bits", () => {
  const f = freshSsi();
  const b = VENDOR.blocks.SSI;
  const diffs: string[] = [];
  for (const [name, r] of Object.entries(b.registers)) {
    if (deviates("SSI", name)) continue;
    if (Object.values(r.fields).some((x) => x.access === "RF" || x.access === "RWF")) continue; // a read pops (DR0)
    const v = f.read(r.address - b.base);
    if (v !== r.reset >>> 0) diffs.push(`${name} = ${hex(v)}, ssi.h: ${hex(r.reset)}`);
  }
  assert.equal(diffs, []);
  // Writable bits: with the SSI disabled, all ones into each control register reads back as
  // exactly the RW fields (SSIENR last: it locks the others).
  const ctl = ["CTRLR0", "CTRLR1", "SER", "BAUDR", "RX_SAMPLE_DLY", "SPI_CTRLR0", "IMR", "TXFTLR", "RXFTLR", "DMACR", "SSIENR"];
  for (const name of ctl) {
    const r = b.registers[name];
    f.write(r.address - b.base, 0xffffffff);
    assert.is(hex(f.read(r.address - b.base)), hex(accessMask(r, "RW")), `${name} writable bits`);
  }
});

test("IO_QSPI and PADS_QSPI models: io_qspi.h and pads_qspi.h reset values (SS_CTRL FUNCSEL null = 0x1f)", () => {
  const p = new QspiPins();
  for (const [rf, block] of [[p.io, "IO_QSPI"], [p.pads, "PADS_QSPI"]] as const) {
    const b = VENDOR.blocks[block];
    for (const [name, r] of Object.entries(b.registers)) {
      if (deviates(block, name)) continue;
      assert.is(hex(rf.read(r.address - b.base)!), hex(r.reset), `${block}.${name}`);
    }
  }
  assert.is(p.ctrl("SS"), 0x1f);
  assert.ok(!p.connected(1), "at reset no QSPI pin is on the XIP function");
});

test("the DMA sniffer model: dma.h's reset values and writable bits", () => {
  const mcu = new RP2040();
  installDmaSniffer(mcu);
  const dma = mcu.dma as unknown as { readUint32(o: number): number; writeUint32(o: number, v: number): void };
  for (const name of ["SNIFF_CTRL", "SNIFF_DATA"]) {
    const r = vendorReg("DMA", name);
    assert.is(hex(dma.readUint32(r.address - VENDOR.blocks.DMA.base)), hex(r.reset), `${name} reset`);
  }
  const ctrl = vendorReg("DMA", "SNIFF_CTRL");
  dma.writeUint32(ctrl.address - VENDOR.blocks.DMA.base, 0xffffffff);
  assert.is(hex(dma.readUint32(ctrl.address - VENDOR.blocks.DMA.base)), hex(accessMask(ctrl, "RW")), "SNIFF_CTRL writable bits");
});

test("SER: with SER = 0 the SSI selects no slave, the transfer never starts and the flash sees nothing", () => {
  let ns = 0;
  const clock = { now: 0, micros: () => 0 } as unknown as SimClock;
  const nor = new NorFlash(CHIPS.W25Q16JV, clock, "typical", 0);
  const pins = new QspiPins();
  const f = new Rp2040Flash(nor, { nanos: () => ns, clkSys: () => 125e6, stall: () => {} }, pins);
  for (const [o] of pins.io.entries()) if (o % 8 === 4) pins.io.write(o, 0); // FUNCSEL xip, as the ROM leaves it
  f.pinsChanged();
  const jedec = (ser: number) => {
    f.write(0x08, 0);
    f.write(0x14, 4);            // BAUDR
    f.write(0x00, 7 << 16);      // standard SPI, 8-bit frames, TX and RX
    f.write(0x10, ser);          // SER
    f.write(0x08, 1);
    for (const b of [0x9f, 0, 0, 0]) f.write(0x60, b);
    ns += 10_000;
    const rx: number[] = [];
    while (f.read(0x24)) rx.push(f.read(0x60));
    return { rx, txLeft: f.read(0x20) };
  };
  const off = jedec(0);
  assert.equal(off.rx, [], "nothing clocked in");
  assert.is(off.txLeft, 4, "the frames wait in the TX FIFO");
  assert.is(nor.stats.reads, 0, "the flash saw no read");
  assert.equal(jedec(1).rx.slice(1), [0xef, 0x40, 0x15], "SER = 1: the W25Q16JV's JEDEC ID");
});

test("XOSC start-up delay: pico-sdk's default, ~1 ms times PICO_XOSC_STARTUP_DELAY_MULTIPLIER", () => {
  const board = readFileSync(join(HAL, "board.h"), "utf8");
  const mhz = Number(/#define BOARD_CLK_REF_MHZ (\d+)u/.exec(board)![1]);
  const delay = Number(/#define BOARD_XOSC_STARTUP_DELAY (\d+)u/.exec(board)![1]);
  const mult = VENDOR.defaults.PICO_XOSC_STARTUP_DELAY_MULTIPLIER.value;
  assert.is(delay, Math.floor((mhz * 1000 + 128) / 256) * mult, `hardware_xosc's STARTUP_DELAY with multiplier ${mult}`);
  assert.ok(delay <= fieldMask(F("XOSC.STARTUP.DELAY")), "fits STARTUP.DELAY");
});

test("rp2040js's own models of the blocks the HAL uses: reset reads as pico-sdk's data, except the known differences", () => {
  const mcu = new RP2040();
  mcu.logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as RP2040["logger"];
  const ours: Record<string, string[]> = { USBCTRL_REGS: ["USBPHY_DIRECT", "USBPHY_DIRECT_OVERRIDE"] }; // sim/rp2040/emulator.ts
  const diffs: string[] = [];
  for (const block of ["RESETS", "PSM", "WATCHDOG", "TIMER", "XOSC", "PLL_SYS", "PLL_USB", "CLOCKS", "SYSINFO", "IO_BANK0", "PADS_BANK0", "USBCTRL_REGS"]) {
    for (const [name, r] of Object.entries(VENDOR.blocks[block].registers)) {
      if (ours[block]?.includes(name)) continue;
      // A register with only write-only fields (pico-sdk WO/WF) has no reset value to read back.
      if (Object.values(r.fields).every((f) => f.access === "WO" || f.access === "WF")) continue;
      const v = mcu.readUint32(r.address) >>> 0;
      const known = RP2040JS_DIFFERENCES.find((d) => d.block === block && d.register === name);
      if (known) assert.is(hex(v), hex(known.reads), `${block}.${name}: the known rp2040js value`);
      else if (v !== r.reset >>> 0) diffs.push(`${block}.${name} = ${hex(v)}, pico-sdk: ${hex(r.reset)}`);
    }
  }
  assert.equal(diffs, []);
});

test("the RESETS model: resets.h's reset values (everything held), RESET_DONE following RESET", () => {
  const r = new Resets();
  for (const [o, name] of r.regs.entries()) assert.is(hex(r.regs.read(o)!), hex(vendorReg("RESETS", name).reset), name);
  r.release("TIMER");
  assert.is(hex(r.regs.read(8)!), hex(M("RESETS.RESET.TIMER")), "DONE: only TIMER");
});

test("every deviation is still one, and says why", () => {
  const f = freshSsi();
  for (const d of DEVIATIONS) {
    assert.ok(d.why.length > 20, `${d.block}.${d.register}: a reason`);
    const r = vendorReg(d.block, d.register);
    assert.is(d.block, "SSI", "only SSI deviations are checked here: add a model for the new block");
    assert.not.equal(f.read(r.address - VENDOR.blocks.SSI.base), r.reset >>> 0, `${d.register} still differs`);
  }
});

test.run();
