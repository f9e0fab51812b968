// The wasm2c runtime on bare metal: linear memory is one static array, no malloc, no signals,
// no setjmp. A trap never returns: the core's state is not to be trusted after one, so the
// board resets into DFU mode (hal_trap_reset sets the flag that keeps it there).
#include "hal.h"

#ifndef QSPIBOOT_MEMORY_BYTES
#error "QSPIBOOT_MEMORY_BYTES: the build sets it from the core's static end"
#endif

// The core declares one 64 KiB page but uses only its static part: every access is checked
// against `size`, so a smaller array is safe as long as nothing grows memory (nothing does).
// Named for the tuned generated code (tools/build/tune-generated.ts), which indexes it directly.
uint8_t qspiboot_memory[QSPIBOOT_MEMORY_BYTES] __attribute__((aligned(8)));
#define linear_memory qspiboot_memory
static wasm_rt_funcref_t table_storage[32];

void wasm_rt_trap(wasm_rt_trap_t code) {
  (void)code;
  hal_trap_reset();
}

bool wasm_rt_is_initialized(void) { return true; }

// Function types are compared by identity only: one id per call is enough for a core whose
// indirect calls all go through tables it built itself (wasm2c checks the type at each call).
static uint32_t type_count;
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  (void)params;
  (void)results;
  return ++type_count;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t* memory, uint32_t initial_pages, uint32_t max_pages) {
  (void)initial_pages;
  memory->data = linear_memory;
  memory->size = sizeof linear_memory;
  memory->pages = 1;
  memory->max_pages = max_pages;
  // Already zero: it lives in .bss, which every chip's startup clears, and the core is
  // instantiated once per reset (clearing it again cost 112k cycles of boot on the M0+).
}

void wasm_rt_free_memory(wasm_rt_memory_t* memory) { (void)memory; }

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* memory, uint32_t delta) {
  (void)memory;
  (void)delta;
  return (uint32_t)-1;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* table, uint32_t elements, uint32_t max_elements) {
  if (elements > sizeof table_storage / sizeof table_storage[0]) hal_trap_reset();
  table->data = table_storage;
  table->size = elements;
  table->max_size = max_elements;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* table) { (void)table; }
