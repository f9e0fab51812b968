// The emulated Pico's USB as the flasher's bus (tools/cli/detach.ts UsbBus): what the host's OS
// shows of it. A device the firmware has just connected is reset and enumerated first, as an OS
// does with a newly attached device; time is the emulator's.
import type { UsbBus } from "../../tools/cli/detach";
import type { USBDevice } from "../../tools/dfu/webusb";
import { SimUsbDevice } from "../../tools/usb/sim-device";
import { DfuDevice } from "../../tools/dfu/client";
import type { Rp2040UsbHost } from "../../sim/rp2040/usb-host";

export class EmuBus implements UsbBus {
  private dev?: SimUsbDevice;
  private seen = -1;
  listings = 0;
  /** Runs after each listing (a test unplugs a board there). */
  afterList?: () => void;

  constructor(readonly host: Rp2040UsbHost) {}

  async devices(): Promise<USBDevice[]> {
    this.listings++;
    const out = await this.list();
    this.afterList?.();
    return out;
  }

  private async list(): Promise<USBDevice[]> {
    if (!this.host.present()) { this.dev = undefined; return []; }
    if (!this.dev || this.seen !== this.host.connects) {
      this.seen = this.host.connects;
      this.dev = undefined;
      if (this.host.reset() !== "ok") return [];
      const d = new SimUsbDevice(this.host);
      await d.open();
      this.dev = d;
    }
    return [this.dev];
  }

  async sleep(ms: number): Promise<void> { this.host.sleep(ms); }
  now(): number { return this.host.emu.nowUs / 1000; }

  /** The DFU client on a device of this bus, in the emulator's time. */
  dfu(usb: USBDevice): Promise<DfuDevice> {
    return new DfuDevice(usb, { sleep: async (ms) => this.host.sleep(ms), now: () => this.now() }).open();
  }
}
