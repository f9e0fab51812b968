// The host's DFU client (tools/dfu/) through a WebUSB USBDevice backed by the simulator:
// flashing, smart re-flashing, reading, verifying, erasing, and refusing bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost, type ControlHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { fakeApp } from "./lib/images";
import { randomBytes } from "./lib/dfu-requests";

async function rejects(fn: () => Promise<unknown>, match: RegExp) {
  try { await fn(); } catch (e) { assert.ok(e instanceof DfuError, `a DfuError: ${e}`); assert.match((e as Error).message, match); return; }
  assert.unreachable("expected a rejection");
}

async function connect(board: "h750" | "rp2040" = "h750", b?: SimBoard) {
  b ??= await SimBoard.create({ board });
  if (b.mode !== "bootloader") b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  return { b, host, dev };
}

test("reads layout, transfer size and board info", async () => {
  const { dev } = await connect("rp2040");
  assert.is(dev.transferSize, 4096);
  assert.is(dev.info!.board, "Raspberry Pi Pico (RP2040)");
  assert.is(dev.info!.flashSize, 2 << 20);
  assert.is(dev.info!.recordStatus, "none");
  assert.equal(dev.layout.segments.map((s) => [s.start, s.writable]), [[0x10000000, false], [0x10010000, true]]);
});

test("flash with leave: the board runs the image; the record says valid", async () => {
  const { b, dev } = await connect();
  const app = fakeApp("h750", 150_000, 21);
  const phases = new Set<string>();
  const r = await dev.flash([{ address: 0x90000000, data: app }], { leave: true, progress: (p) => phases.add(p.phase) });
  assert.is(r.sectorsSent, Math.ceil(app.length / 4096));
  assert.ok(phases.has("write") && phases.has("manifest"));
  b.step();
  assert.is(b.mode, "app");
  assert.equal(b.flash.data.subarray(0, app.length), app);
});

test("smart flashing: unchanged image sends nothing; one changed byte sends one sector", async () => {
  const { b, dev } = await connect();
  const app = fakeApp("h750", 300_000, 22);
  await dev.flash([{ address: 0x90000000, data: app }], { leave: true });
  let { dev: d2 } = await connect("h750", b);
  const again = await d2.flash([{ address: 0x90000000, data: app }], { leave: true });
  assert.is(again.sectorsSent, 0);
  assert.is(b.mode, "app", "and it still boots (the record is re-validated)");
  const changed = app.slice();
  changed[123_456] ^= 0xff;
  ({ dev: d2 } = await connect("h750", b));
  const t0 = b.clock.now;
  const one = await d2.flash([{ address: 0x90000000, data: changed }], { leave: true });
  assert.is(one.sectorsSent, 1);
  assert.equal(b.flash.data.subarray(0, changed.length), changed);
  console.log(`one-byte change of a 300 KB image: ${((b.clock.now - t0) / 1000).toFixed(0)} ms simulated`);
});

test("read returns the flash; verify names the sectors that differ", async () => {
  const { b, dev } = await connect();
  const app = fakeApp("h750", 20_000, 23);
  await dev.flash([{ address: 0x90000000, data: app }]);
  assert.equal(await dev.read(0x90000000 + 100, 5000), app.subarray(100, 5100));
  assert.equal(await dev.verify([{ address: 0x90000000, data: app }]), []);
  b.flash.data[9000] ^= 1;
  assert.equal(await dev.verify([{ address: 0x90000000, data: app }]), [0x90002000]);
});

test("outside the writable region: refused before anything is touched", async () => {
  const { b, dev } = await connect("rp2040");
  const before = b.flash.data.slice();
  const ops = b.flash.modifyingOps();
  await rejects(() => dev.flash([{ address: 0x10000000, data: randomBytes(100) }]), /not inside the board's writable flash/);
  await rejects(() => dev.flash([{ address: 0x101ff000, data: randomBytes(8192) }]), /not inside/);
  assert.is(b.flash.modifyingOps(), ops);
  assert.equal(b.flash.data, before);
});

test("erase: the application region only", async () => {
  const { b, dev } = await connect("rp2040");
  b.flash.data.fill(0x00, 0, 0x30000);
  await dev.eraseAll();
  b.runUntil(b.clock.now + 2e6);
  // The bootloader's code; its last sector (0xF000) is the record, which the erase invalidates.
  assert.ok(b.flash.data.subarray(0, 0xf000).every((x) => x === 0), "bootloader region kept");
  assert.ok(b.flash.data.subarray(0x10000, 0x30000).every((x) => x === 0xff));
});

test("a board left mid-download by another client is recovered", async () => {
  const { b, host } = await connect();
  host.control({ bmRequestType: 0x21, bRequest: 1, wValue: 0, wIndex: 0, wLength: 5 }, Uint8Array.from([0x21, 0, 0, 0, 0x91]));
  const { dev } = await connect("h750", b);
  const app = fakeApp("h750", 10_000, 24);
  await dev.flash([{ address: 0x90000000, data: app }], { leave: true });
  b.step();
  assert.is(b.mode, "app");
});

test("a device that stalls every request: opening it says so", async () => {
  const stalls: ControlHost = { present: () => true, control: () => ({ status: "stall", data: new Uint8Array(0) }), reset: () => "stall", sleep: () => {} };
  try {
    await new DfuDevice(new SimUsbDevice(stalls)).open();
    assert.unreachable("opened");
  } catch (e) {
    assert.match((e as Error).message, /^the simulated board answered, but the device stalled the GET_DESCRIPTOR \(device\) request/);
  }
});

/** A board that, after its first data block (or the manifest request), answers every GETSTATUS
 *  "busy (dfuDNBUSY, or dfuMANIFEST-SYNC), ask again in `pollMs`": the flash never finishes.
 *  The client's clock is the time its sleeps pass. */
async function stuckBusy(pollMs: number, inManifest = false) {
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn({ button: true });
  const real = new SimUsbHost(b);
  real.enumerate();
  let stuck = false, polls = 0;
  const host: ControlHost = {
    present: () => real.present(),
    reset: () => real.reset(),
    sleep: (ms) => real.sleep(ms),
    control: (setup, data, timeoutMs) => {
      if (stuck && setup.bmRequestType === 0xa1 && setup.bRequest === 3) {
        polls++;
        return { status: "ok", data: Uint8Array.from([0, pollMs & 0xff, (pollMs >> 8) & 0xff, pollMs >> 16, inManifest ? 6 : 4, 0]) };
      }
      if (setup.bmRequestType === 0x21 && setup.bRequest === 1 && (inManifest ? setup.wLength === 0 : setup.wValue >= 2)) stuck = true;
      return real.control(setup, data, timeoutMs);
    },
  };
  let t = 0;
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => { t += ms; }, now: () => t }).open();
  let message = "";
  try { await dev.flash([{ address: 0x90000000, data: fakeApp("h750", 10_000, 25) }]); } catch (e) { message = (e as Error).message; }
  return { message, polls, t };
}

test("a device stuck in dfuDNBUSY is given up on after a bounded time, whatever poll timeout it asks for", async () => {
  const zero = await stuckBusy(0);
  assert.match(zero.message, /^the device stayed busy \(dfuDNBUSY\) for 10\.0 s after write 0x90000000, longer than its flash can take \(10 s\): it is stuck/);
  // 0 ms asked for: each poll after the first waits 1 ms, so 10 s is about 10,000 polls.
  assert.ok(zero.polls <= 10_002, `${zero.polls} polls`);
  const normal = await stuckBusy(250); // of the order of a 64 KiB block erase
  assert.match(normal.message, /^the device stayed busy \(dfuDNBUSY\) for 10\.0 s after write 0x90000000/);
  assert.is(normal.polls, 10_000 / 250 + 1);
  const long = await stuckBusy(4000); // a device asking for long waits gets four of them
  assert.match(long.message, /^the device stayed busy \(dfuDNBUSY\) for 16\.0 s after write 0x90000000, longer than its flash can take \(16 s\)/);
  assert.is(long.polls, 5);
});

test("stuck in manifestation: given up on after the region's worst-case erase time", async () => {
  // 10 s, and 4 s for each of the 128 erase blocks of the H750's 8 MiB - 4 KiB region.
  const m = await stuckBusy(100, true);
  assert.match(m.message, /^the device stayed busy \(dfuMANIFEST_SYNC\) for 522\.0 s after manifest, longer than its flash can take \(522 s\)/);
  assert.is(m.polls, 5221);
});

test.run();
