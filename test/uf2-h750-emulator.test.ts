// The STM32H750 firmware built with the UF2 drive (build/h750-uf2, QSPIBOOT_UF2: boot/msc and
// the HAL's bulk endpoints in hal/stm32h750/usb.c) under Unicorn with the OTG_FS model of
// sim/h750/otg-fs.ts: it enumerates as DFU + mass storage, answers Bulk-Only Transport
// commands over EP 0x01/0x81, and takes a UF2 file copied onto it, then runs it from QSPI.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { buildWithUf2 } from "../tools/build";
import { MscHost, SCSI, cdb, write10 as write10Cb } from "../sim/msc-host";

const built = await buildWithUf2("h750", { quiet: true });
const firmware = readFileSync(built.bin);
const BUILD = join(import.meta.dirname, "..", "build", "h750");
const exampleUf2 = readFileSync(join(BUILD, "example.uf2"));

const CBW_SIG = 0x43425355, CSW_SIG = 0x53425355;
const FREE_LBA = 177; // virtual FAT16: data region at LBA 161, 8 sectors a cluster, clusters 2 and 3 taken

function board() {
  const emu = new H750Emu({});
  emu.loadFirmware(firmware);
  const host = new H750UsbHost(emu);
  assert.ok(host.waitForDevice(100), "the device connects");
  assert.is(host.reset(), "ok", "enumerated and configured");
  return { emu, host };
}

function cbw(tag: number, length: number, dirIn: boolean, cb: number[]): Uint8Array {
  const b = new Uint8Array(31);
  const v = new DataView(b.buffer);
  v.setUint32(0, CBW_SIG, true);
  v.setUint32(4, tag, true);
  v.setUint32(8, length, true);
  b[12] = dirIn ? 0x80 : 0;
  b[13] = 0;
  b[14] = cb.length;
  b.set(cb, 15);
  return b;
}

function expectCsw(host: H750UsbHost, tag: number, what: string): void {
  const r = host.bulkIn(0x81, 13);
  assert.is(r.status, "ok", `${what}: CSW read`);
  assert.is(r.data.length, 13, `${what}: CSW is 13 bytes`);
  const v = new DataView(r.data.buffer, r.data.byteOffset);
  assert.is(v.getUint32(0, true), CSW_SIG, `${what}: CSW signature`);
  assert.is(v.getUint32(4, true), tag, `${what}: CSW tag`);
  assert.is(v.getUint32(8, true), 0, `${what}: residue`);
  assert.is(r.data[12], 0, `${what}: status passed`);
}

let tag = 0x1000;
function commandIn(host: H750UsbHost, cb: number[], len: number, what: string): Uint8Array {
  const t = ++tag;
  assert.is(host.bulkOut(0x01, cbw(t, len, true, cb)).status, "ok", `${what}: CBW`);
  const r = host.bulkIn(0x81, len);
  assert.is(r.status, "ok", `${what}: data`);
  expectCsw(host, t, what);
  return r.data;
}

function write10(host: H750UsbHost, lba: number, data: Uint8Array): void {
  const t = ++tag, count = data.length / 512;
  const cb = [0x2a, 0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, count >> 8, count & 0xff, 0];
  assert.is(host.bulkOut(0x01, cbw(t, data.length, false, cb)).status, "ok", `WRITE(10) ${lba}: CBW`);
  assert.is(host.bulkOut(0x01, data).status, "ok", `WRITE(10) ${lba}: data`);
  expectCsw(host, t, `WRITE(10) ${lba}`);
}

test("the UF2 build enumerates as DFU (interface 0) and mass storage (interface 1, 08/06/50, bulk 0x01/0x81)", () => {
  const { host } = board();
  const r = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 });
  assert.is(r.status, "ok");
  const d = r.data;
  assert.is(d[4], 2, "bNumInterfaces");
  const ifaces: number[][] = [], eps: number[][] = [];
  for (let i = 0; i < d.length; i += d[i]) {
    if (d[i + 1] === 4) ifaces.push([d[i + 2], d[i + 5], d[i + 6], d[i + 7]]);
    if (d[i + 1] === 5) eps.push([d[i + 2], d[i + 3], d[i + 4] | (d[i + 5] << 8)]);
  }
  assert.equal(ifaces.find((x) => x[0] === 0)?.[1], 0xfe, "interface 0: DFU (application specific)");
  assert.equal(ifaces.find((x) => x[0] === 1), [1, 0x08, 0x06, 0x50], "interface 1: mass storage, SCSI transparent, bulk-only");
  assert.equal(eps.sort(), [[0x01, 2, 64], [0x81, 2, 64]], "bulk endpoints 0x01 OUT and 0x81 IN, 64 bytes");
});

test("INQUIRY and READ CAPACITY(10) over the bulk endpoints", () => {
  const { emu, host } = board();
  const inq = commandIn(host, [0x12, 0, 0, 0, 36, 0], 36, "INQUIRY");
  assert.is(inq.length, 36);
  assert.is(inq[0] & 0x1f, 0, "direct access block device");
  assert.ok(inq[1] & 0x80, "removable");
  const cap = commandIn(host, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8, "READ CAPACITY(10)");
  const v = new DataView(cap.buffer, cap.byteOffset);
  assert.ok(v.getUint32(0, false) > FREE_LBA, `last LBA ${v.getUint32(0, false)}`);
  assert.is(v.getUint32(4, false), 512, "block length");
  assert.equal(host.pidErrors, [], "every IN packet had the toggle the host expected");
  assert.equal(emu.m.otg.violations, [], "no register-programming rule broken");
});

test("a UF2 copy end to end: the example's blocks written from LBA 177, the board starts it from QSPI", () => {
  const { emu, host } = board();
  assert.is(exampleUf2.length % 512, 0);
  const blocks = exampleUf2.length / 512;
  const dv = new DataView(exampleUf2.buffer, exampleUf2.byteOffset);
  assert.is(dv.getUint32(28, true), 0x6db66082, "family STM32H7");
  assert.is(dv.getUint32(12, true), 0x90000000, "at the QSPI window");
  for (let b = 0; b < blocks; b += 8) {
    const n = Math.min(8, blocks - b);
    write10(host, FREE_LBA + b, exampleUf2.subarray(b * 512, (b + n) * 512));
  }
  assert.ok(emu.runUntil(() => emu.inApplication, 60_000_000), "the board manifests and jumps to the example");
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000), "the example's USART1 output");
  assert.match(emu.uart, /hello from the WeAct H750, running from QSPI flash/);
  assert.equal(host.pidErrors, [], "every IN packet had the toggle the host expected");
  assert.is(emu.m.otg.toggleDrops, 0, "no OUT packet dropped for a wrong toggle");
  assert.equal(emu.m.otg.violations, [], "no register-programming rule broken");
});

test("stalls: a data phase the device does not have is stalled, cleared with the toggle back at DATA0; reset recovery in the middle of a WRITE", () => {
  const { emu, host } = board();
  const msc = new MscHost(host);
  // TEST UNIT READY with 64 bytes expected IN (BOT 6.7.1 case 4): IN stalled, CSW after the clear.
  const r = msc.command(cdb(SCSI.TEST_UNIT_READY), { dataIn: 64 });
  assert.ok(r.dataStalled, "the IN data phase was stalled");
  assert.is(r.status, 0);
  assert.is(r.residue, 64);
  // An IN transfer armed and then dropped: the mass storage reset while the device waits for the
  // rest of a WRITE's data (OUT armed, partly filled) disables the endpoint under the global OUT NAK.
  const t = ++tag;
  assert.is(host.bulkOut(0x01, cbw(t, 4096, false, [...write10Cb(FREE_LBA, 8)])).status, "ok");
  assert.is(host.bulkOut(0x01, new Uint8Array(128)).status, "ok", "two packets of the data");
  const disables = emu.m.otg.stats.epDisables;
  msc.resetRecovery();
  assert.is(emu.m.otg.stats.epDisables, disables + 2, "armed OUT transfers disabled (EPDIS): the WRITE's at the reset, the next CBW's when the host cleared the OUT halt");
  assert.is(emu.m.otg.read(0xb30), (1 << 19) | 64, "DOEPTSIZ1: the WRITE's transfer dropped, one packet armed for the next CBW...");
  assert.equal(emu.m.otg.violations, [], "...with the manual's disable procedure");
  // The drive answers again, on fresh toggles on both sides.
  assert.is(msc.inquiry().raw.length, 36);
  assert.equal([...msc.ok(cdb(SCSI.READ_CAPACITY_10), { dataIn: 8 }).subarray(4)], [0, 0, 2, 0]);
  const data = msc.read(0, 16);
  assert.is(data.length, 16 * 512, "READ(10) of 8 KiB in 4 KiB transfers");
  assert.equal([data[510], data[511]], [0x55, 0xaa], "boot sector signature");
  assert.equal(host.pidErrors, [], "every IN packet had the toggle the host expected");
  assert.is(emu.m.otg.toggleDrops, 0, "no OUT packet dropped for a wrong toggle");
});

test.run();
