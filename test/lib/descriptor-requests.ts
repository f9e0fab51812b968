// The requests whose answers describe a device to a host: what the emulator tests compare
// between the firmware on an emulated chip and the Wasm simulator of the same board.
import * as assert from "uvu/assert";
import type { ControlHost, Setup } from "../../sim/usb-host";

export const DESCRIPTOR_REQUESTS: readonly Setup[] = [
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 },    // device
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 },   // configuration
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0f00, wIndex: 0, wLength: 255 },   // BOS
  ...[0, 1, 2, 3, 4, 5].map((i) => ({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0300 | i, wIndex: 0x409, wLength: 255 })),
  { bmRequestType: 0xc0, bRequest: 0x02, wValue: 0, wIndex: 7, wLength: 512 },     // MS OS 2.0 set
  { bmRequestType: 0xc0, bRequest: 0x01, wValue: 1, wIndex: 2, wLength: 255 },     // WebUSB landing page
  { bmRequestType: 0x80, bRequest: 0, wValue: 0, wIndex: 0, wLength: 2 },          // GET_STATUS
  { bmRequestType: 0x80, bRequest: 8, wValue: 0, wIndex: 0, wLength: 1 },          // GET_CONFIGURATION
  { bmRequestType: 0x80, bRequest: 6, wValue: 0x0600, wIndex: 0, wLength: 10 },    // device qualifier: stall
];

/** Every request answered the same way (status and bytes) by both hosts' devices. */
export function assertSameDescriptors(got: ControlHost, want: ControlHost): void {
  for (const s of DESCRIPTOR_REQUESTS) {
    const w = want.control(s);
    const g = got.control(s);
    const what = `request ${s.bmRequestType.toString(16)}/${s.bRequest} wValue ${s.wValue.toString(16)}`;
    assert.is(g.status, w.status, what);
    assert.equal([...g.data], [...w.data], what);
  }
}
