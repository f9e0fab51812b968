// QUADSPI (RM0433 23) as the core's flash primitive. The fmt word of boot/flash/cmd.ts maps
// nearly field for field onto CCR: line counts use the same 0/1/2/3 = none/1/2/4 encoding as
// IMODE/ADMODE/ABMODE/DMODE; the mode byte is the alternate-byte phase (8 bits).
// Indirect mode for commands, memory-mapped mode for XIP. Kernel clock HCLK3: 64 MHz on the boot
// path (HSI), 200 MHz in DFU mode (clocks.c); PRESCALER 1: SCK 32 / 100 MHz (W25Q64JV: 133 MHz),
// sampling shifted half a cycle.
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

// nCS stays high at least CSHT + 1 SCK cycles between commands (RM0433 23.5.2). The W25Q64JV
// needs tSHSL2 >= 50 ns after an erase, program or status write (W25Q64JV datasheet 9.6, /CS
// deselect time; tSHSL1 >= 10 ns between reads). This DCR stays with the application, which may
// run SCK at up to 120 MHz (HCLK3 240 MHz, PRESCALER 1): 7 cycles are 58 ns there, and still
// over 50 ns at the chip's 133 MHz limit; at the bootloader's own 100 MHz they are 70 ns.
#define QSPI_CSHT 6u
#define QSPI_DCR_OF(fsize_bits) (((fsize_bits) << QSPI_DCR_FSIZE_SHIFT) | (QSPI_CSHT << QSPI_DCR_CSHT_SHIFT))

static uint32_t fsize = 31; // address bits - 1: the whole 32-bit space until the chip is known

// fmt -> CCR without FMODE. ADSIZE: fmt 1/2/3 = 8/24/32 bits, CCR 0/2/3.
static uint32_t ccr_of(uint32_t fmt) {
  static const uint8_t adsize[4] = {0, 0, 2, 3};
  return (fmt & 0xFFu) | (((fmt >> 8) & 3u) << QSPI_CCR_IMODE_SHIFT) |
         (((fmt >> 10) & 3u) << QSPI_CCR_ADMODE_SHIFT) | ((uint32_t)adsize[(fmt >> 12) & 3u] << QSPI_CCR_ADSIZE_SHIFT) |
         (((fmt >> 14) & 3u) << QSPI_CCR_ABMODE_SHIFT) | (((fmt >> 24) & 31u) << QSPI_CCR_DCYC_SHIFT) |
         (((fmt >> 29) & 3u) << QSPI_CCR_DMODE_SHIFT);
}

static void set_fsize(uint32_t bits_minus_1) {
  QSPI_CR &= ~QSPI_CR_EN;
  QSPI_DCR = QSPI_DCR_OF(bits_minus_1);
  QSPI_CR |= QSPI_CR_EN;
}

static int wait_not_busy(void) {
  for (uint32_t n = 0; n < 10000000u; n++) if (!(QSPI_SR & QSPI_SR_BUSY)) return 0;
  return -1;
}

// Out of memory-mapped mode (and out of any stuck command): ABORT, wait until it is done.
static int qspi_idle(void) {
  if (!(QSPI_CR & QSPI_CR_EN)) {
    QSPI_CR = (1u << QSPI_CR_PRESCALER_SHIFT) | (3u << QSPI_CR_FTHRES_SHIFT) | QSPI_CR_SSHIFT;
    QSPI_DCR = QSPI_DCR_OF(fsize);
    QSPI_CR |= QSPI_CR_EN;
  }
  if (QSPI_SR & QSPI_SR_BUSY) {
    QSPI_CR |= QSPI_CR_ABORT;
    while (QSPI_CR & QSPI_CR_ABORT) {}
  }
  return wait_not_busy();
}

u32 Z_halZ_flash_cmd(struct Z_hal_instance_t* h, u32 fmt, u32 addr, u32 buf, u32 len) {
  uint32_t data_lines = (fmt >> 29) & 3u, has_addr = (fmt >> 10) & 3u, write = fmt >> 31;
  if ((data_lines == 0) != (len == 0)) return (u32)-1;
  uint8_t* p = 0;
  if (len && !(p = hal_mem(h, buf, len))) return (u32)-1;
  if (qspi_idle() < 0) return (u32)-1;
  // An address past FSIZE is refused with TEF (23.3.12), but the continuous-read exit sends
  // all-ones "addresses": open the whole range for such a command.
  uint32_t wide = has_addr && fsize < 31 && (addr >> (fsize + 1)) != 0;
  if (wide) set_fsize(31);
  QSPI_FCR = 0x1Bu; // clear TEF, TCF, SMF, TOF
  if (len) QSPI_DLR = len - 1;
  QSPI_ABR = (fmt >> 16) & 0xFFu;
  // The command starts with the CCR write when there is no address and (for writes) no
  // data, else with the AR write, else with the first DR write (23.3.10).
  QSPI_CCR = ccr_of(fmt) | ((write ? QSPI_FMODE_WRITE : QSPI_FMODE_READ) << QSPI_CCR_FMODE_SHIFT);
  if (has_addr) QSPI_AR = addr;
  for (uint32_t i = 0; i < len; i++) {
    uint32_t n = 0;
    // FTF: room to write (or a byte to read) at the FIFO threshold we set: up to 4 bytes.
    while (!(QSPI_SR & (QSPI_SR_FTF | QSPI_SR_TCF)) && ++n < 10000000u) {}
    if (write) QSPI_DR8 = p[i];
    else p[i] = QSPI_DR8;
  }
  uint32_t n = 0;
  while (!(QSPI_SR & (QSPI_SR_TCF | QSPI_SR_TEF)) && ++n < 10000000u) {}
  uint32_t sr = QSPI_SR;
  QSPI_FCR = 0x1Bu;
  if (wide && wait_not_busy() == 0) set_fsize(fsize);
  if (!(sr & QSPI_SR_TCF) || (sr & QSPI_SR_TEF)) return (u32)-1;
  // The JEDEC ID's third byte is log2 of the size (W25Q/IS25 families): FSIZE = that - 1.
  if ((fmt & 0xFFu) == 0x9Fu && len >= 3 && p[2] >= 16 && p[2] <= 31 && fsize != p[2] - 1u) {
    fsize = p[2] - 1u;
    set_fsize(fsize);
  }
  return wait_not_busy() < 0 ? (u32)-1 : 0;
}

// The QUADSPI starts in its reset state: indirect mode, nothing mapped.
u32 Z_halZ_flash_mapped(struct Z_hal_instance_t* h) { (void)h; return 0; }

u32 Z_halZ_flash_mmap(struct Z_hal_instance_t* h, u32 fmt) {
  (void)h;
  if ((fmt >> 31) || !((fmt >> 29) & 3u) || !((fmt >> 10) & 3u)) return (u32)-1;
  if (qspi_idle() < 0) return (u32)-1;
  QSPI_ABR = (fmt >> 16) & 0xFFu;
  // SIOO when the mode byte keeps the chip in continuous-read mode (bits 5:4 = 10b): the
  // instruction goes out once, later reads send only address and mode.
  uint32_t sioo = ((fmt >> 14) & 3u) && (((fmt >> 16) & 0x30u) == 0x20u) ? (1u << 28) : 0;
  QSPI_CCR = ccr_of(fmt) | sioo | (QSPI_FMODE_MMAP << QSPI_CCR_FMODE_SHIFT);
  return 0;
}
