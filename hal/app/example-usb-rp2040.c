// Example application for qspiboot on the Raspberry Pi Pico with a USB device that the host can
// send back into qspiboot without a button (hal/app/qspiboot-usb.h): a CDC ACM port (1200-baud
// touch) and a DFU runtime interface (DFU_DETACH). Also says hello on UART0 and reboots on 'b'
// there, as hal/app/example-rp2040.c does. The CDC port carries no data: its endpoints are in
// the descriptors only (a host's driver binds to them, nothing answers). USB: RP2040 datasheet
// 4.1, polled, endpoint 0 with one 64-byte buffer in DPRAM for both directions. qspiboot hands
// over the clocks of a cold chip (hal/rp2040/clocks.c clocks_release), so the application starts
// the crystal and PLL_USB for clk_usb's 48 MHz itself (2.16, 2.18.2), and clk_peri from the crystal.
#include <stdint.h>
#include "qspiboot.h"
#define EXAMPLE_PRODUCT "qspiboot example (Pico, USB)"
#include "example-usb.h"

#define REG(a) (*(volatile uint32_t*)(a))
#define RESETS_SET REG(0x4000C000u + 0x2000u)  // 2.14.3 (atomic set alias, 2.1.2)
#define RESETS_CLR REG(0x4000C000u + 0x3000u)
#define RESETS_DONE REG(0x4000C008u)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_UART0 (1u << 22)
#define RESET_USBCTRL (1u << 24)
#define RESET_PLL_USB (1u << 13)
#define CLK_PERI_CTRL REG(0x40008048u)           // 2.15.7: ENABLE bit 11, AUXSRC bits 7:5
#define CLK_PERI_XOSC (4u << 5)                  // AUXSRC 4: xosc_clksrc
#define CLK_USB_CTRL REG(0x40008054u)            // ENABLE bit 11, AUXSRC 0: clksrc_pll_usb
#define XOSC_CTRL REG(0x40024000u)               // 2.16.7: FREQ_RANGE 0xAA0 (1-15 MHz), ENABLE 0xFAB << 12
#define XOSC_STATUS REG(0x40024004u)             // STABLE bit 31
#define XOSC_STARTUP REG(0x4002400Cu)            // DELAY in 256-cycle units
#define PLL_USB_CS REG(0x4002C000u)              // 2.18.4: REFDIV bits 5:0, LOCK bit 31
#define PLL_USB_PWR REG(0x4002C004u)             // PD bit 0, POSTDIVPD bit 3, VCOPD bit 5
#define PLL_USB_FBDIV REG(0x4002C008u)
#define PLL_USB_PRIM REG(0x4002C00Cu)            // POSTDIV1 bits 18:16, POSTDIV2 bits 14:12
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

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;

static void put(const char* s) {
  for (; *s; s++) {
    while (UART0_FR & (1u << 5)) {}
    UART0_DR = (uint8_t)*s;
  }
}

static int32_t pending_address = -1; // SET_ADDRESS takes effect after its status stage (4.1.2.5)
static uint8_t in_pid, out_pid;       // DATA1 first after a SETUP, then toggling per direction

// 4.1.2.5.1: AVAILABLE goes in a second write, after the rest of the word has settled.
static void buf_ctrl(volatile uint32_t* reg, uint32_t value) {
  *reg = value;
  for (volatile int i = 0; i < 4; i++) {}
  *reg = value | BUF_AVAILABLE;
}

static void ep0_send(const uint8_t* p, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) EP0_BUF[i] = p[i];
  uint32_t ctrl = BUF_FULL | len | (in_pid ? BUF_DATA1 : 0);
  in_pid ^= 1;
  buf_ctrl(&EP0_IN_CTRL, ctrl);
}

static void ep0_arm_out(void) {
  uint32_t ctrl = 64u | (out_pid ? BUF_DATA1 : 0);
  out_pid ^= 1;
  buf_ctrl(&EP0_OUT_CTRL, ctrl);
}

static void ep0_stall(void) {
  USB_EP_STALL_ARM = 3u; // until the next SETUP (4.1.2.5.3)
  EP0_IN_CTRL = BUF_STALL;
  EP0_OUT_CTRL = BUF_STALL;
}

static void ep0_set_address(uint8_t addr) { pending_address = addr; }

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
    pending_address = -1;
    USB_BUFF_STATUS = 3u;
    ep0_bus_reset();
    return;
  }
  uint32_t buff = USB_BUFF_STATUS; // completions before a new SETUP: they belong to the last one
  if (buff & 1u) {
    USB_BUFF_STATUS = 1u;
    if (pending_address >= 0) { USB_ADDR_ENDP = (uint32_t)pending_address; pending_address = -1; }
    ep0_in_done();
    return;
  }
  if (buff & 2u) {
    USB_BUFF_STATUS = 2u;
    uint8_t p[64];
    uint32_t n = EP0_OUT_CTRL & BUF_LEN_MASK;
    if (n > 64) n = 64;
    for (uint32_t i = 0; i < n; i++) p[i] = EP0_BUF[i];
    ep0_out_data(p, n);
    return;
  }
  if (sie & (1u << 17)) {
    USB_SIE_STATUS = 1u << 17;
    uint8_t s[8];
    for (int i = 0; i < 8; i++) s[i] = DPRAM[i];
    in_pid = out_pid = 1;
    EP0_IN_CTRL = 0; // a new SETUP ends a stall (the hardware clears EP_STALL_ARM)
    EP0_OUT_CTRL = 0;
    ep0_setup(s);
  }
}

// 12 MHz crystal (pico-sdk's 282 x 256-cycle start-up delay); PLL_USB 12 MHz x 100 = 1200 MHz
// VCO, / 5 / 5 = 48 MHz, as pico-sdk's clocks_init sets it: VCO powered, lock, then post-dividers.
static void clocks_start(void) {
  XOSC_CTRL = 0xAA0u;
  XOSC_STARTUP = 282u;
  XOSC_CTRL = 0xAA0u | (0xFABu << 12);
  while (!(XOSC_STATUS & (1u << 31))) {}
  RESETS_CLR = RESET_PLL_USB;
  while (!(RESETS_DONE & RESET_PLL_USB)) {}
  PLL_USB_CS = 1;
  PLL_USB_FBDIV = 100;
  PLL_USB_PWR = (1u << 2) | (1u << 3);     // PD and VCOPD off; DSMPD stays, post-dividers still off
  while (!(PLL_USB_CS & (1u << 31))) {}
  PLL_USB_PRIM = (5u << 16) | (5u << 12);
  PLL_USB_PWR = 1u << 2;
  CLK_USB_CTRL = 1u << 11;
  CLK_PERI_CTRL = (1u << 11) | CLK_PERI_XOSC;
}

int main(void) {
  RESETS_CLR = RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0;
  while ((RESETS_DONE & (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) != (RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_UART0)) {}
  clocks_start();
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
