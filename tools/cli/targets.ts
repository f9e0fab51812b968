// Where the flasher finds boards: real ones through the `usb` package's WebUSB, or a simulated
// one in this process (--sim). Each comes out as a WebUSB USBDevice for the DFU client.
import type { USBDevice } from "../dfu/webusb";
import { DfuDevice } from "../dfu/client";
import type { PicobootDevice } from "../picoboot/client";
import { SimBoard, loadCoreVariant } from "../../sim/board";
import { SimUsbHost } from "../../sim/usb-host";
import { SimUsbDevice } from "../usb/sim-device";
import { SocketUsbDevice } from "../usb/socket-device";
import type { BoardName } from "../../sim/boards";
import { traced } from "./trace";
import type { UsbBus } from "./detach";

// --verbose: where every control transfer of every board is logged (tools/cli/trace.ts).
let traceLog: ((line: string) => void) | undefined;
export function setTrace(log: ((line: string) => void) | undefined): void { traceLog = log; }
export const withTrace = (d: USBDevice): USBDevice => (traceLog ? traced(d, traceLog) : d);
const wrap = withTrace;

export const UDEV_HINT = "permission denied opening the USB device. Install the udev rules: " +
  "sudo cp tools/udev/60-qspiboot.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger (then replug the board)";
export const NO_BOARD_HINT = "no board in DFU mode found. WeAct H750: hold K1 while resetting or plugging in. " +
  "Either board: have the application call qspiboot_reboot_to_bootloader() (hal/app/qspiboot.h), or give it a DFU runtime " +
  "interface or a CDC port (hal/app/qspiboot-usb.h) and the flasher detaches it; a board with no valid image " +
  "stays in DFU mode. Pico: hold BOOTSEL while plugging it in, and the flasher switches it from the RP2040 boot ROM into qspiboot.";

export interface Target {
  label: string;
  serial: string;
  open(): Promise<DfuDevice>;
  /** A Pico in BOOTSEL mode (the RP2040 boot ROM): its PICOBOOT interface, not DFU. */
  openPicoboot?(): Promise<PicobootDevice>;
  /** The simulated board, when there is one: for showing what it does after flashing. */
  sim?: { board: SimBoard; host: SimUsbHost };
  /** An emulated board's flash after the command (for --sim-flash). */
  flashData?: () => Uint8Array;
}

function isDfu(d: USBDevice): boolean {
  return !!d.configuration?.interfaces.some((i) => i.alternates.some((a) => a.interfaceClass === 0xfe && a.interfaceSubclass === 1 && a.interfaceProtocol === 2));
}

/** Every USB device the `usb` package's WebUSB sees (none without a USB subsystem). */
export async function usbDevices(): Promise<USBDevice[]> {
  let usb: { getDevices(): Promise<USBDevice[]> };
  try {
    const { WebUSB } = await import("usb");
    usb = new WebUSB({ allowAllDevices: true }) as unknown as typeof usb;
  } catch (e: any) {
    throw new Error(`USB is not available here (${e.message})`);
  }
  try {
    return await usb.getDevices();
  } catch (e: any) {
    if (/not found/.test(e.message)) return []; // no USB subsystem: no boards
    if (/ACCESS|EACCES|permission/i.test(e.message)) throw new Error(UDEV_HINT);
    throw e;
  }
}

export async function realTargets(): Promise<Target[]> {
  return (await usbDevices()).filter(isDfu).map(realTarget);
}

/** A real board in DFU mode as a flasher target. */
export function realTarget(d: USBDevice): Target {
  return {
    label: `${d.productName ?? "DFU device"} (${hex4(d.vendorId)}:${hex4(d.productId)})`,
    serial: d.serialNumber ?? "",
    open: async () => {
      try { return await new DfuDevice(wrap(d)).open(); } catch (e: any) {
        if (/ACCESS|permission/i.test(e.message)) throw new Error(UDEV_HINT);
        throw e;
      }
    },
  };
}

/** The real USB bus, for detaching a running application (tools/cli/detach.ts). */
export const realBus: UsbBus = {
  devices: usbDevices,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => performance.now(),
};

/** A simulated board in this process, in DFU mode, its flash as given (blank by default). */
export async function simTarget(board: BoardName, opts: { serial?: number; flash?: Uint8Array; publicKey?: Uint8Array; lockKey?: Uint8Array } = {}): Promise<Target> {
  // A board built with a key (--sim-key) runs the signed core, with --sim-locked the locked one.
  const module = opts.publicKey ? await loadCoreVariant({ signed: true, locked: !!opts.lockKey }) : undefined;
  const b = await SimBoard.create({ board, serial: opts.serial, ...(module ? { module } : {}) });
  if (opts.publicKey) b.facts.publicKey = opts.publicKey;
  if (opts.lockKey) b.facts.lockKey = opts.lockKey;
  if (opts.flash) b.flash.data.set(opts.flash.subarray(0, b.flash.data.length));
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = new SimUsbDevice(host);
  await dev.open();
  return {
    label: `${dev.productName} (simulated)`,
    serial: dev.serialNumber ?? "",
    sim: { board: b, host },
    open: () => new DfuDevice(wrap(dev), { sleep: async (ms) => host.sleep(ms), now: () => b.clock.now / 1000 }).open(),
  };
}

const hex4 = (v: number) => v.toString(16).padStart(4, "0");

/** The simulated board served on a Unix socket by sim/serve.ts (what dfu-util reaches too). */
export async function socketTarget(path: string): Promise<Target[]> {
  const dev = new SocketUsbDevice(path);
  try { await dev.open(); } catch (e: any) {
    // The board runs its application: no device; the connection goes, so the command can end.
    if (e.name === "NotFoundError") { await dev.close(); return []; }
    // Only a failed connect means nobody is there; a device that answered says what it did.
    if (e.syscall === "connect") throw new Error(`cannot reach the simulator at ${path} (${e.message}): start it with npx tsx sim/serve.ts --socket ${path}`);
    throw e;
  }
  return [{
    label: `${dev.productName} (simulator socket)`,
    serial: dev.serialNumber ?? "",
    // Real time passes on the socket's side: sleep as a host on a real board would.
    open: () => new DfuDevice(wrap(dev)).open(),
  }];
}
