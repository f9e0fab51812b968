// The same detach on the emulated WeAct H750: the USB example (hal/app/example-usb-h750.c, on
// example-usb.h and qspiboot-usb.h) running from QSPI under the real firmware brings up OTG_FS
// itself (PLL3 48 MHz from the HSE, the embedded PHY), and the flasher's detach
// (tools/cli/detach.ts) sends it back into qspiboot by either convention, then flashes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { loadImage } from "../tools/image/load";
import { detachOne, type DetachWay } from "../tools/cli/detach";
import { EmuBus } from "./lib/emu-bus";

const BUILD = join(import.meta.dirname, "..", "build", "h750");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const usbApp = loadImage(join(BUILD, "example-usb.elf")).segments;
const uartApp = loadImage(join(BUILD, "example.elf")).segments;

async function weactRunningUsbApp() {
  const emu = new H750Emu({});
  emu.loadFirmware(firmware);
  const host = new H750UsbHost(emu);
  const bus = EmuBus.h750(host);
  assert.ok(host.waitForDevice(200), "qspiboot's DFU device");
  const [dfu] = await bus.devices();
  await (await bus.dfu(dfu)).flash(usbApp, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("qspiboot USB example: hello from the WeAct H750"), 20_000_000), "the USB example runs");
  assert.ok(host.waitForDevice(100), "and connects its USB device");
  return { emu, host, bus };
}

test("the H750 USB example enumerates with a CDC ACM port and a DFU runtime interface", async () => {
  const { host, bus } = await weactRunningUsbApp();
  const [d] = await bus.devices();
  assert.is(d.productName, "qspiboot example (WeAct H750, USB)");
  assert.equal(d.configuration!.interfaces.map((i) => i.alternates[0].interfaceClass), [2, 10, 0xfe]);
  assert.equal([...host.control({ bmRequestType: 0xa1, bRequest: 3, wValue: 0, wIndex: 2, wLength: 6 }).data], [0, 0, 0, 0, 0, 0], "appIDLE");
  const baud = host.control({ bmRequestType: 0x21, bRequest: 0x20, wValue: 0, wIndex: 0, wLength: 7 }, Uint8Array.from([0x80, 0x25, 0, 0, 0, 0, 8]));
  assert.is(baud.status, "ok");
  assert.ok(host.present(), "9600 baud keeps the application running");
});

for (const way of ["dfu", "cdc"] as DetachWay[]) {
  test(`H750 flasher, ${way === "dfu" ? "DFU runtime DETACH" : "CDC 1200-baud touch"}: qspiboot comes back ("application asked"), the new application is flashed and runs`, async () => {
    const { emu, bus } = await weactRunningUsbApp();
    const dev = await detachOne(bus, { way });
    assert.ok(dev, "a board in DFU mode came back");
    const dfu = await bus.dfu(dev!);
    assert.is(dfu.info!.bootReason, "application asked");
    emu.m.usart.out = "";
    await dfu.flash(uartApp, { leave: true });
    assert.ok(emu.runUntil(() => emu.uart.includes("qspiboot example: hello from the WeAct H750"), 20_000_000), "the new application runs");
  });
}

test.run();
