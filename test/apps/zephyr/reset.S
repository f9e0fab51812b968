/* A stand-in for Zephyr's Cortex-M entry (arch/arm/core/cortex_m/vector_table.S and reset.S),
   written here from their contract: the vector table (.exc_vector_table) starts with
   z_main_stack + CONFIG_MAIN_STACK_SIZE and z_arm_reset (alias __start). z_arm_reset masks
   interrupts (BASEPRI on ARMv7-M, PRIMASK on ARMv6-M), points PSP at the top of
   z_interrupt_stacks, switches the thread stack to PSP (CONTROL.SPSEL) and calls z_prep_c. It
   does not load SP or VTOR: the core (or the bootloader's jump) has done the first, z_prep_c
   does the second. Here r0/r1 also pass MSP and VTOR as found on entry, for the report. */
  .syntax unified
  .thumb
#define MAIN_STACK_SIZE 1024
#define ISR_STACK_SIZE 2048

  .section .exc_vector_table, "a", %progbits
  .global _vector_table
_vector_table:
  .word z_main_stack + MAIN_STACK_SIZE
  .word z_arm_reset

  .section .noinit.stacks, "aw", %nobits
  .balign 8
  .global z_main_stack
z_main_stack: .space MAIN_STACK_SIZE
  .global z_interrupt_stacks
z_interrupt_stacks: .space ISR_STACK_SIZE

  .section .text.z_arm_reset, "ax", %progbits
  .global z_arm_reset
  .global __start
  .type z_arm_reset, %function
  .thumb_func
z_arm_reset:
__start:
#if __ARM_ARCH_7EM__
  movs r0, #0x20                 /* _EXC_IRQ_DEFAULT_PRIO: mask all but the fault priorities */
  msr BASEPRI, r0
#else
  cpsid i
#endif
  ldr r0, =z_interrupt_stacks
  ldr r1, =ISR_STACK_SIZE
  adds r0, r0, r1
  msr PSP, r0
  mrs r0, CONTROL
  movs r1, #2
  orrs r0, r1
  msr CONTROL, r0
  isb
  mrs r0, MSP
  ldr r1, =0xE000ED08
  ldr r1, [r1]
  bl z_prep_c
  .size z_arm_reset, .-z_arm_reset
