// Real boards for `--watch`: the `usb` package's device list, read again whenever the operating
// system reports a device attached or detached (hot-plug events), and at a slow poll as a
// safety net for an event missed or a device listed only after its event. Where hot-plug events
// are not available the list is polled. The policy is here, the USB stack behind a small
// backend, so that a test can drive it with a fake.
import { performance } from "node:perf_hooks";
import { realTargets, type Target } from "./targets";
import { picoRomDevices, picoRomTarget } from "./pico-rom";
import type { DeviceSource } from "./watch";

export interface HotplugBackend {
  /** The qspiboot boards in DFU mode now. */
  list(): Promise<Target[]>;
  /** Call `onChange` at every attach and detach; resolves to the unsubscribe, rejects where
   *  the platform gives no hot-plug events. */
  subscribe(onChange: () => void): Promise<() => Promise<void>>;
}

export interface UsbSourceOptions {
  /** Polling, when there are no events (and once more just after an event). */
  pollMs?: number;
  /** With events: look anyway this often. */
  safetyMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface UsbSource extends DeviceSource {
  /** "events" when the backend's hot-plug events drive the scans, "polling" otherwise. */
  readonly mode: "events" | "polling";
  close(): Promise<void>;
}

export async function usbSource(backend: HotplugBackend = usbBackend(), o: UsbSourceOptions = {}): Promise<UsbSource> {
  const pollMs = o.pollMs ?? 250, safetyMs = o.safetyMs ?? 2000;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // Changes not yet followed by a scan, and whoever waits for the next one.
  let changes = 0, wake: (() => void) | undefined, settle = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  try {
    unsubscribe = await backend.subscribe(() => { changes++; wake?.(); });
  } catch {
    unsubscribe = undefined;
  }
  return {
    mode: unsubscribe ? "events" : "polling",
    async scan() {
      // A device is sometimes listed a little after its attach event: look again soon.
      settle = changes > 0;
      changes = 0;
      return backend.list();
    },
    async wait(ms) {
      if (!unsubscribe) return sleep(Math.max(ms, pollMs));
      if (changes) return;
      const changed = new Promise<void>((r) => (wake = r));
      await Promise.race([changed, sleep(settle ? Math.max(ms, pollMs) : safetyMs)]);
      wake = undefined;
    },
    now: o.now ?? (() => performance.now()),
    async close() { await unsubscribe?.(); unsubscribe = undefined; },
  };
}

/** The `usb` package: its device list (WebUSB getDevices) and the native hot-plug emitter the
 *  package's WebUSB connect/disconnect events are built on. The emitter is used directly because
 *  through WebUSB a platform without hot-plug support fails in a timer, out of reach of a catch. */
export function usbBackend(): HotplugBackend {
  return {
    // qspiboot boards in DFU mode, and Picos in BOOTSEL mode (switched or installed by the watch).
    list: async () => [...await realTargets(), ...(await picoRomDevices()).map(picoRomTarget)],
    async subscribe(onChange) {
      const { Emitter } = (await import("usb/index.js")) as unknown as {
        Emitter: new () => { addAttach(cb: (d: unknown) => void): Promise<void>; addDetach(cb: (h: string) => void): Promise<void>; removeAttach(): Promise<void>; removeDetach(): Promise<void> };
      };
      const e = new Emitter();
      await e.addAttach(() => onChange());
      await e.addDetach(() => onChange());
      return async () => { await e.removeAttach(); await e.removeDetach(); };
    },
  };
}
