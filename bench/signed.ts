// Signed updates: how long the board's check takes at manifestation, on the real firmware in
// both emulators. The same image is flashed with tools/flash.ts's client onto the default
// build and, signed, onto a build with a key; the difference of the manifestation phases
// (simulated time from the manifest request to its end) is the verification: SHA-256 over the
// image read back, and one Ed25519 verification (RFC 8032) of the trailer.
import { readFileSync } from "node:fs";
import { buildBoard, buildOption, signedOption } from "../tools/build";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { signWithKey } from "../tools/cli/keys";
import { fakeApp, appBase } from "../test/lib/images";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from "../test/lib/test-key";

type Chip = "rp2040" | "h750";

async function manifestUs(chip: Chip, bin: Uint8Array, segs: { address: number; data: Uint8Array }[]): Promise<number> {
  let now: () => number;
  let host: Rp2040UsbHost | H750UsbHost;
  if (chip === "rp2040") {
    const emu = new Rp2040Emu({ timing: "instant" });
    emu.program(0, bin);
    emu.powerOn();
    host = new Rp2040UsbHost(emu);
    if (!host.waitForDevice(500)) throw new Error("no DFU device");
    now = () => emu.nowUs;
  } else {
    const emu = new H750Emu({ timing: "instant" } as any);
    emu.loadFirmware(bin);
    host = new H750UsbHost(emu);
    if (!host.waitForDevice(100)) throw new Error("no DFU device");
    now = () => emu.nowUs;
  }
  host.reset();
  const h = host;
  const dev = await new DfuDevice(new SimUsbDevice(h), { sleep: async (ms) => h.sleep(ms) }).open();
  let start = 0, end = 0;
  await dev.flash(segs, {
    leave: false,
    progress: (p) => { if (p.phase === "manifest" && p.done === 0) start = now(); if (p.phase === "manifest" && p.done === 1) end = now(); },
  });
  if (!start || !end) throw new Error("no manifestation phase seen");
  return end - start;
}

/** Verification time for an image of `bytes` on `chip` (simulated microseconds). */
export async function verifyCost(chip: Chip, bytes: number): Promise<{ plainUs: number; signedUs: number; verifyUs: number }> {
  const plain = readFileSync((await buildBoard(chip, { quiet: true })).bin);
  const signed = readFileSync((await buildOption(chip, signedOption(chip, TEST_PUBLIC_KEY), { quiet: true })).bin);
  const img = [{ address: appBase(chip), data: fakeApp(chip, bytes, 5) }];
  const plainUs = await manifestUs(chip, plain, img);
  const signedUs = await manifestUs(chip, signed, signWithKey(img, TEST_PRIVATE_KEY, { version: 1 }));
  return { plainUs, signedUs, verifyUs: signedUs - plainUs };
}
