// flash --watch and Picos in BOOTSEL mode (the RP2040 boot ROM): emulated Picos (sim/rp2040/,
// with the ROM's PICOBOOT model) plugged in with BOOTSEL held, next to simulated qspiboot boards.
// With --install a blank Pico gets qspiboot through PICOBOOT, reboots into it and is flashed when
// it comes back as a qspiboot board; without, a Pico that has qspiboot is switched into its DFU
// mode (flash kept) and flashed, a blank one gets an error line and is left alone; a Pico whose
// BOOTSEL is still held comes back in the ROM and gets one result saying so, not a loop; one
// pulled out in the middle of an install is named, and comes back in the ROM by itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SimSource } from "../tools/cli/sim-source";
import { watch, type WatchResult } from "../tools/cli/watch";
import { picoRomTarget } from "../tools/cli/pico-rom";
import type { Target } from "../tools/cli/targets";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice } from "../tools/dfu/client";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { PicobootRom } from "../sim/rp2040/picoboot";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { fakeApp, appBase } from "./lib/images";
import { root } from "../tools/build-core";
import { loadImage } from "../tools/image/load";

const qspiboot = new Uint8Array(readFileSync(join(root, "build/rp2040/qspiboot.bin")));
const example = loadImage(join(root, "build/rp2040/example.elf")).segments;

/** An emulated Pico on the bus: in its ROM (BOOTSEL) or running qspiboot in DFU mode. */
class Pico {
  readonly emu = new Rp2040Emu();
  target?: Target;
  rom?: PicobootRom;
  plugged = true;
  /** Scans to skip after a reboot: the device is off the bus while it re-enumerates. */
  away = 0;
  constructor(readonly romSerial: string, flash: Uint8Array | undefined, public holdBootsel = false, private cutAfterCommands = Infinity) {
    if (flash) this.emu.program(0, flash);
    this.emu.bootsel = true;
    this.emu.powerOn();
  }

  private async enterRom() {
    this.rom = new PicobootRom(this.emu, this.romSerial);
    this.rom.reset();
    const usb = new SimUsbDevice(this.rom);
    await usb.open();
    let commands = 0;
    const out = usb.transferOut.bind(usb);
    usb.transferOut = async (ep: number, data: BufferSource) => {
      if ((data as Uint8Array).byteLength === 32 && ++commands > this.cutAfterCommands) { this.plugged = false; throw new Error("LIBUSB_ERROR_NO_DEVICE"); }
      return out(ep, data);
    };
    this.target = picoRomTarget(usb);
  }

  private async enterDfu() {
    const host = new Rp2040UsbHost(this.emu);
    assert.ok(host.waitForDevice(1000), "qspiboot's DFU device comes up");
    host.reset();
    const usb = new SimUsbDevice(host);
    await usb.open();
    this.rom = undefined;
    this.target = { label: "emulated Pico", serial: usb.serialNumber ?? "", open: () => new DfuDevice(usb, { sleep: async (ms) => host.sleep(ms) }).open() };
  }

  /** What the host sees now. */
  async scan(): Promise<Target | undefined> {
    if (!this.plugged) return undefined;
    if (!this.target) { await this.enterRom(); return this.target; }
    if (this.rom?.executed.some((e) => e.startsWith("REBOOT"))) {
      // The ROM's reboot: BOOTSEL let go (unless still held), the chip restarts.
      const resets = this.emu.resets.length;
      if (!this.holdBootsel) this.emu.bootsel = false;
      assert.ok(this.emu.runUntil(() => this.emu.resets.length > resets, 100_000_000));
      if (this.emu.mode === "usb-boot") await this.enterRom(); else await this.enterDfu();
      this.away = 1;
    }
    if (this.away) { this.away--; return undefined; }
    return this.target;
  }

  /** After the watch: what the chip runs from a power cycle with BOOTSEL let go. */
  runsApplication(): boolean {
    this.emu.bootsel = false;
    this.emu.powerOn();
    const d = this.emu.nor.data;
    const entry = (d[0x10004] | (d[0x10005] << 8) | (d[0x10006] << 16) | (d[0x10007] << 24)) & ~1;
    return this.emu.mode === "running" && this.emu.runUntil(() => this.emu.pc === entry, 20_000_000);
  }
}

/** A Pico's flash with qspiboot and an application on it (written by a programmer). */
function withQspiboot(): Uint8Array {
  const f = new Uint8Array(2 << 20).fill(0xff);
  f.set(qspiboot, 0);
  return f;
}

async function runWatch(picos: Pico[], src: SimSource, installPico?: Uint8Array, seconds = 20) {
  const source = {
    scan: async () => {
      const out: Target[] = [];
      for (const p of picos) { const t = await p.scan(); if (t) out.push(t); }
      return [...out, ...(await src.scan())];
    },
    wait: (ms: number) => src.wait(ms), now: () => src.now(),
  };
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  src.world.schedule(seconds * 1e6, () => stop());
  const lines: string[] = [];
  const results = await src.world.run(watch({
    source, load: (d) => d.info?.board.includes("Pico") || d.info?.flashBase === 0x10000000 ? example : [{ address: appBase("h750"), data: fakeApp("h750", 8192, 3) }],
    leave: true, smart: true, force: false, stop: stopped, installPico, pollMs: 100, report: (l) => lines.push(l),
  }));
  return { results, lines };
}

const bySerial = (rs: WatchResult[], s: string) => rs.filter((r) => r.serial === s);

test("--watch --install: a blank Pico in BOOTSEL gets qspiboot and is flashed when it comes back; one pulled out mid-install is named; qspiboot boards alongside are flashed", async () => {
  const src = new SimSource();
  src.plug(await src.add("rp2040", 0x300));
  const blank = new Pico("ROMBLANK0001", undefined);
  const pulled = new Pico("ROMPULLED002", undefined, false, 5);
  const { results, lines } = await runWatch([blank, pulled], src, qspiboot);
  const text = lines.join("\n");
  const [inst] = bySerial(results, "ROMBLANK0001");
  assert.ok(inst?.ok && inst.installed && inst.rom === "rp2040", text);
  assert.match(text, /ROMBLANK0001  ok     installed qspiboot \(\d+ bytes, verified\) through the Pico's boot ROM/);
  const back = results.filter((r) => r.ok && !r.rom && r.serial === blank.target!.serial);
  assert.is(back.length, 1, `flashed once it came back as qspiboot:\n${text}`);
  assert.ok(back[0].imageCrc !== undefined);
  const [cut] = bySerial(results, "ROMPULLED002");
  assert.ok(cut && !cut.ok, text);
  assert.match(cut.error!, /went away in the middle of the install: boot2 is written last, so it comes up in BOOTSEL mode by itself/);
  assert.is(cut.exitCode, 7);
  assert.ok(results.some((r) => r.ok && r.serial === src.serialOf(src.boards[0])), "the qspiboot board was flashed too");
  assert.is(results.length, 4, text);
  assert.ok(blank.runsApplication(), "the installed Pico runs the application flashed through qspiboot");
  pulled.emu.bootsel = false;
  pulled.emu.powerOn();
  assert.is(pulled.emu.mode, "usb-boot", "the Pico pulled out mid-install starts its ROM by itself");
});

test("--watch without --install: a Pico with qspiboot is switched and flashed, a blank one is left alone with a hint, one with BOOTSEL still held gets one result", async () => {
  const src = new SimSource();
  const has = new Pico("ROMHASQB0003", withQspiboot());
  const blank = new Pico("ROMBLANK0004", undefined);
  const held = new Pico("ROMHELD00005", withQspiboot(), true);
  const { results, lines } = await runWatch([has, blank, held], src);
  const text = lines.join("\n");
  const [sw] = bySerial(results, "ROMHASQB0003");
  assert.ok(sw?.ok && sw.switched, text);
  assert.match(text, /ROMHASQB0003  ok     switched from BOOTSEL mode to qspiboot's DFU mode \(flash kept\)/);
  assert.is(results.filter((r) => r.ok && r.serial === has.target!.serial && !r.rom).length, 1, `flashed after the switch:\n${text}`);
  assert.ok(has.runsApplication());
  const [b] = bySerial(results, "ROMBLANK0004");
  assert.ok(b && !b.ok && b.exitCode === 3, text);
  assert.match(b.error!, /without qspiboot: nothing written; --watch --install puts qspiboot on it/);
  assert.ok(blank.emu.nor.data.every((x) => x === 0xff), "the blank Pico's flash is untouched");
  const heldResults = bySerial(results, "ROMHELD00005");
  assert.is(heldResults.length, 2, `switched once, then one result for coming back in BOOTSEL:\n${text}`);
  assert.ok(heldResults[0].switched);
  assert.match(heldResults[1].error!, /BOOTSEL was still held/);
  assert.is(results.length, 5, text);
});

test.run();
