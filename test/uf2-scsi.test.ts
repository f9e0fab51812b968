// The drive's SCSI layer and Bulk-Only Transport against what hosts send. The sequences are the
// ones the three systems' storage stacks document: Linux (drivers/usb/storage + sd.c: GET MAX
// LUN, INQUIRY, TEST UNIT READY, READ CAPACITY(10), MODE SENSE(6) of all pages with 192 bytes
// as usb-storage asks, the caching page, READ(10) of the partition table, PREVENT ALLOW, REQUEST
// SENSE after a failure, and commands it probes with: REPORT LUNS, READ CAPACITY(16), ATA
// PASS-THROUGH from udisks), Windows (USBSTOR: INQUIRY, READ FORMAT CAPACITIES, READ CAPACITY,
// MODE SENSE(6) page 1Ch, TEST UNIT READY polling, SYNCHRONIZE CACHE) and macOS (IOSCSI block
// device: INQUIRY, TEST UNIT READY, PREVENT ALLOW, READ CAPACITY, MODE SENSE(10), START STOP UNIT
// to eject). BOT 6.7's thirteen host/device cases decide stalls, residues and phase errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cdb, read10, write10, SCSI, type MscHost } from "../sim/msc-host";
import { uf2Board } from "./lib/uf2-drive";

const ILLEGAL = 0x05, INVALID_OPCODE = 0x20, LBA_RANGE = 0x21, INVALID_FIELD = 0x24, LUN = 0x25;

function failsWith(msc: MscHost, cb: Uint8Array, asc: number, opts: { dataIn?: number; lun?: number } = {}) {
  const r = msc.command(cb, opts);
  assert.is(r.status, 1, `0x${cb[0].toString(16)} fails`);
  assert.equal(msc.requestSense(), { key: ILLEGAL, asc, ascq: 0 }, `0x${cb[0].toString(16)} sense`);
  assert.equal(msc.requestSense(), { key: 0, asc: 0, ascq: 0 }, "REQUEST SENSE clears it");
}

test("Linux: the usb-storage and sd probe, then the partition scan", async () => {
  const { msc, b } = await uf2Board("rp2040");
  assert.is(msc.maxLun(), 0, "one logical unit");
  const inq = msc.inquiry();
  assert.is(inq.peripheral, 0x00, "direct-access block device");
  assert.ok(inq.removable, "removable medium");
  assert.is(inq.raw[3] & 0x0f, 2, "response data format 2");
  assert.is(inq.raw[4], 31, "additional length: 36 bytes in all");
  assert.is(inq.vendor, "qspiboot");
  assert.match(inq.product, "Pico RP2040");
  assert.match(inq.revision, /^\d\.\d\d$/);
  failsWith(msc, cdb(SCSI.REPORT_LUNS, [0, 0, 0, 0, 0, 0, 0, 0, 16]), INVALID_OPCODE, { dataIn: 16 });
  assert.is(msc.testUnitReady(), 0);
  const cap = msc.readCapacity();
  assert.equal(cap, { lastLba: 131071, blockSize: 512 }, "64 MiB of 512-byte sectors");
  failsWith(msc, cdb(SCSI.READ_CAPACITY_16, [0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32]), INVALID_OPCODE, { dataIn: 32 });
  // sd_read_write_protect_flag: MODE SENSE(6), all pages, 192 bytes (usb-storage's choice).
  const ms = msc.command(cdb(SCSI.MODE_SENSE_6, [0, 0x3f, 0, 192]), { dataIn: 192 });
  assert.is(ms.status, 0);
  assert.is(ms.data.length, 4, "a mode parameter header only");
  assert.is(ms.residue, 188);
  assert.is(ms.data[2] & 0x80, 0, "not write-protected");
  // sd_read_cache_type: the caching page; the header alone says "no such page", sd assumes write-through.
  const cache = msc.command(cdb(SCSI.MODE_SENSE_6, [0x08, 0x08, 0, 0x20]), { dataIn: 0x20 });
  assert.is(cache.status, 0);
  const mbr = msc.read(0, 8);
  assert.equal([mbr[510], mbr[511]], [0x55, 0xaa], "boot sector signature");
  assert.is(msc.command(cdb(SCSI.PREVENT_ALLOW, [0, 0, 0, 1])).status, 0);
  // udisks' ATA PASS-THROUGH(12): not an ATA device.
  failsWith(msc, cdb(0xa1, [0x08, 0x0e, 0, 1, 0, 0, 0, 0, 0xec, 0, 0], 12), INVALID_OPCODE, { dataIn: 512 });
  assert.is(b.mode, "bootloader");
});

test("Windows: READ FORMAT CAPACITIES, READ CAPACITY, MODE SENSE(6) page 1Ch, TEST UNIT READY polls", async () => {
  const { msc } = await uf2Board("h750");
  msc.inquiry();
  const rfc = msc.command(cdb(SCSI.READ_FORMAT_CAPACITIES, [0, 0, 0, 0, 0, 0, 0, 0xfc, 0]), { dataIn: 0xfc });
  assert.is(rfc.status, 0);
  assert.is(rfc.data.length, 12);
  assert.is(rfc.data[3], 8, "capacity list length: one descriptor");
  const v = new DataView(rfc.data.buffer, rfc.data.byteOffset);
  assert.is(v.getUint32(4), 131072, "blocks");
  assert.is(rfc.data[8] & 3, 2, "formatted media");
  assert.is(v.getUint32(8) & 0xffffff, 512, "block length");
  assert.equal(msc.readCapacity(), { lastLba: 131071, blockSize: 512 });
  const ms = msc.command(cdb(SCSI.MODE_SENSE_6, [0, 0x1c, 0, 0xc0]), { dataIn: 0xc0 });
  assert.is(ms.status, 0);
  for (let i = 0; i < 5; i++) assert.is(msc.testUnitReady(), 0);
  assert.is(msc.command(cdb(SCSI.SYNCHRONIZE_CACHE_10, [0, 0, 0, 0, 0, 0, 0, 0, 0])).status, 0);
  failsWith(msc, cdb(SCSI.VERIFY_10, [0, 0, 0, 0, 0, 0, 0, 1, 0]), INVALID_OPCODE);
});

test("macOS: PREVENT ALLOW, MODE SENSE(10), START STOP UNIT to eject", async () => {
  const { msc, b } = await uf2Board("rp2040");
  msc.inquiry();
  assert.is(msc.testUnitReady(), 0);
  assert.is(msc.command(cdb(SCSI.PREVENT_ALLOW, [0, 0, 0, 1])).status, 0);
  msc.readCapacity();
  const ms = msc.command(cdb(SCSI.MODE_SENSE_10, [0, 0x3f, 0, 0, 0, 0, 0, 0xff, 0]), { dataIn: 0xff });
  assert.is(ms.status, 0);
  assert.is(ms.data.length, 8);
  assert.is((ms.data[0] << 8) | ms.data[1], 6, "mode data length");
  assert.is(ms.data[3] & 0x80, 0, "not write-protected");
  msc.read(0, 64);
  assert.is(msc.command(cdb(SCSI.PREVENT_ALLOW, [0, 0, 0, 0])).status, 0);
  assert.is(msc.command(cdb(SCSI.START_STOP_UNIT, [0, 0, 0, 0x02])).status, 0, "eject");
  assert.is(b.mode, "bootloader", "ejecting does not start anything");
});

test("bad requests: out-of-range LBAs, a second LUN, INQUIRY vital product pages, short command blocks", async () => {
  const { msc } = await uf2Board("h750");
  failsWith(msc, read10(131072, 1), LBA_RANGE, { dataIn: 512 });
  failsWith(msc, read10(131071, 2), LBA_RANGE, { dataIn: 1024 });
  const w = msc.command(write10(131072, 1), { dataOut: new Uint8Array(512) });
  assert.is(w.status, 1);
  assert.equal(msc.requestSense(), { key: ILLEGAL, asc: LBA_RANGE, ascq: 0 });
  failsWith(msc, cdb(SCSI.INQUIRY, [1, 0x80, 0, 255]), INVALID_FIELD, { dataIn: 255 });
  failsWith(msc, cdb(SCSI.TEST_UNIT_READY), LUN, { lun: 1 });
  failsWith(msc, cdb(0x42), INVALID_OPCODE); // a 10-byte opcode we do not have
  assert.is(msc.testUnitReady(), 0, "and the drive still works");
});

test("BOT: an invalid CBW stalls both endpoints until reset recovery (6.6.1)", async () => {
  const { msc, host } = await uf2Board("rp2040");
  const bad = new Uint8Array(31);
  bad.set([0x55, 0x53, 0x42, 0x44]); // wrong signature
  assert.is(msc.rawOut(bad).status, "ok", "the CBW itself is taken");
  assert.is(msc.rawIn(13).status, "stall");
  // CLEAR_FEATURE alone does not end it: the device stays stalled (BOT 6.6.1).
  msc.clearHalt(0x81);
  assert.is(msc.rawIn(13).status, "stall");
  msc.resetRecovery();
  assert.is(msc.testUnitReady(), 0, "after reset recovery the next command works");
  assert.equal(host.pidErrors, []);
});

test("BOT: the thirteen cases where host and device disagree about the data (6.7)", async () => {
  const { msc, host } = await uf2Board("h750");
  // Case 4, Hi > Dn: the host wants data the command does not have: IN stalled, residue all.
  let r = msc.command(cdb(SCSI.TEST_UNIT_READY), { dataIn: 64 });
  assert.equal([r.status, r.residue, r.dataStalled], [0, 64, true]);
  // Case 5, Hi > Di: less than asked, ending on a short packet: no stall, residue the rest.
  r = msc.command(cdb(SCSI.INQUIRY, [0, 0, 0, 36]), { dataIn: 100 });
  assert.equal([r.status, r.data.length, r.residue, r.dataStalled], [0, 36, 64, false]);
  // Case 5 on a packet boundary: 512 bytes of a 1024-byte request, then a stall.
  r = msc.command(read10(0, 1), { dataIn: 1024 });
  assert.equal([r.status, r.data.length, r.residue, r.dataStalled], [0, 512, 512, true]);
  r = msc.command(cdb(SCSI.MODE_SENSE_6, [0, 0x3f, 0, 64]), { dataIn: 128 });
  assert.equal([r.status, r.data.length, r.residue], [0, 4, 124]);
  // Case 2, Hn < Di: a command with data and a host that expects none: phase error.
  r = msc.command(read10(0, 1));
  assert.is(r.status, 2);
  // Case 7, Hi < Di: the host has room for less than the READ moves: phase error.
  r = msc.command(read10(0, 2), { dataIn: 512 });
  assert.is(r.status, 2);
  // Case 8, Hi <> Do: a WRITE announced as IN.
  r = msc.command(write10(1000, 1), { dataIn: 512 });
  assert.is(r.status, 2);
  // Case 9, Ho > Dn: data sent for a command without any: OUT stalled, residue all.
  r = msc.command(cdb(SCSI.TEST_UNIT_READY), { dataOut: new Uint8Array(512) });
  assert.equal([r.status, r.residue, r.dataStalled], [0, 512, true]);
  // Case 10, Ho <> Di: a READ announced as OUT.
  r = msc.command(read10(0, 1), { dataOut: new Uint8Array(512) });
  assert.is(r.status, 2);
  // Case 3, Hn < Do: a WRITE with no data.
  r = msc.command(write10(1000, 1));
  assert.is(r.status, 2);
  // Case 13, Ho < Do: the WRITE says more sectors than the host sends.
  r = msc.command(write10(1000, 2), { dataOut: new Uint8Array(512) });
  assert.is(r.status, 2);
  // Case 12, Ho = Do, and case 6, Hi = Di: fine.
  assert.is(msc.write(1000, new Uint8Array(1024)).status, 0);
  assert.is(msc.command(read10(0, 2), { dataIn: 1024 }).status, 0);
  // Case 1, Hn = Dn.
  assert.is(msc.testUnitReady(), 0);
  assert.equal(host.pidErrors, [], "data toggles stayed in step through every stall and reset");
});

test("reads are the same whichever way the host splits them", async () => {
  const { msc } = await uf2Board("rp2040");
  const one = msc.read(0, 200, 1), many = msc.read(0, 200, 128);
  assert.equal([...one], [...many]);
});

test.run();
