// A structured, seeded fuzz of the DFU interface, checking update safety after every step:
// the invariants of test/lib/safety.ts (every write inside the application region or the record
// sector; a VALID record always matches the flash; the board only boots an image a record
// vouches for), no trap, no reply longer than asked, and a normal download still working.
// Actions are pure data made from the seed alone, so any failing run replays exactly and can
// be shrunk (shrink() below) to a short sequence for a named regression test.
import { SimBoard } from "../../sim/board";
import { SimUsbHost, type Misbehave, type Setup } from "../../sim/usb-host";
import type { BoardName } from "../../sim/boards";
import type { FlashTiming } from "../../sim/flash-setup";
import { DfuRequests, Rng, ST, le32 } from "./dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./images";
import { geometry, SafetyWatch } from "./safety";

export type Action =
  | { k: "req"; s: Setup; data?: number[] | { image: number; chunk: number; len: number }; odd?: { skipStatus?: boolean; outLen?: number } }
  | { k: "busreset" }
  | { k: "power"; button: boolean }
  | { k: "cut"; after: number; when: "before" | "during" | "after" }
  | { k: "sleep"; ms: number }
  | { k: "download"; image: number; leave: boolean }
  | { k: "recover" }
  | { k: "midManifest"; image: number; trigger: "leave" | "stay" | "detach"; passes: number; then: "power" | "busreset" | "abort" | "dnload" | "detach" | "getstatus" | "poll" | "pollSkippingStatus" };

export interface FuzzOptions { board: BoardName; timing: FlashTiming; seed: number; steps: number }
export interface FuzzResult {
  violations: string[]; failedAt: number; actions: number; requests: number; counts: Record<string, number>;
  states: Record<string, number>; watch: SafetyWatch["counts"]; ms: number;
}

const IMAGE_SIZES = [8_000, 20_000, 70_000];
const DFU_TYPES = [0x21, 0xa1];

/** The fuzz's action sequence for a seed (independent of what the board does). */
export function makeActions(board: BoardName, seed: number, steps: number): Action[] {
  const rng = new Rng(seed);
  const base = appBase(board);
  const out: Action[] = [];
  const pick = <T>(xs: T[]) => xs[rng.int(xs.length)];
  const addr = () => {
    const r = rng.int(20);
    if (r < 12) return base;
    if (r < 17) return base + 4096 * rng.int(24);
    if (r < 18) return base - 4096;                   // the bootloader's region (RP2040) or before the flash
    return (base & 0xf0000000) + rng.int(0x1000000); // anywhere in the window, the record sector included
  };
  const dfu = (bRequest: number, wValue = 0, wLength = 0): Setup =>
    ({ bmRequestType: [2, 3, 5].includes(bRequest) ? 0xa1 : 0x21, bRequest, wValue, wIndex: 0, wLength });
  for (let i = 0; i < steps; i++) {
    const r = rng.int(1000);
    let a: Action;
    if (r < 200) a = { k: "req", s: dfu(3, 0, 6) };                                   // GETSTATUS
    else if (r < 350) {                                                                 // data block
      const image = rng.int(IMAGE_SIZES.length), chunk = rng.int(Math.ceil(IMAGE_SIZES[image] / 4096));
      const len = rng.int(8) ? Math.min(4096, IMAGE_SIZES[image] - chunk * 4096) : 1 + rng.int(4096);
      a = { k: "req", s: dfu(1, 2 + chunk, len), data: { image, chunk, len } };
    } else if (r < 430) a = { k: "req", s: dfu(1, 0, 5), data: [0x21, ...le32(addr())] };  // set address
    else if (r < 480) a = { k: "req", s: dfu(1, 0, 5), data: [0x41, ...le32(addr() & ~0xfff)] }; // erase
    else if (r < 483) a = { k: "req", s: dfu(1, 0, 1), data: [0x41] };                 // mass erase
    else if (r < 540) a = { k: "req", s: dfu(1, pick([0, 2, 2, 3]), 0) };              // zero-length: manifest / leave
    else if (r < 570) a = { k: "req", s: dfu(2, pick([0, 2, 3, 4]), pick([4, 64, 4096])) }; // UPLOAD
    else if (r < 630) a = { k: "req", s: dfu(6) };                                     // ABORT
    else if (r < 680) a = { k: "req", s: dfu(4) };                                     // CLRSTATUS
    else if (r < 700) a = { k: "req", s: dfu(5, 0, 1) };                               // GETSTATE
    else if (r < 730) a = { k: "req", s: dfu(0, 1000) };                               // DETACH
    else if (r < 760) {                                                                 // vendor: INFO, sector CRCs
      a = rng.int(2) ? { k: "req", s: { bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: pick([48, 64, 4]) } }
        : { k: "req", s: { bmRequestType: 0xc1, bRequest: 0x43, wValue: rng.int(3000), wIndex: 0, wLength: pick([4, 64, 4096, 4100, 8192, rng.int(0x10000)]) } };
    } else if (r < 780) a = { k: "busreset" };
    else if (r < 790) a = { k: "power", button: rng.int(4) !== 0 };
    else if (r < 805) a = { k: "cut", after: rng.int(12), when: pick(["before", "during", "after"] as const) };
    else if (r < 835) a = { k: "sleep", ms: rng.int(200) };
    else if (r < 840) a = { k: "download", image: rng.int(IMAGE_SIZES.length), leave: rng.int(3) !== 0 };
    else if (r < 880) a = { k: "recover" };
    else if (r < 900) {
      // Something written, manifestation started by one of its triggers, then an interruption
      // after a chosen number of main-loop passes (the CRC pass, the record's erase and program).
      a = { k: "midManifest", image: rng.int(IMAGE_SIZES.length), trigger: pick(["leave", "stay", "detach"] as const),
        passes: rng.int(4) ? rng.int(200) : rng.int(20000), then: pick(["power", "busreset", "abort", "dnload", "detach", "getstatus", "poll", "pollSkippingStatus"] as const) };
    }
    else if (r < 940) {                                                                 // a request whose host breaks the rules
      const inner = makeActions(board, rng.next(), 1)[0];
      if (inner.k !== "req") { i--; continue; }
      const wrongLen = !(inner.s.bmRequestType & 0x80) && rng.int(2) === 0;
      a = { ...inner, odd: wrongLen ? { outLen: Math.max(0, inner.s.wLength + pick([-64, -1, 1, 64, 100])) } : { skipStatus: true } };
    } else {                                                                            // anything at all
      const bmRequestType = rng.int(3) === 0 ? rng.int(256) : pick([...DFU_TYPES, 0x80, 0x00, 0x01, 0x81, 0xc0, 0x40, 0xc1, 0x41]);
      const wLength = pick([0, 1, 5, 6, 64, 255, 4096, 4097, rng.int(600)]);
      const s: Setup = { bmRequestType, bRequest: rng.int(4) ? rng.int(12) : rng.int(256), wValue: rng.int(2) ? pick([0, 1, 2, 3, 0x21, 0x41, 0x100, 0x200, 0x300]) : rng.int(0x10000), wIndex: rng.int(8) ? rng.int(2) : rng.int(0x10000), wLength };
      a = { k: "req", s, data: bmRequestType & 0x80 ? undefined : Array.from({ length: wLength }, () => rng.int(256)) };
    }
    out.push(a);
  }
  return out;
}


const templates = new Map<string, Uint8Array>();

/** Run `actions` on a fresh board that starts with image 0 installed and recorded. */
export async function runActions(board: BoardName, timing: FlashTiming, actions: Action[], opts: { finalDownload?: boolean } = {}): Promise<FuzzResult> {
  const started = Date.now();
  const b = await SimBoard.create({ board, timing });
  const images = IMAGE_SIZES.map((n, i) => fakeApp(board, n, 0x1000 + i));
  const host = new SimUsbHost(b, { transferOverheadUs: 0 });
  const key = `${board}`;
  if (!templates.has(key)) {
    b.powerOn();
    host.enumerate();
    const s = new DfuRequests(host).dfuUtilDownload(appBase(board), images[0], pageSizeAt(board, b.flash.data.length));
    if (s.state !== ST.dfuMANIFEST) throw new Error("fuzz set-up: the first download failed");
    templates.set(key, b.flash.data.slice());
  }
  b.flash.data.set(templates.get(key)!);
  b.powerOn({ button: true });
  host.enumerate();
  const g = geometry(host);
  const pages = pageSizeAt(board, g.flashSize);
  const watch = new SafetyWatch(b, g);
  const counts: Record<string, number> = {};
  const states: Record<string, number> = {};
  let failedAt = -1;
  const dfu = new DfuRequests(host);

  const ensureUp = () => {
    if (b.mode === "off") b.powerOn({ button: true });
    else if (b.mode === "app") b.powerOn({ button: true });
    if (b.mode === "bootloader" && !host.present()) b.powerOn({ button: true });
    if (b.mode === "bootloader") host.enumerate();
  };

  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    counts[a.k] = (counts[a.k] ?? 0) + 1;
    try {
      if (b.mode !== "bootloader" || !host.present()) ensureUp();
      switch (a.k) {
        case "req": {
          let data: Uint8Array | undefined;
          if (Array.isArray(a.data)) data = Uint8Array.from(a.data);
          else if (a.data) data = images[a.data.image].subarray(a.data.chunk * 4096, a.data.chunk * 4096 + a.data.len);
          if (data && data.length !== a.s.wLength) { const d = new Uint8Array(a.s.wLength).fill(0xa5); d.set(data.subarray(0, a.s.wLength)); data = d; }
          if (a.s.bmRequestType & 0x80) data = undefined;
          const odd: Misbehave = {};
          if (a.odd?.skipStatus) odd.skipStatus = true;
          if (a.odd?.outLen !== undefined && !(a.s.bmRequestType & 0x80)) {
            const d = new Uint8Array(a.odd.outLen).fill(0x5a);
            if (data) d.set(data.subarray(0, d.length));
            odd.outData = d;
          }
          const r = host.control(a.s, data, 1000, odd);
          counts[`req:${r.status}`] = (counts[`req:${r.status}`] ?? 0) + 1;
          if (r.status === "ok" && r.data.length > a.s.wLength) throw new Error(`reply of ${r.data.length} bytes for wLength ${a.s.wLength}`);
          if (a.s.bmRequestType === 0xa1 && r.status === "ok" && a.s.wIndex === 0) {
            const st = a.s.bRequest === 3 && r.data.length === 6 ? r.data[4] : a.s.bRequest === 5 && r.data.length === 1 ? r.data[0] : -1;
            if (st >= 0) states[st] = (states[st] ?? 0) + 1;
          }
          break;
        }
        case "busreset": host.reset(); break;
        case "power": b.powerOff(); b.powerOn({ button: a.button }); break;
        case "cut": b.flash.cutPowerAt(a.after, a.when); break;
        case "sleep": host.sleep(a.ms); break;
        case "download": {
          const s0 = dfu.getStatus();
          if (s0.state === ST.dfuERROR) dfu.clrStatus();
          dfu.abort();
          dfu.dfuUtilDownload(appBase(board), images[a.image], pages, a.leave);
          b.step();
          break;
        }
        case "recover": {
          // Liveness: whatever came before, a host can always bring the class back to dfuIDLE.
          let s0;
          try { s0 = dfu.getStatus(); } catch (e) {
            if (b.mode === "bootloader" && host.present()) watch.violations.push(`action ${i}: GETSTATUS refused (${e}): the class is stuck`);
            break;
          }
          if (s0.state === ST.dfuERROR) dfu.clrStatus();
          if (dfu.getStatus().state !== ST.dfuIDLE) dfu.abort();
          break;
        }
        case "midManifest": {
          const s0 = dfu.getStatus();
          if (s0.state === ST.dfuERROR) dfu.clrStatus();
          dfu.abort();
          dfu.setAddress(appBase(board));
          const img = images[a.image];
          dfu.chunk(img.subarray(0, 4096));
          if (a.trigger === "detach") { dfu.abort(); dfu.getStatus(); dfu.out(0, 1000); }
          else dfu.dnload(a.trigger === "leave" ? 2 : 0, new Uint8Array(0));
          for (let p = 0; p < a.passes && b.mode === "bootloader"; p++) if (!b.step()) b.idleUntil(b.clock.now + 100);
          watch.check(`action ${i} (mid-manifestation)`);
          if (b.mode !== "bootloader") break;
          if (a.then === "power") { b.powerOff(); b.powerOn({ button: true }); }
          else if (a.then === "busreset") host.reset();
          else if (a.then === "abort") dfu.abort();
          else if (a.then === "detach") dfu.out(0, 1000);
          else if (a.then === "getstatus") { const st = dfu.getStatus().state; states[st] = (states[st] ?? 0) + 1; }
          else if (a.then === "poll" || a.then === "pollSkippingStatus") {
            // As a host waits for manifestation: GETSTATUS until it is over, perhaps never
            // finishing a status stage; then a request that must still be answered.
            const odd = { skipStatus: a.then === "pollSkippingStatus" };
            for (let p = 0; p < 10000; p++) {
              const r = host.control({ bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 6 }, undefined, 1000, odd);
              if (r.status === "ok") states[r.data[4]] = (states[r.data[4]] ?? 0) + 1;
              if (r.status !== "ok" || r.data[4] !== ST.dfuMANIFEST_SYNC) break;
              host.sleep(r.data[1]);
            }
            b.runUntil(b.clock.now + 1000);
            if (b.mode === "bootloader" && host.present()) {
              const r = host.control({ bmRequestType: 0xa1, bRequest: 5, wValue: 0, wIndex: 0, wLength: 1 });
              if (r.status === "stall") watch.violations.push(`action ${i}: GETSTATE refused after manifestation: the class is stuck`);
            }
          }
          else { dfu.abort(); dfu.setAddress(appBase(board)); dfu.chunk(images[(a.image + 1) % images.length].subarray(0, 4096)); }
          break;
        }
      }
    } catch (e) {
      // A host-side exception is expected when the board loses power or leaves mid-sequence
      // (the DfuRequests helpers throw on any surprise); a trap or a device bug is not.
      const msg = String(e instanceof Error ? e.message : e);
      if (e instanceof WebAssembly.RuntimeError) watch.violations.push(`action ${i}: the core trapped: ${msg}`);
      else if (/reply of|device sent \d+ bytes|status stage: device sent/.test(msg)) watch.violations.push(`action ${i}: ${msg}`);
      else counts["host gave up"] = (counts["host gave up"] ?? 0) + 1;
    }
    watch.check(`action ${i}`);
    if (watch.violations.length && failedAt < 0) { failedAt = i; break; }
  }

  if (failedAt < 0 && opts.finalDownload !== false) {
    // Afterwards a normal download (as dfu-util does it) must work and boot exactly that image.
    b.flash.cutPowerAt(-1, "before");
    b.powerOff();
    b.powerOn({ button: true });
    host.enumerate();
    const s0 = dfu.getStatus();
    if (s0.state === ST.dfuERROR) dfu.clrStatus();
    dfu.abort();
    const img = images[2];
    const s = dfu.dfuUtilDownload(appBase(board), img, pages);
    b.step();
    watch.check("final download");
    const off = appBase(board) - b.facts.flashBase;
    if (s.state !== ST.dfuMANIFEST || b.mode !== "app") watch.violations.push(`final download: state ${s.state}, mode ${b.mode}`);
    else if (!b.flash.data.subarray(off, off + img.length).every((x, j) => x === img[j])) watch.violations.push("final download: the flash differs from the image");
    else if (watch.record().kind !== "valid") watch.violations.push("final download: no valid record");
    if (watch.violations.length) failedAt = actions.length;
  }
  watch.detach();
  return { violations: watch.violations, failedAt, actions: actions.length, requests: host.transfers, counts, states, watch: watch.counts, ms: Date.now() - started };
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  return runActions(o.board, o.timing, makeActions(o.board, o.seed, o.steps));
}

/** Delta debugging (ddmin): the shortest sub-sequence of `actions` that still fails. */
export async function shrink(board: BoardName, timing: FlashTiming, actions: Action[]): Promise<Action[]> {
  const fails = async (xs: Action[]) => (await runActions(board, timing, xs)).violations.length > 0;
  let cur = actions;
  let n = 2;
  while (cur.length >= 2) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n; i++) {
      const without = [...cur.slice(0, i * size), ...cur.slice((i + 1) * size)];
      if (without.length && await fails(without)) { cur = without; n = Math.max(n - 1, 2); reduced = true; break; }
    }
    if (!reduced) { if (n >= cur.length) break; n = Math.min(cur.length, n * 2); }
  }
  return cur;
}
