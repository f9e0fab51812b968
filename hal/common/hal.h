// What every chip's HAL shares: the instance the translated core calls its imports with, and
// access to the core's linear memory. The import prototypes themselves come from the generated
// core.h (wasm2c writes them from boot/hal.ts's declarations); each hal/<chip>/ defines all of
// them, and test/pipeline.test.ts checks that none is missing.
#ifndef QSPIBOOT_HAL_H
#define QSPIBOOT_HAL_H

#include <stdint.h>
#include <stddef.h>
#include "core.h"

// The HAL's side of an instance: the core it serves (for its linear memory).
struct Z_hal_instance_t {
  Z_core_instance_t* core;
};

// A pointer into the core's linear memory for [offset, offset + len), or NULL when the range
// is outside it: the HAL never writes where the core did not point.
static inline uint8_t* hal_mem(struct Z_hal_instance_t* hal, uint32_t offset, uint32_t len) {
  wasm_rt_memory_t* m = &hal->core->w2c_memory;
  if (offset > m->size || len > m->size - offset) return NULL;
  return m->data + offset;
}

// The BoardInfo record (boot/board.ts), filled from each board's constants.
struct board_info {
  uint32_t flash_base, boot_reserved, ram_start, ram_end;
  uint16_t vid, pid, bcd_device;
  uint8_t board_id, flags;
  uint32_t record_offset;
  uint16_t double_tap_ms, reserved;
  char name[16];
  uint8_t web_scheme;
  char web_url[63];
  uint32_t uf2_family;
#if QSPIBOOT_SIGNED
  uint8_t public_key[32];
#endif
#if QSPIBOOT_LOCKED
  uint8_t lock_key[32];
#endif
};
#if QSPIBOOT_LOCKED
_Static_assert(sizeof(struct board_info) == 180, "BoardInfo is 180 bytes with the public and the lock key");
#elif QSPIBOOT_SIGNED
_Static_assert(sizeof(struct board_info) == 148, "BoardInfo is 148 bytes with the public key");
#else
_Static_assert(sizeof(struct board_info) == 116, "BoardInfo is 116 bytes");
#endif

// usb_poll's event codes (boot/hal.ts EV_*); EV_OUT carries the packet length in bits 8 and up;
// EV_EP_IN / EV_EP_OUT the endpoint address in bits 8..15 and (OUT) the byte count in bits 16..31.
enum { EV_NONE = 0, EV_RESET = 1, EV_SETUP = 2, EV_OUT = 3, EV_IN = 4, EV_EP_IN = 5, EV_EP_OUT = 6 };

// Called by the runtime when the core traps: never returns.
void hal_trap_reset(void) __attribute__((noreturn));

#endif
