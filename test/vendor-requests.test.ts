// qspiboot's vendor requests: board/image info, and per-sector CRCs for smart flashing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { crc32 } from "../sim/hal";
import { DfuRequests } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";

async function open() {
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  return { b, host, dfu: new DfuRequests(host) };
}

const info = (host: SimUsbHost) => {
  const r = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 });
  assert.is(r.status, "ok");
  return new DataView(r.data.buffer, r.data.byteOffset, r.data.length);
};

test("INFO on a blank board: geometry, no record, stayed for lack of an image", async () => {
  const { host } = await open();
  const d = info(host);
  assert.is(d.byteLength, 48);
  assert.is(d.getUint16(0, true), 1, "protocol version");
  assert.is(d.getUint8(4), 1, "board id: H750");
  assert.is(d.getUint8(5), 0, "no record");
  assert.is(d.getUint8(6), 4, "boot reason: no image");
  assert.is(d.getUint32(8, true), 0x90000000);
  assert.is(d.getUint32(12, true), 8 << 20);
  assert.is(d.getUint32(16, true), 4096);
  assert.is(d.getUint32(20, true) & 0xffff, 0x40ef, "Winbond, W25Q..JV-IQ");
  assert.is(d.getUint32(24, true), 0);
  assert.is(d.getUint32(28, true), (8 << 20) - 4096);
});

test("INFO after an update: record valid, image length and CRC; button reason", async () => {
  const { b, dfu } = await open();
  const app = fakeApp("h750", 70_000);
  dfu.dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20));
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const d = info(host);
  assert.is(d.getUint8(5), 1, "record valid");
  assert.is(d.getUint8(6), 2, "boot reason: button");
  assert.is(d.getUint32(36, true), app.length);
  assert.is(d.getUint32(40, true), crc32(0, app));
});

test("sector CRCs equal the CRCs of the flash contents; bad ranges stall", async () => {
  const { b, host, dfu } = await open();
  const app = fakeApp("h750", 20_000);
  dfu.dfuUtilDownload(0x90000000, app, pageSizeAt("h750", 8 << 20), false);
  const r = host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 1, wIndex: 0, wLength: 4 * 8 });
  assert.is(r.status, "ok");
  const dv = new DataView(r.data.buffer, r.data.byteOffset);
  for (let i = 0; i < 8; i++) {
    const off = (1 + i) * 4096;
    assert.is(dv.getUint32(4 * i, true), crc32(0, b.flash.data.subarray(off, off + 4096)), `sector ${1 + i}`);
  }
  assert.is(host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 2047, wIndex: 0, wLength: 8 }).status, "stall", "past the end of the chip");
  assert.is(host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 0, wIndex: 0, wLength: 0 }).status, "stall");
  assert.is(host.control({ bmRequestType: 0xc1, bRequest: 0x99, wValue: 0, wIndex: 0, wLength: 4 }).status, "stall");
});

test.run();
