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

// Names for messages: USB 2.0 table 9-4 (standard requests), 9-5 (descriptor types); DFU 1.1
// table 3.2 (class requests on the DFU interface).
const STANDARD: Record<number, string> = { 0: "GET_STATUS", 1: "CLEAR_FEATURE", 3: "SET_FEATURE", 5: "SET_ADDRESS",
  6: "GET_DESCRIPTOR", 7: "SET_DESCRIPTOR", 8: "GET_CONFIGURATION", 9: "SET_CONFIGURATION", 10: "GET_INTERFACE", 11: "SET_INTERFACE" };
const DESCRIPTORS = ["", "device", "configuration", "string"];
const DFU = ["DFU_DETACH", "DFU_DNLOAD", "DFU_UPLOAD", "DFU_GETSTATUS", "DFU_CLRSTATUS", "DFU_GETSTATE", "DFU_ABORT"];

/** The request in words: "GET_DESCRIPTOR (device)", "DFU_DNLOAD block 5", "vendor request 0x43". */
export function requestName(s: USBControlTransferParameters): string {
  if (s.requestType === "standard") {
    const name = STANDARD[s.request] ?? `standard request ${s.request}`;
    return s.request === 6 ? `${name} (${DESCRIPTORS[s.value >> 8] ?? `type ${s.value >> 8}`}${s.value >> 8 === 3 ? ` ${s.value & 0xff}` : ""})` : name;
  }
  if (s.requestType === "class" && DFU[s.request]) return DFU[s.request] + (s.request === 1 || s.request === 2 ? ` block ${s.value}` : "");
  return `${s.requestType} request 0x${s.request.toString(16).padStart(2, "0")}`;
}
