// Debian's libunicorn (Unicorn 2) in-process through koffi: an ARM CPU that runs real
// Cortex-M7 Thumb-2 code, with memory we map and peripherals as JavaScript callbacks.
// Pitfalls handled here (../shared/notes/flash-and-boot.md): UC_MODE_MCLASS would give a
// Cortex-M33, so the engine is opened in Thumb mode and switched to the Cortex-M7 model with
// uc_ctl; callbacks are registered before any emulation; an exception thrown inside a callback
// cannot cross into C, so it is kept, the emulation stopped, and it is rethrown afterwards.
import koffi from "koffi";

const UC_ARCH_ARM = 1, UC_MODE_THUMB = 16;
const UC_CTL_CPU_MODEL_WRITE = 0x44000007, UC_CPU_ARM_CORTEX_M7 = 10;
const UC_CTL_TB_REMOVE_CACHE_WRITE = 0x48000009; // UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), unicorn.h's uc_ctl_remove_cache
export const PROT = { READ: 1, WRITE: 2, EXEC: 4, ALL: 7 } as const;
export const REG = { R0: 66, SP: 12, LR: 10, PC: 11, MSP: 115 } as const;
const UC_HOOK_CODE = 4;
const UC_HOOK_MEM_INVALID = 0x3f0; // unmapped and protection faults, reads, writes and fetches

let lib: ReturnType<typeof load> | null = null;
function load() {
  const l = koffi.load("libunicorn.so.2");
  const engine = koffi.opaque("uc_engine");
  const readCb = koffi.proto("uint64_t qb_mmio_read(uc_engine *uc, uint64_t offset, unsigned int size, void *user)");
  const writeCb = koffi.proto("void qb_mmio_write(uc_engine *uc, uint64_t offset, unsigned int size, uint64_t value, void *user)");
  const codeCb = koffi.proto("void qb_hook_code(uc_engine *uc, uint64_t address, uint32_t size, void *user)");
  const memCb = koffi.proto("bool qb_hook_mem(uc_engine *uc, int type, uint64_t address, int size, int64_t value, void *user)");
  return {
    engine, readCb, writeCb, codeCb, memCb,
    open: l.func("int uc_open(int arch, int mode, _Out_ uc_engine **uc)"),
    close: l.func("int uc_close(uc_engine *uc)"),
    ctl: l.func("int uc_ctl(uc_engine *uc, int control, ...)"),
    memMap: l.func("int uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)"),
    memProtect: l.func("int uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)"),
    mmioMap: l.func("int uc_mmio_map(uc_engine *uc, uint64_t address, size_t size, qb_mmio_read *r, void *ur, qb_mmio_write *w, void *uw)"),
    memWrite: l.func("int uc_mem_write(uc_engine *uc, uint64_t address, const uint8_t *bytes, size_t size)"),
    memRead: l.func("int uc_mem_read(uc_engine *uc, uint64_t address, _Out_ uint8_t *bytes, size_t size)"),
    regWrite: l.func("int uc_reg_write(uc_engine *uc, int regid, const uint32_t *value)"),
    regRead: l.func("int uc_reg_read(uc_engine *uc, int regid, _Out_ uint32_t *value)"),
    start: l.func("int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)"),
    stop: l.func("int uc_emu_stop(uc_engine *uc)"),
    hookAdd: l.func("int uc_hook_add(uc_engine *uc, _Out_ size_t *hh, int type, void *callback, void *user, uint64_t begin, uint64_t end, ...)"),
    strerror: l.func("const char *uc_strerror(int code)"),
  };
}

export class UnicornError extends Error {}

export type MmioRead = (offset: number, size: number) => number;
export type MmioWrite = (offset: number, size: number, value: number) => void;

export class Unicorn {
  private readonly L = (lib ??= load());
  private readonly uc: unknown;
  private pending: unknown = null;
  private readonly keep: unknown[] = []; // registered callbacks, alive as long as the engine

  constructor() {
    const out: unknown[] = [null];
    this.check(this.L.open(UC_ARCH_ARM, UC_MODE_THUMB, out), "uc_open");
    this.uc = out[0];
    this.check(this.L.ctl(this.uc, UC_CTL_CPU_MODEL_WRITE, "int", UC_CPU_ARM_CORTEX_M7), "select the Cortex-M7 model");
  }

  /** Drop the code translated from [begin, end): uc_mem_write does not invalidate code already
   *  translated from the bytes it replaces (seen in 2.0.1: after a re-flash the previous
   *  application's code ran again from QSPI). Safe inside a callback as long as the code running
   *  is outside the range (a whole-cache flush there segfaulted). */
  removeCode(begin: number, end: number): void {
    this.check(this.L.ctl(this.uc, UC_CTL_TB_REMOVE_CACHE_WRITE, "uint64_t", begin, "uint64_t", end), "remove translated code");
  }

  private check(err: number, what: string): void {
    if (err !== 0) throw new UnicornError(`${what}: ${this.L.strerror(err)}`);
  }

  /** Keep an exception from a callback for after the emulation stops. */
  private guard<T>(fallback: T, fn: () => T): T {
    try { return fn(); } catch (e) {
      if (!this.pending) this.pending = e;
      this.L.stop(this.uc);
      return fallback;
    }
  }

  map(address: number, size: number, perms: number = PROT.ALL): void {
    this.check(this.L.memMap(this.uc, address, size, perms), `map 0x${address.toString(16)}`);
  }

  protect(address: number, size: number, perms: number): void {
    this.check(this.L.memProtect(this.uc, address, size, perms), `protect 0x${address.toString(16)}`);
  }

  mmio(address: number, size: number, read: MmioRead, write: MmioWrite): void {
    const r = koffi.register((_u: unknown, off: bigint | number, sz: number) =>
      BigInt(this.guard(0, () => read(Number(off), sz)) >>> 0), koffi.pointer(this.L.readCb));
    const w = koffi.register((_u: unknown, off: bigint | number, sz: number, v: bigint | number) => {
      this.guard(undefined, () => write(Number(off), sz, Number(BigInt.asUintN(32, BigInt(v)))));
    }, koffi.pointer(this.L.writeCb));
    this.keep.push(r, w);
    this.check(this.L.mmioMap(this.uc, address, size, r, null, w, null), `mmio 0x${address.toString(16)}`);
  }

  /** Call `fn` before each instruction in [begin, end]. Slow: one JS call per instruction. */
  hookCode(begin: number, end: number, fn: (address: number) => void): void {
    const cb = koffi.register((_u: unknown, addr: bigint | number) => { this.guard(undefined, () => fn(Number(addr))); }, koffi.pointer(this.L.codeCb));
    this.keep.push(cb);
    this.check(this.L.hookAdd(this.uc, [0], UC_HOOK_CODE, cb, null, begin, end), "hook code");
  }

  /** Faults (unmapped or protected memory): `fn` explains; the emulation stops with its error. */
  hookFaults(fn: (kind: number, address: number, size: number) => string): void {
    const cb = koffi.register((_u: unknown, kind: number, addr: bigint | number, size: number) => {
      const msg = fn(kind, Number(addr), size);
      if (!this.pending) this.pending = new UnicornError(msg);
      return false;
    }, koffi.pointer(this.L.memCb));
    this.keep.push(cb);
    this.check(this.L.hookAdd(this.uc, [0], UC_HOOK_MEM_INVALID, cb, null, 1, 0), "hook faults");
  }

  write(address: number, bytes: Uint8Array): void {
    this.check(this.L.memWrite(this.uc, address, bytes, bytes.length), `write 0x${address.toString(16)}`);
  }

  read(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.check(this.L.memRead(this.uc, address, out, length), `read 0x${address.toString(16)}`);
    return out;
  }

  reg(id: number, value?: number): number {
    if (value !== undefined) { this.check(this.L.regWrite(this.uc, id, [value >>> 0]), "reg write"); return value >>> 0; }
    const out = [0];
    this.check(this.L.regRead(this.uc, id, out), "reg read");
    return out[0] >>> 0;
  }

  /** Run up to `count` instructions from the current PC (Thumb). Throws what a callback threw. */
  run(count: number): void {
    const pc = this.reg(REG.PC);
    const err = this.L.start(this.uc, pc | 1, 0xffffffff, 0, count);
    const p = this.pending;
    this.pending = null;
    if (p) throw p;
    this.check(err, `emulation at 0x${pc.toString(16)}`);
  }

  stop(): void { this.L.stop(this.uc); }

  close(): void { this.L.close(this.uc); }
}
