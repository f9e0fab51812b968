/* RP2040 second-stage loader (256 bytes at flash offset 0, run by the boot ROM from its copy
   at 0x20041F00). It sets the SSI up for XIP with the plain 03h read (24-bit address, one
   line), which every SPI NOR chip answers in its power-up state, then enters the bootloader
   through the vector table that follows at 0x10000100. Register offsets: RP2040 datasheet
   4.10.13 (SSI). A quad (EBh, continuous-read) version is the RP2040 port's job. */
  .syntax unified
  .cpu cortex-m0plus
  .thumb

  .equ XIP_SSI_BASE, 0x18000000
  .equ SSI_CTRLR0, 0x00
  .equ SSI_CTRLR1, 0x04
  .equ SSI_SSIENR, 0x08
  .equ SSI_BAUDR, 0x14
  .equ SSI_SPI_CTRLR0, 0xf4
  .equ CTRLR0_XIP, (31 << 16) | (3 << 8)                 /* 32-bit frames, EEPROM-read mode */
  .equ SPI_CTRLR0_XIP, (0x03 << 24) | (2 << 8) | (6 << 2) /* cmd 03h, 8-bit instr, 24-bit addr */
  .equ PPB_VTOR, 0xe000ed08
  .equ VECTORS, 0x10000100

  .section .text
  .global _boot2
  .type _boot2, %function
  .thumb_func
_boot2:
  push {lr}
  ldr r3, =XIP_SSI_BASE
  movs r1, #0
  str r1, [r3, #SSI_SSIENR]
  movs r1, #4
  str r1, [r3, #SSI_BAUDR]            /* clk_sys / 4 */
  ldr r1, =CTRLR0_XIP
  str r1, [r3, #SSI_CTRLR0]
  ldr r1, =SPI_CTRLR0_XIP
  movs r0, #SSI_SPI_CTRLR0
  str r1, [r3, r0]
  movs r1, #0
  str r1, [r3, #SSI_CTRLR1]
  movs r1, #1
  str r1, [r3, #SSI_SSIENR]
  pop {r0}
  cmp r0, #0                          /* called from the boot ROM: lr was 0 */
  beq 1f
  bx r0
1:
  ldr r0, =VECTORS
  ldr r1, =PPB_VTOR
  str r0, [r1]
  ldmia r0!, {r1, r2}
  msr msp, r1
  bx r2
  .ltorg
