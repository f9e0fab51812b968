// The SSI (Synopsys DW_apb_ssi, RP2040 datasheet 4.10) as the core's flash primitive:
// - commands on one line: standard SPI, 8-bit frames, TX and RX in lockstep, chip select held
//   low through the IO_QSPI output override for the whole command (as the boot ROM does);
// - 1-4-4 reads (EBh): the SSI's own quad EEPROM-read transfer, drained by DMA (the CPU alone
//   reads in pieces that fit the 16-entry RX FIFO: nothing stops the SSI clocking in more);
// - 1-1-4 page programs (32h): TX-only quad, fed by DMA;
// - the continuous-read exit (all-ones nibbles): 0xFF bytes on IO0 with IO1-IO3 pulled up;
// - XIP: the read command the core chose, continuous-read mode when its mode bits ask for it.
// Everything here runs from SRAM: XIP is off from the first command until flash_mmap.
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

struct cmd {
  uint32_t instr, instr_lines, addr, addr_bytes, addr_lines, mode, mode_lines, dummy, data_lines, write;
};

static uint32_t lines(uint32_t code) { return code == 3 ? 4 : code; } // boot/flash/cmd.ts

static void decode(uint32_t fmt, uint32_t addr, struct cmd* c) {
  static const uint8_t addr_bytes[4] = {0, 1, 3, 4};
  c->instr = fmt & 0xFF;
  c->instr_lines = lines((fmt >> 8) & 3);
  c->addr_lines = lines((fmt >> 10) & 3);
  c->addr_bytes = addr_bytes[(fmt >> 12) & 3];
  c->addr = c->addr_bytes == 4 ? addr : addr & ((1u << (8 * c->addr_bytes)) - 1);
  c->mode_lines = lines((fmt >> 14) & 3);
  c->mode = (fmt >> 16) & 0xFF;
  c->dummy = (fmt >> 24) & 31;
  c->data_lines = lines((fmt >> 29) & 3);
  c->write = fmt >> 31;
}

static void cs_force(uint32_t outover) {
  IO_QSPI_SS_CTRL = (IO_QSPI_SS_CTRL & ~SS_CTRL_OUTOVER_MASK) | outover;
}

static void ssi_setup(uint32_t ctrlr0, uint32_t ctrlr1, uint32_t spi_ctrlr0) {
  SSI_SSIENR = 0;
  SSI_BAUDR = BOARD_SSI_BAUD_DIV;
  SSI_RX_SAMPLE_DLY = 1; // one sys clock later: SCK at 62.5 MHz (pico-sdk's default too)
  SSI_CTRLR0 = ctrlr0;
  SSI_CTRLR1 = ctrlr1;
  SSI_SPI_CTRLR0 = spi_ctrlr0;
  SSI_SSIENR = 1;
}

static void ssi_wait_idle(void) {
  while ((SSI_SR & (SSI_SR_TFE | SSI_SR_BUSY)) != SSI_SR_TFE) {}
}

// One command on one line. `hdr` holds instruction, address, mode and dummy bytes; data bytes
// follow, sent from `data` (write) or received into it (read).
static void spi_exchange(const uint8_t* hdr, uint32_t nhdr, uint8_t* data, uint32_t len, uint32_t write) {
  ssi_setup((7u << SSI_CTRLR0_DFS32_SHIFT) | (SSI_TMOD_TX_AND_RX << SSI_CTRLR0_TMOD_SHIFT), 0, 0);
  cs_force(SS_CTRL_OUTOVER_LOW);
  uint32_t total = nhdr + len;
  // Eight frames at a time: the TX FIFO takes them at once, the RX FIFO (16) never fills, and
  // the loop stays short (bus-bound: a byte is 16 clk_sys cycles at SCK = clk_sys / 2).
  for (uint32_t pos = 0; pos < total;) {
    uint32_t n = total - pos < 8 ? total - pos : 8;
    for (uint32_t i = pos; i < pos + n; i++) SSI_DR0 = i < nhdr ? hdr[i] : write ? data[i - nhdr] : 0;
    for (uint32_t i = pos; i < pos + n; i++) {
      while (!(SSI_SR & SSI_SR_RFNE)) {}
      uint8_t v = (uint8_t)SSI_DR0;
      if (!write && i >= nhdr) data[i - nhdr] = v;
    }
    pos += n;
  }
  ssi_wait_idle();
  cs_force(SS_CTRL_OUTOVER_HIGH);
}

// A 1-4-4 read: instruction on IO0, address and mode byte on four lines, `dummy` wait clocks,
// data on four lines. 32-bit frames arrive most significant byte first (the first byte read).
static void quad_read_start(const struct cmd* c, uint32_t addr, uint32_t frames, uint32_t dfs, uint32_t spi) {
  ssi_setup((SSI_FRF_QUAD << SSI_CTRLR0_SPI_FRF_SHIFT) | (dfs << SSI_CTRLR0_DFS32_SHIFT) |
            (SSI_TMOD_EEPROM_READ << SSI_CTRLR0_TMOD_SHIFT), frames - 1, spi);
  SSI_DR0 = c->instr;
  SSI_DR0 = c->mode_lines ? (addr << 8) | c->mode : addr;
}

// Whole words into a word-aligned buffer go in one transfer (CTRLR1's NDF: up to 65536 frames),
// drained by DMA channel 1 on DREQ_XIP_SSIRX, bytes swapped so that the first byte on the wire
// lands at the lowest address. The CPU alone had to cut reads into 16-frame pieces, each with
// its own instruction and address, since nothing stops the SSI clocking in more frames than
// its RX FIFO holds. The rest (an unaligned buffer, tail bytes) the CPU reads 16 bytes at a time.
static void quad_read(const struct cmd* c, uint8_t* data, uint32_t len) {
  uint32_t addr_nibbles = 2 * c->addr_bytes + (c->mode_lines ? 2 : 0);
  uint32_t spi = (1u << SSI_SPI_TRANS_TYPE_SHIFT) | (addr_nibbles << SSI_SPI_ADDR_L_SHIFT) |
                 (2u << SSI_SPI_INST_L_SHIFT) | (c->dummy << SSI_SPI_WAIT_CYCLES_SHIFT);
  cs_force(0); // the SSI drives chip select itself for the transfer
  uint32_t addr = c->addr, done = 0;
  while (!((uintptr_t)data & 3) && len - done >= 4) {
    uint32_t words = (len - done) / 4;
    if (words > 65536) words = 65536;
    DMA_CH1_READ_ADDR = (uint32_t)&SSI_DR0;
    DMA_CH1_WRITE_ADDR = (uint32_t)(data + done);
    DMA_CH1_TRANS_COUNT = words;
    DMA_CH1_CTRL_TRIG = DMA_CTRL_EN | DMA_CTRL_SIZE_WORD | DMA_CTRL_INCR_WRITE | DMA_CTRL_BSWAP |
                        DMA_CTRL_TREQ_SSIRX | DMA_CTRL_IRQ_QUIET | DMA_CTRL_CHAIN_TO_SELF1;
    quad_read_start(c, addr, words, 31, spi);
    SSI_DMARDLR = 0; // a request for every frame received
    SSI_DMACR = SSI_DMACR_RDMAE;
    while (DMA_CH1_CTRL_TRIG & DMA_CTRL_BUSY) {}
    SSI_DMACR = 0;
    ssi_wait_idle();
    done += 4 * words;
    addr += 4 * words;
  }
  // 8-bit frames, a FIFO's worth per command: only small or unaligned reads come here.
  while (done < len) {
    uint32_t frames = len - done < SSI_FIFO_DEPTH ? len - done : SSI_FIFO_DEPTH;
    quad_read_start(c, addr, frames, 7, spi);
    for (uint32_t i = 0; i < frames; i++) {
      while (!(SSI_SR & SSI_SR_RFNE)) {}
      data[done++] = (uint8_t)SSI_DR0;
    }
    addr += frames;
    ssi_wait_idle();
  }
  cs_force(SS_CTRL_OUTOVER_HIGH);
}

// A 1-1-4 page program (32h): instruction and address on IO0, data on four lines, 32-bit
// frames (the first byte on the wire is the frame's top byte). In TX-only mode the SSI ends
// the transfer whenever its FIFO runs dry, and would take the next word for a new instruction:
// DMA channel 1 keeps the FIFO fed on DREQ_XIP_SSITX (a request while it holds 8 or fewer
// frames: 8 frames are 64 SCK, far longer than the DMA takes to answer). The CPU, at about 20
// cycles a word, could not keep up with SCK = clk_sys / 2 (16 cycles a word); it ran the
// programs at clk_sys / 4. A word-aligned page goes from the buffer with its bytes swapped; any
// other is packed first, a length that is not a multiple of 4 padded with FFh (NOR programming
// only clears bits). Chip select is held low by the override as well.
static int quad_write(const struct cmd* c, const uint8_t* data, uint32_t len) {
  uint32_t words[64], n = (len + 3) / 4;
  if (n > 64) return -1; // more than a page
  const void* src = data;
  uint32_t swap = DMA_CTRL_BSWAP;
  if (((uintptr_t)data & 3) || (len & 3)) {
    for (uint32_t i = 0; i < 4 * n; i++) words[i >> 2] = (words[i >> 2] << 8) | (i < len ? data[i] : 0xFFu);
    src = words;
    swap = 0;
  }
  ssi_setup((SSI_FRF_QUAD << SSI_CTRLR0_SPI_FRF_SHIFT) | (31u << SSI_CTRLR0_DFS32_SHIFT) |
            (SSI_TMOD_TX_ONLY << SSI_CTRLR0_TMOD_SHIFT), 0,
            (6u << SSI_SPI_ADDR_L_SHIFT) | (2u << SSI_SPI_INST_L_SHIFT)); // TRANS_TYPE 0
  SSI_DMATDLR = 8;
  // Armed first, fed once the instruction and the address are in the FIFO ahead of the data.
  DMA_CH1_READ_ADDR = (uint32_t)src;
  DMA_CH1_WRITE_ADDR = (uint32_t)&SSI_DR0;
  DMA_CH1_TRANS_COUNT = n;
  DMA_CH1_CTRL_TRIG = DMA_CTRL_EN | DMA_CTRL_SIZE_WORD | DMA_CTRL_INCR_READ | swap |
                      DMA_CTRL_TREQ_SSITX | DMA_CTRL_IRQ_QUIET | DMA_CTRL_CHAIN_TO_SELF1;
  cs_force(SS_CTRL_OUTOVER_LOW);
  SSI_DR0 = c->instr;
  SSI_DR0 = c->addr;
  SSI_DMACR = SSI_DMACR_TDMAE;
  while (DMA_CH1_CTRL_TRIG & DMA_CTRL_BUSY) {}
  ssi_wait_idle();
  SSI_DMACR = 0;
  cs_force(SS_CTRL_OUTOVER_HIGH);
  return 0;
}

// Sixteen clocks with all four lines high (IO0 sends 1s, IO1-IO3 are pulled up): whatever
// the chip takes them for, the mode bits are not 10b, so continuous-read mode ends. The
// pull-ups stay on: harmless on lines the SSI or the flash drive whenever it matters.
static void all_ones(void) {
  for (int i = 1; i <= 3; i++) PADS_QSPI_SD(i) = (PADS_QSPI_SD(i) & ~PAD_PDE) | PAD_PUE;
  static const uint8_t ones[2] = {0xFF, 0xFF};
  spi_exchange(ones, 2, 0, 0, 1);
}

u32 Z_halZ_flash_cmd(struct Z_hal_instance_t* h, u32 fmt, u32 addr, u32 buf, u32 len) {
  struct cmd c;
  decode(fmt, addr, &c);
  uint8_t* data = 0;
  if ((c.data_lines == 0) != (len == 0)) return (u32)-1;
  if (len && !(data = hal_mem(h, buf, len))) return (u32)-1;

  if (c.instr_lines == 1 && c.addr_lines <= 1 && c.mode_lines <= 1 && c.data_lines <= 1 && (c.dummy & 7) == 0) {
    uint8_t hdr[1 + 4 + 1 + 4];
    uint32_t n = 0;
    hdr[n++] = (uint8_t)c.instr;
    for (uint32_t i = c.addr_bytes; i > 0; i--) hdr[n++] = (uint8_t)(c.addr >> (8 * (i - 1)));
    if (c.mode_lines) hdr[n++] = (uint8_t)c.mode;
    for (uint32_t i = 0; i < c.dummy / 8 && i < 4; i++) hdr[n++] = 0;
    spi_exchange(hdr, n, data, len, c.write);
    return 0;
  }
  if (c.instr_lines == 1 && c.addr_lines == 4 && c.addr_bytes == 3 && c.mode_lines != 1 && c.mode_lines != 2 &&
      c.data_lines == 4 && !c.write) {
    quad_read(&c, data, len);
    return 0;
  }
  if (c.instr_lines == 1 && c.addr_lines == 1 && c.addr_bytes == 3 && c.mode_lines == 0 && c.dummy == 0 &&
      c.data_lines == 4 && c.write)
    return (u32)quad_write(&c, data, len);
  if (c.instr_lines == 4 && c.instr == 0xFF && c.data_lines == 0 && c.mode_lines == 0 &&
      (c.addr_bytes == 0 || (c.addr_lines == 4 && c.addr == (1u << (8 * c.addr_bytes)) - 1))) {
    all_ones();
    return 0;
  }
  return (u32)-1; // a shape this driver does not send
}

// boot2 (boot2.S) leaves XIP on in continuous-read mode; the reset stub's loads keep it so.
u32 Z_halZ_flash_mapped(struct Z_hal_instance_t* h) { (void)h; return 1; }

u32 Z_halZ_flash_mmap(struct Z_hal_instance_t* h, u32 fmt) {
  struct cmd c;
  (void)h;
  decode(fmt, 0, &c);
  if (c.write || c.data_lines == 0 || c.addr_bytes != 3 || c.instr_lines != 1) return (u32)-1;
  uint32_t xip_ctrlr0 = (31u << SSI_CTRLR0_DFS32_SHIFT) | (SSI_TMOD_EEPROM_READ << SSI_CTRLR0_TMOD_SHIFT);
  uint32_t spi;
  if (c.addr_lines == 4 && c.data_lines == 4 && c.mode_lines == 4 && (c.mode & 0x30) == 0x20) {
    // Continuous read (datasheet 4.10.10, as boot2 does): one read with the instruction puts
    // the chip in the mode; after that the SSI sends only the address with the mode bits.
    uint8_t probe[4];
    quad_read(&c, probe, 4);
    xip_ctrlr0 |= SSI_FRF_QUAD << SSI_CTRLR0_SPI_FRF_SHIFT;
    spi = (c.mode << SSI_SPI_XIP_CMD_SHIFT) | (2u << SSI_SPI_TRANS_TYPE_SHIFT) | (8u << SSI_SPI_ADDR_L_SHIFT) |
          (c.dummy << SSI_SPI_WAIT_CYCLES_SHIFT);
  } else if (c.addr_lines == 1 && c.data_lines == 1 && c.mode_lines == 0) {
    spi = (c.instr << SSI_SPI_XIP_CMD_SHIFT) | (6u << SSI_SPI_ADDR_L_SHIFT) | (2u << SSI_SPI_INST_L_SHIFT) |
          (c.dummy << SSI_SPI_WAIT_CYCLES_SHIFT);
  } else {
    return (u32)-1;
  }
  ssi_setup(xip_ctrlr0, 0, spi);
  cs_force(0);
  XIP_CTRL_FLUSH = 1;
  (void)XIP_CTRL_FLUSH; // the flush completes before the read returns (2.6.3.2)
  return 0;
}
