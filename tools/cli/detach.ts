// Getting a running application back into qspiboot's DFU mode from the host, with no button:
// the application has a DFU runtime interface (DFU 1.1 4.1: class FE/01/01; the host sends
// DFU_DETACH, as `dfu-util -e`) or a CDC ACM port (the 1200-baud touch: SET_LINE_CODING with
// dwDTERate 1200, the Arduino convention). hal/app/qspiboot-usb.h is the device side.
// Which devices: by default those with qspiboot's own VID:PID (pid.codes 1209:0001, what the
// example applications use); `--detach` takes any device with either interface. The flasher
// detaches only when no board is in DFU mode already, and only one application at a time.
import type { USBDevice } from "../dfu/webusb";
import { isGone } from "../dfu/client";
import { NoDeviceError, UsageError } from "./exit-codes";

export const QSPIBOOT_USB_ID = { vendorId: 0x1209, productId: 0x0001 } as const;
export type DetachWay = "dfu" | "cdc";
const WAY_NAMES: Record<DetachWay, string> = { dfu: "DFU runtime DETACH", cdc: "CDC 1200-baud touch" };
/** Time for the bootloader to start and the host to enumerate it, on top of the application's
 *  own wDetachTimeOut (the CDC touch has none). */
export const REAPPEAR_MS = 5000;
export const POLL_MS = 100;

/** Where the flasher sees USB devices: the real bus, or an emulated board in a test. */
export interface UsbBus {
  devices(): Promise<USBDevice[]>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface Detachable {
  usb: USBDevice;
  label: string;
  serial: string;
  /** The ways this device offers, the preferred first (DFU runtime: the standard one). */
  ways: DetachWay[];
  dfuInterface?: number;
  cdcInterface?: number;
}

export function isDfuMode(d: USBDevice): boolean {
  return !!d.configuration?.interfaces.some((i) => i.alternates.some((a) => a.interfaceClass === 0xfe && a.interfaceSubclass === 1 && a.interfaceProtocol === 2));
}

const hex4 = (v: number) => v.toString(16).padStart(4, "0");

/** Running applications the flasher may detach (`any`: whatever their VID:PID). */
export function findDetachable(devices: USBDevice[], any = false): Detachable[] {
  const out: Detachable[] = [];
  for (const d of devices) {
    if (isDfuMode(d)) continue;
    if (!any && (d.vendorId !== QSPIBOOT_USB_ID.vendorId || d.productId !== QSPIBOOT_USB_ID.productId)) continue;
    const itfs = d.configuration?.interfaces ?? [];
    const has = (c: number, s: number, p?: number) => itfs.find((i) => i.alternates.some((a) => a.interfaceClass === c && a.interfaceSubclass === s && (p === undefined || a.interfaceProtocol === p)));
    const dfu = has(0xfe, 1, 1), cdc = has(0x02, 0x02);
    if (!dfu && !cdc) continue;
    out.push({
      usb: d, serial: d.serialNumber ?? "",
      label: `${d.productName ?? "USB device"} (${hex4(d.vendorId)}:${hex4(d.productId)})`,
      ways: [...(dfu ? ["dfu" as const] : []), ...(cdc ? ["cdc" as const] : [])],
      dfuInterface: dfu?.interfaceNumber, cdcInterface: cdc?.interfaceNumber,
    });
  }
  return out;
}

/** A row for `list`: what the application is and how it would be detached. */
export function detachableRow(a: Detachable) {
  return { serial: a.serial, label: a.label, running: true, detach: a.ways.map((w) => WAY_NAMES[w]) };
}

/** The functional descriptor after the runtime DFU interface (DFU 1.1 table 4.2): wDetachTimeOut
 *  and bitWillDetach. Without one, DFU 1.1's defaults for a host: no WillDetach, 1 s. */
async function functional(usb: USBDevice, iface: number): Promise<{ willDetach: boolean; timeoutMs: number }> {
  const get = async (len: number) => {
    const r = await usb.controlTransferIn({ requestType: "standard", recipient: "device", request: 6, value: 0x0200, index: 0 }, len);
    if (r.status !== "ok" || !r.data) throw new Error(`configuration descriptor: ${r.status}`);
    return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  };
  const head = await get(9);
  const cfg = await get(head[2] | (head[3] << 8));
  let inItf = false;
  for (let o = 0; o + 1 < cfg.length && cfg[o] >= 2; o += cfg[o]) {
    if (cfg[o + 1] === 4) inItf = cfg[o + 2] === iface && cfg[o + 5] === 0xfe && cfg[o + 6] === 1;
    else if (cfg[o + 1] === 0x21 && inItf && cfg[o] >= 5) return { willDetach: !!(cfg[o + 2] & 0x08), timeoutMs: cfg[o + 3] | (cfg[o + 4] << 8) };
  }
  return { willDetach: false, timeoutMs: 1000 };
}

/** Claim an interface that an OS driver may hold: Linux's cdc_acm binds the CDC port, so it is
 *  detached first (the `usb` package's detachKernelDriver; Linux only, a no-op elsewhere). */
async function claim(usb: USBDevice, iface: number): Promise<void> {
  const native = usb as USBDevice & { detachKernelDriver?(n: number): Promise<void> };
  if (typeof native.detachKernelDriver === "function") await native.detachKernelDriver(iface).catch(() => undefined);
  await usb.claimInterface(iface);
}

export interface DetachResult { way: DetachWay; waitMs: number; /** the request itself failed as if the device left during it */ lostDuring: boolean }

/** Send the detach request; how long to wait for the bootloader afterwards. */
export async function sendDetach(app: Detachable, way: DetachWay = app.ways[0]): Promise<DetachResult> {
  if (!app.ways.includes(way)) throw new UsageError(`${app.label} has no ${way === "dfu" ? "DFU runtime interface" : "CDC ACM port"}`);
  const usb = app.usb;
  let waitMs = REAPPEAR_MS, lostDuring = false;
  try {
    if (!usb.opened) await usb.open();
    if (way === "dfu") {
      const iface = app.dfuInterface!;
      const f = await functional(usb, iface);
      waitMs += f.timeoutMs;
      await claim(usb, iface);
      const r = await usb.controlTransferOut({ requestType: "class", recipient: "interface", request: 0, value: f.timeoutMs, index: iface });
      if (r.status !== "ok") throw new Error(`${app.label} refused DFU_DETACH (${r.status})`);
      // Without bitWillDetach the device waits for the host's USB reset (DFU 1.1 5.1).
      if (!f.willDetach) await usb.reset().catch(() => undefined);
    } else {
      const iface = app.cdcInterface!;
      await claim(usb, iface);
      const coding = Uint8Array.from([0xb0, 0x04, 0, 0, 0, 0, 8]); // 1200 baud, 1 stop bit, no parity, 8 bits (PSTN 1.2 6.3.10)
      const r = await usb.controlTransferOut({ requestType: "class", recipient: "interface", request: 0x20, value: 0, index: iface }, coding);
      if (r.status !== "ok") throw new Error(`${app.label} refused SET_LINE_CODING (${r.status})`);
    }
  } catch (e) {
    // A device that reboots before the host has seen the end of the request looks like this:
    // whether it left for the bootloader, the wait below tells.
    // A stall is a refusal and stays an error.
    if (!isGone(e) && !/LIBUSB_ERROR_IO|LIBUSB_ERROR_TIMEOUT|timed out/i.test((e as Error).message)) throw e;
    lostDuring = true;
  } finally {
    await usb.close().catch(() => undefined);
  }
  return { way, waitMs, lostDuring };
}

/** Which device this is on the bus: a re-enumerated device gets a new address (the `usb`
 *  package reports bus and address; objects may be new on every listing). */
function busKey(d: USBDevice): string {
  const n = d as USBDevice & { bus?: string; address?: number };
  return n.bus !== undefined ? `${n.bus}/${n.address}` : `${d.vendorId}:${d.productId}:${d.serialNumber ?? ""}`;
}

/** Wait until a board in DFU mode that was not there before appears. */
export async function waitForDfu(bus: UsbBus, before: USBDevice[], waitMs: number): Promise<USBDevice | undefined> {
  const end = bus.now() + waitMs;
  const old = new Set(before.map(busKey));
  for (;;) {
    const fresh = (await bus.devices()).filter((d) => isDfuMode(d) && !before.includes(d) && !old.has(busKey(d)));
    if (fresh.length) return fresh[0];
    if (bus.now() >= end) return undefined;
    await bus.sleep(POLL_MS);
  }
}

export interface DetachOptions {
  serial?: string;
  /** --detach: any device with a DFU runtime interface or a CDC port, by this way if given. */
  any?: boolean;
  way?: DetachWay;
  /** Says what the flasher does (on stderr: stdout may be --json). */
  say?: (line: string) => void;
}

/**
 * No board in DFU mode: detach the one running application there is and wait for qspiboot.
 * Returns the board in DFU mode, or undefined when there is no application to detach.
 */
export async function detachOne(bus: UsbBus, o: DetachOptions = {}): Promise<USBDevice | undefined> {
  const devices = await bus.devices();
  let apps = findDetachable(devices, o.any);
  if (o.serial) apps = apps.filter((a) => a.serial === o.serial);
  if (!apps.length) return undefined;
  if (apps.length > 1) {
    throw new UsageError(`no board in DFU mode, and ${apps.length} running applications that could be detached: pick one with --serial:\n` +
      apps.map((a) => `  ${a.serial || "(no serial)"}  ${a.label}`).join("\n"));
  }
  const app = apps[0];
  const way = o.way ?? app.ways[0];
  o.say?.(`no board in DFU mode: detaching the running application ${app.label}${app.serial ? ` (serial ${app.serial})` : ""} by ${WAY_NAMES[way]}, then waiting for qspiboot`);
  const before = devices.filter(isDfuMode);
  const r = await sendDetach(app, way);
  const dfu = await waitForDfu(bus, before, r.waitMs);
  if (!dfu) {
    throw new NoDeviceError(`${r.lostDuring ? `${app.label} went away during the ${WAY_NAMES[way]}` : `${app.label} took the ${WAY_NAMES[way]}`}, ` +
      `but no board in qspiboot's DFU mode appeared within ${(r.waitMs / 1000).toFixed(1)} s; nothing was written. ` +
      "Is qspiboot installed under that application, and does the application reboot into it (hal/app/qspiboot-usb.h)? " +
      "A Pico plugged in with BOOTSEL held is in the RP2040 boot ROM instead");
  }
  o.say?.(`qspiboot is in DFU mode${dfu.serialNumber ? ` (serial ${dfu.serialNumber})` : ""}`);
  return dfu;
}
