// The simulator's implementation of boot/hal.ts, one function per import, against the models.
import { BoardHalt } from "./halt";
import type { BoardFacts, Ep0Controller, FlashBus } from "./models";
import type { SimClock } from "./clock";
import { crc32 } from "../tools/dfu/crc32";

export interface HalContext {
  facts: BoardFacts;
  usb: Ep0Controller;
  flash: FlashBus;
  clock: SimClock;
  /** Survives reset, lost on power cut (RTC backup register / watchdog scratch). */
  flags: { value: number };
  button: { held: boolean };
  /** A reset (button or watchdog) due at this simulated time: the next time_us() after it resets. */
  resetAt?: { t: number };
  /** The status LED's pin: on/off, and every change with its simulated time (for pattern tests). */
  led?: SimLed;
  memory: () => Uint8Array;
}

export interface SimLed { on: boolean; timeline: { t: number; on: boolean }[] }

/** The LED's pin is back at its reset state (off, undriven) after a reset or power cut. */
export function ledReset(led: SimLed, t: number): void {
  if (led.on) { led.on = false; led.timeline.push({ t, on: false }); }
}

// Cost of one HAL call in simulated time, a stand-in for the CPU work around it.
const CALL_US = 0.05;

// The same CRC-32 the host tools use (zlib's: crc32(0, data)).
export { crc32 };

export function makeHalImports(ctx: HalContext) {
  const { facts, usb, flash, clock } = ctx;
  const mem = ctx.memory;
  const tick = () => clock.advance(CALL_US);
  const mappedOffset = (addr: number, len: number) => {
    const off = (addr >>> 0) - facts.flashBase;
    if (!flash.mapped || off < 0) throw new Error(`bus fault: read of 0x${(addr >>> 0).toString(16)} with flash not mapped`);
    return flash.readMapped(off, len);
  };
  return {
    board_info(out: number) {
      const m = mem(); const dv = new DataView(m.buffer, m.byteOffset);
      dv.setUint32(out, facts.flashBase, true);
      dv.setUint32(out + 4, facts.bootReserved, true);
      dv.setUint32(out + 8, facts.ramStart, true);
      dv.setUint32(out + 12, facts.ramEnd, true);
      dv.setUint16(out + 16, facts.vid, true);
      dv.setUint16(out + 18, facts.pid, true);
      dv.setUint16(out + 20, facts.bcdDevice, true);
      dv.setUint8(out + 22, facts.boardId);
      dv.setUint8(out + 23, (facts.bootCrc ? 1 : 0) | (facts.legacyRecord ? 2 : 0));
      dv.setUint32(out + 24, facts.recordOffset, true);
      dv.setUint16(out + 28, facts.doubleTapMs ?? 0, true);
      dv.setUint16(out + 30, 0, true);
      m.fill(0, out + 32, out + 48);
      for (let i = 0; i < Math.min(16, facts.name.length); i++) m[out + 32 + i] = facts.name.charCodeAt(i) & 0x7f;
      m.fill(0, out + 48, out + 112);
      dv.setUint32(out + 112, facts.uf2Family, true);
      const web = facts.webUrl ? /^(https?):\/\/(.*)$/.exec(facts.webUrl) : null;
      if (web) {
        m[out + 48] = web[1] === "https" ? 1 : 0;
        for (let i = 0; i < Math.min(62, web[2].length); i++) m[out + 49 + i] = web[2].charCodeAt(i) & 0x7f;
      }
      if (facts.publicKey) m.set(facts.publicKey.subarray(0, 32), out + 116);
      if (facts.lockKey) m.set(facts.lockKey.subarray(0, 32), out + 148);
    },
    // Both HALs raise the clocks for DFU mode here (hal/<chip>/clocks.c), flash SCK with them.
    usb_init() { tick(); flash.setSckHz?.(facts.flashSckHz.dfu); usb.init(); },
    usb_poll(setup: number) { tick(); return usb.poll(mem(), setup); },
    usb_ep0_in(buf: number, len: number) { tick(); usb.in(mem(), buf, len); },
    usb_ep0_out(buf: number, max: number) { tick(); usb.out(buf, max); },
    usb_ep0_stall() { tick(); usb.stall(); },
    usb_set_address(addr: number) { tick(); usb.setAddress(addr); },
    usb_ep_open(ep: number, maxPacket: number) { tick(); usb.epOpen(ep, maxPacket); },
    usb_ep_xfer(ep: number, buf: number, len: number) { tick(); usb.epXfer(mem(), ep, buf, len); },
    usb_ep_stall(ep: number, on: number) { tick(); usb.epStall(ep, on !== 0); },
    flash_cmd(fmt: number, addr: number, buf: number, len: number) {
      tick();
      const m = mem();
      const data = m.subarray(buf, buf + (len >>> 0));
      if (data.length !== len >>> 0) throw new Error("flash_cmd buffer outside linear memory");
      return flash.command(fmt >>> 0, addr >>> 0, data);
    },
    flash_mmap(fmt: number) { tick(); return flash.mmap(fmt >>> 0); },
    mem_read32(addr: number) {
      tick();
      const b = mappedOffset(addr, 4);
      return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) | 0;
    },
    flash_mapped() { return facts.mappedAtReset ? 1 : 0; },
    time_us() {
      tick();
      if (ctx.resetAt && clock.now >= ctx.resetAt.t) { ctx.resetAt = undefined; throw new BoardHalt("reset"); }
      return clock.micros() | 0;
    },
    mem_compare(have: number, want: number, len: number) {
      tick();
      const n = len >>> 0;
      clock.advance(n / 400); // a word loop: about 8 bytes per cycle pair at 200 MHz, order of magnitude only
      const m = mem();
      let equal = true;
      for (let i = 0; i < n; i++) {
        const h = m[have + i], w = want ? m[want + i] : 0xff;
        if (h !== w) { equal = false; if ((h & w) !== w) return 0; }
      }
      return equal ? 2 : 1;
    },
    crc32_buf(crc: number, buf: number, len: number) {
      tick();
      clock.advance((len >>> 0) / 200); // hardware CRC: about 4 bytes per cycle at 200 MHz... order of magnitude only
      return crc32(crc >>> 0, mem().subarray(buf, buf + (len >>> 0))) | 0;
    },
    crc32_phys(crc: number, addr: number, len: number) {
      tick();
      const data = mappedOffset(addr, len >>> 0);
      clock.advance((len >>> 0) / 30); // bounded by the mapped read: ~30 bytes/us at 60 MHz quad
      return crc32(crc >>> 0, data) | 0;
    },
    flag_get() { tick(); return ctx.flags.value | 0; },
    flag_set(v: number) { tick(); ctx.flags.value = v >>> 0; },
    button() { tick(); return facts.hasButton && ctx.button.held ? 1 : 0; },
    chip_uid(out: number) { tick(); mem().set(facts.uid, out); return facts.uid.length; },
    system_reset() { throw new BoardHalt("reset"); },
    led_set(on: number) {
      tick();
      const led = ctx.led;
      if (!led || (on !== 0) === led.on) return;
      led.on = on !== 0;
      led.timeline.push({ t: clock.now, on: led.on });
    },
    jump(vectors: number) { throw new BoardHalt("jump", vectors >>> 0); },
  };
}

/** The import names in boot/hal.ts order; the pipeline test compares it with boot/ and hal/. */
export const HAL_IMPORT_NAMES = Object.keys(makeHalImports({} as HalContext));
