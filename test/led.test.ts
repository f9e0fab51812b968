// The status LED in DFU mode, in the simulator: the pattern a person sees (from the LED's
// recorded on/off timeline, in simulated time) while the board waits, while a download is going
// on, in dfuERROR and after a boot that found a fault; never lit on the way to the application.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { DfuRequests, ST, le32 } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";

const SLOT = 65536; // us: one slot of a pattern (boot/led.ts)

/** The LED's steady segments (on or off, how long) that start and end inside [from, to). */
function segments(b: SimBoard, from: number, to: number): { on: boolean; us: number }[] {
  const ev = b.led.timeline.filter((e) => e.t >= from && e.t < to);
  const out: { on: boolean; us: number }[] = [];
  for (let i = 0; i + 1 < ev.length; i++) out.push({ on: ev[i].on, us: ev[i + 1].t - ev[i].t });
  return out;
}

const near = (us: number, slots: number) => Math.abs(us - slots * SLOT) < 1000;
const describe = (s: { on: boolean; us: number }[]) => s.map((x) => `${x.on ? "on" : "off"} ${(x.us / 1000).toFixed(1)} ms`).join(", ");

function assertWaiting(s: { on: boolean; us: number }[]) {
  assert.ok(s.length >= 4, `blinks: ${describe(s)}`);
  assert.ok(s.every((x) => near(x.us, 8)), `slow blink, half a second on and off: ${describe(s)}`);
}
function assertFlicker(s: { on: boolean; us: number }[]) {
  assert.ok(s.length >= 6, `flicker: ${describe(s)}`);
  assert.ok(s.every((x) => near(x.us, 1)), `fast flicker, 65 ms on and off: ${describe(s)}`);
}
function assertError(s: { on: boolean; us: number }[]) {
  assert.ok(s.length >= 6, `blinks: ${describe(s)}`);
  assert.ok(s.every((x) => (x.on ? near(x.us, 2) : near(x.us, 2) || near(x.us, 10))), `double blink: ${describe(s)}`);
  assert.ok(s.some((x) => !x.on && near(x.us, 10)), `a long gap after each pair: ${describe(s)}`);
}

async function dfuMode() {
  const b = await SimBoard.create({ board: "h750" });
  b.powerOn();
  assert.is(b.mode, "bootloader");
  const host = new SimUsbHost(b);
  host.enumerate();
  return { b, host, dfu: new DfuRequests(host) };
}

test("waiting in DFU mode (blank flash): a slow blink, lit from the start", async () => {
  const { b, host } = await dfuMode();
  const t0 = b.clock.now;
  host.sleep(4000);
  assert.ok(b.led.timeline.length > 0 && b.led.timeline[0].on && b.led.timeline[0].t < 100_000, "lit within 100 ms of reset");
  assertWaiting(segments(b, t0, b.clock.now));
});

test("a download in progress: fast flicker, then back to the slow blink", async () => {
  const { b, host, dfu } = await dfuMode();
  host.sleep(1500);
  const t0 = b.clock.now;
  // Erase-heavy: one 4 KiB block in each of several 64 KiB blocks, as dfu-util sends them.
  dfu.setAddress(0x90000000);
  const data = fakeApp("h750", 4096, 3);
  for (let i = 0; i < 20; i++) {
    dfu.command([0x21, ...le32(0x90000000 + i * 0x10000)]);
    assert.is(dfu.dnload(2, data), "ok");
    dfu.pollWhile([ST.dfuDNBUSY]);
    host.sleep(30); // the host takes its time between blocks: still a transfer
  }
  const t1 = b.clock.now;
  assert.ok(t1 - t0 > 600_000, `the download took ${((t1 - t0) / 1000).toFixed(0)} ms`);
  assertFlicker(segments(b, t0 + SLOT, t1));
  assert.is(dfu.abort(), "ok"); // the host ends it without a manifestation: waiting again
  host.sleep(500);
  const t2 = b.clock.now;
  host.sleep(4000);
  assertWaiting(segments(b, t2, b.clock.now));
});

test("dfuERROR: a double blink until CLRSTATUS", async () => {
  const { b, host, dfu } = await dfuMode();
  host.sleep(1500);
  assert.is(dfu.clrStatus(), "stall"); // CLRSTATUS in dfuIDLE: a protocol error (DFU 1.1 A.2.3)
  assert.is(dfu.getState(), ST.dfuERROR);
  const t0 = b.clock.now;
  host.sleep(4000);
  assertError(segments(b, t0, b.clock.now));
  assert.is(dfu.clrStatus(), "ok");
  assert.is(dfu.getState(), ST.dfuIDLE);
  const t1 = b.clock.now;
  host.sleep(4000);
  assertWaiting(segments(b, t1 + SLOT * 16, b.clock.now));
});

test("a boot that found an interrupted update: the double blink", async () => {
  const { b, dfu } = await dfuMode();
  dfu.dfuUtilDownload(0x90000000, fakeApp("h750", 20_000, 5), pageSizeAt("h750", 8 << 20), false);
  b.reset(); // before any manifestation: the record says the update never finished
  assert.is(b.mode, "bootloader");
  const host = new SimUsbHost(b);
  host.enumerate();
  const t0 = b.clock.now;
  host.sleep(4000);
  assertError(segments(b, t0, b.clock.now));
});

test("a valid image boots with the LED never lit; leaving DFU mode turns it off", async () => {
  const { b, host, dfu } = await dfuMode();
  host.sleep(300);
  const s = dfu.dfuUtilDownload(0x90000000, fakeApp("h750", 50_000, 7), pageSizeAt("h750", 8 << 20));
  assert.is(s.state, ST.dfuMANIFEST);
  b.step();
  assert.is(b.mode, "app");
  assert.is(b.led.on, false, "off when the application starts");
  const n = b.led.timeline.length;
  b.powerOff();
  b.powerOn();
  assert.is(b.mode, "app");
  assert.is(b.led.timeline.length, n, "the boot path never drives the LED");
});

test.run();
