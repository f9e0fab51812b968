// The part of the WebUSB API (https://wicg.github.io/webusb/) the DFU client uses. Browsers and
// the `usb` package's WebUSB provide it; so does tools/usb/sim-device.ts for the simulator.
// Declared here so that tools/dfu/ needs no Node or DOM typings and runs in either.
export type USBDirection = "in" | "out";
export type USBRequestType = "standard" | "class" | "vendor";
export type USBRecipient = "device" | "interface" | "endpoint" | "other";
export type USBTransferStatus = "ok" | "stall" | "babble";

export interface USBControlTransferParameters {
  requestType: USBRequestType;
  recipient: USBRecipient;
  request: number;
  value: number;
  index: number;
}

export interface USBInTransferResult { data?: DataView; status: USBTransferStatus }
export interface USBOutTransferResult { bytesWritten: number; status: USBTransferStatus }

export interface USBEndpoint { endpointNumber: number; direction: USBDirection; type: "bulk" | "interrupt" | "isochronous"; packetSize: number }

export interface USBAlternateInterface {
  alternateSetting: number;
  endpoints?: USBEndpoint[];
  interfaceClass: number;
  interfaceSubclass: number;
  interfaceProtocol: number;
  interfaceName?: string | null;
}
export interface USBInterface { interfaceNumber: number; alternates: USBAlternateInterface[] }
export interface USBConfiguration { configurationValue: number; interfaces: USBInterface[] }

export interface USBDevice {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber?: string | null;
  readonly productName?: string | null;
  readonly opened: boolean;
  readonly configuration?: USBConfiguration | null;
  open(): Promise<void>;
  close(): Promise<void>;
  selectConfiguration(value: number): Promise<void>;
  claimInterface(n: number): Promise<void>;
  releaseInterface(n: number): Promise<void>;
  selectAlternateInterface(n: number, alt: number): Promise<void>;
  controlTransferIn(setup: USBControlTransferParameters, length: number): Promise<USBInTransferResult>;
  controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource): Promise<USBOutTransferResult>;
  reset(): Promise<void>;
  /** Bulk endpoints (the PICOBOOT client needs them; the DFU client does not). */
  transferIn?(endpointNumber: number, length: number): Promise<USBInTransferResult>;
  transferOut?(endpointNumber: number, data: BufferSource): Promise<USBOutTransferResult>;
  clearHalt?(direction: USBDirection, endpointNumber: number): Promise<void>;
}
