// Example application for qspiboot on the Raspberry Pi Pico with a USB device that the host can
// send back into qspiboot without a button (hal/app/qspiboot-usb.h): a CDC ACM port (1200-baud
// touch) and a DFU runtime interface (DFU_DETACH). Also says hello on UART0 and reboots on 'b'
// there, as hal/app/example-rp2040.c does. The CDC port carries no data: its endpoints are in
// the descriptors only (a host's driver binds to them, nothing answers). USB: RP2040 datasheet
// 4.1, polled, endpoint 0 with one 64-byte buffer in DPRAM for both directions. clk_usb is the
// 48 MHz qspiboot leaves running (hal/rp2040/clocks.c).
#include <stdint.h>
#include "qspiboot.h"
#include "qspiboot-usb.h"

#define REG(a) (*(volatile uint32_t*)(a))
#define RESETS_SET REG(0x4000C000u + 0x2000u)  // 2.14.3 (atomic set alias, 2.1.2)
#define RESETS_CLR REG(0x4000C000u + 0x3000u)
#define RESETS_DONE REG(0x4000C008u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)
#define RESET_USBCTRL (1u << 24)
#define CLK_PERI_CTRL REG(0x40008048u)           // 2.15.7: ENABLE bit 11, source clk_sys
#define GPIO_CTRL(n) REG(0x40014004u + 8u * (n)) // 2.19.6.1: FUNCSEL 2 = UART, 5 = SIO
#define SIO_OE_SET REG(0xD0000024u)
#define SIO_OUT_XOR REG(0xD000001Cu)
#define UART0_DR REG(0x40034000u)                // 4.2.8
#define UART0_FR REG(0x40034018u)                // TXFF bit 5, RXFE bit 4
#define UART0_IBRD REG(0x40034024u)
#define UART0_FBRD REG(0x40034028u)
#define UART0_LCR_H REG(0x4003402Cu)
#define UART0_CR REG(0x40034030u)

// USBCTRL (4.1.4): registers, and the DPRAM with the SETUP packet at 0, EP0's buffer controls
// at 0x80 (IN) and 0x84 (OUT) and its buffer at 0x100.
#define USB_ADDR_ENDP REG(0x50110000u)
#define USB_MAIN_CTRL REG(0x50110040u)           // CONTROLLER_EN bit 0
#define USB_SIE_CTRL REG(0x5011004Cu)            // EP0_INT_1BUF bit 29, PULLUP_EN bit 16
#define USB_SIE_STATUS REG(0x50110050u)          // SETUP_REC bit 17, BUS_RESET bit 19 (write 1 clears)
#define USB_BUFF_STATUS REG(0x50110058u)         // EP0_IN bit 0, EP0_OUT bit 1 (write 1 clears)
#define USB_EP_STALL_ARM REG(0x50110068u)        // EP0_IN bit 0, EP0_OUT bit 1
#define USB_MUXING REG(0x50110074u)              // TO_PHY bit 0, SOFTCON bit 3
#define USB_PWR REG(0x50110078u)                 // VBUS_DETECT bit 2, its override enable bit 3
#define DPRAM ((volatile uint8_t*)0x50100000u)
#define EP0_IN_CTRL REG(0x50100080u)
#define EP0_OUT_CTRL REG(0x50100084u)
#define EP0_BUF ((volatile uint8_t*)0x50100100u)
#define BUF_FULL (1u << 15)
#define BUF_DATA1 (1u << 13)
#define BUF_STALL (1u << 11)
#define BUF_AVAILABLE (1u << 10)
#define BUF_LEN_MASK 0x3FFu

#define ITF_CDC 0
#define ITF_DFU_RT 2

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;

static void put(const char* s) {
  for (; *s; s++) {
    while (UART0_FR & (1u << 5)) {}
    UART0_DR = (uint8_t)*s;
  }
}

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

static const char* const strings[] = { "qspiboot", "qspiboot example (Pico, USB)", "qspiboot detach" };

static struct {
  const uint8_t* data; // the rest of an IN data stage, `left` bytes
  uint32_t left;
  uint8_t zlp;         // the data stage ends on a full packet short of wLength: a zero-length one follows
  uint8_t in_pid, out_pid;
  int32_t address;     // SET_ADDRESS takes effect after its status stage
  uint8_t out_request; // the SETUP whose OUT data stage is armed (bRequest), 0xFF none
  int reboot;          // reboot into qspiboot once the status stage is done
} ep0 = { 0, 0, 0, 0, 0, -1, 0xFF, 0 };
static uint8_t reply[64];
static uint8_t line_coding[7] = { 0x00, 0xC2, 0x01, 0x00, 0, 0, 8 }; // 115200 8N1

// 4.1.2.5.1: AVAILABLE goes in a second write, after the rest of the word has settled.
static void buf_ctrl(volatile uint32_t* reg, uint32_t value) {
  *reg = value;
  for (volatile int i = 0; i < 4; i++) {}
  *reg = value | BUF_AVAILABLE;
}

static void send_packet(const uint8_t* p, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) EP0_BUF[i] = p[i];
  uint32_t ctrl = BUF_FULL | len | (ep0.in_pid ? BUF_DATA1 : 0);
  ep0.in_pid ^= 1;
  buf_ctrl(&EP0_IN_CTRL, ctrl);
}

static void arm_out(void) {
  uint32_t ctrl = 64u | (ep0.out_pid ? BUF_DATA1 : 0);
  ep0.out_pid ^= 1;
  buf_ctrl(&EP0_OUT_CTRL, ctrl);
}

static void stall(void) {
  USB_EP_STALL_ARM = 3u; // until the next SETUP (4.1.2.5.3)
  EP0_IN_CTRL = BUF_STALL;
  EP0_OUT_CTRL = BUF_STALL;
}

static void next_in(void) {
  uint32_t n = ep0.left > 64 ? 64 : ep0.left;
  send_packet(ep0.data, n);
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
  arm_out();
}

static void status_in(void) { send_packet(0, 0); }

static uint32_t string_desc(uint8_t index) {
  if (index == 0) {
    reply[0] = 4; reply[1] = 3; reply[2] = 0x09; reply[3] = 0x04; // LANGID: English (US)
    return 4;
  }
  const char* s = strings[index - 1];
  uint32_t n = 2;
  for (; *s && n < 62; s++) { reply[n++] = (uint8_t)*s; reply[n++] = 0; }
  reply[0] = (uint8_t)n;
  reply[1] = 3;
  return n;
}

static void setup_received(const uint8_t* s) {
  uint8_t type = s[0], req = s[1];
  uint16_t wValue = (uint16_t)(s[2] | (s[3] << 8)), wIndex = (uint16_t)(s[4] | (s[5] << 8));
  uint16_t wLength = (uint16_t)(s[6] | (s[7] << 8));
  ep0.in_pid = ep0.out_pid = 1;
  ep0.out_request = 0xFF;
  ep0.left = 0;
  EP0_IN_CTRL = 0;
  EP0_OUT_CTRL = 0;
  if ((type & 0x60) == 0) { // standard (USB 2.0 9.4)
    switch (req) {
    case 6: { // GET_DESCRIPTOR
      uint8_t kind = wValue >> 8, index = wValue & 0xFF;
      if (kind == 1) return reply_in(device_desc, sizeof device_desc, wLength);
      if (kind == 2 && index == 0) return reply_in(config_desc, sizeof config_desc, wLength);
      if (kind == 3 && index <= sizeof strings / sizeof strings[0]) return reply_in(reply, string_desc(index), wLength);
      return stall(); // device qualifier and the rest: a full-speed device has none
    }
    case 5: ep0.address = wValue & 0x7F; return status_in();          // SET_ADDRESS
    case 9: case 11: case 1: case 3: return status_in();              // SET_CONFIGURATION, SET_INTERFACE, features
    case 0: reply[0] = reply[1] = 0; return reply_in(reply, 2, wLength); // GET_STATUS
    case 8: case 10: reply[0] = req == 8; return reply_in(reply, 1, wLength); // GET_CONFIGURATION / GET_INTERFACE
    default: return stall();
    }
  }
  if ((type & 0x7F) == 0x21 && wIndex == ITF_DFU_RT) {
    int n = qspiboot_dfu_rt_request(s, reply, &ep0.reboot);
    if (n < 0) return stall();
    return (type & 0x80) ? reply_in(reply, (uint32_t)n, wLength) : status_in();
  }
  if ((type & 0x7F) == 0x21 && wIndex == ITF_CDC) { // CDC PSTN 1.2 6.3
    if (type == 0x21 && req == 0x20 && wLength == 7) { ep0.out_request = req; return arm_out(); } // SET_LINE_CODING
    if (type == 0xA1 && req == 0x21) return reply_in(line_coding, 7, wLength);                   // GET_LINE_CODING
    if (type == 0x21 && (req == 0x22 || req == 0x23)) return status_in(); // SET_CONTROL_LINE_STATE, SEND_BREAK
  }
  stall();
}

static void usb_init(void) {
  RESETS_SET = RESET_USBCTRL;
  RESETS_CLR = RESET_USBCTRL;
  while (!(RESETS_DONE & RESET_USBCTRL)) {}
  for (uint32_t i = 0; i < 0x180; i++) DPRAM[i] = 0;
  USB_MUXING = (1u << 0) | (1u << 3);
  USB_PWR = (1u << 2) | (1u << 3); // the Pico does not wire VBUS to the chip: say it is there
  USB_MAIN_CTRL = 1u;
  USB_SIE_CTRL = (1u << 29) | (1u << 16);
}

static void usb_poll(void) {
  uint32_t sie = USB_SIE_STATUS;
  if (sie & (1u << 19)) { // bus reset: address 0, nothing pending
    USB_SIE_STATUS = 1u << 19;
    USB_ADDR_ENDP = 0;
    ep0.address = -1;
    ep0.reboot = 0;
    USB_BUFF_STATUS = 3u;
    return;
  }
  uint32_t buff = USB_BUFF_STATUS;
  if (buff & 1u) { // an IN packet went out
    USB_BUFF_STATUS = 1u;
    if (ep0.left || ep0.zlp) { if (!ep0.left) ep0.zlp = 0; next_in(); return; }
    if (ep0.address >= 0) { USB_ADDR_ENDP = (uint32_t)ep0.address; ep0.address = -1; }
    if (ep0.reboot) qspiboot_reboot_to_bootloader(); // the status stage of DETACH or the touch is done
    return;
  }
  if (buff & 2u) { // an OUT packet came in: the data of SET_LINE_CODING, or a status stage
    USB_BUFF_STATUS = 2u;
    if (ep0.out_request == 0x20) {
      ep0.out_request = 0xFF;
      if ((EP0_OUT_CTRL & BUF_LEN_MASK) != 7) return stall();
      for (int i = 0; i < 7; i++) line_coding[i] = EP0_BUF[i];
      ep0.reboot = qspiboot_cdc_is_touch(line_coding);
      status_in();
    }
    return;
  }
  if (sie & (1u << 17)) {
    USB_SIE_STATUS = 1u << 17;
    uint8_t s[8];
    for (int i = 0; i < 8; i++) s[i] = DPRAM[i];
    setup_received(s);
  }
}

int main(void) {
  RESETS_CLR = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
  while ((RESETS_DONE & (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) != (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) {}
  CLK_PERI_CTRL = 1u << 11;
  UART0_IBRD = 6; // 115200 baud from a 12 MHz clk_peri, as example-rp2040.c
  UART0_FBRD = 33;
  UART0_LCR_H = (3u << 5) | (1u << 4);
  UART0_CR = (1u << 0) | (1u << 8) | (1u << 9);
  GPIO_CTRL(0) = 2;
  GPIO_CTRL(1) = 2;
  GPIO_CTRL(25) = 5;
  SIO_OE_SET = 1u << 25;
  usb_init();
  put("qspiboot USB example: hello from the Pico, running from flash\r\n");
  for (uint32_t n = 0;; n++) {
    usb_poll();
    if (!(UART0_FR & (1u << 4)) && (UART0_DR & 0xff) == 'b') qspiboot_reboot_to_bootloader();
    if ((n & 0x3FFFF) == 0) SIO_OUT_XOR = 1u << 25;
  }
}

void Reset_Handler(void) {
  const uint32_t* src = &__data_load;
  for (uint32_t* d = &__data_start; d < &__data_end;) *d++ = *src++;
  for (uint32_t* d = &__bss_start; d < &__bss_end;) *d++ = 0;
  main();
}

__attribute__((section(".vectors"), used)) const void* const vectors[2] = { &__stack_top, Reset_Handler };
