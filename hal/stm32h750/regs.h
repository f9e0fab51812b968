// STM32H750 registers the HAL touches, with the RM0433 (rev 8) section each comes from.
#ifndef REGS_H750_H
#define REGS_H750_H
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t*)(addr))

// RCC (RM0433 8.7)
#define RCC_BASE 0x58024400u
#define RCC_CR REG32(RCC_BASE + 0x000)
#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 2)
#define RCC_CR_HSEON (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define RCC_CR_PLL2ON (1u << 26)
#define RCC_CR_PLL2RDY (1u << 27)
#define RCC_CR_PLL3ON (1u << 28)
#define RCC_CR_PLL3RDY (1u << 29)
#define RCC_CFGR REG32(RCC_BASE + 0x010)
#define RCC_CFGR_SW_PLL1 3u                 // SW[2:0]; SWS[5:3] reports it
#define RCC_D1CFGR REG32(RCC_BASE + 0x018)  // D1CPRE[11:8], D1PPRE[6:4], HPRE[3:0]
#define RCC_D2CFGR REG32(RCC_BASE + 0x01C)  // D2PPRE2[10:8], D2PPRE1[6:4]
#define RCC_D3CFGR REG32(RCC_BASE + 0x020)  // D3PPRE[6:4]
#define RCC_PLLCKSELR REG32(RCC_BASE + 0x028) // PLLSRC[1:0], DIVM1[9:4], DIVM3[25:20]
#define RCC_PLLCFGR REG32(RCC_BASE + 0x02C)
#define RCC_PLL1DIVR REG32(RCC_BASE + 0x030) // DIVN1-1 [8:0], DIVP1-1 [15:9], DIVQ1-1 [22:16], DIVR1-1 [30:24]
#define RCC_PLL3DIVR REG32(RCC_BASE + 0x040)
#define RCC_D1CCIPR REG32(RCC_BASE + 0x04C) // QSPISEL[5:4]: 0 = rcc_hclk3
#define RCC_D2CCIP2R REG32(RCC_BASE + 0x054) // USBSEL[21:20]: 2 = pll3_q
#define RCC_AHB3ENR REG32(RCC_BASE + 0x0D4)
#define RCC_AHB3ENR_QSPIEN (1u << 14)
#define RCC_AHB1ENR REG32(RCC_BASE + 0x0D8)
#define RCC_AHB1ENR_USB2OTGFSEN (1u << 27)
#define RCC_AHB4ENR REG32(RCC_BASE + 0x0E0)
#define RCC_AHB4ENR_GPIOAEN (1u << 0)
#define RCC_AHB4ENR_GPIOBEN (1u << 1)
#define RCC_AHB4ENR_GPIOCEN (1u << 2)
#define RCC_AHB4ENR_GPIODEN (1u << 3)
#define RCC_AHB4ENR_GPIOEEN (1u << 4)
#define RCC_AHB4ENR_CRCEN (1u << 19)
#define RCC_AHB4ENR_BKPRAMEN (1u << 28)

// Backup SRAM (RM0433 2.3.2): kept through a system reset
#define BKPSRAM_BASE 0x38800000u

// PWR (RM0433 6.8)
#define PWR_BASE 0x58024800u
#define PWR_CR1 REG32(PWR_BASE + 0x000)
#define PWR_CR1_DBP (1u << 8)
#define PWR_CSR1 REG32(PWR_BASE + 0x004)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3 REG32(PWR_BASE + 0x00C)
#define PWR_CR3_BYPASS (1u << 0)
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_CR3_SCUEN (1u << 2)
#define PWR_CR3_USB33DEN (1u << 24)
#define PWR_CR3_USB33RDY (1u << 26)
#define PWR_D3CR REG32(PWR_BASE + 0x018)
#define PWR_D3CR_VOS_SHIFT 14u              // 3 = VOS1
#define PWR_D3CR_VOSRDY (1u << 13)

// Embedded flash interface (RM0433 4.9.1)
#define FLASH_ACR REG32(0x52002000u)        // LATENCY[3:0], WRHIGHFREQ[5:4]

// GPIO (RM0433 11.4)
#define GPIO_BASE(port) (0x58020000u + 0x400u * (port)) // port 0 = A
#define GPIO_MODER(p) REG32(GPIO_BASE(p) + 0x00)
#define GPIO_OSPEEDR(p) REG32(GPIO_BASE(p) + 0x08)
#define GPIO_PUPDR(p) REG32(GPIO_BASE(p) + 0x0C)
#define GPIO_IDR(p) REG32(GPIO_BASE(p) + 0x10)
#define GPIO_AFR(p, n) REG32(GPIO_BASE(p) + 0x20 + 4u * (n)) // AFRL (n = 0), AFRH (n = 1)
#define PORT_A 0u
#define PORT_B 1u
#define PORT_C 2u
#define PORT_D 3u
#define PORT_E 4u
#define GPIOC_MODER GPIO_MODER(PORT_C)
#define GPIOC_PUPDR GPIO_PUPDR(PORT_C)
#define GPIOC_IDR GPIO_IDR(PORT_C)
#define GPIOE_MODER GPIO_MODER(PORT_E)
#define GPIOE_BSRR REG32(GPIO_BASE(PORT_E) + 0x18) // BSx in bits 0-15 set ODRx, BRx in 16-31 clear it
#define K1_PIN 13u

// QUADSPI (RM0433 23.5)
#define QSPI_BASE 0x52005000u
#define QSPI_CR REG32(QSPI_BASE + 0x00)
#define QSPI_CR_EN (1u << 0)
#define QSPI_CR_ABORT (1u << 1)
#define QSPI_CR_SSHIFT (1u << 4)
#define QSPI_CR_FTHRES_SHIFT 8u
#define QSPI_CR_PRESCALER_SHIFT 24u
#define QSPI_DCR REG32(QSPI_BASE + 0x04)
#define QSPI_DCR_CSHT_SHIFT 8u
#define QSPI_DCR_FSIZE_SHIFT 16u
#define QSPI_SR REG32(QSPI_BASE + 0x08)
#define QSPI_SR_TEF (1u << 0)
#define QSPI_SR_TCF (1u << 1)
#define QSPI_SR_FTF (1u << 2)
#define QSPI_SR_BUSY (1u << 5)
#define QSPI_SR_FLEVEL_SHIFT 8u
#define QSPI_FCR REG32(QSPI_BASE + 0x0C)
#define QSPI_DLR REG32(QSPI_BASE + 0x10)
#define QSPI_CCR REG32(QSPI_BASE + 0x14)
#define QSPI_CCR_IMODE_SHIFT 8u
#define QSPI_CCR_ADMODE_SHIFT 10u
#define QSPI_CCR_ADSIZE_SHIFT 12u
#define QSPI_CCR_ABMODE_SHIFT 14u
#define QSPI_CCR_ABSIZE_SHIFT 16u
#define QSPI_CCR_DCYC_SHIFT 18u
#define QSPI_CCR_DMODE_SHIFT 24u
#define QSPI_CCR_FMODE_SHIFT 26u
#define QSPI_FMODE_WRITE 0u
#define QSPI_FMODE_READ 1u
#define QSPI_FMODE_MMAP 3u
#define QSPI_AR REG32(QSPI_BASE + 0x18)
#define QSPI_ABR REG32(QSPI_BASE + 0x1C)
#define QSPI_DR REG32(QSPI_BASE + 0x20)
#define QSPI_DR8 (*(volatile uint8_t*)(QSPI_BASE + 0x20))

// CRC unit (RM0433 21.4)
#define CRC_BASE 0x58024C00u
#define CRC_DR REG32(CRC_BASE + 0x00)
#define CRC_DR8 (*(volatile uint8_t*)(CRC_BASE + 0x00))
#define CRC_CR REG32(CRC_BASE + 0x08)
#define CRC_CR_RESET (1u << 0)
#define CRC_CR_REV_IN_BYTE (1u << 5)
#define CRC_CR_REV_IN_WORD (3u << 5)
#define CRC_CR_REV_OUT (1u << 7)
#define CRC_INIT REG32(CRC_BASE + 0x10)
#define CRC_POL REG32(CRC_BASE + 0x14)

// USB2 OTG_FS, the DWC2 core on PA11/PA12 (RM0433 57.14)
#define OTG_BASE 0x40080000u
#define OTG_GOTGCTL REG32(OTG_BASE + 0x000)
#define OTG_GOTGCTL_BVALOEN (1u << 6)
#define OTG_GOTGCTL_BVALOVAL (1u << 7)
#define OTG_GAHBCFG REG32(OTG_BASE + 0x008)
#define OTG_GUSBCFG REG32(OTG_BASE + 0x00C)
#define OTG_GUSBCFG_PHYSEL (1u << 6)        // 1: the embedded full-speed PHY; resets to 0 (ST's SVD: 0x00000A00)
#define OTG_GUSBCFG_TRDT_SHIFT 10u
#define OTG_GUSBCFG_FDMOD (1u << 30)
#define OTG_GRSTCTL REG32(OTG_BASE + 0x010)
#define OTG_GRSTCTL_CSRST (1u << 0)
#define OTG_GRSTCTL_RXFFLSH (1u << 4)
#define OTG_GRSTCTL_TXFFLSH (1u << 5)
#define OTG_GRSTCTL_TXFNUM_ALL (0x10u << 6)
#define OTG_GRSTCTL_AHBIDL (1u << 31)
#define OTG_GINTSTS REG32(OTG_BASE + 0x014)
#define OTG_GINTSTS_RXFLVL (1u << 4)
#define OTG_GINTSTS_USBRST (1u << 12)
#define OTG_GINTSTS_ENUMDNE (1u << 13)
#define OTG_GRXSTSP REG32(OTG_BASE + 0x020)
#define OTG_GRXFSIZ REG32(OTG_BASE + 0x024)
#define OTG_DIEPTXF0 REG32(OTG_BASE + 0x028)
#define OTG_GCCFG REG32(OTG_BASE + 0x038)
#define OTG_GCCFG_PWRDWN (1u << 16)
#define OTG_DCFG REG32(OTG_BASE + 0x800)
#define OTG_DCFG_DSPD_FS 3u
#define OTG_DCFG_DAD_SHIFT 4u
#define OTG_DCTL REG32(OTG_BASE + 0x804)
#define OTG_DCTL_SDIS (1u << 1)
#define OTG_DIEPCTL0 REG32(OTG_BASE + 0x900)
#define OTG_DIEPINT0 REG32(OTG_BASE + 0x908)
#define OTG_DIEPTSIZ0 REG32(OTG_BASE + 0x910)
#define OTG_DOEPCTL0 REG32(OTG_BASE + 0xB00)
#define OTG_DOEPINT0 REG32(OTG_BASE + 0xB08)
#define OTG_DOEPTSIZ0 REG32(OTG_BASE + 0xB10)
#define OTG_PCGCCTL REG32(OTG_BASE + 0xE00)
#define OTG_FIFO0 REG32(OTG_BASE + 0x1000)
#define OTG_EPCTL_STALL (1u << 21)
#define OTG_EPCTL_CNAK (1u << 26)
#define OTG_EPCTL_SNAK (1u << 27)
#define OTG_EPCTL_EPENA (1u << 31)
#define OTG_EPINT_XFRC (1u << 0)
#define OTG_EPINT_STUP (1u << 3)
#define OTG_TSIZ_PKTCNT1 (1u << 19)
#define OTG_TSIZ_STUPCNT3 (3u << 29)
#define OTG_RXSTS_PKTSTS(v) (((v) >> 17) & 0xFu)
#define OTG_RXSTS_BCNT(v) (((v) >> 4) & 0x7FFu)
#define PKTSTS_OUT_DATA 2u
#define PKTSTS_OUT_DONE 3u
#define PKTSTS_SETUP_DONE 4u
#define PKTSTS_SETUP_DATA 6u
// Endpoints 1..3 (n), each direction's registers 0x20 apart, TX FIFO n's size at DIEPTXFn and
// its data window 0x1000 further per endpoint (RM0433 57.14.16, 57.14.47-57.14.58; the FIFO
// windows from ST's stm32h750xx.h, USB_OTG_FIFO_SIZE). Only the UF2 drive's bulk endpoints use them.
#define OTG_DIEPTXF(n) REG32(OTG_BASE + 0x104 + 4u * ((n) - 1u))
#define OTG_DIEPCTL(n) REG32(OTG_BASE + 0x900 + 0x20u * (n))
#define OTG_DIEPINT(n) REG32(OTG_BASE + 0x908 + 0x20u * (n))
#define OTG_DIEPTSIZ(n) REG32(OTG_BASE + 0x910 + 0x20u * (n))
#define OTG_DTXFSTS(n) REG32(OTG_BASE + 0x918 + 0x20u * (n))
#define OTG_DOEPCTL(n) REG32(OTG_BASE + 0xB00 + 0x20u * (n))
#define OTG_DOEPINT(n) REG32(OTG_BASE + 0xB08 + 0x20u * (n))
#define OTG_DOEPTSIZ(n) REG32(OTG_BASE + 0xB10 + 0x20u * (n))
#define OTG_FIFO(n) REG32(OTG_BASE + 0x1000 + 0x1000u * (n))
#define OTG_GINTSTS_GONAKEFF (1u << 7)
#define OTG_DCTL_SGONAK (1u << 9)
#define OTG_DCTL_CGONAK (1u << 10)
#define OTG_EPCTL_USBAEP (1u << 15)
#define OTG_EPCTL_EPTYP_BULK (2u << 18)
#define OTG_EPCTL_TXFNUM_SHIFT 22u
#define OTG_EPCTL_SD0PID (1u << 28)
#define OTG_EPCTL_EPDIS (1u << 30)
#define OTG_EPINT_EPDISD (1u << 1)
#define OTG_EPINT_INEPNE (1u << 6)
#define OTG_TSIZ_PKTCNT_SHIFT 19u
#define OTG_RXSTS_EPNUM(v) (((v) >> 0) & 0xFu)
#define PKTSTS_GLOBAL_OUT_NAK 1u

// Cortex-M7 system control block (ARMv7-M ARM B3.2) and DWT cycle counter (C1.8)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_AIRCR_RESET (0x05FA0000u | (1u << 2)) // VECTKEY | SYSRESETREQ
#define SYSTICK_CTRL REG32(0xE000E010u)
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4u * (n))
#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR REG32(0xE0001FB0u)

// 96-bit unique device ID (RM0433 61.1)
#define UID_BASE 0x1FF1E800u

#endif
