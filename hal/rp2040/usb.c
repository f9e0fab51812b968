// USBCTRL in device mode, polled (RP2040 datasheet 4.1): endpoint 0, and with QSPIBOOT_UF2 the
// UF2 drive's bulk endpoints. EP0 has one 64-byte buffer in DPRAM shared by both directions;
// each packet is handed to the controller through its buffer-control word. The core moves one
// EP0 packet at a time, so one buffer is enough.
#include <string.h>
#include "../common/hal.h"
#include "regs.h"

static uint8_t in_pid, out_pid;     // DATA1 after every SETUP, then toggling per direction
static uint8_t out_ptr_valid;
static uint32_t out_ptr, out_max;   // where the armed OUT packet goes in the core's memory
static int32_t pending_addr = -1;   // SET_ADDRESS takes effect after its status stage

// Packets to and from the DPRAM a word at a time where both ends are aligned (the DPRAM takes
// 32-bit accesses, 4.1.2.5): a 4 KiB DFU block is 64 packets, and the byte loop was a sixth of
// the RP2040's cycles per block (npm run bench).
static void dpram_copy(volatile void* to, const volatile void* from, uint32_t len) {
  uint32_t i = 0;
  if (!(((uintptr_t)to | (uintptr_t)from) & 3))
    for (; i + 4 <= len; i += 4) *(volatile uint32_t*)((uintptr_t)to + i) = *(const volatile uint32_t*)((uintptr_t)from + i);
  for (; i < len; i++) ((volatile uint8_t*)to)[i] = ((const volatile uint8_t*)from)[i];
}

// 4.1.2.5.1: AVAILABLE is set in a second write, a few clk_usb cycles after the rest of the
// word, so the controller never sees AVAILABLE with a stale length or PID. 125/48 MHz: 3 usb
// cycles are 8 sys cycles; the loop below is longer than that.
static void buf_ctrl_write(volatile uint32_t* reg, uint32_t value) {
  *reg = value;
  for (volatile int i = 0; i < 4; i++) {}
  *reg = value | BUF_AVAILABLE;
}

#if QSPIBOOT_UF2
// Bulk endpoints 1..3 (the UF2 drive), single-buffered, one 64-byte DPRAM buffer per direction.
// A transfer of up to 4096 bytes of the core's memory moves one packet at a time: usb_poll
// copies each packet between that memory and DPRAM and hands the buffer back to the
// controller, and reports the transfer's end only. Index i as BUFF_STATUS numbers its bits:
// 2 * endpoint number + 1 for OUT (regs.h).
#define BULK_FIRST 2u
#define BULK_LAST 7u // EP3 OUT
static struct bulk {
  uint32_t ptr, len, done;  // the armed transfer in the core's memory; len 0xFFFFFFFF = none armed
  uint16_t max;             // wMaxPacketSize
  uint8_t pid;              // the DATA0/DATA1 of the next packet armed
} bulk[BULK_LAST + 1 - BULK_FIRST];

#define NO_XFER 0xFFFFFFFFu

static uint32_t bulk_index(u32 ep) { return 2u * (ep & 0x0Fu) + ((ep & 0x80u) ? 0u : 1u); }

// Hand the next packet of the transfer on endpoint i to the controller. IN: the data goes
// into the endpoint's DPRAM buffer and FULL says it is valid; OUT: LENGTH is what the buffer
// takes (4.1.2.5). The PID bit is the packet's DATA0/DATA1: the controller sends it on IN and,
// on OUT, compares it with what arrives (SIE_STATUS.DATA_SEQ_ERROR otherwise).
static void bulk_arm(struct Z_hal_instance_t* h, uint32_t i) {
  struct bulk* b = &bulk[i - BULK_FIRST];
  uint32_t n = b->len - b->done;
  if (n > b->max) n = b->max;
  uint32_t ctrl = n | (b->pid ? BUF_DATA1 : 0);
  if (!(i & 1u)) {
    const uint8_t* src = hal_mem(h, b->ptr + b->done, n);
    volatile uint8_t* dst = DPRAM_EP_BUF(i);
    if (src) for (uint32_t k = 0; k < n; k++) dst[k] = src[k];
    ctrl |= BUF_FULL;
  }
  b->pid ^= 1;
  buf_ctrl_write(&DPRAM_BUF_CTRL(i), ctrl);
}

// BUFF_STATUS bit i: the armed packet has gone (IN) or come (OUT, FULL and the received
// LENGTH written back). Returns the event when that ended the transfer, else arms the next.
static u32 bulk_done(struct Z_hal_instance_t* h, uint32_t i) {
  struct bulk* b = &bulk[i - BULK_FIRST];
  if (b->len == NO_XFER) return EV_NONE; // closed or stalled since: a stale completion
  uint32_t ep = (i >> 1) | ((i & 1u) ? 0u : 0x80u);
  uint32_t n = b->len - b->done;
  if (n > b->max) n = b->max;
  if (i & 1u) {
    uint32_t got = DPRAM_BUF_CTRL(i) & BUF_LEN_MASK;
    if (got > n) got = n;
    uint8_t* dst = hal_mem(h, b->ptr + b->done, got);
    volatile const uint8_t* src = DPRAM_EP_BUF(i);
    if (dst) for (uint32_t k = 0; k < got; k++) dst[k] = src[k];
    b->done += got;
    if (got < b->max || b->done >= b->len) {
      b->len = NO_XFER;
      return EV_EP_OUT | (ep << 8) | (b->done << 16);
    }
  } else {
    b->done += n;
    if (b->done >= b->len) { // a zero-length transfer ends with its one empty packet
      b->len = NO_XFER;
      return EV_EP_IN | (ep << 8);
    }
  }
  bulk_arm(h, i);
  return EV_NONE;
}

// Bus reset: endpoints 1..15 closed (ENABLE clear: the device answers none of their tokens),
// nothing armed, for all the controller's 30 non-zero endpoint directions.
static void bulk_close_all(void) {
  for (uint32_t i = 2; i < 32; i++) { DPRAM_EP_CTRL(i) = 0; DPRAM_BUF_CTRL(i) = 0; }
  for (uint32_t i = 0; i <= BULK_LAST - BULK_FIRST; i++) bulk[i].len = NO_XFER;
}
#endif

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
#if QSPIBOOT_UF2
    bulk_close_all();
    USB_BUFF_STATUS = 0xFFFFFFFFu; // every endpoint's completions are gone with the reset
#else
    USB_BUFF_STATUS = USB_BUFF_EP0_IN | USB_BUFF_EP0_OUT;
#endif
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
    if (dst) dpram_copy(dst, DPRAM_EP0_BUF, len);
    out_ptr_valid = 0;
    return EV_OUT | (len << 8);
  }
#if QSPIBOOT_UF2
  // Bulk completions: a packet in the middle of a transfer is handled here (the next armed)
  // without an event; only a transfer's end is reported.
  for (uint32_t i = BULK_FIRST; i <= BULK_LAST; i++) {
    if (!(buff & (1u << i))) continue;
    USB_BUFF_STATUS = 1u << i;
    u32 ev = bulk_done(h, i);
    if (ev != EV_NONE) return ev;
  }
#endif
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
  dpram_copy(DPRAM_EP0_BUF, src, len);
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

#if QSPIBOOT_UF2
// Endpoint control (4.1.2.5): enabled, bulk, a BUFF_STATUS bit per buffer done, its buffer's
// DPRAM offset. DATA0 first, nothing armed (USB 2.0 9.4.5 after SET_CONFIGURATION).
void Z_halZ_usb_ep_open(struct Z_hal_instance_t* h, u32 ep, u32 max) {
  (void)h;
  uint32_t i = bulk_index(ep);
  if (i < BULK_FIRST || i > BULK_LAST || max == 0 || max > 64) return;
  struct bulk* b = &bulk[i - BULK_FIRST];
  b->max = (uint16_t)max;
  b->pid = 0;
  b->len = NO_XFER;
  DPRAM_BUF_CTRL(i) = 0;
  DPRAM_EP_CTRL(i) = EP_CTRL_ENABLE | EP_CTRL_INT_PER_BUFF | EP_CTRL_TYPE_BULK |
                     (uint32_t)((uintptr_t)DPRAM_EP_BUF(i) - USBCTRL_DPRAM);
  USB_BUFF_STATUS = 1u << i;
}

void Z_halZ_usb_ep_xfer(struct Z_hal_instance_t* h, u32 ep, u32 buf, u32 len) {
  uint32_t i = bulk_index(ep);
  if (i < BULK_FIRST || i > BULK_LAST || len > 4096) return;
  struct bulk* b = &bulk[i - BULK_FIRST];
  b->ptr = buf;
  b->len = len;
  b->done = 0;
  bulk_arm(h, i);
}

// A non-zero endpoint stalls through its buffer control's STALL bit alone (EP_STALL_ARM is
// EP0's, usb.h); writing the word without AVAILABLE also takes back an armed buffer. Clearing
// leaves the word at 0: DATA0 next, nothing armed.
void Z_halZ_usb_ep_stall(struct Z_hal_instance_t* h, u32 ep, u32 on) {
  (void)h;
  uint32_t i = bulk_index(ep);
  if (i < BULK_FIRST || i > BULK_LAST) return;
  struct bulk* b = &bulk[i - BULK_FIRST];
  b->len = NO_XFER;
  b->pid = 0;
  DPRAM_BUF_CTRL(i) = on ? BUF_STALL : 0;
  USB_BUFF_STATUS = 1u << i; // a packet that completed before the stall no longer counts
}
#endif
