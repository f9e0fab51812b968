// USB2 OTG_FS (Synopsys DWC2 core, RM0433 57) in device mode, endpoint 0 (and, built with the
// UF2 drive, bulk endpoints 1..3), polled.
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
#if QSPIBOOT_UF2
  // Bulk IN endpoints' TX FIFOs after EP0's (start and depth in words, RM0433 57.14.16): EP1
  // (the drive's data and CSWs) four 64-byte packets, EP2 and EP3 one each. With the RX FIFO
  // that is 240 words (960 bytes), inside the FS core's FIFO RAM whether that is 1.25 KiB (as on
  // the F4's FS core) or the 4 KiB TinyUSB's dwc2_stm32.h gives the H7 (DFIFO_DEPTH_FS 1024).
  OTG_DIEPTXF(1) = (64u << 16) | 144u;
  OTG_DIEPTXF(2) = (16u << 16) | 208u;
  OTG_DIEPTXF(3) = (16u << 16) | 224u;
#endif
  flush_fifos();
  OTG_GINTSTS = 0xFFFFFFFFu;
  OTG_DCTL &= ~OTG_DCTL_SDIS;     // pull-up on: the host sees the device
}

#if QSPIBOOT_UF2
// ---- Bulk endpoints 1..3 (the UF2 drive's mass storage, boot/hal.ts usb_ep_*) ----
// One transfer at a time per endpoint and direction, of up to 4096 bytes. The core moves the
// packets and keeps the DATA0/DATA1 toggles itself (RM0433 57.13.x); the driver programs the
// transfer size (DxEPTSIZn: PKTCNT packets, XFRSIZ bytes), copies OUT packets out of the shared
// RX FIFO as they come and IN packets into the endpoint's own TX FIFO as room appears, both
// from usb_poll. Polled like EP0: the flags are read in DIEPINTn/DOEPINTn, which are set
// whatever DAINTMSK and the endpoint masks say, so those masks stay at their reset value 0.
struct bulk_xfer {
  uint32_t ptr, len, done; // linear-memory buffer, transfer length, bytes moved (IN: into the FIFO)
  uint8_t mps, armed, ended;
};
static struct bulk_xfer bulk_in[4], bulk_out[4];

static void rx_pop(struct Z_hal_instance_t* h);

// A bounded wait for a status bit: a core that never answers must not hang the bootloader.
static void wait_bit(volatile uint32_t* reg, uint32_t bit) {
  for (uint32_t i = 0; i < 100000u && !(*reg & bit); i++) {}
}

static void flush_tx(uint32_t n) {
  OTG_GRSTCTL = OTG_GRSTCTL_TXFFLSH | (n << 6); // TXFNUM (57.14.5)
  while (OTG_GRSTCTL & OTG_GRSTCTL_TXFFLSH) {}
}

// Stop whatever endpoint `ep` has armed, leaving it NAKing, with the procedures of RM0433
// 57.15.x (also ST's LL USB_EPStopXfer and TinyUSB's edpt_disable): IN: SNAK, wait for
// INEPNE (NAK effective), EPDIS, wait for EPDISD, flush its TX FIFO. OUT: an OUT endpoint is
// disabled only under the global OUT NAK: SGONAK, pop the RX FIFO until GONAKEFF (what was
// already received goes to the transfer being dropped, then nowhere), EPDIS with SNAK, wait for
// EPDISD, CGONAK.
static void bulk_stop(struct Z_hal_instance_t* h, uint32_t ep) {
  uint32_t n = ep & 0x7Fu;
  if (ep & 0x80u) {
    if (OTG_DIEPCTL(n) & OTG_EPCTL_EPENA) {
      OTG_DIEPCTL(n) |= OTG_EPCTL_SNAK;
      wait_bit(&OTG_DIEPINT(n), OTG_EPINT_INEPNE);
      OTG_DIEPCTL(n) |= OTG_EPCTL_EPDIS | OTG_EPCTL_SNAK;
      wait_bit(&OTG_DIEPINT(n), OTG_EPINT_EPDISD);
    }
    flush_tx(n);
    OTG_DIEPINT(n) = OTG_EPINT_XFRC | OTG_EPINT_EPDISD | OTG_EPINT_INEPNE;
    bulk_in[n].armed = 0;
  } else {
    if (OTG_DOEPCTL(n) & OTG_EPCTL_EPENA) {
      OTG_DCTL |= OTG_DCTL_SGONAK;
      for (uint32_t i = 0; i < 100000u && !(OTG_GINTSTS & OTG_GINTSTS_GONAKEFF); i++) rx_pop(h);
      OTG_DOEPCTL(n) |= OTG_EPCTL_EPDIS | OTG_EPCTL_SNAK;
      wait_bit(&OTG_DOEPINT(n), OTG_EPINT_EPDISD);
      OTG_DCTL |= OTG_DCTL_CGONAK;
    }
    OTG_DOEPINT(n) = OTG_EPINT_XFRC | OTG_EPINT_EPDISD;
    bulk_out[n].armed = bulk_out[n].ended = 0;
  }
}

// IN data into TX FIFO n, whole packets while they fit (DTXFSTSn.INEPTFSAV, in words).
static void bulk_fill(struct Z_hal_instance_t* h, uint32_t n) {
  struct bulk_xfer* b = &bulk_in[n];
  while (b->armed && b->done < b->len) {
    uint32_t k = b->len - b->done;
    if (k > b->mps) k = b->mps;
    if ((OTG_DTXFSTS(n) & 0xFFFFu) < (k + 3u) / 4u) return;
    const uint8_t* src = hal_mem(h, b->ptr + b->done, k);
    for (uint32_t i = 0; i < k; i += 4) {
      uint32_t w = 0;
      for (uint32_t j = 0; j < 4 && i + j < k; j++) w |= (uint32_t)src[i + j] << (8 * j);
      OTG_FIFO(n) = w;
    }
    b->done += k;
  }
}

// An OUT data entry for endpoint n: its bytes into the armed buffer, as far as it has room.
static void bulk_rx(struct Z_hal_instance_t* h, uint32_t n, uint32_t count) {
  struct bulk_xfer* b = &bulk_out[n & 3u];
  uint32_t room = b->armed ? b->len - b->done : 0;
  uint8_t* dst = room ? hal_mem(h, b->ptr + b->done, room) : 0;
  for (uint32_t i = 0; i < count; i += 4) {
    uint32_t w = OTG_FIFO0;
    for (uint32_t j = 0; j < 4 && i + j < count; j++) if (dst && i + j < room) dst[i + j] = (uint8_t)(w >> (8 * j));
  }
  if (dst) b->done += count < room ? count : room;
}

// "OUT transfer completed" (PKTSTS 3): PKTCNT reached 0 or a short packet came.
static void bulk_rx_done(uint32_t n) {
  struct bulk_xfer* b = &bulk_out[n & 3u];
  b->ended = b->armed;
}

// The next bulk event, or 0; IN FIFOs topped up on the way.
static u32 bulk_events(struct Z_hal_instance_t* h) {
  for (uint32_t n = 1; n < 4; n++) {
    bulk_fill(h, n);
    if (OTG_DIEPINT(n) & OTG_EPINT_XFRC) {
      OTG_DIEPINT(n) = OTG_EPINT_XFRC;
      if (bulk_in[n].armed) { bulk_in[n].armed = 0; return EV_EP_IN | ((0x80u | n) << 8); }
    }
    struct bulk_xfer* b = &bulk_out[n];
    if (b->ended) {
      b->ended = b->armed = 0;
      OTG_DOEPINT(n) = OTG_EPINT_XFRC;
      return EV_EP_OUT | (n << 8) | (b->done << 16);
    }
  }
  return 0;
}

// USB reset: the core itself clears USBAEP on endpoints 1..3 (the DWC2 description of DIEPCTLx/
// DOEPCTLx USBAEP, RM0433 57.14; nothing here relies on it); what was armed is forgotten, IN endpoints that were sending are disabled, OUT ones
// NAK (as TinyUSB's handle_bus_reset); the FIFOs are flushed after this.
static void bulk_reset(void) {
  for (uint32_t n = 1; n < 4; n++) {
    if (OTG_DIEPCTL(n) & OTG_EPCTL_EPENA) OTG_DIEPCTL(n) |= OTG_EPCTL_SNAK | OTG_EPCTL_EPDIS;
    OTG_DOEPCTL(n) |= OTG_EPCTL_SNAK;
    bulk_in[n].armed = bulk_out[n].armed = bulk_out[n].ended = 0;
  }
}

void Z_halZ_usb_ep_open(struct Z_hal_instance_t* h, u32 ep, u32 mps) {
  uint32_t n = ep & 0x7Fu;
  if (n < 1 || n > 3) return;
  bulk_stop(h, ep);
  // Active bulk endpoint, not stalled, NAKing until a transfer is armed, next packet DATA0
  // (SD0PID, USB 2.0 9.1.1.5: a configured endpoint starts at DATA0). IN endpoint n sends
  // from TX FIFO n.
  uint32_t ctl = OTG_EPCTL_USBAEP | OTG_EPCTL_EPTYP_BULK | OTG_EPCTL_SD0PID | OTG_EPCTL_SNAK | (mps & 0x7FFu);
  if (ep & 0x80u) { OTG_DIEPCTL(n) = ctl | (n << OTG_EPCTL_TXFNUM_SHIFT); bulk_in[n].mps = (uint8_t)mps; }
  else { OTG_DOEPCTL(n) = ctl; bulk_out[n].mps = (uint8_t)mps; }
}

void Z_halZ_usb_ep_xfer(struct Z_hal_instance_t* h, u32 ep, u32 buf, u32 len) {
  uint32_t n = ep & 0x7Fu;
  if (n < 1 || n > 3) return;
  if (len > 4096u || !hal_mem(h, buf, len)) len = 0;
  struct bulk_xfer* b = (ep & 0x80u) ? &bulk_in[n] : &bulk_out[n];
  uint32_t mps = b->mps ? b->mps : 64u;
  uint32_t pkts = len ? (len + mps - 1u) / mps : 1u; // a zero-length transfer is one packet
  b->ptr = buf;
  b->len = len;
  b->done = 0;
  b->ended = 0;
  b->armed = 1;
  if (ep & 0x80u) {
    OTG_DIEPTSIZ(n) = (pkts << OTG_TSIZ_PKTCNT_SHIFT) | len;
    OTG_DIEPCTL(n) |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
    bulk_fill(h, n);
  } else {
    // OUT sizes are whole packets (57.15.x: XFRSIZ a multiple of MPSIZ); a short packet ends early.
    OTG_DOEPTSIZ(n) = (pkts << OTG_TSIZ_PKTCNT_SHIFT) | (pkts * mps);
    OTG_DOEPCTL(n) |= OTG_EPCTL_EPENA | OTG_EPCTL_CNAK;
  }
}

void Z_halZ_usb_ep_stall(struct Z_hal_instance_t* h, u32 ep, u32 on) {
  uint32_t n = ep & 0x7Fu;
  if (n < 1 || n > 3) return;
  bulk_stop(h, ep); // either way nothing stays armed (boot/hal.ts)
  volatile uint32_t* ctl = (ep & 0x80u) ? &OTG_DIEPCTL(n) : &OTG_DOEPCTL(n);
  // On endpoints 1..3 only software clears STALL; clearing it must also put the toggle back to
  // DATA0 (SD0PID), which the core does not do by itself (USB 2.0 9.4.5; ST's LL USB_EPClearStall).
  if (on) *ctl |= OTG_EPCTL_STALL;
  else *ctl = (*ctl & ~OTG_EPCTL_STALL) | OTG_EPCTL_SD0PID;
}
#endif

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
#if QSPIBOOT_UF2
      if (OTG_RXSTS_EPNUM(st)) { bulk_rx(h, OTG_RXSTS_EPNUM(st), n); continue; }
#endif
      uint8_t* dst = out_armed ? hal_mem(h, out_ptr, out_max) : 0;
      for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w = OTG_FIFO0;
        for (uint32_t j = 0; j < 4 && i + j < n; j++) if (dst && i + j < out_max) dst[i + j] = (uint8_t)(w >> (8 * j));
      }
      out_len = n < out_max ? n : out_max;
    } else if (kind == PKTSTS_OUT_DONE) {
#if QSPIBOOT_UF2
      if (OTG_RXSTS_EPNUM(st)) { bulk_rx_done(OTG_RXSTS_EPNUM(st)); continue; }
#endif
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
#if QSPIBOOT_UF2
    bulk_reset();
#endif
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
#if QSPIBOOT_UF2
  u32 ev = bulk_events(h);
  if (ev) return ev;
#endif
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
