// The real-USB board source of flash --watch (tools/cli/usb-source.ts) with a fake USB stack:
// with hot-plug events a board is flashed as soon as its attach event comes, with a slow look
// as a safety net for a missed event; where the platform has no events, the list is polled.
// Boards are simulated (tools/cli/sim-source.ts) and time is the simulated world's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimSource } from "../tools/cli/sim-source";
import { usbSource, type HotplugBackend } from "../tools/cli/usb-source";
import { watch } from "../tools/cli/watch";
import { fakeApp, appBase } from "./lib/images";

const image = fakeApp("h750", 8192, 5);
const s = (sec: number) => Math.round(sec * 1e6);

/** A watch on one simulated board plugged in at 0.6 s; when (in simulated seconds) its flash began. */
async function startTime(events: "working" | "missed" | "none"): Promise<{ started: number; mode: string; ok: boolean }> {
  const src = new SimSource();
  const { world } = src;
  const board = await src.add("h750", 7);
  let onChange: (() => void) | undefined;
  let unsubscribed = false;
  const backend: HotplugBackend = {
    list: () => src.scan(),
    subscribe: async (cb) => {
      if (events === "none") throw new Error("no hot-plug on this platform");
      onChange = cb;
      return async () => { unsubscribed = true; };
    },
  };
  const usb = await usbSource(backend, { pollMs: 250, safetyMs: 2000, sleep: (ms) => world.at(world.now + ms * 1000), now: () => world.now / 1000 });
  world.schedule(s(0.6), () => { src.plug(board); if (events === "working") onChange!(); });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  world.schedule(s(6), () => stop());
  let started = NaN;
  const results = await world.run(watch({
    source: usb, load: () => [{ address: appBase("h750"), data: image }], leave: true, smart: true, force: false, stop: stopped,
    pollMs: 100, report: () => {}, onStart: () => { started = world.now / 1e6; },
  }));
  await usb.close();
  assert.is(unsubscribed, events !== "none", "the events are given back at the end");
  assert.is(results.length, 1); assert.ok(results[0].ok, results[0].error);
  return { started, mode: usb.mode, ok: true };
}

test("hot-plug events: the board is flashed at its attach event", async () => {
  const r = await startTime("working");
  assert.equal(r, { started: 0.6, mode: "events", ok: true });
});

test("an attach event missed: the slow look every 2 s finds the board", async () => {
  const r = await startTime("missed");
  assert.equal(r, { started: 2, mode: "events", ok: true });
});

test("no hot-plug events on the platform: the list is polled every 250 ms (not the watch's 100 ms: real USB enumeration is not that fast)", async () => {
  const r = await startTime("none");
  assert.equal(r, { started: 0.75, mode: "polling", ok: true });
});

test("after an event the list is read again soon: a device listed only after its event is found within a poll", async () => {
  const calls: number[] = [];
  let onChange!: () => void;
  let t = 0;
  const sleeps: number[] = [];
  const usb = await usbSource({ list: async () => { calls.push(t); return []; }, subscribe: async (cb) => { onChange = cb; return async () => {}; } },
    { pollMs: 250, safetyMs: 2000, sleep: async (ms) => { sleeps.push(ms); t += ms; } });
  await usb.scan();
  await usb.wait(100);           // nothing happened: the safety look
  onChange();                    // an attach while no one waits: the next wait returns at once
  await usb.wait(100);
  await usb.scan();
  await usb.wait(100);           // just after an event: one poll interval
  await usb.scan();
  await usb.wait(100);           // then back to the safety look
  assert.equal(sleeps, [2000, 250, 2000]);
  assert.equal(calls, [0, 2000, 2250]);
});

test.run();
