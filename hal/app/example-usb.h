// The chip-independent half of the USB examples (example-usb-rp2040.c, example-usb-h750.c):
// descriptors and the endpoint-0 requests of a device with a CDC ACM port and a DFU runtime
// interface (hal/app/qspiboot-usb.h). The including file defines EXAMPLE_PRODUCT and provides,
// for endpoint 0, one packet at a time: ep0_send(p, len) (an IN packet, DATA1 first after a
// SETUP), ep0_arm_out() (take one OUT packet), ep0_stall() (both directions, until the next
// SETUP) and ep0_set_address(a) (as its controller wants it: now, or after the status stage).
// It calls ep0_setup(s) for a SETUP, ep0_in_done() when an IN packet has gone, and
// ep0_out_data(p, n) when an OUT packet came.
#include <stdint.h>
#include "qspiboot-usb.h"

#define ITF_CDC 0
#define ITF_DFU_RT 2

static void ep0_send(const uint8_t* p, uint32_t len);
static void ep0_arm_out(void);
static void ep0_stall(void);
static void ep0_set_address(uint8_t addr);

// pid.codes 1209:0001 as qspiboot itself in DFU mode, so its udev rule lets the flasher open
// this device too; class EF/02/01 because of the interface association (USB IAD ECN).
static const uint8_t device_desc[18] = {
  18, 1, 0x00, 0x02, 0xEF, 0x02, 0x01, 64, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 1, 2, 0, 1,
};

#define CONFIG_LEN (9 + 8 + 9 + 5 + 5 + 4 + 5 + 7 + 9 + 7 + 7 + QSPIBOOT_DFU_RT_DESCRIPTOR_LEN)
static const uint8_t config_desc[CONFIG_LEN] = {
  9, 2, CONFIG_LEN, 0, 3, 1, 0, 0x80, 50,
  8, 0x0B, ITF_CDC, 2, 0x02, 0x02, 0x00, 0,     // IAD: interfaces 0-1, CDC ACM
  9, 4, ITF_CDC, 0, 1, 0x02, 0x02, 0x00, 0,     // CDC communication interface, ACM (CDC 1.2, PSTN 1.2)
  5, 0x24, 0x00, 0x10, 0x01,                    // header, bcdCDC 1.10
  5, 0x24, 0x01, 0x00, ITF_CDC + 1,             // call management
  4, 0x24, 0x02, 0x02,                          // ACM: line coding and serial state requests
  5, 0x24, 0x06, ITF_CDC, ITF_CDC + 1,          // union
  7, 5, 0x81, 3, 8, 0, 16,                      // notification endpoint, interrupt IN
  9, 4, ITF_CDC + 1, 0, 2, 0x0A, 0x00, 0x00, 0, // CDC data interface
  7, 5, 0x02, 2, 64, 0, 0,                      // bulk OUT
  7, 5, 0x82, 2, 64, 0, 0,                      // bulk IN
  QSPIBOOT_DFU_RT_DESCRIPTOR(ITF_DFU_RT, 3),
};

static const char* const strings[] = { "qspiboot", EXAMPLE_PRODUCT, "qspiboot detach" };

static struct {
  const uint8_t* data; // the rest of an IN data stage, `left` bytes
  uint32_t left;
  uint8_t zlp;         // the data stage ends on a full packet short of wLength: a zero-length one follows
  uint8_t out_request; // the SETUP whose OUT data stage is armed (bRequest), 0xFF none
  int reboot;          // reboot into qspiboot once the status stage is done
} ep0 = { 0, 0, 0, 0xFF, 0 };
static uint8_t reply[80]; // the longest string descriptor: 2 + 2 x 39 characters
static uint8_t line_coding[7] = { 0x00, 0xC2, 0x01, 0x00, 0, 0, 8 }; // 115200 8N1

static void next_in(void) {
  uint32_t n = ep0.left > 64 ? 64 : ep0.left;
  ep0_send(ep0.data, n);
  ep0.data += n;
  ep0.left -= n;
  if (n < 64) ep0.zlp = 0;
}

// An IN data stage of `len` bytes (cut to wLength); the host's zero-length OUT is the status.
static void reply_in(const uint8_t* data, uint32_t len, uint16_t wLength) {
  ep0.zlp = len < wLength && len % 64 == 0;
  ep0.data = data;
  ep0.left = len < wLength ? len : wLength;
  next_in();
  ep0_arm_out();
}

static void status_in(void) { ep0_send(0, 0); }

static uint32_t string_desc(uint8_t index) {
  if (index == 0) {
    reply[0] = 4; reply[1] = 3; reply[2] = 0x09; reply[3] = 0x04; // LANGID: English (US)
    return 4;
  }
  const char* s = strings[index - 1];
  uint32_t n = 2;
  for (; *s && n + 2 <= sizeof reply; s++) { reply[n++] = (uint8_t)*s; reply[n++] = 0; }
  reply[0] = (uint8_t)n;
  reply[1] = 3;
  return n;
}

static void ep0_setup(const uint8_t* s) {
  uint8_t type = s[0], req = s[1];
  uint16_t wValue = (uint16_t)(s[2] | (s[3] << 8)), wIndex = (uint16_t)(s[4] | (s[5] << 8));
  uint16_t wLength = (uint16_t)(s[6] | (s[7] << 8));
  ep0.out_request = 0xFF;
  ep0.left = 0;
  if ((type & 0x60) == 0) { // standard (USB 2.0 9.4)
    if (req == 6) { // GET_DESCRIPTOR
      uint8_t kind = wValue >> 8, index = wValue & 0xFF;
      if (kind == 1) return reply_in(device_desc, sizeof device_desc, wLength);
      if (kind == 2 && index == 0) return reply_in(config_desc, sizeof config_desc, wLength);
      if (kind == 3 && index <= sizeof strings / sizeof strings[0]) return reply_in(reply, string_desc(index), wLength);
      return ep0_stall(); // device qualifier and the rest: a full-speed device has none
    }
    if (req == 5) { ep0_set_address(wValue & 0x7F); return status_in(); }     // SET_ADDRESS
    if (req == 9 || req == 11 || req == 1 || req == 3) return status_in();   // SET_CONFIGURATION, SET_INTERFACE, features
    if (req == 0) { reply[0] = reply[1] = 0; return reply_in(reply, 2, wLength); } // GET_STATUS
    if (req == 8 || req == 10) { reply[0] = req == 8; return reply_in(reply, 1, wLength); } // GET_CONFIGURATION / GET_INTERFACE
    return ep0_stall();
  }
  if ((type & 0x7F) == 0x21 && wIndex == ITF_DFU_RT) {
    int n = qspiboot_dfu_rt_request(s, reply, &ep0.reboot);
    if (n < 0) return ep0_stall();
    return (type & 0x80) ? reply_in(reply, (uint32_t)n, wLength) : status_in();
  }
  if ((type & 0x7F) == 0x21 && wIndex == ITF_CDC) { // CDC PSTN 1.2 6.3
    if (type == 0x21 && req == 0x20 && wLength == 7) { ep0.out_request = req; return ep0_arm_out(); } // SET_LINE_CODING
    if (type == 0xA1 && req == 0x21) return reply_in(line_coding, 7, wLength);                       // GET_LINE_CODING
    if (type == 0x21 && (req == 0x22 || req == 0x23)) return status_in(); // SET_CONTROL_LINE_STATE, SEND_BREAK
  }
  ep0_stall();
}

// An IN packet went: the next one of the data stage, or the status stage is done.
static void ep0_in_done(void) {
  if (ep0.left || ep0.zlp) { if (!ep0.left) ep0.zlp = 0; next_in(); return; }
  if (ep0.reboot) qspiboot_reboot_to_bootloader(); // the status stage of DETACH or of the touch
}

// An OUT packet came: the data of SET_LINE_CODING, or the status stage of an IN request.
static void ep0_out_data(const uint8_t* p, uint32_t n) {
  if (ep0.out_request != 0x20) return;
  ep0.out_request = 0xFF;
  if (n != 7) return ep0_stall();
  for (int i = 0; i < 7; i++) line_coding[i] = p[i];
  ep0.reboot = qspiboot_cdc_is_touch(line_coding);
  status_in();
}

// A bus reset: nothing pending.
static void ep0_bus_reset(void) {
  ep0.reboot = 0;
  ep0.left = 0;
  ep0.out_request = 0xFF;
}
