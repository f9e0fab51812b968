// What both Node-side USBDevice adapters need: WebUSB's setup fields as USB's bmRequestType
// (USB 2.0 table 9-2), and a BufferSource as bytes.
import type { USBControlTransferParameters } from "../dfu/webusb";

const TYPES = { standard: 0, class: 1, vendor: 2 } as const;
const RECIPIENTS = { device: 0, interface: 1, endpoint: 2, other: 3 } as const;

export function bmRequestTypeOf(s: USBControlTransferParameters, dirIn: boolean): number {
  return (dirIn ? 0x80 : 0) | (TYPES[s.requestType] << 5) | RECIPIENTS[s.recipient];
}

export function bytesOf(data?: BufferSource): Uint8Array {
  if (!data) return new Uint8Array(0);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  const v = data as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
