// A file the board would not boot is refused before anything is erased, with the likely cause
// and the fix named; --force writes it anyway. The rules are the bootloader's own (initial SP
// in RAM, Thumb reset vector inside the application region), from the board's INFO reply.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { whyNotBootable, type BootRules } from "../tools/image/bootable";
import { loadImage } from "../tools/image/load";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { randomBytes } from "./lib/dfu-requests";
import { fakeApp } from "./lib/images";

const PICO: BootRules = { flashBase: 0x10000000, appStart: 0x10010000, appEnd: 0x10200000, ramStart: 0x20000000, ramEnd: 0x20042000, boardId: 2 };
const H750: BootRules = { flashBase: 0x90000000, appStart: 0x90000000, appEnd: 0x907ff000, ramStart: 0x20000000, ramEnd: 0x24080000, boardId: 1 };

/** What pico-sdk's default link (memmap_default.ld) puts at 0x10000000: boot2, then vectors. */
function picoSdkImage(): Uint8Array {
  const img = randomBytes(20_000, 81);
  const dv = new DataView(img.buffer);
  dv.setUint32(0x100, 0x20042000, true);
  dv.setUint32(0x104, 0x100001f7, true);
  return img;
}
/** A CubeMX image linked for the H750's internal flash. */
function cubeMxImage(): Uint8Array {
  const img = randomBytes(20_000, 82);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, 0x24080000, true);
  dv.setUint32(4, 0x080002b5, true);
  return img;
}

test("the bootloader's rules: the built examples pass; each usual mistake is named with its fix", () => {
  for (const [board, rules] of [["rp2040", PICO], ["h750", H750]] as const) {
    const { segments } = loadImage(join(root, "build", board, "example.elf"));
    assert.is(whyNotBootable(segments, rules), null, `${board} example`);
  }
  assert.match(whyNotBootable([{ address: 0x10000000, data: picoSdkImage() }], PICO)!, /pico-sdk image with its own boot2 at 0x10000000.*link the application for 0x10010000/);
  assert.match(whyNotBootable([{ address: 0x10010000, data: picoSdkImage() }], PICO)!, /pico-sdk's default output.*0x10010000 without boot2/);
  assert.match(whyNotBootable([{ address: 0x08000000, data: cubeMxImage() }], H750)!, /internal flash \(0x08000000\).*link it for 0x90000000/);
  assert.match(whyNotBootable([{ address: 0x90000000, data: cubeMxImage() }], H750)!, /reset vector 0x080002b5 points into the STM32H7's internal flash.*0x90000000/);
  assert.match(whyNotBootable([{ address: 0x90000000, data: randomBytes(4096, 83) }], H750)!, /no application vector table at 0x90000000/);
  const badSp = fakeApp("h750", 4096, 84);
  new DataView(badSp.buffer).setUint32(0, 0x30000000, true);
  assert.match(whyNotBootable([{ address: 0x90000000, data: badSp }], H750)!, /initial SP 0x30000000/);
  assert.is(whyNotBootable([{ address: 0x90100000, data: randomBytes(4096, 85) }], H750), null, "data elsewhere in the region is not an image");
});

test("the flasher refuses an unbootable file before the board erases anything; --force writes it", async () => {
  const b = await SimBoard.create({ board: "h750", timing: "instant" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  assert.is(dev.info!.ramEnd, 0x24080000, "the board tells its RAM range");
  await dev.flash([{ address: 0x90000000, data: fakeApp("h750", 30_000, 86) }], { leave: false });
  const before = b.flash.data.slice();
  const ops = b.flash.modifyingOps();
  try {
    await dev.flash([{ address: 0x90000000, data: cubeMxImage() }], { leave: true });
    assert.unreachable("refused");
  } catch (e) {
    assert.ok(e instanceof DfuError);
    assert.match((e as Error).message, /linked for 0x08000000.*Nothing was written \(--force writes it anyway\)/);
  }
  assert.is(b.flash.modifyingOps(), ops, "no erase, no program");
  assert.equal(b.flash.data, before);
  b.powerOn();
  assert.is(b.mode, "app", "the working image still boots");
  b.powerOn({ button: true });
  host.enumerate();
  const dev2 = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
  const junk = cubeMxImage();
  await dev2.flash([{ address: 0x90000000, data: junk }], { force: true, leave: false }).catch(() => undefined);
  assert.equal(b.flash.data.subarray(0, junk.length), junk, "--force: written as asked");
});

test("CLI: a pico-sdk .bin is refused with the fix; --force goes ahead", () => {
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-bootable-"));
  const f = join(dir, "blink.bin");
  writeFileSync(f, picoSdkImage());
  const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, encoding: "utf8" });
  const r = cli("--sim", "rp2040", "flash", f);
  assert.is(r.status, 4, "exit status 4: the file");
  assert.match(r.stdout + r.stderr, /pico-sdk's default output.*0x10010000 without boot2.*--force/);
  const forced = cli("--sim", "rp2040", "flash", f, "--force");
  assert.match(forced.stdout + forced.stderr, /errFIRMWARE/, "written, and then the board itself refuses to record it");
});

test.run();
