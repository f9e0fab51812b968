// The bootloader's main loop: instantiate the translated core (no allocation: a static
// instance), let it decide (boot the application or stay), then poll it forever.
#include "hal.h"

void hal_chip_init(void);
void hal_load_rest(void);

static Z_core_instance_t core;
static struct Z_hal_instance_t hal = { &core };

// DFU mode, and the full boot decision that comes first. On the RP2040 this and what only it
// calls are loaded into SRAM by hal_load_rest (link/rp2040.ld: the boot path's code comes first).
__attribute__((noinline, noreturn)) static void dfu_mode(void) {
  Z_coreZ_init(&core);
  for (;;) Z_coreZ_poll(&core);
}

// Never inlined into the reset handler: on the RP2040 that runs from flash (XIP), and the
// main loop must run from SRAM while the flash is erased or programmed.
__attribute__((noinline)) int main(void) {
  hal_chip_init();
  Z_core_init_module();
  Z_core_instantiate(&core, &hal);
  Z_coreZ__start(&core);
  Z_coreZ_boot(&core); // the common case jumps to the application from here
  hal_load_rest();
  dfu_mode();
}
