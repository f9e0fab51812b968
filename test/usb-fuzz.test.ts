// Bad input: 100k seeded random SETUP packets (and OUT data) thrown at the control pipe.
// The core must never trap, never write outside the application region, and a normal
// download must still work afterwards.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { DfuRequests, Rng, ST } from "./lib/dfu-requests";
import { appBase, fakeApp, pageSizeAt } from "./lib/images";

const COUNT = 100_000;

test(`${COUNT} random control requests: no trap, bootloader region untouched, download works after`, async () => {
  const board = "rp2040";
  const b = await SimBoard.create({ board, timing: "instant" });
  b.powerOn();
  const host = new SimUsbHost(b, { transferOverheadUs: 0 });
  host.enumerate();
  const chip = b.flash.data;
  const bootRegion = chip.slice(0, 0xf000); // boot2 and the bootloader (the record sector follows)
  const rng = new Rng(0x5eed);
  const types = [0x21, 0xa1, 0x21, 0xa1, 0x80, 0x00, 0x01, 0x81, 0x02, 0x82, 0xc0, 0x40, 0xc1, 0x41, 0x22, 0xa2];
  const interesting = [0, 1, 2, 3, 0x21, 0x41, 0x92, 0x100, 0x200, 0x300, 0x303, 0x304, 0xf00, 0xffff];
  const statuses: Record<string, number> = {};
  for (let i = 0; i < COUNT; i++) {
    if (!host.present()) { b.powerOn({ button: true }); host.enumerate(); }
    let bmRequestType: number, bRequest: number, wValue: number, wIndex: number, wLength: number;
    if (rng.int(2)) {
      // Half the time a well-formed DFU request in a random order: reaches every state.
      bRequest = rng.int(7);
      bmRequestType = [2, 3, 5].includes(bRequest) ? 0xa1 : 0x21;
      wIndex = rng.int(16) === 0 ? 1 : 0;
      wValue = bRequest === 1 || bRequest === 2 ? [0, 2, 2, 3, 1, rng.int(0x10000)][rng.int(6)] : 0;
      wLength = bRequest === 3 ? 6 : bRequest === 5 ? 1 : bRequest === 2 ? [4, 64, 4096][rng.int(3)] :
        bRequest === 1 ? (wValue === 0 ? [1, 5, 5, 5, 0][rng.int(5)] : [0, 64, 100, 4096][rng.int(4)]) : 0;
    } else {
      bmRequestType = rng.int(4) === 0 ? rng.int(256) : types[rng.int(types.length)];
      bRequest = rng.int(4) === 0 ? rng.int(256) : rng.int(12);
      wValue = rng.int(2) ? interesting[rng.int(interesting.length)] : rng.int(0x10000);
      wIndex = rng.int(8) === 0 ? rng.int(0x10000) : rng.int(2);
      wLength = [0, 1, 5, 6, 64, 255, 4096, 4097, rng.int(0x10000), rng.int(600)][rng.int(10)];
    }
    let data: Uint8Array | undefined;
    if (!(bmRequestType & 0x80)) {
      if (wLength > 4200) continue; // keep each transfer's OUT stage small; the device side sees wLength anyway
      data = new Uint8Array(wLength);
      for (let k = 0; k < data.length; k++) data[k] = rng.int(256);
      // Make DfuSe commands likely: set-address / erase at plausible addresses.
      if (wLength === 5 && rng.int(4)) { data[0] = [0x21, 0x41][rng.int(2)]; new DataView(data.buffer).setUint32(1, 0x10000000 + rng.int(0x200000), true); }
    }
    const r = host.control({ bmRequestType, bRequest, wValue, wIndex, wLength }, data, 1000);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  assert.ok(statuses.ok > 20000 && statuses.stall > 20000, `a mix of answers: ${JSON.stringify(statuses)}`);
  assert.equal(chip.subarray(0, 0xf000), bootRegion, "the bootloader's code is unchanged");

  // And it still takes a normal download.
  b.powerOn({ button: true });
  host.enumerate();
  const dfu = new DfuRequests(host);
  const s0 = dfu.getStatus();
  if (s0.state === ST.dfuERROR) dfu.clrStatus();
  dfu.abort();
  const app = fakeApp(board, 40_000, 7);
  const s = dfu.dfuUtilDownload(appBase(board), app, pageSizeAt(board, chip.length));
  assert.is(s.state, ST.dfuMANIFEST);
  b.step();
  assert.is(b.mode, "app");
  assert.equal(chip.subarray(0x10000, 0x10000 + app.length), app);
});

test.run();
