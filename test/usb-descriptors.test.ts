// Enumeration as a host does it, every descriptor parsed back and checked against the
// USB 2.0, DFU 1.1 and Microsoft OS 2.0 layouts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";

async function fresh(board: "h750" | "rp2040" = "h750") {
  const b = await SimBoard.create({ board });
  b.powerOn();
  const host = new SimUsbHost(b);
  assert.is(host.enumerate(), "ok");
  return { b, host };
}

function getDescriptor(host: SimUsbHost, type: number, index: number, length: number, langId = 0) {
  return host.control({ bmRequestType: 0x80, bRequest: 6, wValue: (type << 8) | index, wIndex: langId, wLength: length });
}

function decodeString(d: Uint8Array): string {
  assert.is(d[1], 3, "string descriptor type");
  assert.is(d[0], d.length, "bLength equals the bytes sent");
  assert.ok(d.length % 2 === 0, "UTF-16 body");
  let s = "";
  for (let i = 2; i < d.length; i += 2) s += String.fromCharCode(d[i] | (d[i + 1] << 8));
  return s;
}

test("device descriptor: bcdUSB 2.01, EP0 64 bytes, ids from the board, three strings", async () => {
  const { host } = await fresh();
  const r = getDescriptor(host, 1, 0, 18);
  assert.is(r.status, "ok");
  const d = r.data;
  assert.is(d.length, 18);
  assert.equal([d[0], d[1]], [18, 1]);
  assert.is(d[2] | (d[3] << 8), 0x0201, "bcdUSB 2.01 so hosts ask for the BOS");
  assert.is(d[7], 64);
  assert.is(d[8] | (d[9] << 8), 0x1209, "idVendor");
  assert.is(d[10] | (d[11] << 8), 0x0001, "idProduct");
  assert.equal([d[14], d[15], d[16], d[17]], [1, 2, 3, 1]);
});

test("configuration: DFU-mode interface FE/01/02 and a functional descriptor with 4096-byte transfers, DfuSe 1.1a", async () => {
  const { host } = await fresh();
  const head = getDescriptor(host, 2, 0, 9).data;
  const total = head[2] | (head[3] << 8);
  const d = getDescriptor(host, 2, 0, 255).data;
  assert.is(d.length, total, "wTotalLength is what the device sends");
  // Walk the descriptors by bLength: they must tile the configuration exactly.
  const seen: number[][] = [];
  for (let o = 0; o < d.length; o += d[o]) { assert.ok(d[o] >= 2); seen.push([...d.subarray(o, o + d[o])]); }
  assert.is(seen.length, 3);
  const [cfg, itf, fn] = seen;
  assert.is(cfg[1], 2); assert.is(cfg[4], 1, "one interface"); assert.is(cfg[5], 1, "bConfigurationValue 1");
  assert.ok(cfg[7] & 0x80, "bmAttributes bit 7 set");
  assert.equal(itf.slice(0, 2), [9, 4]);
  assert.equal([itf[5], itf[6], itf[7]], [0xfe, 1, 2], "DFU mode class/subclass/protocol");
  assert.is(itf[4], 0, "no endpoints besides EP0");
  assert.ok(itf[8] > 0, "iInterface names the layout");
  assert.equal(fn.slice(0, 2), [9, 0x21]);
  assert.is(fn[2], 0x0f, "download, upload, manifestation tolerant, will detach");
  assert.is(fn[5] | (fn[6] << 8), 4096, "wTransferSize");
  assert.is(fn[7] | (fn[8] << 8), 0x011a, "bcdDFUVersion: DfuSe");
});

test("strings: LANGID, manufacturer, product with the board name, hex serial, DfuSe layout", async () => {
  const { host } = await fresh();
  const lang = getDescriptor(host, 3, 0, 255).data;
  assert.equal([...lang], [4, 3, 0x09, 0x04]);
  assert.is(decodeString(getDescriptor(host, 3, 1, 255, 0x409).data), "qspiboot");
  assert.is(decodeString(getDescriptor(host, 3, 2, 255, 0x409).data), "qspiboot WeAct H750");
  const serial = decodeString(getDescriptor(host, 3, 3, 255, 0x409).data);
  assert.is(serial, "31002E001251303438393633", "the STM32's 96-bit unique ID in hex");
  const layout = decodeString(getDescriptor(host, 3, 4, 255, 0x409).data);
  assert.is(layout, "@QSPI Flash /0x90000000/127*064Kg,15*004Kg,01*004Ka");
  assert.is(getDescriptor(host, 3, 9, 255, 0x409).status, "stall", "no such string");
});

test("RP2040: layout protects the bootloader's 64 KiB, serial comes from the flash chip", async () => {
  const { host } = await fresh("rp2040");
  const layout = decodeString(getDescriptor(host, 3, 4, 255, 0x409).data);
  assert.is(layout, "@QSPI Flash /0x10000000/01*064Ka,31*064Kg");
  const serial = decodeString(getDescriptor(host, 3, 3, 255, 0x409).data);
  assert.match(serial, /^[0-9A-F]{16}$/, "the W25Q's 64-bit unique ID (4Bh)");
});

test("a reply longer than wLength is cut to wLength; a short wLength gets no more", async () => {
  const { host } = await fresh();
  for (const n of [1, 2, 8, 17, 18, 64, 255]) {
    const r = getDescriptor(host, 1, 0, n);
    assert.is(r.data.length, Math.min(n, 18));
  }
  const d = getDescriptor(host, 3, 4, 10).data;
  assert.is(d.length, 10);
});

test("BOS: WebUSB and MS OS 2.0 platform capabilities; the descriptor set via the vendor request", async () => {
  const { host } = await fresh();
  const head = getDescriptor(host, 15, 0, 5).data;
  assert.equal([head[0], head[1]], [5, 0x0f]);
  const total = head[2] | (head[3] << 8);
  const bos = getDescriptor(host, 15, 0, total).data;
  assert.is(bos.length, total);
  const caps: Uint8Array[] = [];
  for (let o = 5; o < bos.length; o += bos[o]) caps.push(bos.subarray(o, o + bos[o]));
  assert.is(caps.length, head[4], "bNumDeviceCaps");
  const uuid = (c: Uint8Array) => [...c.subarray(4, 20)].map((x) => x.toString(16).padStart(2, "0")).join("");
  const webusb = caps.find((c) => uuid(c) === "38b60834a909a0478bfda0768815b665")!;
  assert.ok(webusb, "WebUSB platform capability");
  assert.is(webusb[20] | (webusb[21] << 8), 0x0100);
  const ms = caps.find((c) => uuid(c) === "df60ddd88945c74c9cd2659d9e648a9f")!;
  assert.ok(ms, "MS OS 2.0 platform capability");
  assert.is(ms[1], 0x10, "device capability"); assert.is(ms[2], 0x05, "platform");
  const setLen = ms[24] | (ms[25] << 8);
  const vendorCode = ms[26];
  const r = host.control({ bmRequestType: 0xc0, bRequest: vendorCode, wValue: 0, wIndex: 7, wLength: setLen });
  assert.is(r.status, "ok");
  const set = r.data;
  assert.is(set.length, setLen);
  // Set header, then features; each starts with wLength, wDescriptorType.
  assert.is(set[0] | (set[1] << 8), 10); assert.is(set[2] | (set[3] << 8), 0);
  assert.is(set[8] | (set[9] << 8), setLen, "set header's wTotalLength");
  let o = 10;
  const feats: Record<number, Uint8Array> = {};
  while (o < set.length) { const len = set[o] | (set[o + 1] << 8); feats[set[o + 2] | (set[o + 3] << 8)] = set.subarray(o, o + len); o += len; }
  assert.is(o, set.length, "features tile the set");
  assert.is(String.fromCharCode(...feats[3].subarray(4, 10)), "WINUSB");
  // What Windows needs to bind WinUSB with no driver install, so that Chrome can open the device
  // (Microsoft OS 2.0 Descriptors Specification, tables 4, 8, 13, 14; Windows 8's USB 2.1
  // enumeration asks for the BOS only when bcdUSB is 0x0201 or more):
  const dev = getDescriptor(host, 1, 0, 18).data;
  assert.ok((dev[2] | (dev[3] << 8)) >= 0x0201, "bcdUSB >= 0x0201: Windows asks for the BOS");
  const winVer = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  assert.ok(winVer(ms, 20) >= 0x06030000, "capability's dwWindowsVersion: Windows 8.1 or later");
  assert.is(winVer(set, 4), winVer(ms, 20), "set header names the same Windows version");
  assert.is(feats[3].length, 20, "compatible ID feature: 8-byte compatible and sub-compatible IDs");
  assert.equal([...feats[3].subarray(10, 20)], new Array(10).fill(0), "WINUSB padded, no sub-compatible ID");
  assert.is(feats[4][4] | (feats[4][5] << 8), 7, "DeviceInterfaceGUIDs is REG_MULTI_SZ");
  const reg = feats[4];
  const nameLen = reg[6] | (reg[7] << 8);
  const utf16 = (b: Uint8Array) => { let s = ""; for (let i = 0; i < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8)); return s; };
  assert.is(utf16(reg.subarray(8, 8 + nameLen)), "DeviceInterfaceGUIDs\0");
  const dataLen = reg[8 + nameLen] | (reg[9 + nameLen] << 8);
  assert.is(8 + nameLen + 2 + dataLen, reg.length);
  assert.match(utf16(reg.subarray(10 + nameLen)), /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}\0\0$/);
  // WebUSB GET_URL with no landing page, and unknown vendor requests: stall.
  assert.is(host.control({ bmRequestType: 0xc0, bRequest: webusb[22], wValue: 1, wIndex: 2, wLength: 255 }).status, "stall");
  assert.is(host.control({ bmRequestType: 0xc0, bRequest: 0x77, wValue: 0, wIndex: 0, wLength: 8 }).status, "stall");
});

test("WebUSB landing page: a build with a URL announces it in the BOS and answers GET_URL (WebUSB 1.0 4.3.1); without one the BOS says none", async () => {
  const landing = (bos: Uint8Array) => bos[5 + 23];
  const plain = await fresh("rp2040");
  assert.is(landing(getDescriptor(plain.host, 15, 0, 57).data), 0, "no landing page by default");
  for (const [url, scheme, rest] of [["https://example.org/qspiboot/", 1, "example.org/qspiboot/"], ["http://localhost:8040/", 0, "localhost:8040/"]] as const) {
    const b = await SimBoard.create({ board: "rp2040" });
    b.facts.webUrl = url;
    b.powerOn();
    const host = new SimUsbHost(b);
    assert.is(host.enumerate(), "ok");
    const bos = getDescriptor(host, 15, 0, 57).data;
    assert.is(landing(bos), 1, "iLandingPage 1");
    const r = host.control({ bmRequestType: 0xc0, bRequest: bos[5 + 22], wValue: 1, wIndex: 2, wLength: 255 });
    assert.is(r.status, "ok");
    assert.equal([r.data[0], r.data[1], r.data[2]], [3 + rest.length, 3, scheme]);
    assert.is(String.fromCharCode(...r.data.subarray(3)), rest);
    assert.is(host.control({ bmRequestType: 0xc0, bRequest: bos[5 + 22], wValue: 2, wIndex: 2, wLength: 255 }).status, "stall", "only URL 1");
  }
});

test("standard requests: qualifier stalls on full speed, status, configuration, interface, features", async () => {
  const { host } = await fresh();
  assert.is(getDescriptor(host, 6, 0, 10).status, "stall", "device qualifier");
  assert.is(getDescriptor(host, 7, 0, 9).status, "stall", "other-speed configuration");
  const st = host.control({ bmRequestType: 0x80, bRequest: 0, wValue: 0, wIndex: 0, wLength: 2 });
  assert.equal([...st.data], [0, 0]);
  assert.equal([...host.control({ bmRequestType: 0x80, bRequest: 8, wValue: 0, wIndex: 0, wLength: 1 }).data], [1]);
  assert.equal([...host.control({ bmRequestType: 0x81, bRequest: 10, wValue: 0, wIndex: 0, wLength: 1 }).data], [0]);
  assert.is(host.control({ bmRequestType: 0x01, bRequest: 11, wValue: 0, wIndex: 0, wLength: 0 }).status, "ok", "SET_INTERFACE alt 0");
  assert.is(host.control({ bmRequestType: 0x01, bRequest: 11, wValue: 1, wIndex: 0, wLength: 0 }).status, "stall", "no alt 1");
  assert.is(host.control({ bmRequestType: 0x01, bRequest: 11, wValue: 0, wIndex: 1, wLength: 0 }).status, "stall", "no interface 1");
  assert.is(host.control({ bmRequestType: 0x02, bRequest: 1, wValue: 0, wIndex: 0x80, wLength: 0 }).status, "ok", "CLEAR_FEATURE(HALT) EP0");
  assert.is(host.control({ bmRequestType: 0x82, bRequest: 0, wValue: 0, wIndex: 0x81, wLength: 2 }).status, "stall", "no EP1");
  assert.is(host.control({ bmRequestType: 0x00, bRequest: 9, wValue: 2, wIndex: 0, wLength: 0 }).status, "stall", "no configuration 2");
  assert.is(host.control({ bmRequestType: 0x00, bRequest: 3, wValue: 1, wIndex: 0, wLength: 0 }).status, "stall", "SET_FEATURE unsupported");
  // After a stall the pipe works again at the next SETUP.
  assert.is(getDescriptor(host, 1, 0, 18).data.length, 18);
});

test("SET_ADDRESS takes effect after its status stage; a bus reset returns to address 0, unconfigured", async () => {
  const b = await SimBoard.create();
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  assert.is(b.ep0.address, 7);
  b.ep0.reset();
  b.step();
  assert.is(b.ep0.address, 0);
  assert.equal([...host.control({ bmRequestType: 0x80, bRequest: 8, wValue: 0, wIndex: 0, wLength: 1 }).data], [0], "unconfigured after reset");
  assert.is(host.control({ bmRequestType: 0x01, bRequest: 11, wValue: 0, wIndex: 0, wLength: 0 }).status, "stall", "no interfaces before SET_CONFIGURATION");
});

test.run();
