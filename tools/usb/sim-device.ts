// A WebUSB USBDevice backed by an in-process simulated bus (the Wasm simulator's host or the
// emulated RP2040's), so the DFU client (tools/dfu/) runs unchanged against a simulated board.
// Transfers run the board in simulated time.
import type { ControlHost } from "../../sim/usb-host";
import type { USBDevice, USBControlTransferParameters, USBConfiguration, USBInTransferResult, USBOutTransferResult, USBDirection, USBEndpoint } from "../dfu/webusb";

import { bmRequestTypeOf, bytesOf, requestName } from "./setup-bits";
import { DeviceGone, DeviceStalled } from "./errors";

export { DeviceGone };

export class SimUsbDevice implements USBDevice {
  opened = false;
  configuration: USBConfiguration | null = null;
  vendorId = 0;
  productId = 0;
  serialNumber: string | null = null;
  productName: string | null = null;

  constructor(readonly host: ControlHost) {}


  private raw(bmRequestType: number, s: USBControlTransferParameters, wLength: number, data?: Uint8Array) {
    const r = this.host.control({ bmRequestType, bRequest: s.request, wValue: s.value, wIndex: s.index, wLength }, data);
    if (r.status === "nodevice") { this.opened = false; throw new DeviceGone(); }
    if (r.status === "timeout") throw new Error("NetworkError: transfer timed out");
    return r;
  }

  async open(): Promise<void> {
    if (!this.host.present()) throw new DeviceGone();
    const ddSetup = { requestType: "standard", recipient: "device", request: 6, value: 0x0100, index: 0 } as const;
    const ddr = this.raw(0x80, ddSetup, 18);
    if (ddr.status === "stall") throw new DeviceStalled("the simulated board", requestName(ddSetup));
    const dd = ddr.data;
    this.vendorId = dd[8] | (dd[9] << 8);
    this.productId = dd[10] | (dd[11] << 8);
    this.productName = this.string(dd[15]);
    this.serialNumber = this.string(dd[16]);
    const head = this.raw(0x80, { requestType: "standard", recipient: "device", request: 6, value: 0x0200, index: 0 }, 9).data;
    const cfg = this.raw(0x80, { requestType: "standard", recipient: "device", request: 6, value: 0x0200, index: 0 }, head[2] | (head[3] << 8)).data;
    const interfaces: USBConfiguration["interfaces"] = [];
    let endpoints: USBEndpoint[] = [];
    for (let o = 0; o < cfg.length && cfg[o] >= 2; o += cfg[o]) {
      if (cfg[o + 1] === 5) {
        const types = ["control", "isochronous", "bulk", "interrupt"] as const;
        endpoints.push({ endpointNumber: cfg[o + 2] & 0x0f, direction: cfg[o + 2] & 0x80 ? "in" : "out", type: types[cfg[o + 3] & 3] as USBEndpoint["type"], packetSize: cfg[o + 4] | (cfg[o + 5] << 8) });
        continue;
      }
      if (cfg[o + 1] !== 4) continue;
      let itf = interfaces.find((i) => i.interfaceNumber === cfg[o + 2]);
      if (!itf) interfaces.push((itf = { interfaceNumber: cfg[o + 2], alternates: [] }));
      endpoints = [];
      itf.alternates.push({ alternateSetting: cfg[o + 3], interfaceClass: cfg[o + 5], interfaceSubclass: cfg[o + 6], interfaceProtocol: cfg[o + 7], interfaceName: this.string(cfg[o + 8]), endpoints });
    }
    this.configuration = { configurationValue: cfg[5], interfaces };
    this.opened = true;
  }

  private string(index: number): string | null {
    if (!index) return null;
    const d = this.raw(0x80, { requestType: "standard", recipient: "device", request: 6, value: 0x0300 | index, index: 0x409 }, 255).data;
    let s = "";
    for (let i = 2; i + 1 < d.length; i += 2) s += String.fromCharCode(d[i] | (d[i + 1] << 8));
    return s;
  }

  async close(): Promise<void> { this.opened = false; }
  async selectConfiguration(): Promise<void> {}
  async claimInterface(): Promise<void> { if (!this.host.present()) throw new DeviceGone(); }
  async releaseInterface(): Promise<void> {}
  async selectAlternateInterface(n: number, alt: number): Promise<void> {
    const r = this.raw(0x01, { requestType: "standard", recipient: "interface", request: 11, value: alt, index: n }, 0);
    if (r.status !== "ok") throw new Error(`SET_INTERFACE ${n}/${alt}: ${r.status}`);
  }

  async controlTransferIn(s: USBControlTransferParameters, length: number): Promise<USBInTransferResult> {
    const r = this.raw(bmRequestTypeOf(s, true), s, length);
    if (r.status === "stall") return { status: "stall" };
    return { status: "ok", data: new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength) };
  }

  async controlTransferOut(s: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult> {
    const bytes = bytesOf(data);
    const r = this.raw(bmRequestTypeOf(s, false), s, bytes.length, bytes);
    return r.status === "stall" ? { status: "stall", bytesWritten: 0 } : { status: "ok", bytesWritten: bytes.length };
  }

  private bulk(r: { status: string; data: Uint8Array }) {
    if (r.status === "nodevice") { this.opened = false; throw new DeviceGone(); }
    if (r.status === "timeout") throw new Error("NetworkError: transfer timed out");
    return r;
  }

  async transferIn(ep: number, length: number): Promise<USBInTransferResult> {
    if (!this.host.bulkIn) throw new Error("this simulated device has no bulk endpoints");
    const r = this.bulk(this.host.bulkIn(ep, length));
    if (r.status === "stall") return { status: "stall" };
    return { status: "ok", data: new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength) };
  }

  async transferOut(ep: number, data: BufferSource): Promise<USBOutTransferResult> {
    if (!this.host.bulkOut) throw new Error("this simulated device has no bulk endpoints");
    const bytes = bytesOf(data);
    const r = this.bulk(this.host.bulkOut(ep, bytes));
    return r.status === "stall" ? { status: "stall", bytesWritten: 0 } : { status: "ok", bytesWritten: bytes.length };
  }

  async clearHalt(direction: USBDirection, ep: number): Promise<void> {
    const r = this.raw(0x02, { requestType: "standard", recipient: "endpoint", request: 1, value: 0, index: ep | (direction === "in" ? 0x80 : 0) }, 0);
    if (r.status !== "ok") throw new Error(`CLEAR_FEATURE(ENDPOINT_HALT) ${ep}: ${r.status}`);
  }

  async reset(): Promise<void> {
    if (this.host.reset() === "nodevice") { this.opened = false; throw new DeviceGone(); }
  }
}
