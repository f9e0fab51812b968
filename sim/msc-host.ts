// A host's USB mass-storage driver, as far as a test needs one: the Bulk-Only Transport of the
// USB Mass Storage Class BOT 1.0 (CBW 31 bytes out, data, CSW 13 bytes in; 6.6.1 reset recovery
// after a phase error or an invalid CSW) carrying SCSI commands (SPC-4 / SBC-3 opcodes). Runs on
// any ControlHost with bulk transfers: the Wasm simulator's host and both emulators' hosts.
import type { BulkResult, ControlHost } from "./usb-host";

export const CBW_SIGNATURE = 0x43425355; // "USBC"
export const CSW_SIGNATURE = 0x53425355; // "USBS"

/** SCSI operation codes (SPC-4 / SBC-3). */
export const SCSI = {
  TEST_UNIT_READY: 0x00, REQUEST_SENSE: 0x03, INQUIRY: 0x12, MODE_SELECT_6: 0x15, MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b, PREVENT_ALLOW: 0x1e, READ_FORMAT_CAPACITIES: 0x23, READ_CAPACITY_10: 0x25,
  READ_10: 0x28, WRITE_10: 0x2a, VERIFY_10: 0x2f, SYNCHRONIZE_CACHE_10: 0x35, MODE_SENSE_10: 0x5a,
  READ_CAPACITY_16: 0x9e, REPORT_LUNS: 0xa0,
} as const;

export interface MscEndpoints { out: number; in: number; iface: number }

/** The result of one command: the CSW's status (0 passed, 1 failed, 2 phase error), the data
 *  the device sent, the residue, and what went wrong on the wire if the CSW never came. */
export interface MscResult {
  status: number; data: Uint8Array; residue: number;
  /** A stalled data phase (cleared by the driver, as BOT 6.7 tells the host to). */
  dataStalled: boolean;
  /** Set when the driver had to do reset recovery (no valid CSW). */
  recovered?: string;
}

export interface Sense { key: number; asc: number; ascq: number }

/** A Command Block Wrapper (BOT 5.1). */
export function cbw(tag: number, length: number, dirIn: boolean, cb: Uint8Array, lun = 0): Uint8Array {
  const b = new Uint8Array(31);
  const v = new DataView(b.buffer);
  v.setUint32(0, CBW_SIGNATURE, true);
  v.setUint32(4, tag >>> 0, true);
  v.setUint32(8, length >>> 0, true);
  b[12] = dirIn ? 0x80 : 0;
  b[13] = lun;
  b[14] = cb.length;
  b.set(cb, 15);
  return b;
}

export function cdb(op: number, fields: number[] = [], len = 0): Uint8Array {
  const n = len || (op < 0x20 ? 6 : op < 0x60 ? 10 : op < 0xa0 ? 16 : 12);
  const b = new Uint8Array(n);
  b[0] = op;
  fields.forEach((x, i) => (b[i + 1] = x));
  return b;
}

export function read10(lba: number, count: number): Uint8Array {
  return cdb(SCSI.READ_10, [0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, count >> 8, count & 0xff, 0]);
}
export function write10(lba: number, count: number): Uint8Array {
  return cdb(SCSI.WRITE_10, [0, lba >>> 24, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, count >> 8, count & 0xff, 0]);
}

export class MscHost {
  private tag = 1;
  /** Every command sent, for tests that look at the sequence. */
  readonly log: { op: number; status: number }[] = [];

  constructor(readonly host: ControlHost, readonly ep: MscEndpoints = { out: 0x01, in: 0x81, iface: 1 }) {
    if (!host.bulkOut || !host.bulkIn) throw new Error("this USB host has no bulk transfers");
  }

  private out(data: Uint8Array): BulkResult { return this.host.bulkOut!(this.ep.out, data); }
  private in(len: number): BulkResult { return this.host.bulkIn!(this.ep.in, len); }

  /** CLEAR_FEATURE(ENDPOINT_HALT) on one endpoint (USB 2.0 9.4.1). */
  clearHalt(ep: number): void {
    const r = this.host.control({ bmRequestType: 0x02, bRequest: 1, wValue: 0, wIndex: ep, wLength: 0 });
    if (r.status !== "ok") throw new Error(`CLEAR_FEATURE(HALT) 0x${ep.toString(16)}: ${r.status}`);
  }

  /** Reset recovery (BOT 5.3.4): Bulk-Only Mass Storage Reset, then clear both halts. */
  resetRecovery(): void {
    const r = this.host.control({ bmRequestType: 0x21, bRequest: 0xff, wValue: 0, wIndex: this.ep.iface, wLength: 0 });
    if (r.status !== "ok") throw new Error(`Bulk-Only Mass Storage Reset: ${r.status}`);
    this.clearHalt(this.ep.in);
    this.clearHalt(this.ep.out);
  }

  /** GET MAX LUN (BOT 3.2): the highest LUN number. */
  maxLun(): number {
    const r = this.host.control({ bmRequestType: 0xa1, bRequest: 0xfe, wValue: 0, wIndex: this.ep.iface, wLength: 1 });
    if (r.status !== "ok") throw new Error(`GET MAX LUN: ${r.status}`);
    return r.data[0];
  }

  /** Send a raw CBW (for malformed-command tests); returns what the endpoints did. */
  rawOut(bytes: Uint8Array): BulkResult { return this.out(bytes); }
  rawIn(len: number): BulkResult { return this.in(len); }

  /** Read a CSW and take it apart (BOT 5.2); undefined when the 13 bytes are not a CSW. */
  readCsw(): { tag: number; residue: number; status: number } | undefined {
    const r = this.in(13);
    if (r.status !== "ok" || r.data.length !== 13) return undefined;
    const v = new DataView(r.data.buffer, r.data.byteOffset, 13);
    if (v.getUint32(0, true) !== CSW_SIGNATURE) return undefined;
    return { tag: v.getUint32(4, true), residue: v.getUint32(8, true), status: r.data[12] };
  }

  /** One command: CBW, data phase in `dir`, CSW. A host does as BOT 6.7 says on a stall. */
  command(cb: Uint8Array, opts: { dataIn?: number; dataOut?: Uint8Array; lun?: number } = {}): MscResult {
    const tag = this.tag++;
    const dirIn = opts.dataIn !== undefined;
    const length = dirIn ? opts.dataIn! : opts.dataOut?.length ?? 0;
    const w = this.out(cbw(tag, length, dirIn, cb, opts.lun ?? 0));
    if (w.status !== "ok") throw new Error(`CBW: ${w.status}`);
    let data = new Uint8Array(0);
    let dataStalled = false;
    if (length && dirIn) {
      const r = this.in(length);
      data = r.data;
      if (r.status === "stall") { dataStalled = true; this.clearHalt(this.ep.in); }
      else if (r.status !== "ok") throw new Error(`data IN: ${r.status}`);
    } else if (length) {
      // One transfer for the whole data phase, as an OS hands its host controller (the device
      // takes it in pieces of its own size; the packets in between wait on NAKs).
      const r = this.out(opts.dataOut!);
      if (r.status === "stall") { dataStalled = true; this.clearHalt(this.ep.out); }
      else if (r.status !== "ok") throw new Error(`data OUT: ${r.status}`);
    }
    let csw = this.in(13);
    if (csw.status === "stall") { this.clearHalt(this.ep.in); csw = this.in(13); }
    const v = new DataView(csw.data.buffer, csw.data.byteOffset, csw.data.byteLength);
    if (csw.status !== "ok" || csw.data.length !== 13 || v.getUint32(0, true) !== CSW_SIGNATURE || v.getUint32(4, true) !== tag) {
      const why = csw.status !== "ok" ? `CSW: ${csw.status}` : `invalid CSW (${csw.data.length} bytes)`;
      this.resetRecovery();
      this.log.push({ op: cb[0], status: -1 });
      return { status: 2, data, residue: length, dataStalled, recovered: why };
    }
    const status = csw.data[12];
    if (status === 2) this.resetRecovery(); // phase error: BOT 5.3.3.1
    this.log.push({ op: cb[0], status });
    return { status, data, residue: v.getUint32(8, true), dataStalled };
  }

  /** A command that must pass: throws with the sense data otherwise. */
  ok(cb: Uint8Array, opts: { dataIn?: number; dataOut?: Uint8Array } = {}): Uint8Array {
    const r = this.command(cb, opts);
    if (r.status !== 0) {
      const s = this.requestSense();
      throw new Error(`SCSI 0x${cb[0].toString(16)}: status ${r.status}, sense ${s.key.toString(16)}/${s.asc.toString(16)}/${s.ascq.toString(16)}`);
    }
    return r.data;
  }

  requestSense(): Sense {
    const r = this.command(cdb(SCSI.REQUEST_SENSE, [0, 0, 0, 18]), { dataIn: 18 });
    if (r.status !== 0 || r.data.length < 14) throw new Error(`REQUEST SENSE: status ${r.status}, ${r.data.length} bytes`);
    return { key: r.data[2] & 0x0f, asc: r.data[12], ascq: r.data[13] };
  }

  testUnitReady(): number { return this.command(cdb(SCSI.TEST_UNIT_READY)).status; }

  inquiry(): { peripheral: number; removable: boolean; vendor: string; product: string; revision: string; raw: Uint8Array } {
    const d = this.ok(cdb(SCSI.INQUIRY, [0, 0, 0, 36]), { dataIn: 36 });
    const text = (a: number, b: number) => new TextDecoder().decode(d.subarray(a, b)).trimEnd();
    return { peripheral: d[0], removable: !!(d[1] & 0x80), vendor: text(8, 16), product: text(16, 32), revision: text(32, 36), raw: d };
  }

  readCapacity(): { lastLba: number; blockSize: number } {
    const d = this.ok(cdb(SCSI.READ_CAPACITY_10), { dataIn: 8 });
    const v = new DataView(d.buffer, d.byteOffset);
    return { lastLba: v.getUint32(0), blockSize: v.getUint32(4) };
  }

  /** READ(10) of `count` 512-byte sectors, split into commands of at most `perCommand`. */
  read(lba: number, count: number, perCommand = 8): Uint8Array {
    const out = new Uint8Array(count * 512);
    for (let i = 0; i < count; i += perCommand) {
      const n = Math.min(perCommand, count - i);
      out.set(this.ok(read10(lba + i, n), { dataIn: n * 512 }), i * 512);
    }
    return out;
  }

  /** WRITE(10) of whole sectors at `lba`; returns the CSW status (0 = written). */
  write(lba: number, data: Uint8Array): MscResult {
    if (data.length % 512) throw new Error("WRITE(10) takes whole 512-byte sectors");
    return this.command(write10(lba, data.length / 512), { dataOut: data });
  }
}
