// The `fmt` word of hal.flash_cmd / hal.flash_mmap: one flash command, every phase described.
//   bits 0-7   instruction
//   bits 8-9   instruction lines   (LINES_*)
//   bits 10-11 address lines
//   bits 12-13 address size        (ADDR_*)
//   bits 14-15 mode-byte lines     (0 = no mode byte)
//   bits 16-23 mode byte
//   bits 24-28 dummy cycles (0-31)
//   bits 29-30 data lines          (0 = no data phase)
//   bit  31    1 = data goes to the flash (write), 0 = data comes from it (read)
export const LINES_NONE: u32 = 0;
export const LINES_1: u32 = 1;
export const LINES_2: u32 = 2;
export const LINES_4: u32 = 3;

export const ADDR_NONE: u32 = 0;
export const ADDR_8: u32 = 1;
export const ADDR_24: u32 = 2;
export const ADDR_32: u32 = 3;

export const FMT_WRITE: u32 = 1 << 31;

// @inline so that constant formats fold to one immediate in the translated C.
// @ts-ignore: decorator
@inline export function fmt(instr: u32, instrLines: u32, addrLines: u32, addrSize: u32,
                   modeLines: u32, mode: u32, dummy: u32, dataLines: u32): u32 {
  return (instr & 0xff) | (instrLines << 8) | (addrLines << 10) | (addrSize << 12) |
    (modeLines << 14) | ((mode & 0xff) << 16) | ((dummy & 31) << 24) | (dataLines << 29);
}
