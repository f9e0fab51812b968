// The web page (tools/web/) in a real browser: Debian's chromium, driven by playwright-core.
// The board is the simulated one (sim/): the page's navigator.usb is replaced by a WebUSB shim
// whose transfers are carried to a SimUsbDevice in this process (simulated, so named: the
// browser's own WebUSB stack is not exercised, everything above it is: the page, the bundled
// DFU client and parsers, the DOM).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { serveWeb } from "../tools/web/serve";
import { loadImage } from "../tools/image/load";
import { writeHex } from "../tools/image/ihex";
import { appBase, fakeApp } from "./lib/images";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import type { BoardName } from "../sim/boards";
import { StRomDfu } from "../sim/h750/st-rom-dfu";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { PicobootRom } from "../sim/rp2040/picoboot";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";

const ROOT = join(import.meta.dirname, "..");
const CHROMIUM = "/usr/bin/chromium";

// In the page: a navigator.usb whose one device forwards every call to Node (window.__usb).
const SHIM = `(() => {
  // A device the test pulled out answers as Chrome's does for a disconnected one.
  const call = async function (m, ...a) {
    const r = await window.__usb(m, a, this.index);
    if (r && r.__gone) throw new DOMException("Failed to execute '" + m + "' on 'USBDevice': The device was disconnected.", "NotFoundError");
    return r;
  };
  const dv = (r) => r.data ? { status: r.status, data: new DataView(new Uint8Array(r.data).buffer) } : { status: r.status };
  const bytes = (d) => d === undefined ? undefined : Array.from(d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  const device = (info) => ({
    ...info, opened: false,
    async open() { await call.call(this, "open"); this.opened = true; },
    async close() { await call.call(this, "close"); this.opened = false; },
    async selectConfiguration() {}, async claimInterface(n) { await call.call(this, "claimInterface", n); }, async releaseInterface() {},
    async selectAlternateInterface(n, a) { await call.call(this, "selectAlternateInterface", n, a); },
    async controlTransferIn(s, l) { return dv(await call.call(this, "controlTransferIn", s, l)); },
    async controlTransferOut(s, d) { return await call.call(this, "controlTransferOut", s, bytes(d)); },
    async reset() { await call.call(this, "reset"); },
    async transferIn(ep, l) { return dv(await call.call(this, "transferIn", ep, l)); },
    async transferOut(ep, d) { return await call.call(this, "transferOut", ep, bytes(d)); },
    async clearHalt(dir, ep) { await call.call(this, "clearHalt", dir, ep); },
  });
  const usb = new EventTarget();
  // A browser keeps the permission across reloads: so does the stand-in (sessionStorage).
  const kept = sessionStorage.getItem("permitted");
  const permitted = kept ? [device(JSON.parse(kept))] : [];
  usb.requestDevice = async (o) => {
    const info = await window.__usb("request", [o]);
    if (!info) throw new DOMException("No device selected.", "NotFoundError");
    sessionStorage.setItem("permitted", JSON.stringify(info));
    const d = device(info);
    permitted.push(d);
    return d;
  };
  usb.getDevices = async () => permitted.slice();
  // The test's hands on the bus: the board leaves (disconnect) or comes back (connect).
  window.__plug = (info) => {
    if (!info) { const d = permitted.pop(); const e = new Event("disconnect"); e.device = d; usb.dispatchEvent(e); return; }
    const d = device(info); permitted.push(d); const e = new Event("connect"); e.device = d; usb.dispatchEvent(e);
  };
  Object.defineProperty(navigator, "usb", { value: usb });
})();`;

let shared: { browser: Browser; url: string; close(): Promise<void> } | undefined;
async function browserAndPage(): Promise<{ browser: Browser; url: string }> {
  if (!shared) {
    assert.ok(existsSync(CHROMIUM), "Debian's chromium is installed by npm run setup");
    const { server, url } = await serveWeb(0, join(ROOT, "build", "web-test"));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    shared = { browser, url, close: async () => { await browser.close(); server.close(); } };
  }
  return shared;
}
test.after(async () => { await shared?.close(); });

interface Harness {
  browser: Browser; page: Page; board: SimBoard; boards: SimBoard[]; stop(): Promise<void>; requested: unknown[]; info(): Promise<unknown>;
  /** Pull the first board out (its power goes with the cable) when the page sends its n-th DNLOAD. */
  pullAtDnload(n: number): void;
  /** Plug it back in: powered, enumerated, announced to the page. */
  replug(opts?: { button?: boolean }): Promise<void>;
}

/** Screenshots of each step: test artefacts, in build/ (never committed). */
const SHOTS = join(ROOT, "build", "test-artifacts", "web");
async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A page and the simulated boards it may find: `boardName` (or `more`: one per name) in DFU
 *  mode, or `rom`, a ROM model's device. Each chooser call picks the next board. */
async function open(boardName: BoardName | null, rom?: SimUsbDevice, more: BoardName[] = []): Promise<Harness> {
  const { browser, url } = await browserAndPage();
  const context = await browser.newContext();
  const page = await context.newPage();
  const devices: SimUsbDevice[] = rom ? [rom] : [];
  const boards: SimBoard[] = [];
  const requested: unknown[] = [];
  for (const [i, name] of (boardName ? [boardName, ...more] : []).entries()) {
    const board = await SimBoard.create({ board: name, serial: i });
    board.powerOn({ button: true });
    const host = new SimUsbHost(board);
    host.enumerate();
    const usb = new SimUsbDevice(host);
    await usb.open();
    boards.push(board);
    devices.push(usb);
  }
  const infoOf = async (index: number) => {
    const usb = devices[index];
    await usb.open();
    return { index, vendorId: usb.vendorId, productId: usb.productId, serialNumber: usb.serialNumber, productName: usb.productName, configuration: usb.configuration };
  };
  const info = () => infoOf(0);
  let chosen = 0;
  let pullAt = 0, dnloads = 0, gone = false;
  await page.exposeFunction("__usb", async (method: string, args: any[], index: number) => {
    if ((index ?? 0) === 0 && boards.length) {
      if (method === "controlTransferOut" && args[0]?.request === 1 && pullAt && ++dnloads === pullAt) {
        gone = true;
        boards[0].powerOff();
      }
      if (gone) return { __gone: true };
    }
    if (method === "request") {
      requested.push(args[0]);
      if (chosen >= devices.length) return null;
      return infoOf(chosen++);
    }
    const d = devices[index ?? 0] as any;
    if (method === "controlTransferIn") {
      const r = await d.controlTransferIn(args[0], args[1]);
      return { status: r.status, data: r.data ? Array.from(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)) : undefined };
    }
    if (method === "controlTransferOut") return d.controlTransferOut(args[0], args[1] ? Uint8Array.from(args[1]) : undefined);
    if (method === "transferIn") {
      const r = await d.transferIn(args[0], args[1]);
      return { status: r.status, data: r.data ? Array.from(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)) : undefined };
    }
    if (method === "transferOut") return d.transferOut(args[0], Uint8Array.from(args[1] ?? []));
    await d[method](...args);
    return null;
  });
  await page.addInitScript(SHIM);
  await page.goto(url);
  const pullAtDnload = (n: number) => { pullAt = n; dnloads = 0; };
  const replug = async (opts: { button?: boolean } = {}) => {
    boards[0].powerOn(opts);
    const host = new SimUsbHost(boards[0]);
    host.enumerate();
    devices[0] = new SimUsbDevice(host);
    gone = false; pullAt = 0;
    await page.evaluate((i) => (window as any).__plug(i), await info());
  };
  return { browser, page, board: boards[0], boards, requested, info, pullAtDnload, replug, stop: async () => { await context.close(); } };
}

test("the page connects to a board (WebUSB chooser filtered to qspiboot's IDs) and shows what the board says", async () => {
  const h = await open("rp2040");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    assert.equal(h.requested, [{ filters: [{ vendorId: 0x1209, productId: 0x0001 }] }]);
    assert.is(await h.page.textContent("#b-board"), "Raspberry Pi Pico (RP2040)");
    assert.match((await h.page.textContent("#b-flash"))!, /^2 MiB at 0x10000000 \(JEDEC ID 0x[0-9a-f]+\)$/);
    assert.is(await h.page.textContent("#b-image"), "none");
    assert.is(await h.page.textContent("#b-reason"), "no image");
  } finally { await h.stop(); }
});

test("pick a file: the page says what goes where before anything is touched, flashes with progress, and the board runs it", async () => {
  const h = await open("rp2040");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    const writes = h.board.flash.modifyingOps();
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => document.getElementById("plan")!.textContent!.includes("bytes to"));
    const [seg] = loadImage(join(ROOT, "build", "rp2040", "example.elf")).segments;
    const end = (seg.address + seg.data.length).toString(16).padStart(8, "0");
    assert.match((await h.page.textContent("#plan"))!, new RegExp(`^example\\.elf \\(elf\\): ${seg.data.length} bytes to 0x10010000-0x${end}`));
    assert.is(h.board.flash.modifyingOps(), writes, "nothing written yet");
    await h.page.click("#flash");
    await h.page.waitForFunction(() => /flashed|error/.test(document.getElementById("status")!.textContent!) , undefined, { timeout: 60_000 });
    assert.match((await h.page.textContent("#status"))!, /^flashed: 1 of 1 sectors sent \(0 already right\), [\d.]+ s; the board starts the application$/);
    assert.is(await h.page.getAttribute("#progress", "value"), "1");
    h.board.step();
    assert.is(h.board.mode, "app", "the simulated board left DFU mode into the application");
  } finally { await h.stop(); }
});

/** Drop a file on the page as a person drags it from their file manager. */
async function drop(page: Page, name: string, bytes: Uint8Array) {
  const dt = await page.evaluateHandle(({ name, data }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], name));
    return dt;
  }, { name, data: Array.from(bytes) });
  await page.dispatchEvent("#drop", "dragover", { dataTransfer: dt });
  await page.dispatchEvent("#drop", "drop", { dataTransfer: dt });
}

const statusText = (h: Harness) => h.page.textContent("#status").then((t) => t ?? "");
const waitStatus = (h: Harness, re: RegExp) =>
  h.page.waitForFunction((src) => new RegExp(src).test(document.getElementById("status")!.textContent!), re.source, { timeout: 60_000 });

test("as a person uses it: drop a file, unplugged mid-flash, plugged back, flash completes, flash again skips everything (screenshots in build/test-artifacts/web)", async () => {
  const h = await open("rp2040");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    await shot(h.page, "1-connected");
    const data = fakeApp("rp2040", 48 * 1024, 5);
    const hexFile = writeHex([{ address: appBase("rp2040"), data }]);
    await drop(h.page, "app.hex", new TextEncoder().encode(hexFile));
    await h.page.waitForFunction(() => document.getElementById("plan")!.textContent!.includes("bytes to"));
    assert.match((await h.page.textContent("#plan"))!, /^app\.hex \(hex\): 49152 bytes to 0x10010000-0x1001c000/);
    const ops = h.board.flash.modifyingOps();
    assert.is(ops, 0, "a dropped file only shows the plan");
    assert.ok(await h.page.isHidden("#address-row"), "no address to ask for: a .hex carries its own");
    await shot(h.page, "2-dropped");

    h.pullAtDnload(6);
    await h.page.click("#flash");
    await h.page.waitForFunction(() => document.getElementById("status")!.className === "error", undefined, { timeout: 60_000 });
    assert.match(await statusText(h), /^the board left DFU mode in the middle \(unplugged or reset\?\)/);
    await h.page.evaluate(() => (window as any).__plug(null));
    await h.page.waitForFunction(() => document.querySelectorAll("#boards tbody tr").length === 0);
    assert.match(await statusText(h), /^the board left DFU mode in the middle/, "the disconnect keeps the error's advice");
    assert.ok(await h.page.isDisabled("#flash"));
    await shot(h.page, "3-unplugged");

    await h.replug();
    await waitStatus(h, /back in DFU mode: reconnected/);
    assert.match((await h.page.textContent("#b-image"))!, /^none recorded/, "the half-written image is not recorded");
    assert.match((await h.page.textContent("#b-reason"))!, /interrupted/);
    await shot(h.page, "4-plugged-back");
    await h.page.click("#flash");
    await waitStatus(h, /^flashed|error/);
    const m = (await statusText(h)).match(/^flashed: (\d+) of (\d+) sectors sent \((\d+) already right\)/);
    assert.ok(m, await statusText(h));
    assert.ok(Number(m![3]) > 0 && Number(m![1]) < Number(m![2]), `only what the pulled flash had not written is sent: ${m![0]}`);
    await shot(h.page, "5-flashed");
    h.board.step();
    assert.is(h.board.mode, "app");
    assert.equal(h.board.flash.data.subarray(0x10000, 0x10000 + data.length), data);

    await h.page.evaluate(() => (window as any).__plug(null));
    await h.replug({ button: true });
    await waitStatus(h, /back in DFU mode: reconnected/);
    await h.page.click("#flash");
    await waitStatus(h, /^flashed|error/);
    assert.match(await statusText(h), /^flashed: 0 of (\d+) sectors sent \(\1 already right\)/);
    await shot(h.page, "6-flashed-again");
  } finally { await h.stop(); }
});

test("verify, read back, erase and start: each does what the CLI's command does, on the simulated board", async () => {
  const h = await open("rp2040");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    const status = async (re: RegExp) => {
      await h.page.waitForFunction((src) => new RegExp(src).test(document.getElementById("status")!.textContent!), re.source, { timeout: 60_000 });
      return (await h.page.textContent("#status"))!;
    };
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => !(document.getElementById("verify") as HTMLButtonElement).disabled);
    await h.page.click("#verify");
    assert.match(await status(/^verify: /), /^verify: 1 sector\(s\) differ, the first at 0x10010000$/);
    // Flash without starting: write through the same client the page uses, then verify again.
    await h.page.click("#flash");
    await status(/^flashed/);
    h.board.step();
    assert.is(h.board.mode, "app");
    h.board.powerOn({ button: true }); // back to DFU mode, as a person would bring it
    const again = new SimUsbHost(h.board); again.enumerate();
    await h.page.evaluate(() => location.reload());
    // No chooser after a reload: the page takes up the board it was allowed to use.
    await h.page.waitForFunction(() => /connected \(a board this page may use\)/.test(document.getElementById("status")!.textContent!));
    assert.match((await h.page.textContent("#b-image"))!, /^valid, \d+ bytes, CRC-32 0x[0-9a-f]{8}$/);
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => !(document.getElementById("verify") as HTMLButtonElement).disabled);
    await h.page.click("#verify");
    assert.is(await status(/^verify: /), "verify: the board holds this file");
    await h.page.click("#read");
    assert.match(await status(/^read |^nothing/), /^read \d+ bytes from 0x10010000$/);
    const download = h.page.waitForEvent("download");
    await h.page.click("#download");
    const saved = readFileSync(await (await download).path());
    assert.equal(new Uint8Array(saved.subarray(0, 8)), h.board.flash.data.subarray(0x10000, 0x10008), "the saved file is the board's image");
    h.page.once("dialog", (d) => d.accept());
    await h.page.click("#erase");
    assert.is(await status(/erased|error/), "application region erased");
    assert.is(await h.page.textContent("#b-image"), "none recorded (erased, or an update not finished: flash one)");
    await h.page.click("#boot");
    assert.match(await status(/starts|board found no valid/), /the board found no valid application to record and start \(errFIRMWARE\)/);
  } finally { await h.stop(); }
});

test("the page lets go of a board that leaves DFU mode and takes it up again when it comes back", async () => {
  const h = await open("rp2040");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => !(document.getElementById("flash") as HTMLButtonElement).disabled);
    await h.page.click("#flash");
    await h.page.waitForFunction(() => /^flashed/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 60_000 });
    h.board.step();
    await h.page.evaluate(() => (window as any).__plug(null));
    await h.page.waitForFunction(() => /left DFU mode/.test(document.getElementById("status")!.textContent!));
    assert.ok(await h.page.isDisabled("#flash"), "nothing to flash to");
    h.board.powerOn({ button: true });
    new SimUsbHost(h.board).enumerate();
    const info = await h.info();
    await h.page.evaluate((i) => (window as any).__plug(i), info);
    await h.page.waitForFunction(() => /back in DFU mode: reconnected/.test(document.getElementById("status")!.textContent!));
    assert.match((await h.page.textContent("#b-image"))!, /^valid, \d+ bytes/);
    assert.not.ok(await h.page.isDisabled("#flash"), "the chosen file can go again");
  } finally { await h.stop(); }
});

test("several boards: each connected board is listed, and Flash and start writes them all in parallel", async () => {
  const h = await open("rp2040", undefined, ["rp2040", "h750"]);
  try {
    for (let i = 0; i < 3; i++) await h.page.click("#connect");
    await h.page.waitForFunction(() => document.querySelectorAll("#boards tbody tr").length === 3);
    assert.ok(await h.page.isVisible("#boards"));
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    // The details are the last board's (the H750), which refuses the Pico file: connect order matters.
    await h.page.waitForFunction(() => document.getElementById("status")!.className === "error");
    assert.ok(await h.page.isDisabled("#flash"), "the last connected board would not boot it");
    // Take the H750 away: the two Picos remain.
    await h.page.evaluate(() => (window as any).__plug(null));
    await h.page.waitForFunction(() => document.querySelectorAll("#boards tbody tr").length === 2);
    await h.page.setInputFiles("#file", []);
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => !(document.getElementById("flash") as HTMLButtonElement).disabled);
    await h.page.click("#flash");
    await h.page.waitForFunction(() => /boards flashed/.test(document.getElementById("status")!.textContent!), undefined, { timeout: 60_000 });
    assert.match((await h.page.textContent("#status"))!, /^2 of 2 boards flashed in [\d.]+ s; they start the application$/);
    const rows = await h.page.$$eval("#boards tbody tr", (trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[3].textContent));
    assert.equal(rows, ["flashed: 1 of 1 sectors sent", "flashed: 1 of 1 sectors sent"]);
    for (const b of h.boards.slice(0, 2)) { b.step(); assert.is(b.mode, "app"); }
    assert.is(h.boards[2].flash.modifyingOps(), 0, "the H750 that was taken away got nothing");
  } finally { await h.stop(); }
});

test("a file the board would not boot is refused on the page with the CLI's words, and the flash button stays off", async () => {
  const h = await open("h750");
  try {
    await h.page.click("#connect");
    await h.page.waitForSelector("#board:not([hidden])");
    const ops = h.board.flash.modifyingOps();
    await h.page.setInputFiles("#file", join(ROOT, "build", "rp2040", "example.elf"));
    await h.page.waitForFunction(() => document.getElementById("status")!.className === "error");
    assert.match((await h.page.textContent("#status"))!, /0x10010000/);
    assert.ok(await h.page.isDisabled("#flash"));
    assert.is(h.board.flash.modifyingOps(), ops, "nothing erased or written");
  } finally { await h.stop(); }
});

test("no board chosen in the chooser: the page says so", async () => {
  const h = await open(null);
  try {
    await h.page.click("#connect");
    await h.page.waitForFunction(() => document.getElementById("status")!.textContent === "no board chosen");
    assert.ok(await h.page.isHidden("#board"));
  } finally { await h.stop(); }
});

test("install from the page: a Pico in BOOTSEL mode gets qspiboot through PICOBOOT, and boots it", async () => {
  const emu = new Rp2040Emu();
  emu.bootsel = true;
  emu.powerOn();
  const rom = new PicobootRom(emu);
  rom.reset();
  const h = await open(null, new SimUsbDevice(rom));
  try {
    await h.page.click("#install");
    await h.page.waitForFunction(() => /installed|error/.test(document.getElementById("status")!.textContent!) || document.getElementById("status")!.className === "error", undefined, { timeout: 120_000 });
    assert.match((await h.page.textContent("#status"))!, /^installed \d+ bytes of qspiboot on the Pico \(verified\); it reboots into qspiboot/);
    assert.equal(h.requested, [{ filters: [{ vendorId: 0x0483, productId: 0xdf11 }, { vendorId: 0x2e8a, productId: 0x0003 }] }]);
    const bin = readFileSync(join(ROOT, "build", "rp2040", "qspiboot.bin"));
    assert.equal(emu.nor.data.subarray(0, bin.length), new Uint8Array(bin));
    const resets = emu.resets.length;
    emu.bootsel = false;
    assert.ok(emu.runUntil(() => emu.resets.length > resets, 50_000_000));
    assert.ok(new Rp2040UsbHost(emu).waitForDevice(500), "the emulated Pico runs the qspiboot the page wrote");
  } finally { await h.stop(); }
});

test("install from the page: a WeAct H750 in ST's ROM gets qspiboot at 0x08000000, and the ROM jumps to it", async () => {
  const st = new StRomDfu();
  const h = await open(null, new SimUsbDevice(st));
  try {
    await h.page.click("#install");
    await h.page.waitForFunction(() => /installed/.test(document.getElementById("status")!.textContent!) || document.getElementById("status")!.className === "error", undefined, { timeout: 120_000 });
    assert.match((await h.page.textContent("#status"))!, /^installed \d+ bytes of qspiboot on the H750 \(verified\)/);
    const bin = readFileSync(join(ROOT, "build", "h750", "qspiboot.bin"));
    assert.equal(st.flash.subarray(0, bin.length), new Uint8Array(bin));
    assert.is(st.jumpedTo, 0x08000000);
  } finally { await h.stop(); }
});

test("the built page loads nothing from elsewhere: one bundled script, no CDN", () => {
  const html = readFileSync(join(ROOT, "tools", "web", "index.html"), "utf8");
  assert.not.match(html, /https?:\/\//);
  const js = readFileSync(join(ROOT, "build", "web-test", "app.js"), "utf8");
  assert.not.match(js, /import\(|require\("/);
});

test.run();
