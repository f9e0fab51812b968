// The interfaces between sim/hal.ts and the hardware models it is plugged with.
// One model of each piece of hardware, shared by every test (and by the RP2040/H750 benches).

export interface BoardFacts {
  id: "h750" | "rp2040";
  boardId: number;          // BoardInfo.boardId: 1 = H750, 2 = RP2040
  name: string;             // at most 16 ASCII characters
  flashBase: number;        // where flash offset 0 appears in the memory map
  bootReserved: number;     // bytes at the start of flash owned by the bootloader
  ramStart: number; ramEnd: number;
  vid: number; pid: number; bcdDevice: number;
  recordOffset: number;     // 0 = last sector of the chip
  legacyRecord?: boolean;   // BoardInfo flag: the record used to be in the chip's last sector
  mappedAtReset?: boolean;  // BoardInfo flag: the flash is memory-mapped when the core starts (the RP2040's boot2)
  /** A bootloader button the firmware reads at reset (WeAct K1). The Pico has none: BOOTSEL
   *  held at reset starts the RP2040 boot ROM's own USB mode before any flash code runs. */
  hasButton: boolean;
  uid: Uint8Array;          // MCU unique ID; empty when the MCU has none (the RP2040)
  bootCrc?: boolean;        // BoardInfo flag: check the image CRC on every boot
  doubleTapMs?: number;     // BoardInfo: double-tap-reset window (0/undefined: off)
  webUrl?: string;          // BoardInfo: the WebUSB landing page, "https://..." or "http://..." (none: undefined)
  uf2Family: number;        // BoardInfo: the chip's UF2 family ID (hal/<chip>/board.h BOARD_UF2_FAMILY)
  /** Flash SCK on the boot path (reset clocks) and in DFU mode (after usb_init raises them), Hz:
   *  what hal/<chip> programs, so that bus time in the simulator is the real chip's. */
  flashSckHz: { boot: number; dfu: number };
  /** BoardInfo of a signed-updates core (148 bytes): the Ed25519 public key. Set it only for
   *  such a core (sim/board.ts loadSignedCore): the default core's BoardInfo is 116 bytes. */
  publicKey?: Uint8Array;
  /** BoardInfo of a locked core (180 bytes): the 32-byte secret its sector digests are keyed with. */
  lockKey?: Uint8Array;
}

/** The device side of USB endpoint 0 as the core sees it through the HAL. */
export interface Ep0Controller {
  init(): void;
  /** Returns the event word of hal.usb_poll; writes SETUP/OUT bytes into `mem`. */
  poll(mem: Uint8Array, setupPtr: number): number;
  in(mem: Uint8Array, ptr: number, len: number): void;
  out(ptr: number, max: number): void;
  stall(): void;
  setAddress(addr: number): void;
  /** Bulk endpoints (hal.usb_ep_*; only the UF2-drive core uses them). */
  epOpen(ep: number, maxPacket: number): void;
  epXfer(mem: Uint8Array, ep: number, ptr: number, len: number): void;
  epStall(ep: number, on: boolean): void;
}

/** A QSPI controller with a NOR chip behind it, executing hal.flash_cmd formats. */
export interface FlashBus {
  /** Execute one command. For reads, fill `data`; for writes, `data` holds the bytes. 0 = ok. */
  command(fmt: number, addr: number, data: Uint8Array): number;
  /** Enter memory-mapped mode with the read command `fmt`. 0 = ok. */
  mmap(fmt: number): number;
  /** Whether memory-mapped mode is on (reads through the window work only then). */
  readonly mapped: boolean;
  /** Read through the memory-mapped window: `offset` counts from flash offset 0. */
  readMapped(offset: number, length: number): Uint8Array;
  /** Simulated time (SimClock.now) at which the chip's current operation ends; now when idle.
   *  The board skips idle polling up to it, so waiting for a 150 ms erase costs no host time. */
  readyAt?(): number;
  /** The controller's SCK from now on, Hz (the HAL raises clocks for DFU mode). */
  setSckHz?(hz: number): void;
}
