// RP2040 registers the HAL touches, with the RP2040 datasheet section each comes from.
#ifndef REGS_RP2040_H
#define REGS_RP2040_H
#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t*)(addr))
#define SET_ALIAS 0x2000u // atomic bit set (2.1.2)
#define CLR_ALIAS 0x3000u // atomic bit clear (2.1.2)

// RESETS (2.14.3)
#define RESETS_BASE 0x4000C000u
#define RESETS_RESET REG32(RESETS_BASE + 0x0)
#define RESETS_RESET_SET REG32(RESETS_BASE + SET_ALIAS + 0x0)
#define RESETS_RESET_CLR REG32(RESETS_BASE + CLR_ALIAS + 0x0)
#define RESETS_DONE REG32(RESETS_BASE + 0x8)
#define RESET_DMA (1u << 2)
#define RESET_IO_BANK0 (1u << 5)
#define RESET_IO_QSPI (1u << 6)
#define RESET_PADS_BANK0 (1u << 8)
#define RESET_PADS_QSPI (1u << 9)
#define RESET_PLL_SYS (1u << 12)
#define RESET_PLL_USB (1u << 13)
#define RESET_SYSINFO (1u << 19)
#define RESET_TIMER (1u << 21)
#define RESET_USBCTRL (1u << 24)

// PSM (2.13.5): what a watchdog reset resets
#define PSM_WDSEL REG32(0x40010000u + 0x8)
#define PSM_ALL_BUT_OSCILLATORS 0x0001FFFCu

// WATCHDOG (4.7.6): scratch registers survive a watchdog reset
#define WATCHDOG_BASE 0x40058000u
#define WATCHDOG_CTRL REG32(WATCHDOG_BASE + 0x00)
#define WATCHDOG_CTRL_TRIGGER (1u << 31)
#define WATCHDOG_SCRATCH0 REG32(WATCHDOG_BASE + 0x0C)
#define WATCHDOG_SCRATCH1 REG32(WATCHDOG_BASE + 0x10)
#define WATCHDOG_TICK REG32(WATCHDOG_BASE + 0x2C)
#define WATCHDOG_TICK_ENABLE (1u << 9)

// TIMER (4.6.5): 1 MHz from the watchdog tick
#define TIMER_TIMERAWL REG32(0x40054000u + 0x28)

// ROSC (2.17.8): DIV takes 0xAA0 + divisor (1-31)
#define ROSC_DIV REG32(0x40060000u + 0x10)
#define ROSC_DIV_PASS 0xAA0u

// XOSC (2.16.7)
#define XOSC_BASE 0x40024000u
#define XOSC_CTRL REG32(XOSC_BASE + 0x00)
#define XOSC_STATUS REG32(XOSC_BASE + 0x04)
#define XOSC_STARTUP REG32(XOSC_BASE + 0x0C)
#define XOSC_CTRL_1_15MHZ 0xAA0u
#define XOSC_CTRL_ENABLE (0xFABu << 12)
#define XOSC_CTRL_DISABLE (0xD1Eu << 12)
#define XOSC_STATUS_STABLE (1u << 31)

// PLL_SYS / PLL_USB (2.18.4)
#define PLL_SYS_BASE 0x40028000u
#define PLL_USB_BASE 0x4002C000u
#define PLL_CS(b) REG32((b) + 0x0)
#define PLL_PWR(b) REG32((b) + 0x4)
#define PLL_FBDIV_INT(b) REG32((b) + 0x8)
#define PLL_PRIM(b) REG32((b) + 0xC)
#define PLL_CS_LOCK (1u << 31)
#define PLL_PWR_PD (1u << 0)
#define PLL_PWR_POSTDIVPD (1u << 3)
#define PLL_PWR_VCOPD (1u << 5)
#define PLL_PWR_DSMPD (1u << 2)
#define PLL_PRIM_POSTDIV1_SHIFT 16
#define PLL_PRIM_POSTDIV2_SHIFT 12

// CLOCKS (2.15.7)
#define CLOCKS_BASE 0x40008000u
#define CLK_REF_CTRL REG32(CLOCKS_BASE + 0x30)
#define CLK_REF_DIV REG32(CLOCKS_BASE + 0x34)
#define CLK_REF_SELECTED REG32(CLOCKS_BASE + 0x38)
#define CLK_SYS_CTRL REG32(CLOCKS_BASE + 0x3C)
#define CLK_SYS_DIV REG32(CLOCKS_BASE + 0x40)
#define CLK_SYS_SELECTED REG32(CLOCKS_BASE + 0x44)
#define CLK_USB_CTRL REG32(CLOCKS_BASE + 0x54)
#define CLK_USB_DIV REG32(CLOCKS_BASE + 0x58)
#define CLK_REF_SRC_ROSC 0u
#define CLK_REF_SRC_XOSC 2u
#define CLK_SYS_SRC_AUX 1u          // AUXSRC 0 = PLL_SYS
#define CLK_USB_ENABLE (1u << 11)   // AUXSRC 0 = PLL_USB
#define CLK_DIV_1 (1u << 8)

// DMA (2.5.7): channel 0 and the sniffer
#define DMA_BASE 0x50000000u
#define DMA_CH0_READ_ADDR REG32(DMA_BASE + 0x000)
#define DMA_CH0_WRITE_ADDR REG32(DMA_BASE + 0x004)
#define DMA_CH0_TRANS_COUNT REG32(DMA_BASE + 0x008)
#define DMA_CH0_CTRL_TRIG REG32(DMA_BASE + 0x00C)
#define DMA_CTRL_EN (1u << 0)
#define DMA_CTRL_INCR_READ (1u << 4)          // DATA_SIZE 0: bytes; CHAIN_TO 0: itself (no chain)
#define DMA_CTRL_INCR_WRITE (1u << 5)
#define DMA_CTRL_SIZE_WORD (2u << 2)          // DATA_SIZE 2: 32-bit transfers
#define DMA_CTRL_TREQ_PERMANENT (0x3Fu << 15)
#define DMA_CTRL_IRQ_QUIET (1u << 21)
#define DMA_CTRL_SNIFF_EN (1u << 23)
#define DMA_CTRL_BUSY (1u << 24)
// Channel 1 (2.5.7, channels 0x40 apart): the SSI's data in both directions (flash.c)
#define DMA_CH1_READ_ADDR REG32(DMA_BASE + 0x040)
#define DMA_CH1_WRITE_ADDR REG32(DMA_BASE + 0x044)
#define DMA_CH1_TRANS_COUNT REG32(DMA_BASE + 0x048)
#define DMA_CH1_CTRL_TRIG REG32(DMA_BASE + 0x04C)
#define DMA_CTRL_CHAIN_TO_SELF1 (1u << 11)    // CHAIN_TO = its own index: no chain
#define DMA_CTRL_BSWAP (1u << 22)             // byte order reversed within each word
#define DMA_CTRL_TREQ_SSITX (38u << 15)       // DREQ_XIP_SSITX (pico-sdk dreq.h)
#define DMA_CTRL_TREQ_SSIRX (39u << 15)       // DREQ_XIP_SSIRX
#define DMA_SNIFF_CTRL REG32(DMA_BASE + 0x434)
#define DMA_SNIFF_DATA REG32(DMA_BASE + 0x438)
#define DMA_SNIFF_EN (1u << 0)                // DMACH 0
#define DMA_SNIFF_CALC_CRC32_REV (1u << 5)    // CALC 1: CRC-32 over bit-reversed data
#define DMA_SNIFF_OUT_REV (1u << 10)
#define DMA_SNIFF_OUT_INV (1u << 11)

// XIP_CTRL (2.6.3.7): the cache in front of the flash window
#define XIP_CTRL_FLUSH REG32(0x14000000u + 0x04)

// SSI (4.10.13), the XIP flash controller
#define SSI_BASE 0x18000000u
#define SSI_CTRLR0 REG32(SSI_BASE + 0x00)
#define SSI_CTRLR1 REG32(SSI_BASE + 0x04)
#define SSI_SSIENR REG32(SSI_BASE + 0x08)
#define SSI_BAUDR REG32(SSI_BASE + 0x14)
#define SSI_SR REG32(SSI_BASE + 0x28)
#define SSI_DR0 REG32(SSI_BASE + 0x60)
#define SSI_RX_SAMPLE_DLY REG32(SSI_BASE + 0xF0)
#define SSI_SPI_CTRLR0 REG32(SSI_BASE + 0xF4)
#define SSI_DMACR REG32(SSI_BASE + 0x4C)     // TDMAE (1), RDMAE (0): the DMA handshakes
#define SSI_DMATDLR REG32(SSI_BASE + 0x50)   // TX request while TXFLR <= this
#define SSI_DMARDLR REG32(SSI_BASE + 0x54)   // RX request while RXFLR >= this + 1
#define SSI_DMACR_RDMAE (1u << 0)
#define SSI_DMACR_TDMAE (1u << 1)
#define SSI_CTRLR0_DFS32_SHIFT 16      // data frame size - 1
#define SSI_CTRLR0_TMOD_SHIFT 8
#define SSI_TMOD_TX_AND_RX 0u
#define SSI_TMOD_TX_ONLY 1u
#define SSI_TMOD_EEPROM_READ 3u
#define SSI_CTRLR0_SPI_FRF_SHIFT 21
#define SSI_FRF_STD 0u
#define SSI_FRF_QUAD 2u
#define SSI_SR_BUSY (1u << 0)
#define SSI_SR_TFNF (1u << 1)
#define SSI_SR_TFE (1u << 2)
#define SSI_SR_RFNE (1u << 3)
#define SSI_SPI_TRANS_TYPE_SHIFT 0     // 0: instr and addr on one line, 1: addr on FRF lines, 2: both
#define SSI_SPI_ADDR_L_SHIFT 2         // address length in 4-bit units
#define SSI_SPI_INST_L_SHIFT 8         // 0 none, 2 eight bits
#define SSI_SPI_WAIT_CYCLES_SHIFT 11
#define SSI_SPI_XIP_CMD_SHIFT 24
#define SSI_FIFO_DEPTH 16u

// IO_QSPI (2.19.6.3): the flash chip select
#define IO_QSPI_SS_CTRL REG32(0x40018000u + 0x0C)
#define SS_CTRL_OUTOVER_SHIFT 8u
#define SS_CTRL_OUTOVER_MASK (3u << SS_CTRL_OUTOVER_SHIFT)
#define SS_CTRL_OUTOVER_LOW (2u << SS_CTRL_OUTOVER_SHIFT)
#define SS_CTRL_OUTOVER_HIGH (3u << SS_CTRL_OUTOVER_SHIFT)

// PADS_QSPI (2.19.6.4): the data pads' pulls (boot2.S sets drive and Schmitt triggers)
#define PADS_QSPI_SD(n) REG32(0x40020000u + 0x08 + 4u * (n)) // GPIO_QSPI_SD0..3
#define PAD_PUE (1u << 3)
#define PAD_PDE (1u << 2)

// USBCTRL (4.1.4): registers and the dual-port RAM that holds EP0's buffer and its controls
#define USBCTRL_DPRAM 0x50100000u
#define USBCTRL_REGS 0x50110000u
#define USB_ADDR_ENDP REG32(USBCTRL_REGS + 0x00)
#define USB_MAIN_CTRL REG32(USBCTRL_REGS + 0x40)
#define USB_SIE_CTRL REG32(USBCTRL_REGS + 0x4C)
#define USB_SIE_STATUS REG32(USBCTRL_REGS + 0x50)
#define USB_BUFF_STATUS REG32(USBCTRL_REGS + 0x58)
#define USB_EP_STALL_ARM REG32(USBCTRL_REGS + 0x68)
#define USB_MUXING REG32(USBCTRL_REGS + 0x74)
#define USB_PWR REG32(USBCTRL_REGS + 0x78)
#define USB_PHY_DIRECT REG32(USBCTRL_REGS + 0x7C)
#define USB_PHY_DIRECT_OVERRIDE REG32(USBCTRL_REGS + 0x80)
#define USB_MAIN_CTRL_CONTROLLER_EN (1u << 0)
#define USB_SIE_CTRL_EP0_INT_1BUF (1u << 29)
#define USB_SIE_CTRL_PULLUP_EN (1u << 16)
#define USB_SIE_STATUS_SETUP_REC (1u << 17)
#define USB_SIE_STATUS_BUS_RESET (1u << 19)
#define USB_SIE_STATUS_CONNECTED (1u << 16)
#define USB_SIE_STATUS_LINE_STATE_MASK (3u << 2) // 0: SE0
#define USB_PHY_DP_PULLUP_EN (1u << 1)
#define USB_PHY_OVERRIDE_DP_PULLUP_EN (1u << 2)
#define USB_BUFF_EP0_IN (1u << 0)
#define USB_BUFF_EP0_OUT (1u << 1)
#define USB_MUXING_TO_PHY (1u << 0)
#define USB_MUXING_TO_DIGITAL_PAD (1u << 2)
#define USB_MUXING_SOFTCON (1u << 3)
#define USB_PWR_VBUS_DETECT (1u << 2)
#define USB_PWR_VBUS_DETECT_OVERRIDE_EN (1u << 3)
#define DPRAM_SETUP ((volatile uint8_t*)(USBCTRL_DPRAM + 0x00))
#define DPRAM_EP0_IN_CTRL REG32(USBCTRL_DPRAM + 0x80)
#define DPRAM_EP0_OUT_CTRL REG32(USBCTRL_DPRAM + 0x84)
#define DPRAM_EP0_BUF ((volatile uint8_t*)(USBCTRL_DPRAM + 0x100)) // shared by IN and OUT
#define BUF_FULL (1u << 15)
#define BUF_DATA1 (1u << 13)
#define BUF_STALL (1u << 11)
#define BUF_AVAILABLE (1u << 10)
#define BUF_LEN_MASK 0x3FFu
// Endpoints 1..15 (4.1.2.5, usb_device_dpram.h), indexed as BUFF_STATUS numbers its bits:
// i = 2 * endpoint + (OUT ? 1 : 0). EPn_IN_CONTROL / EPn_OUT_CONTROL are at DPRAM 8n / 8n + 4
// (none for EP0), EPn_IN/OUT_BUFFER_CONTROL at 0x80 + 8n / 0x84 + 8n: 4 * i past each base.
#define DPRAM_EP_CTRL(i) REG32(USBCTRL_DPRAM + 4u * (i))
#define DPRAM_BUF_CTRL(i) REG32(USBCTRL_DPRAM + 0x80u + 4u * (i))
// Data buffers: 64-byte aligned, anywhere after 0x180 (EP0's buffers end there; usb_dpram.h's
// device layout, 4.1.2.5). One 64-byte buffer per endpoint direction, from EP1 IN (i = 2) up.
#define DPRAM_EP_BUF(i) ((volatile uint8_t*)(USBCTRL_DPRAM + 0x180u + 64u * ((i) - 2u)))
#define EP_CTRL_ENABLE (1u << 31)             // the device ignores the endpoint's tokens without it
#define EP_CTRL_INT_PER_BUFF (1u << 29)       // BUFF_STATUS is set only with this
#define EP_CTRL_TYPE_BULK (2u << 26)          // ENDPOINT_TYPE

// SYSINFO (2.20.2): CHIP_ID.REVISION 1 = B0/B1, 2 = B2 (pico-sdk rp2040_chip_version())
#define SYSINFO_CHIP_ID REG32(0x40000000u)
#define CHIP_ID_REVISION_SHIFT 28u

// GPIO15 (IO_BANK0 2.19.6.1, PADS_BANK0 2.19.6.3): the USB D+ path of the RP2040-E5 workaround
#define IO_BANK0_GPIO15_CTRL REG32(0x40014000u + 0x7C)
#define PADS_BANK0_GPIO15 REG32(0x4001C000u + 0x40)
#define GPIO_FUNCSEL_MASK 0x1Fu
#define GPIO_FUNCSEL_USB_DP 8u               // USB_MUXING_DIGITAL_DP
#define GPIO_OEOVER_MASK (3u << 12)
#define GPIO_OEOVER_DISABLE (2u << 12)
#define GPIO_INOVER_MASK (3u << 16)
#define GPIO_INOVER_HIGH (3u << 16)

// The status LED's pin (IO_BANK0 2.19.6.1) and SIO's GPIO output registers (2.3.1.7): the
// _SET/_CLR aliases change only the bits written.
#define IO_BANK0_GPIO25_CTRL REG32(0x40014000u + 0xCC)
#define GPIO_FUNCSEL_SIO 5u                  // SIO_25: the pin follows SIO GPIO_OUT / GPIO_OE
#define SIO_GPIO_OUT_SET REG32(0xD0000000u + 0x14)
#define SIO_GPIO_OUT_CLR REG32(0xD0000000u + 0x18)
#define SIO_GPIO_OE_SET REG32(0xD0000000u + 0x24)

// Cortex-M0+ (ARMv6-M ARM B3.2)
#define SCB_VTOR REG32(0xE000ED08u)
#define SYSTICK_CTRL REG32(0xE000E010u)
#define NVIC_ICER REG32(0xE000E180u)
#define NVIC_ICPR REG32(0xE000E280u)

#endif
