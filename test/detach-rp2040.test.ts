// From a running application back into qspiboot with no button, on the emulated Pico: the
// flasher's detach (tools/cli/detach.ts) against the USB example (hal/app/example-usb-rp2040.c,
// built on hal/app/qspiboot-usb.h) running under the real firmware, both conventions (DFU
// runtime DETACH, CDC 1200-baud touch), then the flash of another application; and what the
// flasher says when the application goes away or qspiboot never shows up.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { loadImage } from "../tools/image/load";
import { detachOne, findDetachable, sendDetach, QSPIBOOT_USB_ID, type DetachWay } from "../tools/cli/detach";
import type { USBDevice } from "../tools/dfu/webusb";
import { exitCodeOf, EXIT } from "../tools/cli/exit-codes";
import { EmuBus } from "./lib/emu-bus";

const BUILD = join(import.meta.dirname, "..", "build", "rp2040");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const usbApp = loadImage(join(BUILD, "example-usb.elf")).segments;
const uartApp = loadImage(join(BUILD, "example.elf")).segments;

/** A Pico with qspiboot that runs the USB example, flashed over DFU as a user would. */
async function picoRunningUsbApp() {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  const bus = EmuBus.rp2040(host);
  assert.ok(host.waitForDevice(200));
  const [dfu] = await bus.devices();
  await (await bus.dfu(dfu)).flash(usbApp, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("qspiboot USB example: hello"), 20_000_000), "the USB example runs");
  assert.ok(host.waitForDevice(100), "and connects its USB device");
  return { emu, host, bus };
}

test("the USB example enumerates: 1209:0001, a CDC ACM port and a DFU runtime interface with WillDetach; GETSTATUS says appIDLE", async () => {
  const { host, bus } = await picoRunningUsbApp();
  const [d] = await bus.devices();
  assert.is(d.vendorId, QSPIBOOT_USB_ID.vendorId);
  assert.is(d.productId, QSPIBOOT_USB_ID.productId);
  assert.is(d.productName, "qspiboot example (Pico, USB)");
  const alts = d.configuration!.interfaces.map((i) => i.alternates[0]);
  assert.equal(alts.map((a) => [a.interfaceClass, a.interfaceSubclass, a.interfaceProtocol]), [[2, 2, 0], [10, 0, 0], [0xfe, 1, 1]]);
  const cfg = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 }).data;
  const func = cfg.subarray(cfg.length - 9);
  assert.equal([...func.subarray(0, 5)], [9, 0x21, 0x08, 1000 & 0xff, 1000 >> 8], "functional descriptor: bitWillDetach, wDetachTimeOut 1000 ms");
  const st = host.control({ bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 2, wLength: 6 });
  assert.equal([...st.data], [0, 0, 0, 0, 0, 0], "status OK, state appIDLE");
  assert.equal([...host.control({ bmRequestType: 0xa1, bRequest: 5, wValue: 0, wIndex: 2, wLength: 1 }).data], [0]);
  assert.is(host.control({ bmRequestType: 0x21, bRequest: 1, wValue: 0, wIndex: 2, wLength: 0 }).status, "stall", "DNLOAD belongs to DFU mode");
  const baud = host.control({ bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0, wLength: 7 }, Uint8Array.from([0x80, 0x25, 0, 0, 0, 0, 8]));
  assert.is(baud.status, "ok", "SET_LINE_CODING 9600");
  assert.equal([...host.control({ bmRequestType: 0xa1, bRequest: 0x21, wValue: 0, wIndex: 0, wLength: 7 }).data], [0x80, 0x25, 0, 0, 0, 0, 8]);
  assert.ok(host.present(), "any other baud rate keeps the application running");
  const detach = host.control({ bmRequestType: 0x21, bRequest: 0, wValue: 1000, wIndex: 2, wLength: 0 });
  assert.is(detach.status, "ok", "DETACH's status stage reaches the host before the application reboots");
  assert.ok(host.waitForDevice(500), "qspiboot's DFU device comes up");
  assert.equal(host.pidErrors, []);
});

for (const way of ["dfu", "cdc"] as DetachWay[]) {
  test(`flasher, ${way === "dfu" ? "DFU runtime DETACH" : "CDC 1200-baud touch"}: the running application reboots into qspiboot ("application asked"), the new application is flashed and runs`, async () => {
    const { emu, bus, host } = await picoRunningUsbApp();
    const said: string[] = [];
    const dev = await detachOne(bus, { way, say: (l) => said.push(l) });
    assert.ok(dev, "a board in DFU mode came back");
    assert.match(said[0], way === "dfu" ? /detaching the running application qspiboot example \(Pico, USB\) \(1209:0001\) by DFU runtime DETACH/ : /by CDC 1200-baud touch/);
    assert.ok(emu.resets.at(-1) === "watchdog", "the application rebooted the chip");
    const dfu = await bus.dfu(dev!);
    assert.is(dfu.info!.bootReason, "application asked");
    emu.uart = "";
    await dfu.flash(uartApp, { leave: true });
    assert.ok(emu.runUntil(() => emu.uart.includes("qspiboot example: hello from the Pico"), 20_000_000), "the new application runs");
    assert.equal(host.pidErrors, []);
  });
}

test("the application goes away before it gets the request: a clear error (exit 3), nothing written", async () => {
  const { emu, bus } = await picoRunningUsbApp();
  const flash = emu.nor.data.slice();
  // Listed, then unplugged: it comes back in the RP2040 ROM's own USB mode (BOOTSEL held).
  bus.afterList = () => { bus.afterList = undefined; emu.bootsel = true; emu.reboot(); };
  try {
    await detachOne(bus);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /went away during the DFU runtime DETACH, but no board in qspiboot's DFU mode appeared within 5\.0 s; nothing was written/);
    assert.is(exitCodeOf(e), EXIT.noDevice);
  }
  assert.ok(emu.nor.data.every((b, i) => b === flash[i]), "the flash is as it was");
});

test("the application detaches but qspiboot never appears (no valid boot2 under it): a clear error (exit 3), nothing written", async () => {
  const { emu, bus } = await picoRunningUsbApp();
  emu.nor.data[10] ^= 0xff; // boot2's CRC fails at the next reset: the ROM keeps the chip
  const flash = emu.nor.data.slice();
  try {
    await detachOne(bus);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /took the DFU runtime DETACH, but no board in qspiboot's DFU mode appeared within 6\.0 s/);
    assert.is(exitCodeOf(e), EXIT.noDevice);
  }
  assert.is(emu.usbBoot, "no valid boot2");
  assert.ok(emu.nor.data.every((b, i) => b === flash[i]), "the flash is as it was");
});

/** A device as the `usb` package lists it, without talking to it. */
function listed(vendorId: number, productId: number, serial: string, classes: [number, number, number][]): USBDevice {
  return {
    vendorId, productId, serialNumber: serial, productName: "app", opened: false,
    configuration: { configurationValue: 1, interfaces: classes.map(([c, s, p], n) => ({ interfaceNumber: n, alternates: [{ alternateSetting: 0, interfaceClass: c, interfaceSubclass: s, interfaceProtocol: p }] })) },
  } as unknown as USBDevice;
}

test("which devices are detached: qspiboot's VID:PID by default, any with --detach; never one in DFU mode; several need --serial", async () => {
  const ours = listed(0x1209, 0x0001, "A", [[2, 2, 0], [10, 0, 0], [0xfe, 1, 1]]);
  const foreign = listed(0x2e8a, 0x000a, "B", [[2, 2, 0], [10, 0, 0]]);
  const dfuMode = listed(0x1209, 0x0001, "C", [[0xfe, 1, 2]]);
  assert.equal(findDetachable([ours, foreign, dfuMode]).map((a) => [a.serial, a.ways]), [["A", ["dfu", "cdc"]]]);
  assert.equal(findDetachable([ours, foreign, dfuMode], true).map((a) => [a.serial, a.ways]), [["A", ["dfu", "cdc"]], ["B", ["cdc"]]]);
  const bus = { devices: async () => [ours, foreign], sleep: async () => {}, now: () => 0 };
  try {
    await detachOne(bus, { any: true });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /2 running applications that could be detached: pick one with --serial:\n {2}A {2}app \(1209:0001\)\n {2}B {2}app \(2e8a:000a\)/);
    assert.is(exitCodeOf(e), EXIT.usage);
  }
  assert.is(await detachOne({ ...bus, devices: async () => [foreign] }), undefined, "a foreign CDC port is left alone without --detach");
});

/** A running application that answers descriptors and records what the flasher sends it. */
function fakeApp(opts: { attributes: number; stallDetach?: boolean }) {
  const cfg = Uint8Array.from([9, 2, 27, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 0, 0xfe, 1, 1, 0, 9, 0x21, opts.attributes, 0xf4, 0x01, 0x40, 0, 0x10, 0x01]);
  const sent: string[] = [];
  const usb = {
    ...listed(0x1209, 0x0001, "F", [[0xfe, 1, 1]]),
    async open() { sent.push("open"); }, async close() {}, async claimInterface(n: number) { sent.push(`claim ${n}`); },
    async controlTransferIn(_s: unknown, len: number) { return { status: "ok", data: new DataView(cfg.buffer, 0, Math.min(len, cfg.length)) }; },
    async controlTransferOut(s: { request: number; value: number }) { sent.push(`out ${s.request} ${s.value}`); return { status: opts.stallDetach ? "stall" : "ok", bytesWritten: 0 }; },
    async reset() { sent.push("reset"); },
  } as unknown as USBDevice;
  return { usb, sent };
}

test("DFU_DETACH carries the functional descriptor's wDetachTimeOut; without WillDetach the flasher resets the bus (DFU 1.1 5.1); a stall is a refusal", async () => {
  const will = fakeApp({ attributes: 0x08 });
  await sendDetach(findDetachable([will.usb])[0]);
  assert.equal(will.sent, ["open", "claim 0", "out 0 500"], "wValue 500 ms, no reset");
  const wont = fakeApp({ attributes: 0x00 });
  const r = await sendDetach(findDetachable([wont.usb])[0]);
  assert.equal(wont.sent, ["open", "claim 0", "out 0 500", "reset"]);
  assert.is(r.waitMs, 5500, "waits wDetachTimeOut + 5 s");
  const stalls = fakeApp({ attributes: 0x08, stallDetach: true });
  try {
    await sendDetach(findDetachable([stalls.usb])[0]);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /refused DFU_DETACH \(stall\)/);
  }
});

test.run();
