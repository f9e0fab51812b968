// Putting qspiboot on a Pico, and getting a Pico in BOOTSEL mode into qspiboot, through the
// RP2040 boot ROM's PICOBOOT interface (model: sim/rp2040/picoboot.ts, from the ROM's source)
// on the emulated chip: after the install the chip boots the qspiboot that PICOBOOT wrote.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { PicobootRom, PICOBOOT_MAGIC } from "../sim/rp2040/picoboot";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { PicobootDevice, PicobootError } from "../tools/picoboot/client";
import { installPico, switchToQspiboot, checkPicoInstallable, RP2040_BOOT, hasQspiboot } from "../tools/picoboot/install";
import { loadImage } from "../tools/image/load";
import { SimPicoRom, switchFromBootsel, BOOTSEL_STILL_HELD } from "../tools/cli/pico-rom";
import { crc32Mpeg2 } from "../tools/build/crc32-mpeg2";
import { appEntry, dfuOn, picoFlashedOverDfu } from "./lib/pico";

const ROOT = join(import.meta.dirname, "..");
const BUILD = join(ROOT, "build", "rp2040");
const firmware = new Uint8Array(readFileSync(join(BUILD, "qspiboot.bin")));
const example = loadImage(join(BUILD, "example.elf")).segments;
const APP = 0x10000, RECORD = 0xf000;

/** A Pico plugged in with BOOTSEL held, its flash as given. */
function bootselPico(flash?: Uint8Array) {
  const emu = new Rp2040Emu();
  if (flash) emu.program(0, flash);
  emu.bootsel = true;
  emu.powerOn();
  assert.is(emu.mode, "usb-boot");
  const rom = new PicobootRom(emu);
  return { emu, rom };
}

async function picoboot(rom: PicobootRom) {
  rom.reset();
  return new PicobootDevice(new SimUsbDevice(rom)).open();
}

const dfu = dfuOn;

/** Let go of BOOTSEL and let the ROM's watchdog reboot happen. */
function release(emu: Rp2040Emu, resets: number) {
  emu.bootsel = false;
  assert.ok(emu.runUntil(() => emu.resets.length > resets, 50_000_000), "the ROM's REBOOT reset the chip");
}

test("the ROM model enumerates as the RP2040 boot ROM: 2e8a:0003, mass storage + PICOBOOT interface", async () => {
  const { rom } = bootselPico();
  const usb = new SimUsbDevice(rom);
  await usb.open();
  assert.is(usb.vendorId, 0x2e8a);
  assert.is(usb.productId, 0x0003);
  assert.is(usb.productName, "RP2 Boot");
  const itfs = usb.configuration!.interfaces.map((i) => i.alternates[0]);
  assert.equal(itfs.map((a) => [a.interfaceClass, a.interfaceSubclass, a.interfaceProtocol]), [[8, 6, 0x50], [0xff, 0, 0]]);
  assert.equal(itfs[1].endpoints!.map((e) => `${e.direction}${e.endpointNumber}`), ["out3", "in4"]);
});

test("install on a blank Pico: boot2 + qspiboot written and verified, the ROM reboots, the chip boots qspiboot from that flash", async () => {
  const { emu, rom } = bootselPico();
  const dev = await picoboot(rom);
  const resets = emu.resets.length;
  const report = await installPico(dev, firmware);
  assert.ok(report.verified && report.rebooted);
  assert.equal(report.erasedSectors, Array.from({ length: Math.ceil(firmware.length / 4096) }, (_, i) => 0x10000000 + 4096 * i));
  assert.equal(emu.nor.data.subarray(0, firmware.length), firmware, "the flash holds the file");
  release(emu, resets);
  assert.is(emu.mode, "running", "the ROM found a valid boot2");
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500), "qspiboot's DFU device comes up (no application yet)");
  host.reset();
  const d = await dfu(host);
  assert.is(d.info!.bootReason, "no image");
  await d.flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "and it runs an application flashed through it");
});

/** The flash of a Pico with qspiboot and the example application, flashed through qspiboot. */
async function picoWithApp(): Promise<Uint8Array> {
  const { emu } = await picoFlashedOverDfu(firmware, example);
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "the application runs");
  return emu.nor.data.slice();
}

test("an install cut short at any PICOBOOT command never leaves a boot2 that runs half a bootloader: the ROM comes back by itself", async () => {
  // The Pico carries an older qspiboot and an application; the cable is pulled after the n-th
  // command of the install, then the Pico is plugged in again without BOOTSEL.
  const before = await picoWithApp();
  before.fill(0x5a, 0x1000, 0x1100); // an older build, beyond boot2
  const commandsOf = async (limit: number) => {
    const { emu, rom } = bootselPico(before);
    rom.reset();
    const usb = new SimUsbDevice(rom);
    let commands = 0;
    const out = usb.transferOut.bind(usb);
    // Each PICOBOOT command starts with a 32-byte command block on the bulk OUT endpoint.
    usb.transferOut = async (ep: number, data: BufferSource) => {
      if ((data as Uint8Array).byteLength === 32 && ++commands > limit) throw new Error("LIBUSB_ERROR_NO_DEVICE: the cable was pulled");
      return out(ep, data);
    };
    let done = true;
    try { await installPico(await new PicobootDevice(usb).open(), firmware, { reboot: false }); } catch { done = false; }
    return { emu, commands, done };
  };
  const full = await commandsOf(Infinity);
  assert.ok(full.done && full.commands > 10, `${full.commands} commands in a whole install`);
  const outcomes = new Set<string>();
  for (let n = 0; n < full.commands; n++) {
    const { emu, done } = await commandsOf(n);
    assert.not.ok(done, `cut after ${n} commands`);
    emu.bootsel = false;
    emu.powerOn();
    const flash = emu.nor.data.subarray(0, firmware.length);
    const whole = (img: Uint8Array) => flash.every((b, i) => b === img[i]);
    const what = emu.mode === "usb-boot" ? "ROM" : whole(before) ? "old qspiboot" : whole(firmware) ? "new qspiboot" : "?";
    assert.ok(what !== "?", `cut after ${n} of ${full.commands} commands: the chip ${emu.mode === "running" ? "runs a boot2 over a half-written bootloader" : emu.mode}`);
    outcomes.add(what);
  }
  assert.equal([...outcomes].sort(), ["ROM", "new qspiboot", "old qspiboot"], "cut before the first erase, in the middle, after the last write");
});

test("updating an installed qspiboot keeps the application and its record", async () => {
  const before = await picoWithApp();
  // The installed qspiboot differs from the file (as an older build would), beyond boot2.
  const older = before.slice();
  older.fill(0x5a, 0x1000, 0x1100);
  const { emu, rom } = bootselPico(older);
  const dev = await picoboot(rom);
  const resets = emu.resets.length;
  await installPico(dev, firmware);
  assert.equal(emu.nor.data.subarray(0, firmware.length), firmware, "the new qspiboot is in place");
  assert.equal(emu.nor.data.subarray(RECORD, RECORD + 4096), before.subarray(RECORD, RECORD + 4096), "the record sector is untouched");
  assert.equal(emu.nor.data.subarray(APP), before.subarray(APP), "the application is untouched");
  release(emu, resets);
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "the application boots as before");
  assert.ok(emu.runUntil(() => emu.uart.includes("hello"), 20_000_000), `it prints (${JSON.stringify(emu.uart)})`);
});

test("files that are not a qspiboot build for the Pico are refused before anything is erased", async () => {
  const h750 = new Uint8Array(readFileSync(join(ROOT, "build", "h750", "qspiboot.bin")));
  assert.throws(() => checkPicoInstallable(h750), /boot2/);
  assert.throws(() => checkPicoInstallable(new Uint8Array(0)), /empty/);
  const big = new Uint8Array(RP2040_BOOT.size + 1);
  big.set(firmware);
  assert.throws(() => checkPicoInstallable(big), /update record/);
  // A pico-sdk application: boot2 but not qspiboot.
  const app = firmware.slice(0, 4096);
  app.fill(0, 256);
  assert.throws(() => checkPicoInstallable(app), /not a qspiboot build/);
  const { emu, rom } = bootselPico();
  const dev = await picoboot(rom);
  const before = emu.nor.stats.erase4k;
  await installPico(dev, h750).then(() => assert.unreachable(), (e) => assert.match(e.message, /boot2/));
  assert.is(emu.nor.stats.erase4k, before, "nothing erased");
  assert.equal(rom.executed, [], "not one command sent");
});

test("the RP2040 linker script and the installer agree on qspiboot's region", () => {
  const ld = readFileSync(join(ROOT, "link", "rp2040.ld"), "utf8");
  const m = ld.match(/FLASH\s*\(rx\)\s*:\s*ORIGIN\s*=\s*(0x[0-9a-fA-F]+),\s*LENGTH\s*=\s*(\d+)K/)!;
  assert.is(Number(m[1]), RP2040_BOOT.address);
  assert.is(Number(m[2]) * 1024, RP2040_BOOT.size);
});

test("BOOTSEL-mode Pico with qspiboot: switched into qspiboot's DFU mode through EXEC, flash untouched", async () => {
  const before = await picoWithApp();
  const { emu, rom } = bootselPico(before);
  const dev = await picoboot(rom);
  const resets = emu.resets.length;
  await switchToQspiboot(dev);
  assert.equal(emu.nor.data, before, "not one byte of flash changed");
  assert.ok(!rom.executed.some((c) => /ERASE|WRITE 0x1/.test(c)), rom.executed.join(", "));
  release(emu, resets);
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500), "qspiboot in DFU mode, although a valid application is there");
  host.reset();
  const d = await dfu(host);
  assert.is(d.info!.bootReason, "application asked");
  assert.is(d.info!.recordStatus, "valid");
  await d.leave();
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "leaving starts the kept application");
});

test("BOOTSEL still held after the switch: the ROM comes back, the flag waits for the next boot", async () => {
  const { emu, rom } = bootselPico(firmware);
  const dev = await picoboot(rom);
  const resets = emu.resets.length;
  await switchToQspiboot(dev);
  assert.ok(emu.runUntil(() => emu.resets.length > resets, 50_000_000));
  assert.is(emu.mode, "usb-boot", "BOOTSEL held: the ROM again");
  assert.ok(!rom.present(), "the old device is gone; a new one enumerates");
});

test("a Pico in BOOTSEL mode without qspiboot is not switched: clear error, nothing written", async () => {
  const { emu, rom } = bootselPico();
  const dev = await picoboot(rom);
  await switchToQspiboot(dev).then(() => assert.unreachable(), (e) => assert.match(e.message, /no qspiboot on it: install it first/));
  assert.ok(!rom.executed.some((c) => /WRITE|EXEC|REBOOT|ERASE/.test(c)), rom.executed.join(", "));
  assert.is(emu.nor.stats.erase4k, 0);
});

test("what the ROM refuses: bad magic and lengths halt the endpoints, misaligned flash writes stall with BAD_ALIGNMENT, a misaligned erase is ACKed and erases nothing", async () => {
  const { emu, rom } = bootselPico(firmware);
  const usb = new SimUsbDevice(rom);
  const dev = await picoboot(rom);
  // Not a command: both endpoints halt until PICOBOOT_IF_RESET.
  const junk = new Uint8Array(32);
  assert.is((await usb.transferOut(3, junk)).status, "ok");
  assert.is((await usb.transferOut(3, junk)).status, "stall", "halted after a packet without the magic");
  await dev.interfaceReset();
  // A READ whose dTransferLength differs from dSize.
  const cmd = new Uint8Array(32), dv = new DataView(cmd.buffer);
  dv.setUint32(0, PICOBOOT_MAGIC, true); dv.setUint32(4, 77, true); cmd[8] = 0x84; cmd[9] = 8;
  dv.setUint32(12, 100, true); dv.setUint32(16, 0x10000000, true); dv.setUint32(20, 256, true);
  await usb.transferOut(3, cmd);
  assert.is((await usb.transferIn(4, 256)).status, "stall");
  const st = await dev.commandStatus();
  assert.equal([st.token, st.code], [77, 3], "INVALID_TRANSFER_LENGTH");
  await dev.interfaceReset();
  await dev.exitXip();
  await dev.write(0x10000080, new Uint8Array(256)).then(() => assert.unreachable(), (e) => {
    assert.instance(e, PicobootError);
    assert.match(e.message, /BAD_ALIGNMENT/);
  });
  await dev.read(0x30000000, 256).then(() => assert.unreachable(), (e) => assert.match(e.message, /INVALID_ADDRESS/));
  // The ROM's erase: a misaligned range is ACKed (no error) and nothing is erased; the client
  // refuses to send one.
  const erases = emu.nor.stats.erase4k;
  const raw = new Uint8Array(32), rv = new DataView(raw.buffer);
  rv.setUint32(0, PICOBOOT_MAGIC, true); rv.setUint32(4, 78, true); raw[8] = 0x03; raw[9] = 8;
  rv.setUint32(16, 0x10000100, true); rv.setUint32(20, 4096, true);
  await usb.transferOut(3, raw);
  assert.is((await usb.transferIn(4, 64)).status, "ok", "ACKed");
  assert.is((await dev.commandStatus()).code, 0, "status OK");
  assert.is(emu.nor.stats.erase4k, erases, "and nothing erased");
  await dev.erase(0x10000100, 4096).then(() => assert.unreachable(), (e) => assert.match(e.message, /whole 4 KiB sectors/));
  assert.equal(emu.nor.data.subarray(0, firmware.length), firmware, "qspiboot intact after all of it");
});

test("flash commands before EXIT_XIP reach nothing (the ROM never connected the flash in BOOTSEL mode)", async () => {
  const { emu, rom } = bootselPico(firmware);
  const dev = await picoboot(rom);
  const head = await dev.read(0x10000000, 256);
  assert.ok(head.every((b) => b === 0), "reads give zeros");
  await dev.erase(0x10000000, 4096);
  assert.equal(emu.nor.data.subarray(0, 4096), firmware.subarray(0, 4096), "the erase did nothing");
  assert.ok(await hasQspiboot(dev), "after EXIT_XIP the flash reads back");
  void crc32Mpeg2;
});

test("the flasher's switch, BOOTSEL still held through the reboot: the ROM comes back and the flasher says to let go", async () => {
  const sim = new SimPicoRom();
  sim.emu.program(0, firmware);
  sim.emu.powerOn();
  const fresh = new PicobootRom(sim.emu);
  fresh.reset();
  const usb = new SimUsbDevice(fresh);
  let rom: PicobootRom | undefined;
  const err = await switchFromBootsel([usb], {
    log: () => {},
    listDfu: async () => [],
    // The person keeps BOOTSEL down: after the ROM's reboot, the ROM enumerates again.
    listRoms: async () => (sim.emu.mode === "usb-boot" ? [(rom = new PicobootRom(sim.emu))] : []),
    sleep: async (ms) => sim.emu.runFor(ms * 1000),
  }).then(() => null, (e) => e);
  assert.ok(err, "no board appeared");
  assert.is(err.message, BOOTSEL_STILL_HELD);
  assert.ok(rom, "the ROM was looked for and found again");
  assert.is(sim.emu.usbBoot, "bootsel");
});

test("the udev rules let users open every device the flasher talks to: qspiboot, ST's ROM, the RP2040 ROM", async () => {
  const rules = readFileSync(join(ROOT, "tools", "udev", "60-qspiboot.rules"), "utf8");
  const { ST_ROM } = await import("../tools/dfu/rom-install");
  const { RP2040_ROM } = await import("../tools/picoboot/client");
  const h4 = (v: number) => v.toString(16).padStart(4, "0");
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(500));
  host.reset();
  const qspiboot = new SimUsbDevice(host);
  await qspiboot.open();
  for (const d of [qspiboot, ST_ROM, RP2040_ROM]) {
    assert.match(rules, new RegExp(`ATTRS\\{idVendor\\}=="${h4(d.vendorId)}", ATTRS\\{idProduct\\}=="${h4(d.productId)}", MODE="0660"`), `${h4(d.vendorId)}:${h4(d.productId)}`);
  }
});

// ---- the command line ----

const dir = mkdtempSync(join(tmpdir(), "qspiboot-pico-"));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "tools/flash.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("flash.ts with a Pico in BOOTSEL mode: list says what it is, install puts qspiboot on it, flash switches it and flashes, a second install keeps the application", () => {
  const img = join(dir, "pico.img");
  const sim = ["--sim", "pico-rom", "--sim-flash", img];
  const l = cli(...sim, "list");
  assert.is(l.code, 0, l.err);
  assert.match(l.out, /RP2 Boot \(emulated Pico in BOOTSEL mode\): a Pico in BOOTSEL mode \(the RP2040 boot ROM\), not qspiboot: flash\.ts flash switches it into qspiboot, flash\.ts install puts qspiboot on it/);
  const blank = cli(...sim, "flash", join(BUILD, "example.elf"));
  assert.is(blank.code, 3, "no qspiboot on the Pico: no board in DFU mode");
  assert.match(blank.err, /has no qspiboot on it: install it first with `flash\.ts install`/);
  assert.not.ok(existsSync(img) && readFileSync(img).some((b) => b !== 0xff), "nothing written");
  const i = cli(...sim, "install");
  assert.is(i.code, 0, i.err);
  assert.match(i.out, /write 100%/);
  assert.match(i.out, /verify 100%/);
  assert.match(i.out, new RegExp(`installed ${firmware.length} bytes of qspiboot at 0x10000000 \\(4 sectors erased, read back and verified; the update record and the application from 0x10010000 are kept\\); the Pico rebooted and qspiboot is up in DFU mode`));
  assert.equal(new Uint8Array(readFileSync(img).subarray(0, firmware.length)), firmware);
  const f = cli(...sim, "flash", join(BUILD, "example.elf"));
  assert.is(f.code, 0, f.err);
  assert.match(f.err, /a Pico in BOOTSEL mode \(RP2040 boot ROM\): switching it to qspiboot's DFU mode; its flash is kept/);
  assert.match(f.out, new RegExp(`flashed ${loadImage(join(BUILD, "example.elf")).segments[0].data.length} bytes`));
  const info = cli(...sim, "info");
  assert.is(info.code, 0, info.err);
  assert.match(info.out, /boot reason\s+application asked/);
  assert.match(info.out, /image\s+\d+ bytes at 0x10010000, CRC-32/);
  const after = readFileSync(img);
  const again = cli(...sim, "--json", "install");
  assert.is(again.code, 0, again.err);
  const j = JSON.parse(again.out);
  assert.ok(j.ok && j.result.verified && j.result.rebooted);
  assert.is(j.result.after, "qspiboot started the application");
  assert.equal(readFileSync(img).subarray(0xf000), after.subarray(0xf000), "record and application kept");
});

test("flash.ts --serial S with only a Pico in BOOTSEL mode: not switched (the ROM's serial is not the board's), no board found", () => {
  const img = join(dir, "pico-serial.img");
  writeFileSync(img, firmware);
  const r = cli("--sim", "pico-rom", "--sim-flash", img, "--serial", "E66138935F5A2A21", "flash", join(BUILD, "example.elf"));
  assert.is(r.code, 3, r.err);
  assert.match(r.err, /no board with serial E66138935F5A2A21/);
  assert.not.match(r.err, /switching/);
});

test("flash.ts install on a Pico: clear errors for a file that is not qspiboot for the Pico, and a missing build", () => {
  const img = join(dir, "pico2.img");
  const h = cli("--sim", "pico-rom", "--sim-flash", img, "install", join(ROOT, "build", "h750", "qspiboot.bin"));
  assert.is(h.code, 4, h.err);
  assert.match(h.err, /does not start with a boot2 whose CRC the RP2040 boot ROM accepts/);
  const elf = join(dir, "app.bin");
  writeFileSync(elf, firmware.map((b, i) => (i >= 256 ? 0 : b)));
  const a = cli("--sim", "pico-rom", "install", elf);
  assert.is(a.code, 4);
  assert.match(a.err, /not a qspiboot build/);
  const m = cli("--sim", "pico-rom", "install", join(dir, "build", "rp2040", "qspiboot.bin"));
  assert.is(m.code, 4, "exit status 4: the file");
  assert.match(m.err, /qspiboot\.bin does not exist: build it first with npm run build:rp2040/);
});

test.run();
