// Update-safety invariants, checked from outside the core: what the flash chip model sees and
// what the board does, never what the core says about itself.
//   1. Every erase and program lands in the application region or the record sector(s).
//   2. A VALID record's CRC equals the flash it covers (whenever the flash has changed).
//   3. The board only jumps to the application start, and only into an image that a record
//      vouches for: a VALID record matching the flash, or (with the record sector erased,
//      which happens only while a verified image's record is being rewritten) the very image
//      that was in flash when the core began rewriting the record.
import type { SimBoard } from "../../sim/board";
import type { ControlHost } from "../../sim/usb-host";
import { crc32 } from "../../tools/dfu/crc32";
import { readBoardRecord, recordMatchesFlash, type FlashRecord } from "./record";

export interface Geometry {
  flashBase: number; flashSize: number; appStart: number; appEnd: number; sector: number;
  /** The record sector, and (signed cores) the second one; the same offset otherwise. */
  recordOffset: number; recordOffset2: number; signed: boolean;
}

/** The board's geometry from its INFO vendor request (boot/vendor.ts layout). */
export function geometry(host: Pick<ControlHost, "control">): Geometry {
  const r = host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 128 });
  if (r.status !== "ok" || r.data.length < 56) throw new Error(`INFO: ${r.status}`);
  const d = new DataView(r.data.buffer, r.data.byteOffset, r.data.length);
  const signed = r.data.length >= 100 && (r.data[7] & 1) !== 0;
  const recordOffset = d.getUint32(32, true);
  return {
    flashBase: d.getUint32(8, true), flashSize: d.getUint32(12, true), sector: d.getUint32(16, true),
    appStart: d.getUint32(24, true), appEnd: d.getUint32(28, true), recordOffset,
    recordOffset2: signed ? d.getUint32(92, true) : recordOffset, signed,
  };
}

export class SafetyWatch {
  violations: string[] = [];
  /** Counters for the report. */
  counts = { programs: 0, erases: 0, recordWrites: 0, boots: 0, bootsNoRecord: 0, validChecks: 0 };
  private dirty = true;
  private highWater: number;
  /** CRC of [appStart, highWater) when the core last erased the record sector. */
  private imageAtRecordErase: { end: number; crc: number } | null = null;
  private lastMode: string;
  private readonly flash: Uint8Array;

  constructor(readonly board: SimBoard, readonly g: Geometry) {
    this.flash = board.flash.data;
    this.highWater = g.appStart;
    for (let a = g.appEnd; a > g.appStart; a -= g.sector) {
      if (this.flash.subarray(a - g.sector, a).some((x) => x !== 0xff)) { this.highWater = a; break; }
    }
    this.lastMode = board.mode;
    board.flash.chip.observer = (op) => this.onModify(op);
  }

  private seen = new Set<string>();
  /** Each kind of violation once, with the step it was first seen at. */
  private fail(msg: string) {
    const kind = msg.replace(/^[^:]*: /, "");
    if (this.seen.has(kind)) return;
    this.seen.add(kind);
    this.violations.push(msg);
  }

  private onModify(op: { kind: string; start: number; length: number }) {
    if (op.kind === "status") return;
    const { appStart, appEnd, recordOffset, recordOffset2, sector } = this.g;
    const end = op.start + op.length;
    const inApp = op.start >= appStart && end <= appEnd;
    const inRecord = [recordOffset, recordOffset2].some((r) => op.start >= r && end <= r + sector);
    if (!inApp && !inRecord) this.fail(`${op.kind} of 0x${op.start.toString(16)}+0x${op.length.toString(16)} outside the application region and the record sectors`);
    this.dirty = true;
    if (op.kind === "program") {
      this.counts.programs++;
      if (inApp && end > this.highWater) this.highWater = end;
    } else {
      this.counts.erases++;
    }
    if (inRecord) {
      this.counts.recordWrites++;
      if (op.kind === "erase") {
        this.imageAtRecordErase = { end: this.highWater, crc: crc32(0, this.flash.subarray(appStart, this.highWater)) };
      }
    }
  }

  record(): FlashRecord { return readBoardRecord(this.flash, this.g); }

  /** Check after a step of the test. `where` names the step in messages. */
  check(where: string): void {
    if (this.dirty) {
      this.dirty = false;
      const rec = this.record();
      if (rec.kind === "valid") {
        this.counts.validChecks++;
        if (!recordMatchesFlash(this.flash, rec)) this.fail(`${where}: a VALID record (length ${rec.length}, CRC ${rec.crc.toString(16)}) does not match the flash`);
      }
    }
    const mode = this.board.mode;
    if (mode === "app" && this.lastMode !== "app") this.checkBoot(where);
    this.lastMode = mode;
  }

  private checkBoot(where: string) {
    this.counts.boots++;
    const { flashBase, appStart } = this.g;
    if (this.board.appEntry !== flashBase + appStart) this.fail(`${where}: jumped to 0x${this.board.appEntry?.toString(16)}`);
    const rec = this.record();
    if (rec.kind === "valid") {
      if (!recordMatchesFlash(this.flash, rec)) this.fail(`${where}: booted an image that differs from its VALID record`);
      return;
    }
    if (rec.kind === "none") {
      this.counts.bootsNoRecord++;
      const at = this.imageAtRecordErase;
      if (!at) { this.fail(`${where}: booted with no record, and no record was ever being rewritten`); return; }
      const now = crc32(0, this.flash.subarray(appStart, Math.max(at.end, this.highWater)));
      const then = crc32(0, this.flash.subarray(appStart, at.end));
      if (now !== then || then !== at.crc) this.fail(`${where}: booted with no record an image that changed after the record was erased`);
      return;
    }
    this.fail(`${where}: booted with a record that is ${rec.kind}`);
  }

  detach(): void { this.board.flash.chip.observer = undefined; }
}
