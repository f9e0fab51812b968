// A DFU 1.1 + DfuSe client over the WebUSB USBDevice interface: the same code drives a real
// board (the `usb` package's WebUSB in Node, or a browser) and the simulator. No Node imports.
import type { USBDevice, USBControlTransferParameters } from "./webusb";
import { parseLayout, writableRange, type Layout } from "./layout";
import { crc32 } from "./crc32";
import { whyNotBootable } from "../image/bootable";

export const REQ = { DETACH: 0, DNLOAD: 1, UPLOAD: 2, GETSTATUS: 3, CLRSTATUS: 4, GETSTATE: 5, ABORT: 6 } as const;
export const STATE = {
  appIDLE: 0, appDETACH: 1, dfuIDLE: 2, dfuDNLOAD_SYNC: 3, dfuDNBUSY: 4, dfuDNLOAD_IDLE: 5,
  dfuMANIFEST_SYNC: 6, dfuMANIFEST: 7, dfuMANIFEST_WAIT_RESET: 8, dfuUPLOAD_IDLE: 9, dfuERROR: 10,
} as const;
export const STATUS_NAMES = ["OK", "errTARGET", "errFILE", "errWRITE", "errERASE", "errCHECK_ERASED", "errPROG",
  "errVERIFY", "errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR", "errUNKNOWN", "errSTALLEDPKT"];
const STATE_NAMES = Object.fromEntries(Object.entries(STATE).map(([k, v]) => [v, k]));

// qspiboot's vendor requests (boot/vendor.ts)
const VENDOR_INFO = 0x49;
const VENDOR_CRC = 0x43;

export class DfuError extends Error {
  /** The file is the problem (it would not boot, or lies outside the writable flash). */
  fileProblem = false;
  /** errFILE on a board with a key: why its check refused the image (from INFO). */
  check?: SignatureCheck;
  constructor(message: string, readonly status?: number, readonly state?: number) {
    super(status !== undefined ? `${message}: ${STATUS_NAMES[status] ?? status} (state ${STATE_NAMES[state!] ?? state})` : message);
  }
}

export interface DfuStatus { status: number; pollMs: number; state: number }
export interface Segment { address: number; data: Uint8Array }
export interface BoardInfo {
  boardId: number; board: string; bootloaderVersion: string; recordStatus: "none" | "valid" | "updating" | "bad";
  bootReason: string; flashBase: number; flashSize: number; sectorSize: number; jedecId: number;
  appStart: number; appEnd: number; recordOffset: number; imageLength: number; imageCrc: number; sequence: number;
  /** Where an application's initial stack pointer may point (undefined: an older bootloader). */
  ramStart?: number; ramEnd?: number;
  /** A board built with a key (signed updates): the Ed25519 public key images must be signed with. */
  publicKey?: Uint8Array;
  /** Signed boards: the highest firmware version accepted; an older image needs ALLOW_DOWNGRADE. */
  versionFloor?: number;
  /** Signed boards: the second update-record sector. */
  recordOffset2?: number;
  /** Signed boards: what the last signature check since reset found. */
  lastCheck?: SignatureCheck;
  /** A locked board: it gives no flash contents away; its sector digests are keyed, and
   *  imageCrc is 0. */
  locked?: boolean;
}
export type SignatureCheck = "none" | "accepted" | "not signed" | "changed after signing" | "another key" | "downgrade";
const CHECKS: SignatureCheck[] = ["none", "accepted", "not signed", "changed after signing", "another key", "downgrade"];
export interface Progress { phase: "check" | "erase" | "write" | "read" | "verify" | "manifest"; done: number; total: number }
export interface FlashReport { sectorsTotal: number; sectorsSent: number; bytesSent: number; erasedBlocks: number }

const BOARD_NAMES: Record<number, string> = { 1: "WeAct STM32H750", 2: "Raspberry Pi Pico (RP2040)" };
const REASONS = ["none", "application asked", "button held", "no flash chip", "no image", "update interrupted", "bad image", "core trapped", "double reset"];

export interface DfuOptions {
  /** Sleep used for bwPollTimeout: real time by default, simulated time for the simulator. */
  sleep?: (ms: number) => Promise<void>;
  /** A clock in milliseconds, the same time as `sleep`'s: for how long the device has been busy. */
  now?: () => number;
  /** For a locked board: the keyed digest it answers for the sector at flash offset `offset`
   *  holding `data` (tools/cli/lock.ts, with the lock key). Without it such a board's sectors
   *  are all sent, and verify cannot compare. */
  sectorDigest?: (offset: number, data: Uint8Array) => number;
}

// How long a device may stay busy before it counts as stuck (DfuDevice.pollWhile). A block
// waits for the board to write at most one transfer: two 64 KiB block erases when it straddles
// sectors (W25Q64JV/W25Q16JV datasheets: tBE2 max 2 s each) and 32 page programs (tPP max
// 3 ms), 4.1 s in all; 10 s is well past that. Manifestation may also have to do the erases
// the host asked for but never wrote over (the board erases block by block, never the whole
// chip): 4 s per 64 KiB of the region covers a 64 KiB erase (2 s max) and a chip that has
// only 32 KiB ones (tBE1 max 1.6 s, two of them), and the 10 s the few 4 KiB sectors at its end.
const BUSY_LIMIT_MS = 10_000;
const ERASE_MAX_MS_PER_64K = 4000;
// A device that answers "busy, ask again in 0 ms" is asked again after this, not at once: a
// stuck one must not be hammered, and the wait it is given then really passes.
const MIN_REPOLL_MS = 1;

export class DfuDevice {
  iface = 0;
  transferSize = 4096;
  attributes = 0;
  layout!: Layout;
  info?: BoardInfo;
  /** DfuOptions.sectorDigest; the flasher sets it once it has the signing key. */
  sectorDigest?: (offset: number, data: Uint8Array) => number;
  private sleep: (ms: number) => Promise<void>;
  private now: () => number;
  /** The last download sent, for saying what a device stuck busy was doing. */
  private lastDownload = "";

  constructor(readonly usb: USBDevice, opts: DfuOptions = {}) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? (() => globalThis.performance.now());
    this.sectorDigest = opts.sectorDigest;
  }

  /** Open the device, claim its DFU interface, read its layout and board info. */
  async open(): Promise<this> {
    if (!this.usb.opened) await this.usb.open();
    if (!this.usb.configuration) await this.usb.selectConfiguration(1);
    const cfg = await this.configDescriptor();
    const dfuItf = findDfuInterface(cfg);
    if (!dfuItf) throw new DfuError("the device has no DFU-mode interface (class FE/01/02)");
    this.iface = dfuItf.number;
    this.transferSize = dfuItf.transferSize;
    this.attributes = dfuItf.attributes;
    await this.usb.claimInterface(this.iface);
    await this.usb.selectAlternateInterface(this.iface, 0);
    this.layout = parseLayout(await this.stringDescriptor(dfuItf.iInterface));
    this.info = await this.readInfo().catch(() => undefined);
    return this;
  }

  async close(): Promise<void> {
    try { await this.usb.releaseInterface(this.iface); } catch { /* gone already */ }
    try { await this.usb.close(); } catch { /* gone already */ }
  }

  private setup(type: "standard" | "class" | "vendor", recipient: "device" | "interface", request: number, value: number, index: number): USBControlTransferParameters {
    return { requestType: type, recipient, request, value, index };
  }

  private async in(s: USBControlTransferParameters, length: number, what: string): Promise<Uint8Array> {
    const r = await this.usb.controlTransferIn(s, length);
    if (r.status === "stall") throw new DfuError(`${what}: the device refused (stall)`);
    if (r.status !== "ok" || !r.data) throw new DfuError(`${what}: transfer failed (${r.status})`);
    return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  }

  private async out(s: USBControlTransferParameters, data: Uint8Array | undefined, what: string): Promise<void> {
    const r = await this.usb.controlTransferOut(s, data);
    if (r.status === "stall") {
      const st = await this.getStatus().catch(() => undefined);
      throw new DfuError(`${what}: the device refused`, st?.status, st?.state);
    }
    if (r.status !== "ok") throw new DfuError(`${what}: transfer failed (${r.status})`);
  }

  async configDescriptor(): Promise<Uint8Array> {
    const head = await this.in(this.setup("standard", "device", 6, 0x0200, 0), 9, "configuration descriptor");
    return this.in(this.setup("standard", "device", 6, 0x0200, 0), head[2] | (head[3] << 8), "configuration descriptor");
  }

  async stringDescriptor(index: number): Promise<string> {
    const d = await this.in(this.setup("standard", "device", 6, 0x0300 | index, 0x0409), 255, `string ${index}`);
    let s = "";
    for (let i = 2; i + 1 < d.length; i += 2) s += String.fromCharCode(d[i] | (d[i + 1] << 8));
    return s;
  }

  async readInfo(): Promise<BoardInfo> {
    const d = await this.in(this.setup("vendor", "interface", VENDOR_INFO, 0, this.iface), 128, "board info");
    if (d.length < 48) throw new DfuError("board info: short reply");
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const bcd = v.getUint16(2, true);
    return {
      boardId: v.getUint8(4), board: BOARD_NAMES[v.getUint8(4)] ?? `board ${v.getUint8(4)}`,
      bootloaderVersion: `${bcd >> 8}.${(bcd & 0xff).toString(16).padStart(2, "0")}`,
      recordStatus: (["none", "valid", "updating", "bad"] as const)[v.getUint8(5)] ?? "bad",
      bootReason: REASONS[v.getUint8(6)] ?? "unknown",
      flashBase: v.getUint32(8, true), flashSize: v.getUint32(12, true), sectorSize: v.getUint32(16, true),
      jedecId: v.getUint32(20, true), appStart: v.getUint32(24, true), appEnd: v.getUint32(28, true), recordOffset: v.getUint32(32, true),
      imageLength: v.getUint32(36, true), imageCrc: v.getUint32(40, true), sequence: v.getUint32(44, true),
      ...(d.length >= 56 ? { ramStart: v.getUint32(48, true), ramEnd: v.getUint32(52, true) } : {}),
      ...(d.length >= 88 && (v.getUint8(7) & 1) ? { publicKey: d.slice(56, 88) } : {}),
      ...((v.getUint8(7) & 3) === 3 ? { locked: true } : {}),
      ...(d.length >= 100 && (v.getUint8(7) & 1) ? {
        versionFloor: v.getUint32(88, true), recordOffset2: v.getUint32(92, true), lastCheck: CHECKS[v.getUint8(96)] ?? "none",
      } : {}),
    };
  }

  // ---- DFU requests ----
  private cls(request: number, value = 0) { return this.setup("class", "interface", request, value, this.iface); }

  async getStatus(): Promise<DfuStatus> {
    const d = await this.in(this.cls(REQ.GETSTATUS), 6, "GETSTATUS");
    if (d.length < 6) throw new DfuError("GETSTATUS: short reply");
    return { status: d[0], pollMs: d[1] | (d[2] << 8) | (d[3] << 16), state: d[4] };
  }
  async clrStatus() { await this.out(this.cls(REQ.CLRSTATUS), undefined, "CLRSTATUS"); }
  async abort() { await this.out(this.cls(REQ.ABORT), undefined, "ABORT"); }
  async detach(timeoutMs = 1000) { await this.out(this.cls(REQ.DETACH, timeoutMs), undefined, "DETACH"); }

  /** Bring a device left in any state (by an interrupted client) back to dfuIDLE. */
  async recover(): Promise<void> {
    let s = await this.getStatus();
    if (s.state === STATE.dfuERROR) { await this.clrStatus(); s = await this.getStatus(); }
    if (s.state !== STATE.dfuIDLE) { await this.abort(); s = await this.getStatus(); }
    if (s.state !== STATE.dfuIDLE) throw new DfuError("the device does not return to dfuIDLE", s.status, s.state);
  }

  /**
   * GETSTATUS until the state is none of `busy`, sleeping each poll timeout. Gives up once the
   * device has been busy for longer than the flash can take (BUSY_LIMIT_MS, more in
   * manifestation, or four times the longest poll timeout the device asked for): the time is
   * the clock's or the poll timeouts slept, whichever is more, so a device that answers
   * "0 ms" forever is given up on as surely as one that asks for long waits.
   */
  private async pollWhile(busy: number[]): Promise<DfuStatus> {
    const start = this.now();
    const base = busy.includes(STATE.dfuMANIFEST_SYNC) ? BUSY_LIMIT_MS + this.blockErasesMs() : BUSY_LIMIT_MS;
    let slept = 0, longest = 0;
    for (let i = 0; ; i++) {
      const s = await this.getStatus();
      if (s.state === STATE.dfuERROR) throw new DfuError("the device reports an error", s.status, s.state);
      if (!busy.includes(s.state)) return s;
      longest = Math.max(longest, s.pollMs);
      const limit = Math.max(base, 4 * longest);
      const waited = Math.max(this.now() - start, slept);
      if (waited >= limit) {
        throw new DfuError(`the device stayed busy (${STATE_NAMES[s.state] ?? s.state}) for ${(waited / 1000).toFixed(1)} s after ${this.lastDownload || "the last request"}, ` +
          `longer than its flash can take (${(limit / 1000).toFixed(0)} s): it is stuck. Reset the board (unplug it) and flash again`);
      }
      const ms = i === 0 ? s.pollMs : Math.max(s.pollMs, MIN_REPOLL_MS);
      await this.sleep(ms);
      slept += ms;
    }
  }

  /** The datasheets' maximum for erasing the whole writable region block by block. */
  private blockErasesMs(): number {
    const bytes = this.layout.segments.filter((g) => g.writable).reduce((a, g) => a + g.end - g.start, 0);
    return Math.ceil(bytes / 0x10000) * ERASE_MAX_MS_PER_64K;
  }

  private async dnload(block: number, data: Uint8Array, what: string): Promise<void> {
    this.lastDownload = what;
    await this.out(this.cls(REQ.DNLOAD, block), data, what);
  }

  /** A DfuSe command: runs at the first GETSTATUS, which answers dfuDNBUSY. */
  async command(bytes: number[], what: string): Promise<void> {
    await this.dnload(0, Uint8Array.from(bytes), what);
    await this.pollWhile([STATE.dfuDNBUSY, STATE.dfuDNLOAD_SYNC]);
  }
  async setAddress(addr: number) { await this.command([0x21, ...le32(addr)], `set address 0x${hex(addr)}`); }
  async erasePage(addr: number) { await this.command([0x41, ...le32(addr)], `erase page 0x${hex(addr)}`); }
  async massErase() { await this.command([0x41], "mass erase"); }

  /** What the board answers per sector for sector number s holding `data`: its CRC-32, or on a
   *  locked board the keyed digest (undefined without the lock key: no comparing then). */
  private digestFor(sector: number): ((s: number, data: Uint8Array) => number) | undefined {
    if (!this.info?.locked) return (_s, data) => crc32(0, data);
    const keyed = this.sectorDigest;
    return keyed ? (s, data) => keyed(s * sector, data) : undefined;
  }

  /** Per-sector CRC-32s (keyed digests on a locked board) of `count` sectors from flash offset `first * sector`. */
  async sectorCrcs(firstSector: number, count: number): Promise<number[]> {
    const out: number[] = [];
    for (let done = 0; done < count;) {
      const n = Math.min(count - done, 1024);
      const d = await this.in(this.setup("vendor", "interface", VENDOR_CRC, firstSector + done, this.iface), n * 4, "sector CRCs");
      if (d.length !== n * 4) throw new DfuError("sector CRCs: short reply");
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      for (let i = 0; i < n; i++) out.push(v.getUint32(4 * i, true));
      done += n;
    }
    return out;
  }

  /** Refuse, before anything is erased, a file the board would not boot (unless `force`: then
   *  only what lies outside the writable flash), naming the likely cause. */
  checkImage(segments: Segment[], force = false): void {
    const i = this.info;
    if (!force && i) {
      const why = whyNotBootable(segments, {
        flashBase: i.flashBase, appStart: i.flashBase + i.appStart, appEnd: i.flashBase + i.appEnd,
        ramStart: i.ramStart, ramEnd: i.ramEnd, boardId: i.boardId,
      });
      if (why) throw Object.assign(new DfuError(`${why}. Nothing was written (--force writes it anyway)`), { fileProblem: true });
    }
    this.checkWritable(segments);
  }

  /** Refuse anything that is not entirely in the writable part of the layout. */
  checkWritable(segments: Segment[]): void {
    for (const s of segments) {
      if (!writableRange(this.layout, s.address, s.address + s.data.length)) {
        throw Object.assign(new DfuError(`0x${hex(s.address)}..0x${hex(s.address + s.data.length)} is not inside the board's writable flash (${this.layoutText()})`), { fileProblem: true });
      }
    }
  }

  layoutText(): string {
    return this.layout.segments.filter((s) => s.writable).map((s) => `0x${hex(s.start)}-0x${hex(s.end)}`).join(", ");
  }

  /**
   * Write the segments: whole sectors (gaps and ends filled with FFh), only the sectors whose
   * CRC differs from the board's (when it can tell), with a block erase for every erase block
   * that changes entirely. Then, with `leave`, manifest and start the application.
   */
  async flash(segments: Segment[], opts: { leave?: boolean; smart?: boolean; force?: boolean; progress?: (p: Progress) => void } = {}): Promise<FlashReport> {
    this.checkImage(segments, opts.force);
    await this.recover();
    const base = this.layout.segments[0].start;
    const sector = this.info?.sectorSize ?? 4096;
    const sectors = toSectors(segments, sector, base);
    let todo = [...sectors.keys()].sort((a, b) => a - b);
    const total = todo.length;
    const digest = this.digestFor(sector);
    if (opts.smart !== false && this.info && todo.length && digest) {
      opts.progress?.({ phase: "check", done: 0, total: 0 });
      const first = todo[0], last = todo[todo.length - 1];
      const crcs = await this.sectorCrcs(first, last - first + 1);
      todo = todo.filter((s) => crcs[s - first] !== digest(s, sectors.get(s)!));
      // A download that writes the application start records exactly what it wrote, up to
      // its last byte; one that does not keeps the old record's length. Unless the board's
      // valid record already spans exactly this image, the first and the last sector go again
      // (an unchanged sector costs the board a compare, no erase): then a shorter image after a
      // longer one is recorded short, and a complete image the record does not vouch for (a
      // power cut before the record was written, dfu-util -D without :leave) gets checked and
      // recorded instead of "nothing written".
      if (!this.recordSpans(first, last, sector)) todo = [...new Set([first, ...todo, last])].sort((a, b) => a - b);
    }
    // Erase blocks that change entirely with one command each: the board erases a whole block
    // only when all its sectors were asked for. Each command goes out just before the block's
    // first data, so its USB round trips overlap the flash work on the blocks before it.
    const eraseBefore = new Map<number, number>(); // first sector sent in a block -> block address
    const changed = new Set(todo);
    const blockSeen = new Set<number>();
    for (const s of todo) {
      const addr = base + s * sector;
      const seg = this.layout.segments.find((g) => addr >= g.start && addr < g.end)!;
      const per = seg.pageSize / sector;
      const first = s - (s % per);
      if (per <= 1 || blockSeen.has(first)) continue;
      blockSeen.add(first);
      let all = true;
      for (let i = 0; i < per; i++) if (!changed.has(first + i)) { all = false; break; }
      if (all) eraseBefore.set(s, base + first * sector);
    }
    const erasedBlocks = eraseBefore.size;
    // Runs of consecutive sectors go out as blocks 2, 3, 4 ... after one set-address. From here
    // on the board may change its flash (a caller interrupted now must say so).
    let sent = 0;
    if (todo.length) opts.progress?.({ phase: "write", done: 0, total: todo.length * sector });
    for (let i = 0; i < todo.length;) {
      let j = i;
      while (j + 1 < todo.length && todo[j + 1] === todo[j] + 1 && (j + 1 - i) * sector / this.transferSize < 60000) j++;
      await this.setAddress(base + todo[i] * sector);
      for (let k = i; k <= j; k++) {
        const page = eraseBefore.get(todo[k]);
        if (page !== undefined) await this.erasePage(page);
        const data = sectors.get(todo[k])!;
        for (let o = 0; o < data.length; o += this.transferSize) {
          const block = 2 + ((k - i) * sector + o) / this.transferSize;
          await this.dnload(block, data.subarray(o, o + this.transferSize), `write 0x${hex(base + todo[k] * sector + o)}`);
          await this.pollWhile([STATE.dfuDNBUSY, STATE.dfuDNLOAD_SYNC]);
        }
        sent++;
        opts.progress?.({ phase: "write", done: sent * sector, total: todo.length * sector });
      }
      i = j + 1;
    }
    const report = { sectorsTotal: total, sectorsSent: todo.length, bytesSent: todo.length * sector, erasedBlocks };
    // Verified and recorded first (the board answers the result), then started.
    await this.manifest(opts.progress);
    if (opts.leave) await this.leave(opts.progress);
    return report;
  }

  /** Does the board's valid record span exactly sectors first..last? (Its CRC is the board's
   *  to recompute over whatever changed.) */
  private recordSpans(first: number, last: number, sector: number): boolean {
    const i = this.info;
    return !!i && i.recordStatus === "valid" && first * sector === i.appStart && i.imageLength === (last + 1 - first) * sector;
  }

  /**
   * Plain DfuSe write (ST's ROM and any DfuSe device; no vendor requests): set the address,
   * then blocks 2, 3, ... of wTransferSize. The pages must have been erased.
   */
  async download(address: number, data: Uint8Array, progress?: (p: Progress) => void): Promise<void> {
    await this.setAddress(address);
    for (let o = 0; o < data.length; o += this.transferSize) {
      await this.dnload(2 + o / this.transferSize, data.subarray(o, o + this.transferSize), `write 0x${hex(address + o)}`);
      await this.pollWhile([STATE.dfuDNBUSY, STATE.dfuDNLOAD_SYNC]);
      progress?.({ phase: "write", done: Math.min(data.length, o + this.transferSize), total: data.length });
    }
  }

  /** Finish: the board verifies the image, records it and starts it (DfuSe "leave"; at
   *  `address`, or the start of the writable flash, unless a download has just set it). The
   *  board answers dfuMANIFEST while it verifies and leaves once the image is recorded: the
   *  leave is done when the device is gone; an image it cannot record comes back as dfuERROR. */
  async leave(progress?: (p: Progress) => void, address?: number): Promise<void> {
    progress?.({ phase: "manifest", done: 0, total: 1 });
    const s0 = await this.getStatus();
    if (s0.state !== STATE.dfuDNLOAD_IDLE || address !== undefined) {
      if (s0.state !== STATE.dfuIDLE && s0.state !== STATE.dfuDNLOAD_IDLE) await this.recover();
      await this.setAddress(address ?? this.layout.segments.find((s) => s.writable)!.start);
    }
    await this.dnload(2, new Uint8Array(0), "leave");
    try {
      await this.pollWhile([STATE.dfuMANIFEST_SYNC, STATE.dfuMANIFEST]);
    } catch (e) {
      if (!isGone(e)) throw await this.withCheck(e);
    }
    progress?.({ phase: "manifest", done: 1, total: 1 });
  }

  /** Finish without leaving: the board verifies and records the image and stays in DFU mode
   *  (qspiboot: a zero-length download with block 0). */
  async manifest(progress?: (p: Progress) => void): Promise<void> {
    progress?.({ phase: "manifest", done: 0, total: 1 });
    const s0 = await this.getStatus();
    if (s0.state !== STATE.dfuDNLOAD_IDLE) return; // nothing was downloaded in this session
    await this.dnload(0, new Uint8Array(0), "manifest");
    const s = await this.pollWhile([STATE.dfuMANIFEST_SYNC, STATE.dfuMANIFEST]).catch(async (e) => { throw await this.withCheck(e); });
    if (s.state !== STATE.dfuIDLE) throw await this.withCheck(new DfuError("manifestation did not end in dfuIDLE", s.status, s.state));
    progress?.({ phase: "manifest", done: 1, total: 1 });
  }

  /** An errFILE from a board with a key: ask it which check refused the image. */
  private async withCheck(e: unknown): Promise<unknown> {
    if (!(e instanceof DfuError) || e.status !== 0x02 || !this.info?.publicKey) return e;
    try {
      e.check = (await this.readInfo()).lastCheck;
    } catch { /* the error itself says enough */ }
    return e;
  }

  /** Read `length` bytes at `addr` (DfuSe upload). */
  async read(addr: number, length: number, progress?: (p: Progress) => void): Promise<Uint8Array> {
    if (this.info?.locked) throw new DfuError("the board is locked (built with --locked): it gives no flash contents away over USB");
    await this.recover();
    await this.setAddress(addr);
    await this.abort();
    const out = new Uint8Array(length);
    let got = 0;
    for (let block = 2; got < length; block++) {
      const want = Math.min(this.transferSize, length - got);
      const d = await this.in(this.cls(REQ.UPLOAD, block), want, `read 0x${hex(addr + got)}`);
      out.set(d, got);
      got += d.length;
      progress?.({ phase: "read", done: got, total: length });
      if (d.length < want) throw new DfuError(`read: the board has no readable memory past 0x${hex(addr + got)}`);
    }
    await this.abort();
    return out;
  }

  /** The board's CRC per sector compared with the image's: the sectors that differ. */
  async verify(segments: Segment[]): Promise<number[]> {
    const base = this.layout.segments[0].start;
    const sector = this.info?.sectorSize ?? 4096;
    const sectors = toSectors(segments, sector, base);
    const keys = [...sectors.keys()].sort((a, b) => a - b);
    if (!keys.length) return [];
    const digest = this.digestFor(sector);
    if (!digest) throw new DfuError("the board is locked (built with --locked): its sector digests are keyed; compare with the signing key (--key)");
    await this.recover();
    const crcs = await this.sectorCrcs(keys[0], keys[keys.length - 1] - keys[0] + 1);
    return keys.filter((s) => crcs[s - keys[0]] !== digest(s, sectors.get(s)!)).map((s) => base + s * sector);
  }

  /** Erase the whole application region (DfuSe mass erase: the board keeps itself and its record). */
  async eraseAll(): Promise<void> {
    await this.recover();
    await this.massErase();
    await this.abort();
    // The board erases once the download is over; its info request waits until it is done.
    await this.readInfo();
  }
}

/** Sector index -> full sector contents (FFh where the segments leave gaps). */
export function toSectors(segments: Segment[], sector: number, base: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const seg of segments) {
    for (let a = seg.address; a < seg.address + seg.data.length;) {
      const s = Math.floor((a - base) / sector);
      const start = base + s * sector;
      let buf = out.get(s);
      if (!buf) { buf = new Uint8Array(sector).fill(0xff); out.set(s, buf); }
      const n = Math.min(start + sector, seg.address + seg.data.length) - a;
      buf.set(seg.data.subarray(a - seg.address, a - seg.address + n), a - start);
      a += n;
    }
  }
  return out;
}

interface DfuItf { number: number; iInterface: number; transferSize: number; attributes: number }
function findDfuInterface(cfg: Uint8Array): DfuItf | undefined {
  let itf: DfuItf | undefined;
  for (let o = 0; o + 1 < cfg.length && cfg[o] >= 2; o += cfg[o]) {
    const t = cfg[o + 1];
    if (t === 4) {
      // Further alternates of the DFU interface (ST's ROM: option bytes, OTP) may come between
      // alternate 0 and the functional descriptor: keep alternate 0.
      if (itf && cfg[o + 2] === itf.number && cfg[o + 3] !== 0) continue;
      itf = cfg[o + 5] === 0xfe && cfg[o + 6] === 1 && cfg[o + 7] === 2 && cfg[o + 3] === 0
        ? { number: cfg[o + 2], iInterface: cfg[o + 8], transferSize: 4096, attributes: 0 } : undefined;
      if (itf) continue;
    }
    if (t === 0x21 && itf) {
      itf.attributes = cfg[o + 2];
      itf.transferSize = cfg[o + 5] | (cfg[o + 6] << 8);
      return itf;
    }
  }
  return itf;
}

function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }
export function hex(v: number): string { return (v >>> 0).toString(16).padStart(8, "0"); }

/** The device went away (reset, unplugged): what a transfer error looks like from each USB layer. */
export function isGone(e: unknown): boolean {
  const err = e as Error;
  return err?.name === "NotFoundError" || /disconnected|LIBUSB_ERROR_NO_DEVICE|nodevice|no device/i.test(err?.message ?? "");
}
