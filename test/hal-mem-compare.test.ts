// hal/common/mem-compare.c, the firmware's compare of what the flash holds with what should be
// there, against its definition in boot/hal.ts (a byte at a time): every alignment of both
// buffers, lengths around its four-word steps, and each answer (identical, programmable in
// place, needs an erase) with the difference anywhere. Compiled for this machine with cc: the
// simulator has its own implementation (sim/hal.ts), so nothing else checks the C one's fast paths.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SRC = join(import.meta.dirname, "..", "hal", "common", "mem-compare.c");
const MEM = 8192, HAVE = 64, WANT = 4096 + 64;

// What it reads through: the core's linear memory, bounds-checked as hal/common/hal.h does.
const STUB_HAL_H = `#pragma once
#include <stdint.h>
typedef uint32_t u32;
struct Z_hal_instance_t { uint8_t* data; uint32_t size; };
static inline uint8_t* hal_mem(struct Z_hal_instance_t* h, uint32_t offset, uint32_t len) {
  if (offset > h->size || len > h->size - offset) return 0;
  return h->data + offset;
}
`;

// Reads cases from stdin (have, want, len as u32, then the memory image), prints each answer.
const HARNESS = `#include <stdio.h>
#include "hal.h"
u32 Z_halZ_mem_compare(struct Z_hal_instance_t* h, u32 have, u32 want, u32 len);
static _Alignas(16) uint8_t mem[${MEM}];
int main(void) {
  struct Z_hal_instance_t h = { mem, sizeof mem };
  u32 args[3];
  while (fread(args, 4, 3, stdin) == 3 && fread(mem, 1, sizeof mem, stdin) == sizeof mem)
    printf("%u\\n", Z_halZ_mem_compare(&h, args[0], args[1], args[2]));
  return 0;
}
`;

function definition(mem: Uint8Array, have: number, want: number, len: number): number {
  if (have + len > mem.length || (want && want + len > mem.length)) return 0;
  let equal = true;
  for (let i = 0; i < len; i++) {
    const h = mem[have + i], w = want ? mem[want + i] : 0xff;
    if (h !== w) { equal = false; if ((h & w) !== w) return 0; }
  }
  return equal ? 2 : 1;
}

interface Case { have: number; want: number; len: number; mem: Uint8Array }

function cases(): Case[] {
  let s = 0x2545f491;
  const rnd = (n: number) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
  const out: Case[] = [];
  for (const len of [0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 63, 64, 256, 1021, 1024])
    for (let ha = 0; ha < 4; ha++)
      for (const wa of [-1, 0, 1, 2, 3]) // -1: against erased flash (want 0)
        for (const kind of ["equal", "set", "clear"] as const) {
          const mem = new Uint8Array(MEM);
          const have = HAVE + ha, want = wa < 0 ? 0 : WANT + wa;
          for (let i = 0; i < len; i++) {
            const w = want ? rnd(256) : 0xff;
            if (want) mem[want + i] = w;
            mem[have + i] = w;
          }
          // One byte differs, anywhere: a bit that the flash has set (programmable) or cleared.
          if (len && kind !== "equal") {
            const at = rnd(len), bit = 1 << rnd(8);
            if (kind === "set") mem[have + at] |= bit, want && (mem[want + at] &= ~bit);
            else mem[have + at] &= ~bit, want && (mem[want + at] |= bit);
          }
          out.push({ have, want, len, mem });
        }
  // Outside the core's memory: refused.
  out.push({ have: MEM - 8, want: 0, len: 16, mem: new Uint8Array(MEM) });
  out.push({ have: HAVE, want: MEM - 4, len: 8, mem: new Uint8Array(MEM) });
  return out;
}

test("the firmware's mem_compare gives the defined answer for every alignment, length and difference", () => {
  const dir = mkdtempSync(join(tmpdir(), "mem-compare-"));
  try {
    copyFileSync(SRC, join(dir, "mem-compare.c")); // next to the stub hal.h, which it includes
    writeFileSync(join(dir, "hal.h"), STUB_HAL_H);
    writeFileSync(join(dir, "main.c"), HARNESS);
    execFileSync("cc", ["-std=c11", "-O2", "-Wall", "-Werror", "-o", join(dir, "t"), join(dir, "main.c"), join(dir, "mem-compare.c")]);
    const all = cases();
    const input = Buffer.concat(all.flatMap((c) => [Buffer.from(Uint32Array.from([c.have, c.want, c.len]).buffer), Buffer.from(c.mem)]));
    const got = execFileSync(join(dir, "t"), { input, encoding: "utf8", maxBuffer: 1 << 20 }).trim().split("\n").map(Number);
    assert.is(got.length, all.length);
    const seen = [0, 0, 0];
    all.forEach((c, i) => {
      const want = definition(c.mem, c.have, c.want, c.len);
      seen[want]++;
      assert.is(got[i], want, `have +${c.have} want ${c.want ? "+" + c.want : "erased"} len ${c.len}`);
    });
    assert.ok(seen.every((n) => n > 100), `each answer is covered: ${seen}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
