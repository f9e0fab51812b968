// For applications with their own USB device: let the host send them back into qspiboot's DFU
// mode, with no button. Two conventions, both ending in qspiboot_reboot_to_bootloader():
// - DFU runtime (DFU 1.1 section 4.1, what `dfu-util -e` and tools/flash.ts send): an interface
//   of class FE, subclass 1, protocol 1 with a DFU functional descriptor; the host sends
//   DFU_DETACH (bRequest 0) to it. bmAttributes has bitWillDetach set (DFU 1.1 4.1.3), so the
//   device leaves the bus itself and the host needs no USB reset.
// - CDC ACM 1200-baud touch (the Arduino convention, pico-sdk's PICO_STDIO_USB_RESET_MAGIC_BAUD_RATE):
//   the rule here is SET_LINE_CODING with dwDTERate 1200 reboots, once that request's status
//   stage is done. Opening the port at 1200 baud (Arduino IDE, `stty -F /dev/ttyACM0 1200`)
//   sends that request, so the drop of DTR afterwards is not needed.
// Reboot only after the status stage of the request: a reboot before it leaves the host with a
// failed transfer (dfu-util reports "error detaching"). How that is done depends on the stack:
// - your own control pipe (hal/app/example-usb-rp2040.c): note the request in the SETUP/DATA
//   handler (qspiboot_dfu_rt_request sets *reboot, qspiboot_cdc_is_touch says so) and call
//   qspiboot_reboot_to_bootloader() when the status stage's transfer has completed.
// - TinyUSB: put QSPIBOOT_DFU_RT_DESCRIPTOR(...) (or TinyUSB's own TUD_DFU_RT_DESCRIPTOR with
//   DFU_ATTR_WILL_DETACH and the same timeout) in the configuration descriptor with CFG_TUD_DFU_RUNTIME 1;
//   TinyUSB's dfu_rt class answers GETSTATUS in appIDLE itself and calls
//   tud_dfu_runtime_reboot_to_dfu_cb() right after queueing DETACH's status stage, so set a flag
//   there and call qspiboot_reboot_to_bootloader() from the main loop a few milliseconds (and at
//   least one tud_task()) later. tud_cdc_line_coding_cb(itf, coding) runs after SET_LINE_CODING's
//   status stage: there `if (coding->bit_rate == 1200) qspiboot_reboot_to_bootloader();` is enough.
#ifndef QSPIBOOT_USB_H
#define QSPIBOOT_USB_H
#include <stdint.h>
#include "qspiboot.h"

// How long the host waits for the device to go (wDetachTimeOut, DFU 1.1 4.1.3), milliseconds.
#define QSPIBOOT_DETACH_TIMEOUT_MS 1000u
#define QSPIBOOT_DFU_WILL_DETACH 0x08u  // bmAttributes bit 3, bitWillDetach
#define QSPIBOOT_TOUCH_BAUD 1200u

// The runtime DFU interface (DFU 1.1 table 4.1: no endpoints, class FE, subclass 1 = DFU,
// protocol 1 = runtime) and its functional descriptor (table 4.2: type 0x21, bmAttributes,
// wDetachTimeOut, wTransferSize, bcdDFUVersion 1.10), as bytes for a configuration descriptor.
#define QSPIBOOT_DFU_RT_DESCRIPTOR_LEN 18
#define QSPIBOOT_DFU_RT_DESCRIPTOR(itf, istring)                                              \
  9, 4, (itf), 0, 0, 0xFE, 0x01, 0x01, (istring),                                            \
  9, 0x21, QSPIBOOT_DFU_WILL_DETACH, QSPIBOOT_DETACH_TIMEOUT_MS & 0xFF, QSPIBOOT_DETACH_TIMEOUT_MS >> 8, \
  0x40, 0x00, 0x10, 0x01

#define QSPIBOOT_DFU_DETACH 0
#define QSPIBOOT_DFU_GETSTATUS 3
#define QSPIBOOT_DFU_GETSTATE 5
#define QSPIBOOT_DFU_APP_IDLE 0  // bState appIDLE (DFU 1.1 6.1.2)

// A class request (bmRequestType 0x21/0xA1) addressed to the runtime DFU interface. Returns the
// length of the data stage written to `reply` (at most 6 bytes; 0: none), or -1: stall it.
// After DETACH, *reboot is 1: reboot once the status stage is done.
static inline int qspiboot_dfu_rt_request(const uint8_t setup[8], uint8_t reply[6], int* reboot) {
  uint8_t type = setup[0], req = setup[1];
  uint16_t wLength = (uint16_t)(setup[6] | (setup[7] << 8));
  if (type == 0x21 && req == QSPIBOOT_DFU_DETACH && wLength == 0) {
    *reboot = 1;
    return 0;
  }
  if (type == 0xA1 && req == QSPIBOOT_DFU_GETSTATUS) {
    // bStatus OK, bwPollTimeout 0, bState appIDLE, iString 0 (DFU 1.1 6.1.2).
    for (int i = 0; i < 6; i++) reply[i] = 0;
    reply[4] = QSPIBOOT_DFU_APP_IDLE;
    return wLength < 6 ? wLength : 6;
  }
  if (type == 0xA1 && req == QSPIBOOT_DFU_GETSTATE) {
    reply[0] = QSPIBOOT_DFU_APP_IDLE;
    return wLength < 1 ? wLength : 1;
  }
  return -1; // the rest (DNLOAD, UPLOAD, ...) belong to DFU mode: stall them in appIDLE
}

// The 7-byte data stage of CDC SET_LINE_CODING (CDC PSTN 1.2 6.3.10: dwDTERate first, LE).
// Nonzero: the host asked for the bootloader; reboot once this request's status stage is done.
static inline int qspiboot_cdc_is_touch(const uint8_t line_coding[7]) {
  uint32_t baud = (uint32_t)line_coding[0] | ((uint32_t)line_coding[1] << 8) |
                  ((uint32_t)line_coding[2] << 16) | ((uint32_t)line_coding[3] << 24);
  return baud == QSPIBOOT_TOUCH_BAUD;
}
#endif
