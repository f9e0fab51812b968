// An emulated Pico for the tests that run the built RP2040 firmware (sim/rp2040/): the
// application's entry point, a DFU client on the emulated USB host, and a chip with the example
// application downloaded and recorded through qspiboot.
import * as assert from "uvu/assert";
import { Rp2040Emu } from "../../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../../sim/rp2040/usb-host";
import { SimUsbDevice } from "../../tools/usb/sim-device";
import { DfuDevice } from "../../tools/dfu/client";
import type { ControlHost } from "../../sim/usb-host";
import type { Segment } from "../../tools/image/segments";

/** Flash offset of the application (the first byte after the bootloader's 64 KiB). */
export const PICO_APP = 0x10000;

/** The application's reset handler, from its vector table in flash. */
export function appEntry(emu: Rp2040Emu): number {
  const d = emu.nor.data, a = PICO_APP;
  return (d[a + 4] | (d[a + 5] << 8) | (d[a + 6] << 16) | (d[a + 7] << 24)) & ~1;
}

/** The flasher's DFU client on an emulated USB host, opened. */
export async function dfuOn(host: ControlHost): Promise<DfuDevice> {
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

/** A Pico with `firmware` on a blank flash, the application downloaded over DFU and left to run. */
export async function picoFlashedOverDfu(firmware: Uint8Array, app: Segment[]): Promise<{ emu: Rp2040Emu; host: Rp2040UsbHost }> {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500), "blank: DFU mode");
  host.reset();
  await (await dfuOn(host)).flash(app, { leave: true });
  return { emu, host };
}
