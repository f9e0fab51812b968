// The web page's logic: the very DFU client and file parsers the CLI uses (tools/dfu/,
// tools/image/), on the browser's WebUSB. Bundled by tools/web/build.ts.
import { DfuDevice, hex, type Progress } from "../dfu/client";
import type { USBDevice } from "../dfu/webusb";
import { friendly, imageState } from "../dfu/messages";
import { imageFor } from "../dfu/board-image";
import { imageSize, type Segment } from "../image/segments";
import { installBootloader, ST_ROM } from "../dfu/rom-install";
import { PicobootDevice, RP2040_ROM, isRp2040Rom } from "../picoboot/client";
import { installPico } from "../picoboot/install";

/** qspiboot's USB IDs (boot/descriptors.ts; tools/udev/60-qspiboot.rules). */
const QSPIBOOT = { vendorId: 0x1209, productId: 0x0001 };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
/** The board the details and single-board buttons are about (the last connected). */
let dev: DfuDevice | null = null;
/** Every connected board: "Flash and start" writes them all, in parallel. */
const boards: DfuDevice[] = [];
let file: { name: string; bytes: Uint8Array } | null = null;
let segments: Segment[] | null = null;

const BOARD_BUTTONS = ["read", "erase", "boot"];

function enable() {
  $<HTMLButtonElement>("flash").disabled = $<HTMLButtonElement>("verify").disabled = !(dev && segments);
  for (const id of BOARD_BUTTONS) $<HTMLButtonElement>(id).disabled = !dev;
}

/** One board operation at a time; its error in the CLI's words; the board's state shown after. */
async function run(what: string, fn: (d: DfuDevice) => Promise<string>) {
  if (!dev) return;
  for (const id of ["flash", "verify", ...BOARD_BUTTONS]) $<HTMLButtonElement>(id).disabled = true;
  status(`${what}...`);
  try {
    status(await fn(dev));
  } catch (e: any) {
    status(friendly(e), true);
  } finally {
    enable();
  }
}

function status(text: string, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function rowOf(d: DfuDevice): HTMLTableRowElement {
  const id = `row-${boards.indexOf(d)}`;
  return document.getElementById(id) as HTMLTableRowElement;
}

function renderBoards() {
  const body = $("boards").querySelector("tbody")!;
  body.textContent = "";
  boards.forEach((d, i) => {
    const tr = document.createElement("tr");
    tr.id = `row-${i}`;
    for (const text of [d.usb.serialNumber ?? "", d.info?.board ?? "?", d.info ? imageState(d.info) : "?", ""]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  });
  $("boards").hidden = boards.length < 2;
}

function showBoard() {
  const i = dev!.info!;
  $("board").hidden = false;
  $("b-board").textContent = i.board;
  $("b-serial").textContent = dev!.usb.serialNumber ?? "";
  $("b-version").textContent = i.bootloaderVersion;
  $("b-flash").textContent = `${i.flashSize >> 20} MiB at 0x${hex(i.flashBase)} (JEDEC ID 0x${(i.jedecId >>> 0).toString(16)})`;
  $("b-image").textContent = imageState(i);
  $("b-reason").textContent = i.bootReason;
}

/** What will be written where, before anything is touched; a file the board would not boot is
 *  refused here with the CLI's words. */
function plan() {
  segments = null;
  enable();
  if (!file) return;
  $("address-row").hidden = !/\.bin$/i.test(file.name);
  if (!dev) { $("plan").textContent = `${file.name}: connect a board to see where it goes`; return; }
  try {
    const text = $<HTMLInputElement>("address").value.trim();
    const img = imageFor(dev, file.name, file.bytes, text ? Number(text) : undefined);
    dev.checkImage(img.segments);
    segments = img.segments;
    const first = segments[0].address, last = segments[segments.length - 1];
    $("plan").textContent = `${file.name} (${img.format}): ${imageSize(segments)} bytes to 0x${hex(first)}-0x${hex(last.address + last.data.length)}` +
      (img.warnings.length ? `. ${img.warnings.join("; ")}` : "");
    enable();
  } catch (e: any) {
    $("plan").textContent = "";
    status(friendly(e), true);
  }
}

const isQspiboot = (d: { vendorId: number; productId: number }) => d.vendorId === QSPIBOOT.vendorId && d.productId === QSPIBOOT.productId;

async function use(usb: USBDevice, how: string) {
  dev = await new DfuDevice(usb).open();
  const same = boards.findIndex((b) => b.usb === usb || (b.usb.serialNumber && b.usb.serialNumber === usb.serialNumber));
  if (same >= 0) boards[same] = dev; else boards.push(dev);
  renderBoards();
  showBoard();
  status(how);
  enable();
  plan();
}

async function connect() {
  try {
    await use(await navigator.usb.requestDevice({ filters: [QSPIBOOT] }) as unknown as USBDevice, "connected");
  } catch (e: any) {
    if (e?.name === "NotFoundError" && !dev) return status("no board chosen");
    status(friendly(e), true);
  }
}

async function flash() {
  if (!dev || !segments) return;
  if (boards.length > 1) return flashAll();
  const bar = $<HTMLProgressElement>("progress");
  bar.hidden = false;
  for (const id of ["flash", "verify", ...BOARD_BUTTONS]) $<HTMLButtonElement>(id).disabled = true;
  const t0 = performance.now();
  let phaseStart = t0, phase = "";
  const onProgress = (p: Progress) => {
    if (p.phase !== phase) { phase = p.phase; phaseStart = performance.now(); }
    bar.value = p.total ? p.done / p.total : 0;
    const s = (performance.now() - phaseStart) / 1000;
    const rate = p.phase === "write" && s > 0 ? p.done / s : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : 0;
    status(`${p.phase} ${Math.floor(100 * bar.value)}%` + (rate ? `, ${(rate / 1024).toFixed(0)} KiB/s, ${eta.toFixed(1)} s left` : ""));
  };
  try {
    const r = await dev.flash(segments, { leave: true, progress: onProgress });
    $("b-image").textContent = "written and started (connect again to see the board)";
    bar.value = 1;
    status(`flashed: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent (${r.sectorsTotal - r.sectorsSent} already right), ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s; the board starts the application`);
  } catch (e: any) {
    status(friendly(e), true);
  } finally {
    enable();
  }
}

/** Several boards: each gets the file, in parallel; a row per board says how it went. */
async function flashAll() {
  for (const id of ["flash", "verify", ...BOARD_BUTTONS]) $<HTMLButtonElement>(id).disabled = true;
  status(`flashing ${boards.length} boards`);
  const t0 = performance.now();
  const results = await Promise.allSettled(boards.map(async (d) => {
    const cell = () => rowOf(d).cells[3];
    d.checkImage(segments!); // a board of another kind refuses the file, the others go on
    const r = await d.flash(segments!, { leave: true, progress: (p) => { cell().textContent = `${p.phase} ${p.total ? Math.floor((100 * p.done) / p.total) : 0}%`; } });
    cell().textContent = `flashed: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent`;
    rowOf(d).cells[2].textContent = "written and started";
  }));
  results.forEach((r, i) => { if (r.status === "rejected") rowOf(boards[i]).cells[3].textContent = `error: ${friendly(r.reason)}`; });
  const failed = results.filter((r) => r.status === "rejected").length;
  status(`${boards.length - failed} of ${boards.length} boards flashed in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
    (failed ? `; ${failed} failed (see the list)` : "; they start the application"), failed > 0);
  enable();
}

async function verify() {
  await run("verifying", async (d) => {
    const bad = await d.verify(segments!);
    return bad.length ? `verify: ${bad.length} sector(s) differ, the first at 0x${hex(bad[0])}` : "verify: the board holds this file";
  });
}

/** The recorded image, as a file to save. */
async function readBack() {
  await run("reading", async (d) => {
    const i = await d.readInfo();
    if (i.recordStatus !== "valid") return `nothing to read: the board has no recorded image (${i.recordStatus})`;
    const data = await d.read(i.flashBase + i.appStart, i.imageLength);
    const a = $<HTMLAnchorElement>("download");
    a.href = URL.createObjectURL(new Blob([data], { type: "application/octet-stream" }));
    a.download = `${(d.usb.serialNumber ?? "board").replace(/[^\w-]/g, "")}-0x${hex(i.flashBase + i.appStart)}.bin`;
    a.textContent = `save ${a.download} (${data.length} bytes)`;
    a.hidden = false;
    return `read ${data.length} bytes from 0x${hex(i.flashBase + i.appStart)}`;
  });
}

async function erase() {
  if (!confirm("Erase the application region? The board stays in DFU mode until something is flashed.")) return;
  await run("erasing", async (d) => { await d.eraseAll(); d.info = await d.readInfo(); showBoard(); return "application region erased"; });
}

async function boot() {
  await run("starting", async (d) => { await d.leave(); return "the board starts its application"; });
}

/** qspiboot onto a board in its chip's ROM: ST's DFU bootloader or the RP2040 boot ROM's
 *  PICOBOOT interface, with the bootloader built next to the page. */
async function install() {
  let usb: USBDevice;
  try {
    usb = await navigator.usb.requestDevice({ filters: [ST_ROM, RP2040_ROM] }) as unknown as USBDevice;
  } catch (e: any) {
    return status(e?.name === "NotFoundError" ? "no board chosen" : friendly(e), e?.name !== "NotFoundError");
  }
  const pico = isRp2040Rom(usb);
  const name = `qspiboot-${pico ? "rp2040" : "h750"}.bin`;
  const bar = $<HTMLProgressElement>("progress");
  bar.hidden = false;
  const progress = (p: Progress) => { bar.value = p.total ? p.done / p.total : 0; status(`install: ${p.phase} ${Math.floor(100 * bar.value)}%`); };
  try {
    const r = await fetch(name);
    if (!r.ok) throw new Error(`${name} is not next to this page: build it (npm run build) and rebuild the page`);
    const bin = new Uint8Array(await r.arrayBuffer());
    if (pico) {
      const d = await new PicobootDevice(usb).open();
      const rep = await installPico(d, bin, { progress });
      status(`installed ${rep.bytes} bytes of qspiboot on the Pico (verified); it reboots into qspiboot (let go of BOOTSEL)`);
    } else {
      const d = await new DfuDevice(usb).open();
      const rep = await installBootloader(d, bin, { progress });
      status(`installed ${rep.bytes} bytes of qspiboot on the H750 (verified); it starts qspiboot (let go of BOOT0)`);
    }
    bar.value = 1;
  } catch (e: any) {
    status(friendly(e), true);
  }
}

function init() {
  if (!("usb" in navigator)) {
    $("support").textContent = "This browser has no WebUSB: use Chrome or Edge (or the command line, tools/flash.ts).";
    $<HTMLButtonElement>("connect").disabled = true;
  }
  $("connect").addEventListener("click", connect);
  $("install").addEventListener("click", install);
  $("flash").addEventListener("click", flash);
  $("verify").addEventListener("click", verify);
  $("read").addEventListener("click", readBack);
  $("erase").addEventListener("click", erase);
  $("boot").addEventListener("click", boot);
  $("address").addEventListener("change", plan);
  // A board this page may use that comes (back) into DFU mode is taken up by itself; one that
  // leaves (it starts its application, or is unplugged) is let go.
  const usbApi = (navigator as any).usb as EventTarget & { getDevices(): Promise<USBDevice[]> } | undefined;
  usbApi?.addEventListener("connect", (ev: any) => {
    if (!isQspiboot(ev.device) || dev?.usb === ev.device) return;
    use(ev.device, `board ${ev.device.serialNumber ?? ""} back in DFU mode: reconnected`).catch((e) => status(friendly(e), true));
  });
  usbApi?.addEventListener("disconnect", (ev: any) => {
    const gone = boards.findIndex((b) => b.usb === ev.device);
    if (gone >= 0) { boards.splice(gone, 1); renderBoards(); }
    if (!dev || ev.device !== dev.usb) return;
    dev = boards[boards.length - 1] ?? null;
    enable();
    // Unplugged in the middle of an operation: its error says what happened and what to do.
    if ($("status").className === "error") return;
    if (dev) return status(`board ${ev.device.serialNumber ?? ""} left DFU mode`);
    status("the board left DFU mode (it runs its application, or was unplugged); it is taken up again when it comes back");
  });
  usbApi?.getDevices().then((ds) => {
    const d = ds.find(isQspiboot);
    if (d && !dev) return use(d, "connected (a board this page may use)");
  }).catch((e) => status(friendly(e), true));
  $<HTMLInputElement>("file").addEventListener("change", (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) take(f).catch((e) => status(friendly(e), true));
  });
  // A file dropped anywhere on the page is taken as if picked; the browser would otherwise open it.
  const zone = $("drop");
  document.addEventListener("dragover", (ev) => { ev.preventDefault(); zone.classList.add("over"); });
  document.addEventListener("dragleave", (ev) => { if (!ev.relatedTarget) zone.classList.remove("over"); });
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    const f = ev.dataTransfer?.files?.[0];
    if (f) take(f).catch((e) => status(friendly(e), true));
  });
}

async function take(f: File) {
  file = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
  status("");
  plan();
}

init();
