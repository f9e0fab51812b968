// Signed updates on both emulated chips: the firmware built with a key (the C HAL and the
// translated signed core, tools/build.ts --key) takes the example signed with that key over
// DFU and runs it; the unsigned example is refused at manifestation and nothing runs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { buildOption, signedOption, buildExample } from "../tools/build";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";
import { signWithKey } from "../tools/cli/keys";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from "./lib/test-key";

const rp = readFileSync((await buildOption("rp2040", signedOption("rp2040", TEST_PUBLIC_KEY), { quiet: true })).bin);
const h7 = readFileSync((await buildOption("h750", signedOption("h750", TEST_PUBLIC_KEY), { quiet: true })).bin);
const example = (board: string) => loadImage(buildExample(board, { quiet: true }).elf).segments;

async function open(host: Rp2040UsbHost | H750UsbHost) {
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

async function statusOf(p: Promise<unknown>): Promise<number | "ok"> {
  try { await p; return "ok"; } catch (e) { if (e instanceof DfuError && e.status !== undefined) return e.status; throw e; }
}

test("RP2040 built with a key: the signed example runs, the unsigned one is refused (errFILE) and nothing runs", async () => {
  for (const signed of [false, true]) {
    const emu = new Rp2040Emu();
    emu.program(0, rp);
    emu.powerOn();
    const host = new Rp2040UsbHost(emu);
    assert.ok(host.waitForDevice(500));
    assert.is(host.reset(), "ok");
    const dev = await open(host);
    assert.equal([...dev.info!.publicKey!], [...TEST_PUBLIC_KEY], "INFO names the board's key");
    const segs = signed ? signWithKey(example("rp2040"), TEST_PRIVATE_KEY, { version: 1 }) : example("rp2040");
    assert.is(await statusOf(dev.flash(segs, { leave: true })), signed ? "ok" : 2);
    if (signed) {
      assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 20_000_000), "the example runs");
    } else {
      emu.powerOn();
      assert.ok(host.waitForDevice(500), "after a power cycle it is still the DFU device: the plausible image does not run");
      assert.not.match(emu.uart, /hello/);
    }
    assert.equal(host.pidErrors, []);
  }
});

test("H750 built with a key: the signed example runs, the unsigned one is refused (errFILE) and nothing runs", async () => {
  for (const signed of [false, true]) {
    const emu = new H750Emu();
    emu.loadFirmware(h7);
    const host = new H750UsbHost(emu);
    assert.ok(host.waitForDevice(100));
    assert.is(host.reset(), "ok");
    const dev = await open(host);
    assert.equal([...dev.info!.publicKey!], [...TEST_PUBLIC_KEY]);
    const segs = signed ? signWithKey(example("h750"), TEST_PRIVATE_KEY, { version: 1 }) : example("h750");
    assert.is(await statusOf(dev.flash(segs, { leave: true })), signed ? "ok" : 2);
    if (signed) {
      assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 20_000_000), "the example runs");
    } else {
      emu.powerOn();
      assert.ok(host.waitForDevice(100), "still the DFU device");
      assert.not.ok(emu.inApplication);
    }
  }
});

test.run();
