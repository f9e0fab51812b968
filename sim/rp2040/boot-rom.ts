// A stand-in for the RP2040 boot ROM's path from reset to boot2, as the ROM source does it
// (raspberrypi/pico-bootrom-rp2040, bootrom/bootrom_main.c main() and _flash_boot(),
// bootrom/program_flash_generic.c; RP2040 datasheet 2.8.1), through the same registers the
// firmware later finds, so the state it leaves is the ROM's:
// 0. bootrom_rt0.S: PADS_BANK0 released (to turn the ADC pins' inputs off);
// 1. main(): IO_QSPI, PADS_QSPI and TIMER pulsed through reset and released; the CSn strap sampled through SIO GPIO_HI_IN bit 1
//    after a delay, nine times, majority vote: BOOTSEL held (low) => the ROM's USB boot, and no
//    code from flash runs at all;
// 2. connect_internal_flash(): IO_QSPI and PADS_QSPI reset again, FUNCSEL 0 (xip) on all six
//    QSPI pins;
// 3. flash_exit_xip(): flash_init_spi() (SSI off, BAUDR 6, standard SPI, 8-bit frames,
//    TX and RX, SER = 1, SSI on), then 32 clocks with CSn high and the data pads pulled down,
//    32 with CSn low and them pulled up (output disabled), then FFh FFh with SD2/SD3 pulled up;
//    SS_CTRL back to 0;
// 4. up to 128 attempts (CPOL/CPHA cycling) of a 03h read of 256 bytes at flash offset 0 into
//    SRAM_END - 256 with a CRC-32 check of the first 252 against the last 4; all fail => USB
//    boot;
// 5. flash_flush_cache() (XIP FLUSH, cache enabled, CSn override normal), then boot2 entered in
//    Thumb state with lr = 0.
// Time passes as the ROM's loops take it at the ROSC's clock (the delays, and the SSI frames at
// clk_sys / 6). Not modelled: the ROM's own USB device (the chip just sits there, `usbBoot` says
// why), the watchdog-scratch vector boot and rescue paths of bootrom_rt0.S, the FPGA branch.
import type { RP2040 } from "rp2040js";
import { crc32Mpeg2 } from "../../tools/build/crc32-mpeg2";
import { PAD_OD, PAD_PDE, PAD_PUE } from "./qspi-pins";
import { vendorReg } from "./vendor-regs";

const at = (block: string, reg: string) => vendorReg(block, reg).address;
const SSI = {
  SSIENR: at("SSI", "SSIENR"), BAUDR: at("SSI", "BAUDR"), CTRLR0: at("SSI", "CTRLR0"), SER: at("SSI", "SER"),
  SR: at("SSI", "SR"), ICR: at("SSI", "ICR"), DR0: at("SSI", "DR0"), TXFLR: at("SSI", "TXFLR"), RXFLR: at("SSI", "RXFLR"),
};
const SS_CTRL = at("IO_QSPI", "GPIO_QSPI_SS_CTRL");
const SD_PAD = ["SD0", "SD1", "SD2", "SD3"].map((p) => at("PADS_QSPI", `GPIO_QSPI_${p}`));
const QSPI_CTRL = ["SCLK", "SS", "SD0", "SD1", "SD2", "SD3"].map((p) => at("IO_QSPI", `GPIO_QSPI_${p}_CTRL`));
const GPIO_HI_IN = at("SIO", "GPIO_HI_IN");
const XIP_FLUSH = at("XIP_CTRL", "FLUSH"), XIP_CTRL = at("XIP_CTRL", "CTRL");
const OUTOVER_LOW = 2, OUTOVER_HIGH = 3;
/** bootrom.ld: boot2 is loaded at SRAM_END - 256, and the ROM's stack ends just below it. */
export const BOOT2_SRAM = 0x20041f00;
const ROSC_MHZ_MAX = 12; // bootrom_main.c: the delays are sized for the fastest ROSC
const FLASH_MAX_ATTEMPTS = 128;

export interface RomHost {
  mcu: RP2040;
  /** Let `cycles` of clk_sys pass (the ROM's loops). */
  idle(cycles: number): void;
  /** reset_unreset_block_wait(): pulse the RESETS blocks named (vendor field names) and release them. */
  resetUnreset(...blocks: string[]): void;
}

export type RomResult = { boot2: true } | { boot2: false; usbBoot: "bootsel" | "no valid boot2" };

export function bootRom(h: RomHost): RomResult {
  const m = h.mcu;
  const r = (a: number) => m.readUint32(a) >>> 0;
  const w = (a: number, v: number) => m.writeUint32(a, v >>> 0);
  const delay = (count: number) => h.idle(3 * count); // "3 cycles per count"

  h.resetUnreset("PADS_BANK0"); // rt0: unreset_block_wait_noinline, no reset pulse needed at power-on
  // main(): the CSn strap, with the QSPI blocks fresh from reset (SS not driven).
  h.resetUnreset("IO_QSPI", "PADS_QSPI", "TIMER");
  delay((100 * ROSC_MHZ_MAX) / 3);
  let high = 0;
  for (let i = 0; i < 9; i++) {
    delay((1 * ROSC_MHZ_MAX) / 3);
    high += (r(GPIO_HI_IN) >>> 1) & 1;
  }
  if (high < 5) return { boot2: false, usbBoot: "bootsel" };

  connectInternalFlash(h);
  const { csForce, putGet } = romFlash(h);
  flashExitXip(h);

  // _flash_boot(): read boot2 until its CRC holds.
  const boot2 = new Uint8Array(256);
  let ok = false;
  for (let attempt = 0; attempt < FLASH_MAX_ATTEMPTS && !ok; attempt++) {
    w(SSI.SSIENR, 0);
    w(SSI.CTRLR0, (r(SSI.CTRLR0) & ~(3 << 6)) | ((attempt & 3) << 6)); // SCPH, SCPOL
    w(SSI.SSIENR, 1);
    csForce(OUTOVER_LOW);
    for (const b of [0x03, 0, 0, 0]) w(SSI.DR0, b); // flash_put_cmd_addr(03h, 0)
    putGet(null, boot2, 256, 4);
    const crc = new DataView(boot2.buffer).getUint32(252, true);
    ok = crc32Mpeg2(boot2.subarray(0, 252)) === crc;
  }
  if (!ok) return { boot2: false, usbBoot: "no valid boot2" };
  for (let i = 0; i < 256; i += 4) w(BOOT2_SRAM + i, new DataView(boot2.buffer).getUint32(i, true));

  // flash_flush_cache()
  w(XIP_FLUSH, 1);
  r(XIP_FLUSH);
  w(XIP_CTRL, r(XIP_CTRL) | 1);
  csForce(0);

  const core = m.core;
  core.SP = BOOT2_SRAM;
  core.LR = 0;
  core.PC = BOOT2_SRAM;
  return { boot2: true };
}

/** connect_internal_flash() (program_flash_generic.c): the QSPI blocks reset, FUNCSEL 0 (xip) on
 *  all six pins. */
export function connectInternalFlash(h: RomHost): void {
  h.resetUnreset("IO_QSPI", "PADS_QSPI");
  for (const a of QSPI_CTRL) h.mcu.writeUint32(a, 0);
}

/** The ROM's flash programming routines (program_flash_generic.c), as its USB boot runs them for
 *  PICOBOOT and the mass-storage drive: through the SSI in standard SPI, CSn forced, each
 *  operation waits for the status register's busy bit. They work only after
 *  connectInternalFlash() and flashExitXip() (PICOBOOT's EXIT_XIP): in USB boot the ROM never
 *  connected the pins, so before that the flash sees nothing. */
export function romFlashOps(h: RomHost) {
  const m = h.mcu;
  const w = (a: number, v: number) => m.writeUint32(a, v >>> 0);
  const { csForce, putGet } = romFlash(h);
  const doCmd = (cmd: number, tx: Uint8Array | null, rx: Uint8Array | null, count: number) => {
    csForce(OUTOVER_LOW);
    w(SSI.DR0, cmd);
    putGet(tx, rx, count, 1);
  };
  const putCmdAddr = (cmd: number, addr: number) => {
    csForce(OUTOVER_LOW);
    for (const b of [cmd, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]) w(SSI.DR0, b);
  };
  const waitReady = () => {
    const stat = new Uint8Array(1);
    do doCmd(0x05, null, stat, 1); while (stat[0] & 1); // FLASHCMD_READ_STATUS
  };
  return {
    /** flash_sector_erase(): 06h, 20h addr, wait. */
    sectorErase(addr: number): void {
      doCmd(0x06, null, null, 0);
      putCmdAddr(0x20, addr);
      putGet(null, null, 0, 4);
      waitReady();
    },
    /** flash_page_program(): 06h, 02h addr, 256 bytes, wait. */
    pageProgram(addr: number, data: Uint8Array): void {
      doCmd(0x06, null, null, 0);
      putCmdAddr(0x02, addr);
      putGet(data, null, 256, 4);
      waitReady();
    },
    /** flash_read_data(): 03h addr, `rx.length` bytes. */
    readData(addr: number, rx: Uint8Array): void {
      putCmdAddr(0x03, addr);
      putGet(null, rx, rx.length, 4);
    },
  };
}

// The ROM's flash helpers (program_flash_generic.c): CSn forced through IO_QSPI, and
// flash_put_get (never more than 14 frames in flight; ends with CSn high).
function romFlash(h: RomHost) {
  const m = h.mcu;
  const r = (a: number) => m.readUint32(a) >>> 0;
  const w = (a: number, v: number) => m.writeUint32(a, v >>> 0);
  const csForce = (over: number) => { w(SS_CTRL, (r(SS_CTRL) & ~(3 << 8)) | (over << 8)); r(SS_CTRL); };
  // flash_put_get(): never more than 14 frames in flight; ends with CSn high.
  const putGet = (tx: Uint8Array | null, rx: Uint8Array | null, count: number, rxSkip: number) => {
    let txLeft = count, rxLeft = count, ti = 0, ri = 0;
    while (txLeft || rxSkip || rxLeft) {
      const txLevel = r(SSI.TXFLR), rxLevel = r(SSI.RXFLR);
      if (txLeft && txLevel + rxLevel < 14) { w(SSI.DR0, tx ? tx[ti++] : 0); txLeft--; }
      if (rxLevel) {
        const b = r(SSI.DR0) & 0xff;
        if (rxSkip) rxSkip--;
        else { if (rx) rx[ri++] = b; rxLeft--; }
      }
      h.idle(20); // the loop's own time
    }
    csForce(OUTOVER_HIGH);
  };

  return { csForce, putGet };
}

/** The ROM's flash_exit_xip() (program_flash_generic.c): SSI back to standard SPI, the flash out
 *  of continuous-read mode. The boot ROM runs it before boot2, and applications call it through
 *  the ROM table before they erase or program (pico-sdk hardware_flash/flash.c). */
export function flashExitXip(h: RomHost): void {
  const m = h.mcu;
  const r = (a: number) => m.readUint32(a) >>> 0;
  const w = (a: number, v: number) => m.writeUint32(a, v >>> 0);
  const delay = (count: number) => h.idle(3 * count);
  const { csForce, putGet } = romFlash(h);
  // flash_init_spi() first
  w(SSI.SSIENR, 0);
  r(SSI.SR); r(SSI.ICR);
  w(SSI.BAUDR, 6);
  w(SSI.CTRLR0, 7 << 16); // SPI_FRF std, DFS_32 7, TMOD TX_AND_RX
  w(SSI.SER, 1);
  w(SSI.SSIENR, 1);
  const save = r(SD_PAD[0]);
  let tmp = (save & ~(PAD_OD | PAD_PUE | PAD_PDE)) | PAD_OD | PAD_PDE;
  csForce(OUTOVER_HIGH);
  for (let i = 0; i < 2; i++) {
    for (const a of SD_PAD) w(a, tmp);
    delay(1 << 11);
    putGet(null, null, 4, 0);
    tmp = (tmp & ~PAD_PDE) | PAD_PUE;
    csForce(OUTOVER_LOW);
  }
  w(SD_PAD[0], save); w(SD_PAD[1], save);
  const pulledUp = (save & ~PAD_PDE) | PAD_PUE;
  w(SD_PAD[2], pulledUp); w(SD_PAD[3], pulledUp);
  csForce(OUTOVER_LOW);
  putGet(Uint8Array.of(0xff, 0xff), null, 2, 0);
  w(SS_CTRL, 0);
}
