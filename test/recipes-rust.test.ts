// The Rust recipes (link/recipes/rust/memory-*.x for cortex-m-rt), checked against the
// bootloader's own layout, not against numbers written here: a stand-in with cortex-m-rt's
// link.x contract (test/apps/cortex-m-rt/) is linked with each memory.x by GNU ld, the regions
// are read back from the linked file, and compared with what the board reports over INFO (the
// simulator runs the very core the firmware is built from, with the boards' facts); then the
// image is flashed over DFU and the bootloader must boot it, in the simulator and as machine code
// in the chip's firmware in the emulator, where it must start with VTOR and SP from its table.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "../tools/build-core";
import { loadImage } from "../tools/image/load";
import { whyNotBootable } from "../tools/image/bootable";
import { SimBoard } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, type Segment } from "../tools/dfu/client";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { readFileSync } from "node:fs";

const dir = mkdtempSync(join(tmpdir(), "qspiboot-rust-"));
const CHIPS = { h750: { cpu: "cortex-m7", x: "memory-h750.x" }, rp2040: { cpu: "cortex-m0plus", x: "memory-rp2040.x" } } as const;

for (const [board, { cpu, x }] of Object.entries(CHIPS) as [keyof typeof CHIPS, (typeof CHIPS)[keyof typeof CHIPS]][]) {
  test(`Rust ${board}: link/recipes/rust/${x} as memory.x gives cortex-m-rt the board's application region, and the board boots the result`, async () => {
    const out = join(dir, board);
    mkdirSync(out);
    copyFileSync(join(root, "link/recipes/rust", x), join(out, "memory.x"));
    const app = join(root, "test/apps/cortex-m-rt");
    const elf = join(out, "app.elf");
    const cc = spawnSync("arm-none-eabi-gcc", [`-mcpu=${cpu}`, "-mthumb", "-Os", "-fno-tree-loop-distribute-patterns", "-nostartfiles", "-nostdlib", "-Wall", "-Werror",
      "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments", "-L", out, "-T", join(app, "link.x"), join(app, "main.c"), "-o", elf], { encoding: "utf8" });
    assert.is(cc.status, 0, cc.stderr);
    const nm = spawnSync("arm-none-eabi-nm", [elf], { encoding: "utf8" });
    const sym = (name: string) => {
      const m = new RegExp(`^([0-9a-f]{8}) \\w ${name}$`, "m").exec(nm.stdout);
      assert.ok(m, `${name} in the linked file`);
      return parseInt(m![1], 16);
    };

    const b = await SimBoard.create({ board });
    b.powerOn();
    const host = new SimUsbHost(b);
    host.enumerate();
    const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
    const i = dev.info!;
    assert.is(sym("__flash_origin"), i.flashBase + i.appStart, "FLASH starts at the application start");
    assert.is(sym("__flash_end"), i.flashBase + i.appEnd, "FLASH ends where the application region ends");
    assert.ok(sym("__ram_origin") >= i.ramStart! && sym("__ram_end") <= i.ramEnd!, "RAM lies where the board lets a stack point");
    assert.is(sym("__vector_table"), i.flashBase + i.appStart, "cortex-m-rt's vector table is the image's first byte");

    // cargo's output has no extension: the flasher knows an ELF by its content.
    copyFileSync(elf, join(out, "app"));
    const { segments } = loadImage(join(out, "app"));
    assert.equal(segments, loadImage(elf).segments);
    assert.is(whyNotBootable(segments, { flashBase: i.flashBase, appStart: i.flashBase + i.appStart, appEnd: i.flashBase + i.appEnd,
      ramStart: i.ramStart, ramEnd: i.ramEnd, boardId: i.boardId }), null, "the flasher accepts it");
    await dev.flash(segments, { leave: true });
    b.step();
    assert.is(b.mode, "app", "the bootloader boots it");

    // The built firmware on the emulated chip: the image runs, entered as cortex-m-rt expects.
    const run = await emulated(board, segments);
    assert.ok(run.read(sym("counter")) > 7, "it runs: .data copied, its loop counting");
    assert.is(run.read(sym("entry_vtor")), sym("__vector_table"), "VTOR at its vector table on entry");
    assert.is(run.read(sym("entry_sp")), sym("_stack_start"), "SP from its vector table (_stack_start) on entry");
  });
}

async function emulated(board: keyof typeof CHIPS, segments: Segment[]) {
  if (board === "h750") {
    const emu = new H750Emu({});
    emu.loadFirmware(readFileSync(join(root, "build/h750/qspiboot.bin")));
    const host = new H750UsbHost(emu);
    assert.ok(host.waitForDevice(100));
    assert.is(host.reset(), "ok");
    await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open().then((d) => d.flash(segments, { leave: true }));
    const read = (a: number) => new DataView(emu.uc.read(a, 4).buffer).getUint32(0, true);
    emu.runUntil(() => emu.pc >= 0x90000000, 50_000_000);
    emu.runUntil(() => false, 200_000);
    return { read };
  }
  const emu = new Rp2040Emu();
  emu.program(0, readFileSync(join(root, "build/rp2040/qspiboot.bin")));
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  host.reset();
  await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open().then((d) => d.flash(segments, { leave: true }));
  emu.runUntil(() => emu.pc >= 0x10010000 && emu.pc < 0x10200000, 50_000_000);
  emu.runUntil(() => false, 20_000);
  return { read: (a: number) => emu.mcu.readUint32(a) >>> 0 };
}

test.run();
