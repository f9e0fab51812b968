// What the boot decision reads from the flash: the record sector(s) (record-store.ts) and the
// application's first two vector words (vectors.ts). Where the flash is memory-mapped at reset
// (flash_mapped(): the RP2040, where boot2 leaves XIP on) they are read once, through that
// window, by the mapped pass (boot.ts) before any command: the full decision after flashInit
// reuses what it found, so no command code is on the boot path (hal/rp2040/startup.c loads it
// only for DFU mode). Elsewhere init's decision reads them by command.
// (flash_mapped() is a constant of the chip: the C build keeps one branch.)
import { flash_mapped, mem_read32 } from "./hal";
import { flashBase } from "./board";
import { flashRead } from "./flash/engine";

// Whole words, as the record store and the vectors read them.
export function bootRead(addr: u32, buf: usize, len: u32): i32 {
  if (!flash_mapped()) return flashRead(addr, buf, len);
  for (let i: u32 = 0; i < len; i += 4) store<u32>(buf + i, mem_read32(flashBase() + addr + i));
  return 0;
}
