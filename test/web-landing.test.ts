// The WebUSB landing page as a user sets it: `npm run build -- --web-url=URL` puts the URL into the
// firmware, and the built RP2040 firmware, on the emulated chip, announces it in its BOS and
// answers the browser's GET_URL with it (WebUSB 1.0 4.3.1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildBoard, webUrlDefines } from "../tools/build";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";

const ROOT = join(import.meta.dirname, "..");

test("a build with --web-url: the emulated Pico's BOS has iLandingPage 1 and GET_URL returns the URL", async () => {
  const url = "localhost:8040/";
  const r = await buildBoard("rp2040", { quiet: true, outDir: join(ROOT, "build", "rp2040-web-url"), defines: webUrlDefines(`http://${url}`) });
  const emu = new Rp2040Emu();
  emu.program(0, readFileSync(r.bin));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500));
  assert.is(host.reset(), "ok");
  const bos = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0f00, wIndex: 0, wLength: 57 }).data;
  assert.is(bos[5 + 23], 1, "iLandingPage");
  const got = host.control({ bmRequestType: 0xc0, bRequest: bos[5 + 22], wValue: 1, wIndex: 2, wLength: 255 });
  assert.is(got.status, "ok");
  assert.equal([got.data[0], got.data[1], got.data[2]], [3 + url.length, 3, 0], "URL descriptor, scheme 0 (http://)");
  assert.is(String.fromCharCode(...got.data.subarray(3)), url);
});

test("--web-url refuses what a URL descriptor cannot carry", () => {
  assert.throws(() => webUrlDefines("ftp://example.org/"), /http:\/\/ or https:\/\//);
  assert.throws(() => webUrlDefines(`https://${"a".repeat(63)}`), /at most 62/);
  assert.throws(() => webUrlDefines('https://a"b'), /--web-url/);
  assert.equal(webUrlDefines("https://example.org/q/"), ["BOARD_WEB_SCHEME=1", 'BOARD_WEB_URL="example.org/q/"']);
});

test.run();
