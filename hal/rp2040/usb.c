// USBCTRL in device mode, endpoint 0 only, polled (RP2040 datasheet 4.1). EP0 has one 64-byte
// buffer in DPRAM shared by both directions; each packet is handed to the controller through
// its buffer-control word. The core moves one packet at a time, so one buffer is enough.
#include <string.h>
#include "../common/hal.h"
#include "regs.h"

static uint8_t in_pid, out_pid;     // DATA1 after every SETUP, then toggling per direction
static uint8_t out_ptr_valid;
static uint32_t out_ptr, out_max;   // where the armed OUT packet goes in the core's memory
static int32_t pending_addr = -1;   // SET_ADDRESS takes effect after its status stage

// 4.1.2.5.1: AVAILABLE is set in a second write, a few clk_usb cycles after the rest of the
// word, so the controller never sees AVAILABLE with a stale length or PID. 125/48 MHz: 3 usb
// cycles are 8 sys cycles; the loop below is longer than that.
static void buf_ctrl_write(volatile uint32_t* reg, uint32_t value) {
  *reg = value;
  for (volatile int i = 0; i < 4; i++) {}
  *reg = value | BUF_AVAILABLE;
}

// RP2040-E5 (RP2040 datasheet, errata; B0 and B1 silicon): after a bus reset the controller
// only counts itself connected after ~800 us of idle J on the bus, which a hub's traffic for
// other devices can keep from happening, so enumeration behind a hub can fail. The facts of
// the remedy are pico-sdk's (src/rp2_common/pico_fix/rp2040_usb_device_enumeration): once the
// host ends the reset (line state leaves SE0), keep D+'s pull-up through the PHY override,
// feed the controller a forced J through GPIO15's input path (function 8 USB_MUXING_DIGITAL_DP,
// input forced high, output off, bus keeper on the pad) for 1 ms until it reports CONNECTED,
// then back to the PHY and GPIO15 as it was. B2 (CHIP_ID.REVISION 2) is fixed: nothing done.
// Polled here (no timer callback), which stalls usb_poll for the rest of the host's reset.
static void e5_enumeration_fix(void) {
  if ((SYSINFO_CHIP_ID >> CHIP_ID_REVISION_SHIFT) != 1) return;
  while (!(USB_SIE_STATUS & USB_SIE_STATUS_LINE_STATE_MASK)) {} // SE0: the host still resets
  uint32_t ctrl = IO_BANK0_GPIO15_CTRL, pad = PADS_BANK0_GPIO15;
  PADS_BANK0_GPIO15 = pad | PAD_PUE | PAD_PDE;
  IO_BANK0_GPIO15_CTRL = (ctrl & ~(GPIO_FUNCSEL_MASK | GPIO_OEOVER_MASK | GPIO_INOVER_MASK)) |
                         GPIO_FUNCSEL_USB_DP | GPIO_OEOVER_DISABLE | GPIO_INOVER_HIGH;
  USB_PHY_DIRECT |= USB_PHY_DP_PULLUP_EN;
  USB_PHY_DIRECT_OVERRIDE |= USB_PHY_OVERRIDE_DP_PULLUP_EN;
  USB_MUXING = USB_MUXING_TO_DIGITAL_PAD | USB_MUXING_SOFTCON;
  uint32_t t0 = TIMER_TIMERAWL;
  while (TIMER_TIMERAWL - t0 < 1000u || !(USB_SIE_STATUS & USB_SIE_STATUS_CONNECTED)) {}
  USB_MUXING = USB_MUXING_TO_PHY | USB_MUXING_SOFTCON;
  USB_PHY_DIRECT_OVERRIDE &= ~USB_PHY_OVERRIDE_DP_PULLUP_EN;
  IO_BANK0_GPIO15_CTRL = ctrl;
  PADS_BANK0_GPIO15 = pad;
}

void hal_raise_clocks(void);

void Z_halZ_usb_init(struct Z_hal_instance_t* h) {
  (void)h;
  hal_raise_clocks(); // only DFU mode gets here: the boot path hands over a cold chip's clocks
  RESETS_RESET_SET = RESET_USBCTRL;
  RESETS_RESET_CLR = RESET_USBCTRL;
  while (!(RESETS_DONE & RESET_USBCTRL)) {}
  memset((void*)USBCTRL_DPRAM, 0, 0x180);
  USB_MUXING = USB_MUXING_TO_PHY | USB_MUXING_SOFTCON;
  USB_PWR = USB_PWR_VBUS_DETECT | USB_PWR_VBUS_DETECT_OVERRIDE_EN; // the Pico does not wire VBUS sense
  USB_MAIN_CTRL = USB_MAIN_CTRL_CONTROLLER_EN;
  USB_SIE_CTRL = USB_SIE_CTRL_EP0_INT_1BUF | USB_SIE_CTRL_PULLUP_EN; // pull-up: the host sees us
}

u32 Z_halZ_usb_poll(struct Z_hal_instance_t* h, u32 setup) {
  uint32_t sie = USB_SIE_STATUS;
  if (sie & USB_SIE_STATUS_BUS_RESET) {
    USB_SIE_STATUS = USB_SIE_STATUS_BUS_RESET;
    e5_enumeration_fix();
    USB_ADDR_ENDP = 0;
    pending_addr = -1;
    out_ptr_valid = 0;
    USB_BUFF_STATUS = USB_BUFF_EP0_IN | USB_BUFF_EP0_OUT;
    return EV_RESET;
  }
  // Completions first: a status stage that finished before the next SETUP arrived belongs to
  // the previous request (boot/hal.ts).
  uint32_t buff = USB_BUFF_STATUS;
  if (buff & USB_BUFF_EP0_IN) {
    USB_BUFF_STATUS = USB_BUFF_EP0_IN;
    if (pending_addr >= 0) {
      USB_ADDR_ENDP = (uint32_t)pending_addr;
      pending_addr = -1;
    }
    return EV_IN;
  }
  if (buff & USB_BUFF_EP0_OUT) {
    USB_BUFF_STATUS = USB_BUFF_EP0_OUT;
    uint32_t len = DPRAM_EP0_OUT_CTRL & BUF_LEN_MASK;
    if (len > out_max) len = out_max;
    uint8_t* dst = out_ptr_valid ? hal_mem(h, out_ptr, len) : NULL;
    if (dst) for (uint32_t i = 0; i < len; i++) dst[i] = DPRAM_EP0_BUF[i];
    out_ptr_valid = 0;
    return EV_OUT | (len << 8);
  }
  if (sie & USB_SIE_STATUS_SETUP_REC) {
    USB_SIE_STATUS = USB_SIE_STATUS_SETUP_REC;
    uint8_t* dst = hal_mem(h, setup, 8);
    if (dst) for (int i = 0; i < 8; i++) dst[i] = DPRAM_SETUP[i];
    in_pid = out_pid = 1;
    out_ptr_valid = 0;
    // A new SETUP ends any stall (the hardware clears EP_STALL_ARM; the STALL bits are ours).
    DPRAM_EP0_IN_CTRL = 0;
    DPRAM_EP0_OUT_CTRL = 0;
    return EV_SETUP;
  }
  return EV_NONE;
}

void Z_halZ_usb_ep0_in(struct Z_hal_instance_t* h, u32 buf, u32 len) {
  if (len > 64) len = 64;
  const uint8_t* src = hal_mem(h, buf, len);
  if (!src) len = 0;
  for (uint32_t i = 0; i < len; i++) DPRAM_EP0_BUF[i] = src[i];
  uint32_t ctrl = BUF_FULL | len | (in_pid ? BUF_DATA1 : 0);
  in_pid ^= 1;
  buf_ctrl_write(&DPRAM_EP0_IN_CTRL, ctrl);
}

void Z_halZ_usb_ep0_out(struct Z_hal_instance_t* h, u32 buf, u32 max) {
  (void)h;
  if (max > 64) max = 64;
  out_ptr = buf;
  out_max = max;
  out_ptr_valid = 1;
  // The controller accepts up to 64 bytes into the buffer; usb_poll copies at most `max`.
  uint32_t ctrl = 64u | (out_pid ? BUF_DATA1 : 0);
  out_pid ^= 1;
  buf_ctrl_write(&DPRAM_EP0_OUT_CTRL, ctrl);
}

void Z_halZ_usb_ep0_stall(struct Z_hal_instance_t* h) {
  (void)h;
  USB_EP_STALL_ARM = 3u; // EP0 IN and OUT: stall until the next SETUP (4.1.2.5.3)
  DPRAM_EP0_IN_CTRL = BUF_STALL;
  DPRAM_EP0_OUT_CTRL = BUF_STALL;
  out_ptr_valid = 0;
}

void Z_halZ_usb_set_address(struct Z_hal_instance_t* h, u32 addr) {
  (void)h;
  pending_addr = (int32_t)(addr & 0x7F);
}
