// The web page's logic: the very DFU client and file parsers the CLI uses (tools/dfu/,
// tools/image/), on the browser's WebUSB. Bundled by tools/web/build.ts.
import { DfuDevice, hex, type Progress } from "../dfu/client";
import type { USBDevice } from "../dfu/webusb";
import { friendly } from "../dfu/messages";
import { imageFor } from "../dfu/board-image";
import { imageSize, type Segment } from "../image/segments";

/** qspiboot's USB IDs (boot/descriptors.ts; tools/udev/60-qspiboot.rules). */
const QSPIBOOT = { vendorId: 0x1209, productId: 0x0001 };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let dev: DfuDevice | null = null;
let file: { name: string; bytes: Uint8Array } | null = null;
let segments: Segment[] | null = null;

function status(text: string, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function showBoard() {
  const i = dev!.info!;
  $("board").hidden = false;
  $("b-board").textContent = i.board;
  $("b-serial").textContent = dev!.usb.serialNumber ?? "";
  $("b-version").textContent = i.bootloaderVersion;
  $("b-flash").textContent = `${i.flashSize >> 20} MiB at 0x${hex(i.flashBase)} (JEDEC ID 0x${(i.jedecId >>> 0).toString(16)})`;
  $("b-image").textContent = i.recordStatus === "valid" ? `valid, ${i.imageLength} bytes, CRC-32 0x${hex(i.imageCrc)}` : i.recordStatus;
  $("b-reason").textContent = i.bootReason;
}

/** What will be written where, before anything is touched; a file the board would not boot is
 *  refused here with the CLI's words. */
function plan() {
  segments = null;
  $<HTMLButtonElement>("flash").disabled = true;
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
    $<HTMLButtonElement>("flash").disabled = false;
  } catch (e: any) {
    $("plan").textContent = "";
    status(friendly(e), true);
  }
}

async function connect() {
  try {
    const usb = await navigator.usb.requestDevice({ filters: [QSPIBOOT] }) as unknown as USBDevice;
    dev = await new DfuDevice(usb).open();
    showBoard();
    status("connected");
    plan();
  } catch (e: any) {
    if (e?.name === "NotFoundError" && !dev) return status("no board chosen");
    status(friendly(e), true);
  }
}

async function flash() {
  if (!dev || !segments) return;
  const bar = $<HTMLProgressElement>("progress");
  bar.hidden = false;
  $<HTMLButtonElement>("flash").disabled = true;
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
    bar.value = 1;
    status(`flashed: ${r.sectorsSent} of ${r.sectorsTotal} sectors sent (${r.sectorsTotal - r.sectorsSent} already right), ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s; the board starts the application`);
  } catch (e: any) {
    status(friendly(e), true);
  } finally {
    $<HTMLButtonElement>("flash").disabled = false;
  }
}

function init() {
  if (!("usb" in navigator)) {
    $("support").textContent = "This browser has no WebUSB: use Chrome or Edge (or the command line, tools/flash.ts).";
    $<HTMLButtonElement>("connect").disabled = true;
  }
  $("connect").addEventListener("click", connect);
  $("flash").addEventListener("click", flash);
  $("address").addEventListener("change", plan);
  $<HTMLInputElement>("file").addEventListener("change", async (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (!f) return;
    file = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
    status("");
    plan();
  });
}

init();
