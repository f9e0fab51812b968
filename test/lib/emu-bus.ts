// An emulated chip's USB (the Pico's or the H750's) as the flasher's bus (tools/cli/detach.ts UsbBus): what the host's OS
// shows of it. A device the firmware has just connected is reset and enumerated first, as an OS
// does with a newly attached device; time is the emulator's.
import type { UsbBus } from "../../tools/cli/detach";
import type { USBDevice } from "../../tools/dfu/webusb";
import { SimUsbDevice } from "../../tools/usb/sim-device";
import { DfuDevice } from "../../tools/dfu/client";
import type { ControlHost, ControlStatus } from "../../sim/usb-host";
import type { Rp2040UsbHost } from "../../sim/rp2040/usb-host";
import type { H750UsbHost } from "../../sim/h750/usb-host";

type Host = ControlHost & { reset(): ControlStatus };

export class EmuBus implements UsbBus {
  private dev?: SimUsbDevice;
  private seen = "";
  listings = 0;
  /** Runs after each listing (a test unplugs a board there). */
  afterList?: () => void;

  /** `attached()` changes each time the firmware connects a device (a new device for the OS). */
  constructor(readonly host: Host, private readonly attached: () => string, readonly now: () => number) {}

  static rp2040(host: Rp2040UsbHost): EmuBus {
    return new EmuBus(host, () => String(host.connects), () => host.emu.nowUs / 1000);
  }

  static h750(host: H750UsbHost): EmuBus {
    return new EmuBus(host, () => `${host.emu.resets}/${host.emu.m.otg.connects.length}`, () => host.emu.nowUs / 1000);
  }

  async devices(): Promise<USBDevice[]> {
    this.listings++;
    const out = await this.list();
    this.afterList?.();
    return out;
  }

  private async list(): Promise<USBDevice[]> {
    if (!this.host.present()) { this.dev = undefined; return []; }
    if (!this.dev || this.seen !== this.attached()) {
      this.seen = this.attached();
      this.dev = undefined;
      if (this.host.reset() !== "ok") return [];
      const d = new SimUsbDevice(this.host);
      await d.open();
      this.dev = d;
    }
    return [this.dev];
  }

  async sleep(ms: number): Promise<void> { this.host.sleep(ms); }

  /** The DFU client on a device of this bus, in the emulator's time. */
  dfu(usb: USBDevice): Promise<DfuDevice> {
    return new DfuDevice(usb, { sleep: async (ms) => this.host.sleep(ms), now: () => this.now() }).open();
  }
}
