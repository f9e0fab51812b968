// The RP2040 firmware built with the UF2 drive (build/rp2040-uf2/qspiboot.bin) running in
// rp2040js: the composite device (DFU interface 0, mass storage interface 1) enumerates, the
// HAL's bulk endpoints carry the mass-storage Bulk-Only Transport (USB MSC BOT 1.0: 31-byte
// CBW out, data, 13-byte CSW in), and copying the example's .uf2 onto the drive installs it
// and starts it, as dragging the file onto the Pico's drive does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildWithUf2, buildExample } from "../tools/build";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { loadImage } from "../tools/image/load";
import { MscHost, cbw } from "../sim/msc-host";

const built = await buildWithUf2("rp2040", { quiet: true });
buildExample("rp2040", { quiet: true });
const BUILD = join(import.meta.dirname, "..", "build", "rp2040");
const firmware = readFileSync(built.bin);
const exampleUf2 = readFileSync(join(BUILD, "example.uf2"));
const example = loadImage(join(BUILD, "example.elf")).segments;
const APP = 0x10000;
const EP_OUT = 0x01, EP_IN = 0x81;
// The drive's FAT16 (boot/msc/fat.ts): 1 reserved sector, 2 FATs of 64, 32 root directory
// sectors, so the data region starts at LBA 161; 8 sectors per cluster, clusters 2 and 3 hold
// the two text files: the first free cluster, 4, is LBA 177.
const FREE_LBA = 161 + 2 * 8;

function freshPico(): { emu: Rp2040Emu; host: Rp2040UsbHost } {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200), "USB device connected");
  assert.is(host.reset(), "ok", "enumerated (descriptors, address, configuration 1)");
  return { emu, host };
}

/** The host's mass-storage driver (sim/msc-host.ts) on the emulated chip's USB host. */
const drive = (host: Rp2040UsbHost) => new MscHost(host);
const u8 = (a: number[]) => new Uint8Array(a);

function commandIn(host: Rp2040UsbHost, cb: number[], len: number): Uint8Array {
  const r = drive(host).command(u8(cb), { dataIn: len });
  assert.equal([r.status, r.residue, r.dataStalled], [0, len - r.data.length, false], "data stage and CSW");
  return r.data;
}

function write10(host: Rp2040UsbHost, lba: number, sectors: Uint8Array): void {
  const r = drive(host).write(lba, sectors);
  assert.equal([r.status, r.residue, r.dataStalled], [0, 0, false], `WRITE(10) at LBA ${lba} passed`);
}

test("the UF2 build enumerates as DFU (interface 0) plus mass storage (interface 1, bulk 0x01/0x81)", () => {
  const { host } = freshPico();
  const r = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 });
  assert.is(r.status, "ok");
  const d = r.data;
  assert.is(d[1], 2, "a configuration descriptor");
  assert.is(d[2] | (d[3] << 8), d.length, "wTotalLength is what came");
  assert.is(d[4], 2, "bNumInterfaces");
  const interfaces: number[][] = [], endpoints: number[][] = [];
  for (let o = 0; o < d.length; o += d[o]) {
    if (d[o + 1] === 4) interfaces.push([d[o + 2], d[o + 5], d[o + 6], d[o + 7]]);
    if (d[o + 1] === 5) endpoints.push([d[o + 2], d[o + 3], d[o + 4] | (d[o + 5] << 8)]);
  }
  assert.equal(interfaces.map((i) => i.slice(0, 2)), [[0, 0xfe], [1, 0x08]], "DFU first, mass storage second");
  assert.equal(interfaces[1], [1, 0x08, 0x06, 0x50], "mass storage, SCSI transparent, bulk-only");
  assert.equal(endpoints.sort((a, b) => a[0] - b[0]), [[0x01, 2, 64], [0x81, 2, 64]], "bulk OUT 0x01 and IN 0x81, 64 bytes");
});

test("bulk transfers: INQUIRY and READ CAPACITY(10) over the Bulk-Only Transport", () => {
  const { emu, host } = freshPico();
  const lun = host.control({ bmRequestType: 0xa1, bRequest: 0xfe, wValue: 0, wIndex: 1, wLength: 1 });
  assert.equal([lun.status, [...lun.data]], ["ok", [0]], "GET MAX LUN: one LUN");
  const inq = commandIn(host, [0x12, 0, 0, 0, 36, 0], 36);
  assert.is(inq.length, 36, "standard INQUIRY data");
  assert.is(inq[0] & 0x1f, 0, "direct-access block device");
  assert.is(inq[1] & 0x80, 0x80, "removable medium");
  const cap = commandIn(host, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
  const dv = new DataView(cap.buffer, cap.byteOffset);
  assert.is(dv.getUint32(0) + 1, 131072, "64 MiB volume (boot/msc/fat.ts)");
  assert.is(dv.getUint32(4), 512, "512-byte blocks");
  // A transfer longer than one packet: the boot sector, 512 bytes in eight packets.
  const boot = commandIn(host, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512);
  assert.equal([boot[510], boot[511]], [0x55, 0xaa], "boot sector signature");
  assert.equal(String.fromCharCode(...boot.subarray(54, 62)), "FAT16   ");
  assert.equal(host.pidErrors, [], "every bulk packet had the right DATA0/DATA1");
  // CBW, data, CSW each: 1 + 1 + 1 (INQUIRY), 1 + 1 + 1 (READ CAPACITY), 1 + 8 + 1 (READ(10)).
  assert.is(host.bulkPackets, 16, "one packet per CBW and CSW, 64-byte data packets");
  assert.equal(emu.log.filter((l) => /USB/i.test(l)), [], "no unmodelled USB register touched");
});

test("a stall on the bulk IN endpoint: STALL seen, CLEAR_FEATURE(ENDPOINT_HALT), DATA0 again on both sides", () => {
  const { host } = freshPico();
  // Put EP 0x81's toggle at DATA1: READ(10) of one sector is 8 data packets and the CSW.
  commandIn(host, [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 512);
  // TEST UNIT READY has no data; a host that expects 64 bytes in gets a stall, then the CSW
  // after it clears the halt (BOT 6.7.4, case 4).
  const tag = 0x5000;
  assert.is(host.bulkOut(EP_OUT, cbw(tag, 64, true, u8([0x00, 0, 0, 0, 0, 0]))).status, "ok");
  assert.is(host.bulkIn(EP_IN, 64).status, "stall", "the device stalls its IN endpoint");
  assert.is(host.bulkIn(EP_IN, 64, 50).status, "stall", "and stays stalled until the host clears it");
  const halted = host.control({ bmRequestType: 0x82, bRequest: 0, wValue: 0, wIndex: EP_IN, wLength: 2 });
  assert.equal([...halted.data], [1, 0], "GET_STATUS(0x81): halted");
  assert.is(host.control({ bmRequestType: 0x02, bRequest: 1, wValue: 0, wIndex: EP_IN, wLength: 0 }).status, "ok", "CLEAR_FEATURE(ENDPOINT_HALT)");
  assert.equal(drive(host).readCsw(), { tag, status: 0, residue: 64 }, "the CSW after the clear, with DATA0");
  commandIn(host, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
  assert.equal(host.pidErrors, [], "the device restarted at DATA0 after the clear, as the host did");
});

test("copying example.uf2 onto the drive installs the example and starts it", () => {
  const { emu, host } = freshPico();
  assert.is(exampleUf2.length % 512, 0);
  const blocks = exampleUf2.length / 512;
  const dv = new DataView(exampleUf2.buffer, exampleUf2.byteOffset);
  assert.is(dv.getUint32(28, true) >>> 0, 0xe48bff56, "RP2040 family");
  assert.is(dv.getUint32(12, true) >>> 0, 0x10010000, "the example's first block targets 0x10010000");
  const resets = emu.resets.length;
  for (let b = 0; b < blocks; b += 8) {
    const n = Math.min(8, blocks - b);
    write10(host, FREE_LBA + b, exampleUf2.subarray(b * 512, (b + n) * 512));
  }
  assert.equal(host.pidErrors, [], "every bulk packet had the right DATA0/DATA1");
  // The copy is complete: the drive manifests (record written), leaves DFU mode and the chip
  // boots the example from XIP.
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 200_000_000), "the example runs and talks on UART0");
  assert.ok(emu.resets.length > resets, "the bootloader reset the chip to start the image");
  assert.match(emu.uart, /hello from the Pico, running from flash/);
  assert.equal([...emu.nor.data.subarray(APP, APP + example[0].data.length)], [...example[0].data], "the NOR holds the example at 0x10000");
  assert.is(emu.flash.rxOverflows, 0);
  assert.is(emu.flash.txOverflows, 0);
});

test.run();
