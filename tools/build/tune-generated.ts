// Tuning of wasm2c's output for a 32-bit microcontroller with one small linear memory. The
// generated code checks every access with 64-bit arithmetic against a size it loads from the
// memory object; here addresses are 32-bit and the memory is one static array of a size known
// at build time. Same checks, same traps, far less code. Each rewrite must find its target:
// a wabt upgrade that changes the generated text fails the build instead of silently not tuning.
const REWRITES: [RegExp | string, string, string][] = [
  [
    "#define RANGE_CHECK(mem, offset, len)               \\\n  if (UNLIKELY(offset + (uint64_t)len > mem->size)) \\\n    TRAP(OOB);",
    "#define RANGE_CHECK(mem, offset, len) \\\n  if (UNLIKELY((u32)(offset) > QSPIBOOT_MEMORY_BYTES - (u32)(len))) TRAP(OOB);",
    "32-bit bounds check against the build-time memory size",
  ],
  [
    "static inline t3 name(wasm_rt_memory_t* mem, u64 addr) { \\\n    MEMCHECK(mem, addr, t1);                               \\\n    t1 result;                                             \\\n    wasm_rt_memcpy(&result, &mem->data[addr], sizeof(t1)); \\",
    "static inline t3 name(wasm_rt_memory_t* mem, u32 addr) { \\\n    (void)mem; MEMCHECK(mem, addr, t1);                     \\\n    t1 result;                                             \\\n    if (addr & (sizeof(t1) - 1)) wasm_rt_memcpy(&result, &qspiboot_memory[addr], sizeof(t1)); \\\n    else result = *(const t1*)__builtin_assume_aligned(&qspiboot_memory[addr], sizeof(t1)); \\",
    "loads: 32-bit address into the static memory, one load when aligned (the M0+ has no unaligned access: memcpy otherwise)",
  ],
  [
    "static inline void name(wasm_rt_memory_t* mem, u64 addr, t2 value) { \\\n    MEMCHECK(mem, addr, t1);                                           \\\n    t1 wrapped = (t1)value;                                            \\\n    wasm_rt_memcpy(&mem->data[addr], &wrapped, sizeof(t1));            \\",
    "static inline void name(wasm_rt_memory_t* mem, u32 addr, t2 value) { \\\n    (void)mem; MEMCHECK(mem, addr, t1);                                \\\n    t1 wrapped = (t1)value;                                            \\\n    if (addr & (sizeof(t1) - 1)) wasm_rt_memcpy(&qspiboot_memory[addr], &wrapped, sizeof(t1)); \\\n    else *(t1*)__builtin_assume_aligned(&qspiboot_memory[addr], sizeof(t1)) = wrapped; \\",
    "stores: 32-bit address into the static memory, one store when aligned",
  ],
  [
    '#include "core.h"\n',
    '#include "core.h"\nextern u8 qspiboot_memory[]; /* hal/common/wasm-rt-bare.c */\n',
    "declare the static memory",
  ],
];

export function tuneGenerated(c: string): string {
  for (const [from, to, what] of REWRITES) {
    if (!c.includes(from as string)) throw new Error(`tune-generated: wasm2c output changed, cannot apply "${what}"`);
    c = c.replace(from as string, to);
  }
  return c;
}
