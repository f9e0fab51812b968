// The core's only imports. hal/common/hal.h (C, both chips) and sim/hal.ts (the simulator)
// implement exactly this list, in this order; test/pipeline.test.ts fails when they drift apart.
// Pointers are offsets into the core's linear memory: the HALs copy bytes in and out of it.

// Board facts (flash window, region the bootloader owns, RAM range, USB ids, name) are
// written as a BoardInfo record (see boot/board.ts) at `out`.
@external("hal", "board_info") export declare function board_info(out: usize): void;

// --- USB device controller, endpoint 0 only (polled) ---
// Connects the pull-up and brings the controller to the default state.
@external("hal", "usb_init") export declare function usb_init(): void;
// Next event: EV_NONE, EV_RESET, EV_SETUP (8 bytes written at `setup`), EV_OUT (a packet of
// `result >> 8` bytes was written to the buffer armed by usb_ep0_out), EV_IN (the packet queued
// by usb_ep0_in was sent). When a status-stage completion and a new SETUP are both pending, the
// completion is reported first. EV_EP_IN / EV_EP_OUT: a bulk transfer armed by usb_ep_xfer has
// ended; the endpoint address is in bits 8..15, and for OUT the bytes received in bits 16..31.
@external("hal", "usb_poll") export declare function usb_poll(setup: usize): i32;
// Queue one IN packet on EP0 (0..64 bytes). The first packet after a SETUP is DATA1.
@external("hal", "usb_ep0_in") export declare function usb_ep0_in(buf: usize, len: i32): void;
// Accept one OUT packet of at most `max` bytes into `buf`. The first packet after a SETUP is DATA1.
@external("hal", "usb_ep0_out") export declare function usb_ep0_out(buf: usize, max: i32): void;
// Stall EP0 in both directions until the next SETUP.
@external("hal", "usb_ep0_stall") export declare function usb_ep0_stall(): void;
// Called when SET_ADDRESS arrives, before its status stage. The HAL applies the address when
// its controller needs it (after the status stage on the RP2040, at once on DWC2).
@external("hal", "usb_set_address") export declare function usb_set_address(addr: i32): void;

// --- Bulk endpoints: the UF2 drive's mass-storage interface. Only a core built with the UF2
// drive (tools/build-core.ts, QSPIBOOT_UF2) calls these; the default core leaves them out. ---
// Configure endpoint `ep` (USB address, bit 7 set for IN; numbers 1..3) as a bulk endpoint with
// packets of `maxPacket` bytes: DATA0, not stalled, nothing armed. Called at SET_CONFIGURATION;
// a bus reset closes every endpoint but EP0.
@external("hal", "usb_ep_open") export declare function usb_ep_open(ep: i32, maxPacket: i32): void;
// Arm one transfer of at most 4096 bytes on an open endpoint; EV_EP_IN / EV_EP_OUT report its end.
// IN: send `len` bytes from `buf` in maxPacket packets (one zero-length packet when len is 0;
// none after a full last packet). OUT: take up to `len` bytes (a multiple of maxPacket) into
// `buf`; the transfer ends when `len` bytes or a short packet have arrived.
@external("hal", "usb_ep_xfer") export declare function usb_ep_xfer(ep: i32, buf: usize, len: i32): void;
// Stall endpoint `ep` (on = 1), which drops its armed transfer, or clear the stall (on = 0),
// which also resets its data toggle to DATA0 (USB 2.0 9.4.5) and leaves nothing armed.
@external("hal", "usb_ep_stall") export declare function usb_ep_stall(ep: i32, on: i32): void;

// --- Flash chip: one command at a time, or memory-mapped ---
// Execute one command described by `fmt` (see boot/flash/cmd.ts for the bit layout), with
// `len` data bytes from/to `buf`. Leaves memory-mapped mode first if it is on. 0 = done,
// negative = the controller did not finish.
@external("hal", "flash_cmd") export declare function flash_cmd(fmt: u32, addr: u32, buf: usize, len: u32): i32;
// Enter memory-mapped (XIP) mode with the read command `fmt`. 0 = done.
@external("hal", "flash_mmap") export declare function flash_mmap(fmt: u32): i32;
// One 32-bit load from a physical address (the mapped flash window, for checks).
@external("hal", "mem_read32") export declare function mem_read32(addr: u32): u32;
// 1 when the flash is memory-mapped as the core starts, and stays so until the first flash_cmd
// (the RP2040: boot2 leaves XIP on), 0 otherwise. A constant of the chip: the C build folds it.
@external("hal", "flash_mapped") export declare function flash_mapped(): i32;

// Compare `len` bytes of linear memory: `have` (what the flash holds) with `want` (what should
// be there; 0 = erased flash, all FFh). 2 = identical, 1 = programmable in place (every 1 bit of
// `want` is 1 in `have`: NOR programming only clears bits), 0 = needs an erase.
@external("hal", "mem_compare") export declare function mem_compare(have: usize, want: usize, len: u32): i32;

// --- Odds and ends ---
// Microseconds since reset, wrapping at 2^32.
@external("hal", "time_us") export declare function time_us(): u32;
// CRC-32 (IEEE 802.3, reflected, as zlib's crc32: pass 0 to start) continued over `len`
// bytes of linear memory at `buf`.
@external("hal", "crc32_buf") export declare function crc32_buf(crc: u32, buf: usize, len: u32): u32;
// The same CRC over `len` bytes at physical address `addr` (flash must be mapped).
@external("hal", "crc32_phys") export declare function crc32_phys(crc: u32, addr: u32, len: u32): u32;
// A word that survives a reset (not a power cut).
@external("hal", "flag_get") export declare function flag_get(): u32;
@external("hal", "flag_set") export declare function flag_set(value: u32): void;
// 1 while the board's bootloader button is held.
@external("hal", "button") export declare function button(): i32;
// Writes the MCU's unique ID (up to 16 bytes) at `out`; returns its length, 0 if the MCU has none.
@external("hal", "chip_uid") export declare function chip_uid(out: usize): i32;
// Reset the chip. Does not return.
@external("hal", "system_reset") export declare function system_reset(): void;
// The status LED: 1 on, 0 off. Called only in DFU mode; the first call configures the pin.
@external("hal", "led_set") export declare function led_set(on: i32): void;
// Hand the CPU to the application whose vector table is at physical address `vectors`.
// Flash is already memory-mapped. Does not return.
@external("hal", "jump") export declare function jump(vectors: u32): void;

export const EV_NONE: i32 = 0;
export const EV_RESET: i32 = 1;
export const EV_SETUP: i32 = 2;
export const EV_OUT: i32 = 3;
export const EV_IN: i32 = 4;
export const EV_EP_IN: i32 = 5;
export const EV_EP_OUT: i32 = 6;
