// Issue 14's findings on the firmware as built, on both emulated chips: the same machine code a
// board runs, checked from the flash model's side (test/lib/record.ts), not from what it reports.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import type { ControlHost } from "../sim/usb-host";
import type { NorFlash } from "../sim/nor-flash";
import { DfuRequests, DFU, ST } from "./lib/dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./lib/images";
import { loadImage } from "../tools/image/load";
import { readRecord, recordMatchesFlash } from "./lib/record";
import { geometry } from "./lib/safety";
import type { BoardName } from "../sim/boards";

const root = join(import.meta.dirname, "..", "build");

function chip(board: BoardName): { host: ControlHost & { reset(): string }; nor: NorFlash; settle(ms: number): void } {
  const firmware = readFileSync(join(root, board, "qspiboot.bin"));
  if (board === "h750") {
    const emu = new H750Emu({});
    emu.loadFirmware(firmware);
    const host = new H750UsbHost(emu);
    assert.ok(host.waitForDevice(100), "the DFU device connects");
    return { host, nor: emu.nor, settle: (ms) => emu.runForUs(ms * 1000) };
  }
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(100), "the DFU device connects");
  return { host, nor: emu.nor, settle: (ms) => emu.runFor(ms * 1000) };
}


const bootReason = (host: ControlHost) => host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 48 }).data[6];

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board} firmware: DETACH after a download without leave, then a DNLOAD: the record stays true to the flash`, async () => {
    const { host, nor, settle } = chip(board);
    assert.is(host.reset(), "ok");
    const g = geometry(host);
    const dfu = new DfuRequests(host);
    // The example application: once recorded, the board leaves DFU mode and really runs it.
    const seg = loadImage(join(root, board, "example.elf")).segments[0];
    assert.is(seg.address, appBase(board));
    const B = seg.data;
    dfu.dfuUtilDownload(appBase(board), B, pageSizeAt(board, g.flashSize), false);
    assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
    // While the board verifies B, a host starts writing something else over its first sector.
    try {
      if (dfu.setAddress(appBase(board)).state !== ST.dfuERROR) dfu.chunk(fakeApp(board, 4096, 42));
    } catch { /* the board leaves DFU mode once B is recorded: the host may see it go */ }
    let rec = readRecord(nor.data, g.recordOffset, g.appStart, g.appEnd);
    for (let i = 0; i < 200 && rec.kind !== "valid"; i++) { settle(5); rec = readRecord(nor.data, g.recordOffset, g.appStart, g.appEnd); }
    settle(20);
    assert.is(rec.kind, "valid", "B is recorded");
    assert.ok(recordMatchesFlash(nor.data, rec), "and the record's CRC is the flash's");
    assert.ok(nor.data.subarray(g.appStart, g.appStart + B.length).every((x, i) => x === B[i]), "the late DNLOAD never reached the flash");
  });

  test(`${board} firmware: sector-CRC requests longer than the reply buffer are refused, and the core keeps running`, async () => {
    const { host } = chip(board);
    assert.is(host.reset(), "ok");
    for (const wLength of [4388, 8192, 0xffff]) {
      const r = host.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: 0, wIndex: 0, wLength });
      assert.is(r.status, "stall", `wLength ${wLength}`);
    }
    assert.is.not(bootReason(host), 7, "not reset as 'core trapped'");
    assert.is(new DfuRequests(host).getStatus().state, ST.dfuIDLE);
  });
}

test.run();
