/* A stand-in for CubeMX's startup_stm32h750xx.s, written here from its contract with the
   linker script (cmsis_device_h7 Source/Templates/gcc): the vector table in .isr_vector,
   Reset_Handler loads _estack, calls SystemInit, copies .data (_sidata -> _sdata.._edata),
   clears .bss (_sbss.._ebss), runs __libc_init_array, then main. */
  .syntax unified
  .cpu cortex-m7
  .thumb

  .section .isr_vector, "a", %progbits
  .global g_pfnVectors
g_pfnVectors:
  .word _estack
  .word Reset_Handler

  .section .text.Reset_Handler
  .global Reset_Handler
  .type Reset_Handler, %function
Reset_Handler:
  ldr sp, =_estack
  bl SystemInit
  ldr r0, =_sdata
  ldr r1, =_edata
  ldr r2, =_sidata
1:cmp r0, r1
  bcs 2f
  ldr r3, [r2], #4
  str r3, [r0], #4
  b 1b
2:ldr r0, =_sbss
  ldr r1, =_ebss
  movs r3, #0
3:cmp r0, r1
  bcs 4f
  str r3, [r0], #4
  b 3b
4:bl __libc_init_array
  bl main
5:b 5b
  .size Reset_Handler, .-Reset_Handler
