// The composite device of a build with the UF2 drive: DFU on interface 0, USB mass storage on
// interface 1 (BOT 1.0 4.1-4.3; USB 2.0 tables 9-10, 9-12, 9-13), and the Microsoft OS 2.0
// descriptor set that binds WinUSB to the DFU interface only (MS OS 2.0 spec tables 10-14), so
// Windows keeps its own storage driver for the drive. Byte for byte, like the DFU-only device's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { uf2Board } from "./lib/uf2-drive";

const get = (host: SimUsbHost, type: number, index: number, length: number, langId = 0) =>
  host.control({ bmRequestType: 0x80, bRequest: 6, wValue: (type << 8) | index, wIndex: langId, wLength: length });

const utf16 = (b: Uint8Array) => { let s = ""; for (let i = 0; i < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8)); return s; };

test("configuration: DFU interface 0 as before, mass storage interface 1 (08/06/50) with bulk 0x01 and 0x81", async () => {
  const { host } = await uf2Board("h750");
  const r = get(host, 2, 0, 255);
  assert.is(r.status, "ok");
  assert.equal([...r.data], [
    9, 2, 50, 0, 2, 1, 0, 0x80, 50,              // 2 interfaces, configuration 1, bus powered, 100 mA
    9, 4, 0, 0, 0, 0xfe, 1, 2, 4,                // DFU mode interface, alternate 0, iInterface 4
    9, 0x21, 0x0f, 0xff, 0x00, 0, 0x10, 0x1a, 0x01, // DFU functional: 4096-byte transfers, DfuSe 1.1a
    9, 4, 1, 0, 2, 0x08, 0x06, 0x50, 5,          // mass storage, SCSI transparent, bulk-only, iInterface 5
    7, 5, 0x01, 0x02, 64, 0, 0,                  // bulk OUT 1, 64 bytes
    7, 5, 0x81, 0x02, 64, 0, 0,                  // bulk IN 1, 64 bytes
  ]);
  const s = get(host, 3, 5, 255, 0x0409);
  assert.is(s.status, "ok");
  assert.is(utf16(s.data.subarray(2)), "UF2 drive");
});

test("the build without the drive keeps its DFU-only configuration", async () => {
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  assert.is(host.enumerate(), "ok");
  const r = get(host, 2, 0, 255);
  assert.is(r.data.length, 27);
  assert.is(r.data[4], 1, "one interface");
});

test("MS OS 2.0: the set has a configuration subset and a function subset for interface 0 only", async () => {
  const { host } = await uf2Board("rp2040");
  const head = get(host, 15, 0, 5).data;
  const bos = get(host, 15, 0, head[2] | (head[3] << 8)).data;
  let ms: Uint8Array | undefined;
  for (let o = 5; o < bos.length; o += bos[o]) if (bos[o + 4] === 0xdf && bos[o + 5] === 0x60) ms = bos.subarray(o, o + bos[o]);
  assert.ok(ms, "MS OS 2.0 platform capability");
  const setLen = ms![24] | (ms![25] << 8);
  assert.is(setLen, 178);
  const r = host.control({ bmRequestType: 0xc0, bRequest: ms![26], wValue: 0, wIndex: 7, wLength: setLen });
  assert.is(r.status, "ok");
  const set = r.data;
  assert.is(set.length, 178);
  assert.equal([...set.subarray(0, 10)], [10, 0, 0, 0, 0x00, 0x00, 0x03, 0x06, 178, 0], "set header: Windows 8.1, total 178");
  assert.equal([...set.subarray(10, 18)], [8, 0, 1, 0, 0, 0, 168, 0], "configuration subset: index 0, 168 bytes");
  assert.equal([...set.subarray(18, 26)], [8, 0, 2, 0, 0, 0, 160, 0], "function subset: first interface 0, 160 bytes");
  assert.equal([...set.subarray(26, 46)], [20, 0, 3, 0, 87, 73, 78, 85, 83, 66, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "WINUSB compatible ID");
  const reg = set.subarray(46);
  assert.is(reg[0] | (reg[1] << 8), 132);
  assert.equal([reg[2], reg[4]], [4, 7], "registry property, REG_MULTI_SZ");
  assert.is(utf16(reg.subarray(8, 50)), "DeviceInterfaceGUIDs\0");
  assert.match(utf16(reg.subarray(52)), /^\{[0-9A-F-]{36}\}\0\0$/);
  // Nothing in the set names interface 1: Windows' USBSTOR takes it.
  let o = 26, inside = 0;
  while (o < set.length) { inside += set[o] | (set[o + 1] << 8); o += set[o] | (set[o + 1] << 8); }
  assert.is(o, 178);
  assert.is(26 + inside, 178, "every feature sits inside interface 0's function subset");
});

test("endpoint requests: GET_STATUS, SET_FEATURE and CLEAR_FEATURE(ENDPOINT_HALT) on 0x01 and 0x81; other endpoints stall", async () => {
  const { host } = await uf2Board("h750");
  const status = (ep: number) => host.control({ bmRequestType: 0x82, bRequest: 0, wValue: 0, wIndex: ep, wLength: 2 });
  const feature = (set: boolean, ep: number) => host.control({ bmRequestType: 0x02, bRequest: set ? 3 : 1, wValue: 0, wIndex: ep, wLength: 0 });
  for (const ep of [0x01, 0x81]) {
    assert.equal([...status(ep).data], [0, 0], `0x${ep.toString(16)} not halted`);
    assert.is(feature(true, ep).status, "ok");
    assert.equal([...status(ep).data], [1, 0], "halted");
    const moved = ep & 0x80 ? host.bulkIn(ep, 64, 100) : host.bulkOut(ep, new Uint8Array(31), 100);
    assert.is(moved.status, "stall", "a halted endpoint answers STALL");
    assert.is(feature(false, ep).status, "ok");
    assert.equal([...status(ep).data], [0, 0], "cleared");
  }
  for (const ep of [0x02, 0x82, 0x03]) assert.is(status(ep).status, "stall", `0x${ep.toString(16)} does not exist`);
  // Unconfigured (SET_CONFIGURATION 0): the bulk endpoints are gone too.
  assert.is(host.control({ bmRequestType: 0, bRequest: 9, wValue: 0, wIndex: 0, wLength: 0 }).status, "ok");
  assert.is(status(0x81).status, "stall");
});

test.run();
