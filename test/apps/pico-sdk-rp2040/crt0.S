/* A stand-in for pico-sdk's crt0.S on the RP2040 (src/rp2_common/pico_crt0), written here from
   its contract with memmap_default.ld and so with link/recipes/pico-sdk-qspiboot.ld:
   - .vectors: __StackTop, _reset_handler, the exception and IRQ entries, ending at __vectors_end
     (runtime_init copies __vectors.. into the RAM vector table);
   - .binary_info_header: the markers picotool looks for in the image's first 256 bytes;
   - .reset: _entry_point (the ELF entry, for debuggers: back through the boot ROM's table at 0)
     and _reset_handler, which on a flash build neither sets SP nor VTOR (the boot2 that ran
     before did, here qspiboot's jump), checks it runs on core 0, copies the data_cpy_table
     entries (.data, .scratch_x, .scratch_y), clears .bss, calls runtime_init, main, exit;
   - .stack and .heap: allocatable spacers that the script must KEEP. */
  .syntax unified
  .cpu cortex-m0plus
  .thumb

  .section .vectors, "ax"
  .align 2
  .global __vectors, __vectors_end
__vectors:
  .word __StackTop
  .word _reset_handler
  .word isr_fault        // NMI
  .word isr_fault        // HardFault
  .rept 7
  .word isr_fault        // reserved
  .endr
  .word isr_fault        // SVCall
  .word isr_fault
  .word isr_fault
  .word isr_fault        // PendSV
  .word isr_fault        // SysTick
  .rept 32
  .word __unhandled_user_irq
  .endr
__vectors_end:

  .section .binary_info_header, "a"
  .word 0x7188ebf2       // BINARY_INFO_MARKER_START (pico/binary_info/defs.h)
  .word __binary_info_start
  .word __binary_info_end
  .word data_cpy_table
  .word 0xe71aa390       // BINARY_INFO_MARKER_END

  .section .reset, "ax"
  .type _entry_point, %function
  .thumb_func
  .global _entry_point
_entry_point:
  ldr r0, =0             // BOOTROM_VTABLE_OFFSET: a debugger's entry goes round the boot ROM
  ldr r1, =0xe000ed08    // VTOR
  str r0, [r1]
  ldmia r0!, {r1, r2}
  msr msp, r1
  bx r2

  .type _reset_handler, %function
  .thumb_func
  .global _reset_handler
_reset_handler:
  ldr r0, =0xd0000000    // SIO CPUID
  ldr r0, [r0]
  cmp r0, #0
  beq 1f
  b _entry_point
1:mov r6, sp            // not crt0's: what the stand-in reports of its entry
  ldr r7, =0xe000ed08
  ldr r7, [r7]
  adr r4, data_cpy_table
2:ldmia r4!, {r1-r3}
  cmp r1, #0
  beq 3f
  bl data_cpy
  b 2b
3:ldr r1, =__bss_start__
  ldr r2, =__bss_end__
  movs r0, #0
  b 5f
4:stm r1!, {r0}
5:cmp r1, r2
  bne 4b
  ldr r1, =entry_sp
  str r6, [r1]
  ldr r1, =entry_vtor
  str r7, [r1]
  ldr r1, =runtime_init
  blx r1
  ldr r1, =main
  blx r1
  ldr r1, =exit
  blx r1
6:bkpt #0
  b 6b

data_cpy_loop:
  ldm r1!, {r0}
  stm r2!, {r0}
data_cpy:
  cmp r2, r3
  blo data_cpy_loop
  bx lr

  .p2align 2
data_cpy_table:
  .word __etext, __data_start__, __data_end__
  .word __scratch_x_source__, __scratch_x_start__, __scratch_x_end__
  .word __scratch_y_source__, __scratch_y_start__, __scratch_y_end__
  .word 0

  .thumb_func
  .global isr_fault, __unhandled_user_irq
isr_fault:
__unhandled_user_irq:
  bkpt #0

  .section .stack, "a"
  .p2align 5
  .space 0x800           // PICO_STACK_SIZE
  .section .heap, "a"
  .p2align 2
  .space 0x800           // PICO_HEAP_SIZE
