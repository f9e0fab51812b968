/* RP2040 second-stage loader (256 bytes at flash offset 0; the boot ROM checks its CRC, copies
   it to 0x20041F00 and calls it with lr = 0). For the W25Q family on the Pico: set QE (status
   register 2 bit 1) if it is clear, then set the SSI up for XIP with the 1-4-4 EBh read in
   continuous-read mode (mode bits A0h: the chip expects only address and mode after the first
   read), and enter the bootloader through the vector table at 0x10000100.
   Register offsets and fields: RP2040 datasheet 4.10.13 (SSI); W25Q16JV datasheet 8.2
   (status registers, 01h/35h/05h, EBh). SCK = clk_sys / 2, sampled one clk_sys later: the
   settings stay on the boot path's ROSC (at most 96 MHz, 48 MHz SCK) and when DFU mode switches
   clk_sys to 125 MHz (62.5 MHz SCK; the W25Q16JV takes 133 MHz), as pico-sdk's boot2 does. First the QSPI pads as pico-sdk's boot2 sets them
   (src/rp2040/boot_stage2/boot2_w25q080.S, "Set pad configuration"): SCLK 8 mA and fast slew,
   the SD0-SD3 input Schmitt triggers off (less input delay at SCK = clk_sys / 2); the reset
   values (SCLK 4 mA slow, Schmitt on: pads_qspi.h) are meant for the ROM's clk_sys / 6. SCLK's
   register is written whole, as pico-sdk does: input and pull-down off on an output-only pin.
   Pad fields: pico-sdk pads_qspi.h (RP2040 datasheet 2.19.6.4). */
  .syntax unified
  .cpu cortex-m0plus
  .thumb

  .equ SSI_BASE, 0x18000000
  .equ CTRLR0, 0x00
  .equ CTRLR1, 0x04
  .equ SSIENR, 0x08
  .equ BAUDR, 0x14
  .equ SR, 0x28
  .equ DR0, 0x60
  .equ SPI_CTRLR0, 0xf4
  .equ RX_SAMPLE_DLY, 0xf0
  .equ SR_TFE_BUSY, 0x5                       /* TFE bit 2, BUSY bit 0 */
  .equ CTRLR0_STD, (7 << 16)                  /* 8-bit frames, TX and RX, standard SPI */
  .equ CTRLR0_XIP, (2 << 21) | (31 << 16) | (3 << 8) /* quad, 32-bit frames, EEPROM read */
  .equ WAIT_CYCLES, 4                         /* EBh: 4 dummy clocks after the mode byte */
  .equ MODE_CONTINUOUS, 0xa0
  /* First read: 8-bit instruction on one line, 24-bit address + mode byte on four lines. */
  .equ SPI_ENTER, (WAIT_CYCLES << 11) | (2 << 8) | (8 << 2) | 1
  /* Then: no instruction; address + mode bits (XIP_CMD) on four lines. */
  .equ SPI_XIP, (MODE_CONTINUOUS << 24) | (WAIT_CYCLES << 11) | (8 << 2) | 2
  .equ PADS_QSPI_BASE, 0x40020000
  .equ PAD_SCLK, 0x04
  .equ PAD_SD0, 0x08
  .equ PAD_SD1, 0x0c
  .equ PAD_SD2, 0x10
  .equ PAD_SD3, 0x14
  .equ PAD_DRIVE_LSB, 4
  .equ PAD_DRIVE_8MA, 2
  .equ PAD_SLEWFAST, 1
  .equ PAD_SCHMITT, 2
  .equ PPB_VTOR, 0xe000ed08
  .equ VECTORS, 0x10000100

  .section .text
  .global _boot2
  .type _boot2, %function
  .thumb_func
_boot2:
  push {lr}
  ldr r3, =PADS_QSPI_BASE
  movs r0, #(PAD_DRIVE_8MA << PAD_DRIVE_LSB) | PAD_SLEWFAST
  str r0, [r3, #PAD_SCLK]
  ldr r0, [r3, #PAD_SD0]
  movs r1, #PAD_SCHMITT
  bics r0, r1
  str r0, [r3, #PAD_SD0]
  str r0, [r3, #PAD_SD1]
  str r0, [r3, #PAD_SD2]
  str r0, [r3, #PAD_SD3]
  ldr r3, =SSI_BASE
  movs r0, #0
  str r0, [r3, #SSIENR]
  movs r0, #2
  str r0, [r3, #BAUDR]
  movs r0, #1
  movs r1, #RX_SAMPLE_DLY
  str r0, [r3, r1]
  ldr r0, =CTRLR0_STD
  str r0, [r3, #CTRLR0]
  movs r0, #1
  str r0, [r3, #SSIENR]

  movs r0, #0x35                    /* read status register 2 */
  bl read_sreg
  movs r1, #2                       /* QE */
  tst r0, r1
  bne quad_ready
  movs r0, #0x06                    /* write enable */
  str r0, [r3, #DR0]
  bl wait_idle
  ldr r0, [r3, #DR0]
  movs r0, #0x01                    /* write status registers 1 and 2: SR1 = 0, SR2 = QE */
  str r0, [r3, #DR0]
  movs r0, #0
  str r0, [r3, #DR0]
  movs r0, #2
  str r0, [r3, #DR0]
  bl wait_idle
  ldr r0, [r3, #DR0]
  ldr r0, [r3, #DR0]
  ldr r0, [r3, #DR0]
1:
  movs r0, #0x05                    /* until BUSY (SR1 bit 0) clears */
  bl read_sreg
  lsrs r0, r0, #1
  bcs 1b

quad_ready:
  movs r0, #0
  str r0, [r3, #SSIENR]
  ldr r0, =CTRLR0_XIP
  str r0, [r3, #CTRLR0]
  movs r0, #0
  str r0, [r3, #CTRLR1]             /* one 32-bit frame per read */
  ldr r0, =SPI_ENTER
  movs r1, #SPI_CTRLR0
  str r0, [r3, r1]
  movs r0, #1
  str r0, [r3, #SSIENR]
  movs r0, #0xeb                    /* the read that enters continuous mode */
  str r0, [r3, #DR0]
  movs r0, #MODE_CONTINUOUS         /* address 0, mode A0h */
  str r0, [r3, #DR0]
  bl wait_idle
  ldr r0, [r3, #DR0]
  movs r0, #0
  str r0, [r3, #SSIENR]
  ldr r0, =SPI_XIP
  str r0, [r3, r1]
  movs r0, #1
  str r0, [r3, #SSIENR]

  pop {r0}
  cmp r0, #0                        /* called from the boot ROM: lr was 0 */
  beq 2f
  bx r0
2:
  ldr r0, =VECTORS
  ldr r1, =PPB_VTOR
  str r0, [r1]
  ldmia r0!, {r1, r2}
  msr msp, r1
  bx r2

/* r0 = instruction; returns the byte clocked in after it. */
read_sreg:
  push {lr}
  str r0, [r3, #DR0]
  str r0, [r3, #DR0]
  bl wait_idle
  ldr r0, [r3, #DR0]
  ldr r0, [r3, #DR0]
  pop {pc}

/* Until the TX FIFO is empty and the SSI idle. */
wait_idle:
  ldr r0, [r3, #SR]
  movs r2, #SR_TFE_BUSY
  ands r0, r2
  cmp r0, #4
  bne wait_idle
  bx lr
  .ltorg
