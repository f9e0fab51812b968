// The imports that are the same on every chip: the BoardInfo record from the chip's board.h
// (found through the chip's include directory) and a plain load from the address space.
#include <string.h>
#include "hal.h"
#include "board.h"

#ifndef BOARD_RECORD_OFFSET
#define BOARD_RECORD_OFFSET 0 // flash offset of the update-record sector; 0: the chip's last sector
#endif
#ifndef BOARD_LEGACY_RECORD
#define BOARD_LEGACY_RECORD 0 // the record used to be in the chip's last sector
#endif


// The WebUSB landing page (`npm run build -- --web-url URL`): scheme 1 https://, 0 http://.
#ifndef BOARD_WEB_URL
#define BOARD_WEB_URL ""
#endif
#ifndef BOARD_WEB_SCHEME
#define BOARD_WEB_SCHEME 1
#endif
_Static_assert(sizeof(BOARD_WEB_URL) <= 63, "the landing page URL is at most 62 characters");

#ifndef BOARD_FLAGS
#define BOARD_FLAGS 0 // BoardInfo flags (boot/board.ts); bit 0: check the image CRC on every boot
#endif

// Signed updates (`npm run build -- --key PUB`): the Ed25519 public key images must be signed with.
#if QSPIBOOT_SIGNED && !defined(BOARD_PUBLIC_KEY)
#error "a signed build needs BOARD_PUBLIC_KEY (tools/build.ts --key)"
#endif
// Locked mode (`--locked LOCKFILE`): the secret the sector digests are keyed with.
#if QSPIBOOT_LOCKED && !(QSPIBOOT_SIGNED && defined(BOARD_LOCK_KEY))
#error "a locked build needs signed updates and BOARD_LOCK_KEY (tools/build.ts --key --locked)"
#endif

void Z_halZ_board_info(struct Z_hal_instance_t* h, u32 out) {
  static const struct board_info info = {
    BOARD_FLASH_BASE, BOARD_BOOT_RESERVED, BOARD_RAM_START, BOARD_RAM_END,
    BOARD_USB_VID, BOARD_USB_PID, BOARD_BCD_DEVICE, BOARD_ID, BOARD_FLAGS | (BOARD_LEGACY_RECORD << 1), BOARD_RECORD_OFFSET, BOARD_DOUBLE_TAP_MS, 0, BOARD_NAME,
    BOARD_WEB_SCHEME, BOARD_WEB_URL, BOARD_UF2_FAMILY,
#if QSPIBOOT_SIGNED
    BOARD_PUBLIC_KEY,
#endif
#if QSPIBOOT_LOCKED
    BOARD_LOCK_KEY,
#endif
  };
  uint8_t* p = hal_mem(h, out, sizeof info);
  if (p) memcpy(p, &info, sizeof info);
}

u32 Z_halZ_mem_read32(struct Z_hal_instance_t* h, u32 addr) {
  (void)h;
  return *(volatile const uint32_t*)addr;
}
