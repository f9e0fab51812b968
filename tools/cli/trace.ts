// --verbose: every control transfer a USB device does, with its answer and time, on stderr.
import type { USBDevice, USBControlTransferParameters } from "../dfu/webusb";
import { requestName } from "../usb/setup-bits";

const hexBytes = (v?: DataView) => (v ? [...new Uint8Array(v.buffer, v.byteOffset, Math.min(v.byteLength, 16))].map((b) => b.toString(16).padStart(2, "0")).join(" ") + (v.byteLength > 16 ? " ..." : "") : "");

export function traced(usb: USBDevice, log: (line: string) => void, now: () => number = () => performance.now()): USBDevice {
  return new Proxy(usb, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== "controlTransferIn" && prop !== "controlTransferOut") return typeof v === "function" ? v.bind(target) : v;
      return async (s: USBControlTransferParameters, arg: number | BufferSource | undefined) => {
        const t0 = now();
        const what = `${requestName(s)} value 0x${s.value.toString(16)} index ${s.index}`;
        try {
          const r = await (v as Function).call(target, s, arg);
          const ms = (now() - t0).toFixed(1);
          if (prop === "controlTransferIn") log(`IN  ${what} wLength ${arg}: ${r.status} ${r.data?.byteLength ?? 0} B [${hexBytes(r.data)}] ${ms} ms`);
          else log(`OUT ${what} ${(arg as ArrayBufferView | undefined)?.byteLength ?? 0} B: ${r.status} ${ms} ms`);
          return r;
        } catch (e) {
          log(`${prop === "controlTransferIn" ? "IN " : "OUT"} ${what}: ${(e as Error).message} ${(now() - t0).toFixed(1)} ms`);
          throw e;
        }
      };
    },
  });
}
