// `--watch` over the simulator's USB socket (sim/serve.ts): the socket is one USB port. A server
// there whose board is in DFU mode is a board plugged in; no server, or a board running its
// application, is an empty port. A production-line jig has one port too: boards come one after
// another, and the same board again after a reset into DFU mode.
import { DfuDevice } from "../dfu/client";
import { SocketUsbDevice } from "../usb/socket-device";
import { withTrace, type Target } from "./targets";
import type { DeviceSource } from "./watch";
import { performance } from "node:perf_hooks";

/** Nothing answers on the port: no server, a server whose board presents no USB device, or one
 *  that hung up (stopped between our connect and our first request). */
function emptyPort(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  return err?.name === "NotFoundError" || err?.name === "NetworkError" || err?.syscall === "connect";
}

export function socketSource(path: string): DeviceSource {
  // The server serves one client at a time: while a board is being flashed, a second connection
  // would wait behind it, so the scan reports the busy board as still there without asking.
  let busy: Target | undefined;
  return {
    async scan() {
      if (busy) return [busy];
      const probe = new SocketUsbDevice(path);
      try {
        await probe.open();
      } catch (e) {
        if (emptyPort(e)) return [];
        throw e;
      } finally {
        await probe.close();
      }
      const t: Target = {
        label: `${probe.productName} (simulator socket)`,
        serial: probe.serialNumber ?? "",
        open: async () => {
          busy = t;
          try {
            const d = await new DfuDevice(withTrace(new SocketUsbDevice(path))).open();
            const close = d.close.bind(d);
            d.close = async () => { try { await close(); } finally { busy = undefined; } };
            return d;
          } catch (e) {
            busy = undefined;
            throw e;
          }
        },
      };
      return [t];
    },
    wait: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => performance.now(),
  };
}
