// USB2 OTG_FS (Synopsys DWC2 core, RM0433 57) in device mode, endpoint 0 only, polled.
// Received packets come through the shared RX FIFO as status words (GRXSTSP) followed by data;
// IN packets go into EP0's TX FIFO. The core handles DATA0/DATA1 itself for control transfers.
// The bring-up order against ST's LL and TinyUSB, and where it differs: USB-BRINGUP.md.
#include "../common/hal.h"
#include "board.h"
#include "regs.h"

static uint8_t setup_buf[8];
static uint32_t out_ptr, out_max, out_len;
static uint8_t out_armed;
static uint8_t setup_ready, out_ready;

static void delay_us(uint32_t us) {
  uint32_t start = DWT_CYCCNT, cycles = us * (BOARD_CPU_HZ / 1000000u);
  while (DWT_CYCCNT - start < cycles) {}
}

static void flush_fifos(void) {
  OTG_GRSTCTL = OTG_GRSTCTL_TXFFLSH | OTG_GRSTCTL_TXFNUM_ALL;
  while (OTG_GRSTCTL & OTG_GRSTCTL_TXFFLSH) {}
  OTG_GRSTCTL = OTG_GRSTCTL_RXFFLSH;
  while (OTG_GRSTCTL & OTG_GRSTCTL_RXFFLSH) {}
}

// SETUPs are taken whatever EP0 OUT's state (57.13.10); STUPCNT lets three land back to back.
static void setup_ready_for_more(void) { OTG_DOEPTSIZ0 = OTG_TSIZ_STUPCNT3 | OTG_TSIZ_PKTCNT1 | 64u; }

// EP0 OUT takes one data packet only when the core has a buffer for it: until then the host
// is NAKed, so no packet can arrive before there is somewhere for it to go.
static void arm_out(void) {
  setup_ready_for_more();
  OTG_DOEPCTL0 |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
}

void hal_raise_clocks(void);

void Z_halZ_usb_init(struct Z_hal_instance_t* h) {
  (void)h;
  // Only DFU mode gets here: the boot path hands the application the reset clocks.
  hal_raise_clocks();
  PWR_CR3 |= PWR_CR3_USB33DEN; // the USB PHY's 3.3 V level detector (6.8.4)
  while (!(PWR_CR3 & PWR_CR3_USB33RDY)) {}
  // GUSBCFG resets with PHYSEL = 0 (ULPI, ST's SVD: 0x00000A00); the core runs from the PHY it
  // was reset with, so the embedded FS PHY is selected first and the core soft-reset after, as
  // ST's LL USB_CoreInit (stm32h7xx_ll_usb.c) and TinyUSB's phy_fs_init (dwc2_common.c) do.
  OTG_GUSBCFG |= OTG_GUSBCFG_PHYSEL;
  while (!(OTG_GRSTCTL & OTG_GRSTCTL_AHBIDL)) {}
  OTG_GRSTCTL = OTG_GRSTCTL_CSRST;
  while (OTG_GRSTCTL & OTG_GRSTCTL_CSRST) {}
  while (!(OTG_GRSTCTL & OTG_GRSTCTL_AHBIDL)) {}
  OTG_GCCFG = OTG_GCCFG_PWRDWN;   // transceiver on, no VBUS sensing (the board does not wire it)
  OTG_GUSBCFG = (OTG_GUSBCFG & ~(0xFu << OTG_GUSBCFG_TRDT_SHIFT)) | OTG_GUSBCFG_FDMOD | (6u << OTG_GUSBCFG_TRDT_SHIFT);
  delay_us(25000);                // device mode takes effect after 25 ms (57.4.2)
  // Pull-up off until the FIFOs are sized, before the session is made valid: ST's LL
  // USB_DevInit sets SDIS first, USB_DevConnect clears it last (hal/stm32h750/USB-BRINGUP.md).
  OTG_DCTL |= OTG_DCTL_SDIS;
  OTG_GOTGCTL |= OTG_GOTGCTL_BVALOEN | OTG_GOTGCTL_BVALOVAL; // session valid without VBUS sensing
  OTG_PCGCCTL = 0;
  OTG_DCFG = OTG_DCFG_DSPD_FS;
  OTG_GRXFSIZ = 128;              // words: SETUPs and one 64-byte packet with room to spare
  OTG_DIEPTXF0 = (16u << 16) | 128u; // EP0 TX FIFO: 16 words after the RX FIFO
  flush_fifos();
  OTG_GINTSTS = 0xFFFFFFFFu;
  OTG_DCTL &= ~OTG_DCTL_SDIS;     // pull-up on: the host sees the device
}

// Drain the RX FIFO: SETUP and OUT packets land in their buffers; flags say what is complete.
static void rx_pop(struct Z_hal_instance_t* h) {
  while (OTG_GINTSTS & OTG_GINTSTS_RXFLVL) {
    uint32_t st = OTG_GRXSTSP;
    uint32_t n = OTG_RXSTS_BCNT(st), kind = OTG_RXSTS_PKTSTS(st);
    if (kind == PKTSTS_SETUP_DATA) {
      for (uint32_t i = 0; i < 2; i++) {
        uint32_t w = OTG_FIFO0;
        for (uint32_t j = 0; j < 4; j++) setup_buf[4 * i + j] = (uint8_t)(w >> (8 * j));
      }
    } else if (kind == PKTSTS_SETUP_DONE) {
      setup_ready = 1;
    } else if (kind == PKTSTS_OUT_DATA) {
      uint8_t* dst = out_armed ? hal_mem(h, out_ptr, out_max) : 0;
      for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w = OTG_FIFO0;
        for (uint32_t j = 0; j < 4 && i + j < n; j++) if (dst && i + j < out_max) dst[i + j] = (uint8_t)(w >> (8 * j));
      }
      out_len = n < out_max ? n : out_max;
    } else if (kind == PKTSTS_OUT_DONE) {
      out_ready = out_armed;
      out_armed = 0;
    }
  }
}

u32 Z_halZ_usb_poll(struct Z_hal_instance_t* h, u32 setup) {
  uint32_t gint = OTG_GINTSTS;
  if (gint & OTG_GINTSTS_USBRST) {
    OTG_GINTSTS = OTG_GINTSTS_USBRST;
    OTG_DCFG &= ~(0x7Fu << OTG_DCFG_DAD_SHIFT);
    flush_fifos();
    setup_ready = out_ready = out_armed = 0;
    return EV_RESET;
  }
  if (gint & OTG_GINTSTS_ENUMDNE) {
    OTG_GINTSTS = OTG_GINTSTS_ENUMDNE;
    OTG_DIEPCTL0 &= ~3u;          // MPSIZ 64 bytes
    setup_ready_for_more();
  }
  // Completions first: a status stage finished before the next SETUP came (boot/hal.ts).
  if (OTG_DIEPINT0 & OTG_EPINT_XFRC) {
    OTG_DIEPINT0 = OTG_EPINT_XFRC;
    return EV_IN;
  }
  rx_pop(h);
  if (out_ready) {
    out_ready = 0;
    OTG_DOEPINT0 = OTG_EPINT_XFRC;
    setup_ready_for_more();
    return EV_OUT | (out_len << 8);
  }
  if (setup_ready) {
    setup_ready = 0;
    OTG_DOEPINT0 = OTG_EPINT_STUP;
    uint8_t* dst = hal_mem(h, setup, 8);
    if (dst) for (int i = 0; i < 8; i++) dst[i] = setup_buf[i];
    out_armed = 0;
    setup_ready_for_more();
    return EV_SETUP;
  }
  return EV_NONE;
}

void Z_halZ_usb_ep0_in(struct Z_hal_instance_t* h, u32 buf, u32 len) {
  if (len > 64) len = 64;
  const uint8_t* src = hal_mem(h, buf, len);
  if (!src) len = 0;
  OTG_DIEPTSIZ0 = OTG_TSIZ_PKTCNT1 | len;
  OTG_DIEPCTL0 |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
  for (uint32_t i = 0; i < len; i += 4) {
    uint32_t w = 0;
    for (uint32_t j = 0; j < 4 && i + j < len; j++) w |= (uint32_t)src[i + j] << (8 * j);
    OTG_FIFO0 = w;
  }
}

void Z_halZ_usb_ep0_out(struct Z_hal_instance_t* h, u32 buf, u32 max) {
  (void)h;
  out_ptr = buf;
  out_max = max > 64 ? 64 : max;
  out_armed = 1;
  arm_out();
}

void Z_halZ_usb_ep0_stall(struct Z_hal_instance_t* h) {
  (void)h;
  // Both directions until the next SETUP, which clears EP0's STALL bits in hardware (57.15.36).
  OTG_DIEPCTL0 |= OTG_EPCTL_STALL;
  OTG_DOEPCTL0 |= OTG_EPCTL_STALL;
  out_armed = 0;
}

void Z_halZ_usb_set_address(struct Z_hal_instance_t* h, u32 addr) {
  (void)h;
  // DWC2 takes the new address at once; the status stage still goes out at the old one (57.4.4).
  OTG_DCFG = (OTG_DCFG & ~(0x7Fu << OTG_DCFG_DAD_SHIFT)) | ((addr & 0x7Fu) << OTG_DCFG_DAD_SHIFT);
}
