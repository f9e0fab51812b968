// Signed updates on both emulated chips: the firmware built with a key (the C HAL and the
// translated signed core, tools/build.ts --key) takes the example signed with that key over
// DFU and runs it; the unsigned example is refused at manifestation and nothing runs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { buildOption, signedOption, lockedOption, buildExample } from "../tools/build";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { loadImage } from "../tools/image/load";
import { signWithKey } from "../tools/cli/keys";
import { keyedSectorDigest } from "../tools/cli/lock";
import { DfuRequests, STATUS } from "./lib/dfu-requests";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, TEST_LOCK_KEY } from "./lib/test-key";

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

// The locked builds: the C HAL's BoardInfo carries the lock key where the core reads it (the
// digests match the host's), UPLOAD stalls on the real USB stack, and (H750: a manifestation on
// the emulated RP2040 takes 13 s of wall time, and the floor is the core's, tested on both chips
// in the simulator) the version floor lives in the real record sectors: an older signed image is
// refused by the firmware itself.
for (const chip of ["rp2040", "h750"] as const) {
  test(`${chip} built locked: keyed digests match the lock key, UPLOAD stalls${chip === "h750" ? ", an older version is refused" : ""}`, async () => {
    const bin = readFileSync((await buildOption(chip, lockedOption(chip, TEST_PUBLIC_KEY, TEST_LOCK_KEY), { quiet: true })).bin);
    let host: Rp2040UsbHost | H750UsbHost;
    if (chip === "rp2040") {
      const emu = new Rp2040Emu();
      emu.program(0, bin);
      emu.powerOn();
      host = new Rp2040UsbHost(emu);
      assert.ok(host.waitForDevice(500));
    } else {
      const emu = new H750Emu();
      emu.loadFirmware(bin);
      host = new H750UsbHost(emu);
      assert.ok(host.waitForDevice(100));
    }
    assert.is(host.reset(), "ok");
    const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms), sectorDigest: keyedSectorDigest(TEST_LOCK_KEY) }).open();
    assert.ok(dev.info!.locked);
    const v2 = signWithKey(example(chip), TEST_PRIVATE_KEY, { version: 2 });
    assert.is(await statusOf(dev.flash(v2, { leave: false })), "ok");
    assert.equal(await dev.verify(v2), [], "every sector's digest is the one the host computes with the lock key");
    assert.not.equal(await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms), sectorDigest: keyedSectorDigest(new Uint8Array(32)) }).open().then((d) => d.verify(v2)), [], "with another key nothing matches");
    const dfu = new DfuRequests(host);
    dfu.abort();
    assert.is(dfu.upload(2, 1024).status, "stall", "UPLOAD stalls");
    assert.is(dfu.getStatus().status, STATUS.errSTALLEDPKT);
    dfu.clrStatus();
    if (chip === "rp2040") return;
    const v1 = signWithKey(example(chip), TEST_PRIVATE_KEY, { version: 1 });
    assert.is(await statusOf(dev.flash(v1, { leave: true })), STATUS.errFILE, "version 1 after version 2: refused by the firmware");
    const again = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
    assert.is(again.info!.versionFloor, 2);
    assert.is(again.info!.lastCheck, "downgrade");
    assert.is(await statusOf(again.flash(signWithKey(example(chip), TEST_PRIVATE_KEY, { version: 3 }), { leave: false })), "ok", "version 3 is taken");
  });
}

test.run();
