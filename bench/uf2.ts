// The UF2 drive's copy speed: a .uf2 copied onto the simulated drive as Linux writes it (FAT and
// directory, then the data in 64 KiB WRITE(10)s; the writes made by mtools), from the first
// write until the new image runs (verified and recorded), on the H750 board in the Wasm
// simulator, typical flash timings. The limit counts what UF2 carries: 512 bytes over USB for
// every 256 bytes of image.
import { SimBoard, loadUf2Core } from "../sim/board";
import { CHIPS } from "../sim/chips";
import { transactionUs, DEFAULT_USB_TIMING } from "../sim/usb-timing";
import { randomBytes } from "../test/lib/dfu-requests";
import { fakeApp } from "../test/lib/images";
import { attach, changedSectors, copyOnto, flashHolds, mountView, runs, uf2Of } from "../test/lib/uf2-drive";

const chip = CHIPS.W25Q64JV;
const PER_COMMAND = 128; // sectors per WRITE(10): 64 KiB, what Windows and macOS send (Linux: up to 120 KiB)

/** A perfect device: the larger of the flash's busy time (64 KiB erases, 256-byte programs,
 *  typical) and the bus time of the UF2 file with one CBW and one CSW per 64 KiB command. */
export function uf2LimitUs(bytes: number): { us: number; flashUs: number; usbUs: number } {
  const e64 = chip.erases.find((e) => e.size === 65536)!;
  const flashUs = Math.ceil(bytes / 65536) * e64.typMs * 1000 + Math.ceil(bytes / 256) * chip.pageProgram.typMs * 1000;
  const fileBytes = Math.ceil(bytes / 256) * 512;
  const commands = Math.ceil(fileBytes / (PER_COMMAND * 512));
  const perCommand = 3 * DEFAULT_USB_TIMING.bulkOverheadUs + transactionUs(31) + transactionUs(13);
  const usbUs = commands * perCommand + (fileBytes / 64) * transactionUs(64);
  return { us: Math.max(flashUs, usbUs), flashUs, usbUs };
}

/** Simulated microseconds for copying a `bytes` image over an old one. */
export async function uf2Copy(bytes: number): Promise<number> {
  const b = await SimBoard.create({ board: "h750", module: await loadUf2Core() });
  b.flash.data.set(randomBytes(Math.min(bytes, b.flash.data.length), 99)); // an old image: erases needed
  b.powerOn({ button: true });
  const d = attach(b);
  const app = fakeApp("h750", bytes, 7);
  const view = mountView(d.msc);
  const writes = runs(changedSectors(view, copyOnto(view, [{ name: "APP.UF2", data: uf2Of("h750", app) }])).sort((x, y) => x.lba - y.lba), PER_COMMAND);
  const t = b.clock.now;
  for (const w of writes) {
    if (b.mode !== "bootloader") break;
    if (d.msc.write(w.lba, w.data).status !== 0) throw new Error(`WRITE(10) at ${w.lba} failed`);
  }
  while (b.mode === "bootloader" && b.clock.now - t < 600e6) d.host.sleep(1);
  if (b.mode !== "app" || !flashHolds(b, "h750", app)) throw new Error("the copied image did not start");
  return b.clock.now - t;
}
