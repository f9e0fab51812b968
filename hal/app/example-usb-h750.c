// Example application for qspiboot on the WeAct STM32H750 with a USB device that the host can
// send back into qspiboot without a button (hal/app/qspiboot-usb.h): a CDC ACM port (1200-baud
// touch) and a DFU runtime interface (DFU_DETACH); the descriptors and requests are
// example-usb.h's. Also says hello on USART1 and reboots on 'b' there, as example-h750.c does.
// The CDC port carries no data: its endpoints are in the descriptors only. Registers: RM0433.
// Clocks: SYSCLK stays on HSI 64 MHz as qspiboot hands it over; USB gets 48 MHz from PLL3 on the
// 25 MHz HSE (crystal-accurate; HSI48 would need the CRS trimming it from SOF).
// OTG_FS: the DWC2 core (RM0433 57), polled, endpoint 0 one packet at a time; the bring-up order
// is hal/stm32h750/usb.c's (embedded PHY selected before the core soft reset).
#include <stdint.h>
#include "qspiboot.h"
#define EXAMPLE_PRODUCT "qspiboot example (WeAct H750, USB)"
#include "example-usb.h"

#define REG(a) (*(volatile uint32_t*)(a))
#define RCC_CR REG(0x58024400u)        // 8.7.2: HSEON 16, HSERDY 17, PLL3ON 28, PLL3RDY 29
#define RCC_PLLCKSELR REG(0x58024428u) // 8.7.11: PLLSRC [1:0] (2 = HSE), DIVM3 [25:20]
#define RCC_PLLCFGR REG(0x5802442Cu)   // 8.7.12: PLL3VCOSEL 9, PLL3RGE [11:10], DIVQ3EN 23
#define RCC_PLL3DIVR REG(0x58024440u)  // 8.7.17: DIVN3-1 [8:0], DIVP3-1 [15:9], DIVQ3-1 [22:16], DIVR3-1 [30:24]
#define RCC_D2CCIP2R REG(0x58024454u)  // 8.7.21: USBSEL [21:20], 2 = pll3_q_ck
#define RCC_AHB1ENR REG(0x580244D8u)   // 8.7.40: USB2OTGFSEN bit 27 (OTG_FS at 0x40080000)
#define RCC_AHB4ENR REG(0x580244E0u)   // 8.7.43: GPIOAEN bit 0, GPIOEEN bit 4
#define RCC_APB2ENR REG(0x580244F0u)   // 8.7.46: USART1EN bit 4
#define PWR_CSR1 REG(0x58024804u)      // 6.8.2: ACTVOSRDY bit 13
#define PWR_CR3 REG(0x5802480Cu)       // 6.8.4: BYPASS 0, LDOEN 1, SCUEN 2, USB33DEN 24, USB33RDY 26
#define GPIOA_MODER REG(0x58020000u)
#define GPIOA_AFRH REG(0x58020024u)
#define GPIOE_MODER REG(0x58021000u)
#define GPIOE_ODR REG(0x58021014u)
#define USART1_CR1 REG(0x40011000u)    // 48.8: UE bit 0, RE bit 2, TE bit 3
#define USART1_BRR REG(0x4001100Cu)
#define USART1_ISR REG(0x4001101Cu)    // RXNE bit 5, TXE bit 7
#define USART1_RDR REG(0x40011024u)
#define USART1_TDR REG(0x40011028u)

// OTG_FS (57.14), the fields hal/stm32h750/regs.h names.
#define OTG REG
#define GOTGCTL OTG(0x40080000u)       // BVALOEN 6, BVALOVAL 7
#define GUSBCFG OTG(0x4008000Cu)       // PHYSEL 6, TRDT [13:10], FDMOD 30
#define GRSTCTL OTG(0x40080010u)       // CSRST 0, RXFFLSH 4, TXFFLSH 5, TXFNUM [10:6], AHBIDL 31
#define GINTSTS OTG(0x40080014u)       // RXFLVL 4, USBRST 12, ENUMDNE 13
#define GRXSTSP OTG(0x40080020u)       // BCNT [14:4], PKTSTS [20:17]
#define GRXFSIZ OTG(0x40080024u)
#define DIEPTXF0 OTG(0x40080028u)
#define GCCFG OTG(0x40080038u)         // PWRDWN 16
#define DCFG OTG(0x40080800u)          // DSPD [1:0], DAD [10:4]
#define DCTL OTG(0x40080804u)          // SDIS 1
#define DIEPCTL0 OTG(0x40080900u)      // MPSIZ [1:0], STALL 21, CNAK 26, EPENA 31
#define DIEPINT0 OTG(0x40080908u)      // XFRC 0
#define DIEPTSIZ0 OTG(0x40080910u)     // XFRSIZ [6:0], PKTCNT [20:19]
#define DOEPCTL0 OTG(0x40080B00u)
#define DOEPINT0 OTG(0x40080B08u)      // XFRC 0, STUP 3
#define DOEPTSIZ0 OTG(0x40080B10u)     // XFRSIZ [6:0], PKTCNT 19, STUPCNT [30:29]
#define PCGCCTL OTG(0x40080E00u)
#define FIFO0 OTG(0x40081000u)
#define EPCTL_STALL (1u << 21)
#define EPCTL_CNAK (1u << 26)
#define EPCTL_EPENA (1u << 31)

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end;

static void put(const char* s) {
  for (; *s; s++) {
    while (!(USART1_ISR & (1u << 7))) {}
    USART1_TDR = (uint8_t)*s;
  }
}

static void ep0_send(const uint8_t* p, uint32_t len) {
  DIEPTSIZ0 = (1u << 19) | len;
  DIEPCTL0 |= EPCTL_EPENA | EPCTL_CNAK;
  for (uint32_t i = 0; i < len; i += 4) {
    uint32_t w = 0;
    for (uint32_t j = 0; j < 4 && i + j < len; j++) w |= (uint32_t)p[i + j] << (8 * j);
    FIFO0 = w;
  }
}

// SETUPs are taken whatever EP0 OUT's state (57.13.10); STUPCNT 3 lets them land back to back.
static void setup_ready_for_more(void) { DOEPTSIZ0 = (3u << 29) | (1u << 19) | 64u; }

static void ep0_arm_out(void) {
  setup_ready_for_more();
  DOEPCTL0 |= EPCTL_EPENA | EPCTL_CNAK;
}

static void ep0_stall(void) {
  DIEPCTL0 |= EPCTL_STALL; // both directions until the next SETUP (57.15.36)
  DOEPCTL0 |= EPCTL_STALL;
}

// DWC2 answers at the new address at once; the status stage still goes out at the old (57.4.4).
static void ep0_set_address(uint8_t addr) { DCFG = (DCFG & ~(0x7Fu << 4)) | ((uint32_t)addr << 4); }

static void flush_fifos(void) {
  GRSTCTL = (1u << 5) | (0x10u << 6);
  while (GRSTCTL & (1u << 5)) {}
  GRSTCTL = 1u << 4;
  while (GRSTCTL & (1u << 4)) {}
}

static void usb_init(void) {
  // Supply: LDO (written once after reset, 6.8.4; qspiboot's boot path leaves it unwritten).
  PWR_CR3 = (PWR_CR3 & ~5u) | 2u;
  while (!(PWR_CSR1 & (1u << 13))) {}
  RCC_CR |= 1u << 16;
  while (!(RCC_CR & (1u << 17))) {}
  // PLL3: HSE 25 MHz / 5 = 5 MHz (range 4-8 MHz: RGE 2, wide VCO), x96 = 480 MHz, Q /10 = 48 MHz.
  RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(3u | (0x3Fu << 20))) | 2u | (5u << 20);
  RCC_PLLCFGR = (RCC_PLLCFGR & ~((3u << 10) | (1u << 9))) | (2u << 10) | (1u << 23);
  RCC_PLL3DIVR = (96u - 1) | ((2u - 1) << 9) | ((10u - 1) << 16) | ((2u - 1) << 24);
  RCC_CR |= 1u << 28;
  while (!(RCC_CR & (1u << 29))) {}
  RCC_D2CCIP2R = (RCC_D2CCIP2R & ~(3u << 20)) | (2u << 20);
  RCC_AHB1ENR |= 1u << 27;
  (void)RCC_AHB1ENR; // read back: the clock is on before the core is touched (8.5.10)
  // PA11, PA12: AF10 (OTG_FS DM, DP).
  GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 22)) | (0xAu << 22);
  GPIOA_AFRH = (GPIOA_AFRH & ~(0xFFu << 12)) | (0xAAu << 12);
  PWR_CR3 |= 1u << 24; // the USB PHY's 3.3 V level detector
  while (!(PWR_CR3 & (1u << 26))) {}
  GUSBCFG |= 1u << 6; // the embedded full-speed PHY, then the core reset
  while (!(GRSTCTL & (1u << 31))) {}
  GRSTCTL = 1u;
  while (GRSTCTL & 1u) {}
  while (!(GRSTCTL & (1u << 31))) {}
  GCCFG = 1u << 16;   // transceiver on, no VBUS sensing (the board does not wire it)
  GUSBCFG = (GUSBCFG & ~(0xFu << 10)) | (1u << 30) | (6u << 10);
  for (volatile uint32_t i = 0; i < 400000u; i++) {} // device mode after 25 ms (57.4.2)
  DCTL |= 1u << 1;    // pull-up off until the FIFOs are sized
  GOTGCTL |= (1u << 6) | (1u << 7);
  PCGCCTL = 0;
  DCFG = 3u;          // full speed
  GRXFSIZ = 128;
  DIEPTXF0 = (16u << 16) | 128u;
  flush_fifos();
  GINTSTS = 0xFFFFFFFFu;
  DCTL &= ~(1u << 1);
}

static uint8_t setup_buf[8], out_buf[64];

static void usb_poll(void) {
  uint32_t gint = GINTSTS;
  if (gint & (1u << 12)) {
    GINTSTS = 1u << 12;
    DCFG &= ~(0x7Fu << 4);
    flush_fifos();
    ep0_bus_reset();
    return;
  }
  if (gint & (1u << 13)) {
    GINTSTS = 1u << 13;
    DIEPCTL0 &= ~3u; // MPSIZ 64 bytes
    setup_ready_for_more();
  }
  if (DIEPINT0 & 1u) { // completions before a new SETUP: they belong to the last one
    DIEPINT0 = 1u;
    ep0_in_done();
    return;
  }
  while (GINTSTS & (1u << 4)) {
    uint32_t st = GRXSTSP, n = (st >> 4) & 0x7FFu, kind = (st >> 17) & 0xFu;
    if (kind == 6) { // SETUP data
      for (uint32_t i = 0; i < 8; i += 4) {
        uint32_t w = FIFO0;
        for (uint32_t j = 0; j < 4; j++) setup_buf[i + j] = (uint8_t)(w >> (8 * j));
      }
    } else if (kind == 4) { // SETUP done
      DOEPINT0 = 1u << 3;
      setup_ready_for_more();
      ep0_setup(setup_buf);
    } else if (kind == 2) { // OUT data
      for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w = FIFO0;
        for (uint32_t j = 0; j < 4 && i + j < 64; j++) out_buf[i + j] = (uint8_t)(w >> (8 * j));
      }
      if (n > 64) n = 64;
      DOEPINT0 = 1u;
      setup_ready_for_more();
      ep0_out_data(out_buf, n);
    }
  }
}

int main(void) {
  RCC_AHB4ENR |= (1u << 0) | (1u << 4);
  RCC_APB2ENR |= 1u << 4;
  (void)RCC_APB2ENR;
  GPIOE_MODER = (GPIOE_MODER & ~(3u << 6)) | (1u << 6);   // PE3 output
  GPIOA_MODER = (GPIOA_MODER & ~(3u << 18)) | (2u << 18); // PA9 alternate function
  GPIOA_AFRH = (GPIOA_AFRH & ~(15u << 4)) | (7u << 4);    // AF7: USART1_TX
  USART1_BRR = 64000000u / 115200u;                       // kernel clock: PCLK2 = HSI 64 MHz
  USART1_CR1 = (1u << 0) | (1u << 2) | (1u << 3);
  usb_init();
  put("qspiboot USB example: hello from the WeAct H750, running from QSPI flash\r\n");
  for (uint32_t n = 0;; n++) {
    usb_poll();
    if ((USART1_ISR & (1u << 5)) && (USART1_RDR & 0xff) == 'b') qspiboot_reboot_to_bootloader();
    if ((n & 0xFFFFF) == 0) GPIOE_ODR ^= 1u << 3;
  }
}

void Reset_Handler(void) {
  const uint32_t* src = &__data_load;
  for (uint32_t* d = &__data_start; d < &__data_end;) *d++ = *src++;
  for (uint32_t* d = &__bss_start; d < &__bss_end;) *d++ = 0;
  main();
}

__attribute__((section(".vectors"), used)) const void* const vectors[2] = { &__stack_top, Reset_Handler };
