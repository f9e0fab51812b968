// Installing qspiboot on a WeAct H750 through ST's ROM DFU bootloader (BOOT0 held), against the
// ROM model (sim/h750/st-rom-dfu.ts, from AN3156 and what the WeAct's ROM reports); then the
// internal flash that install wrote runs on the emulated H750 next to a QSPI chip that already
// holds an application and its record.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StRomDfu, FLASH_BASE, SECTOR, LAYOUT_FLASH, LAYOUT_OPTION_BYTES } from "../sim/h750/st-rom-dfu";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError, STATE } from "../tools/dfu/client";
import { installBootloader, VerifyError } from "../tools/dfu/rom-install";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { loadImage } from "../tools/image/load";
import { buildBoard } from "../tools/build";
import { root } from "../tools/build-core";
import { buildShim, shimDir } from "../tools/libusb-shim/build";
import { hasTool } from "../tools/require-tools";
import { HostSocket } from "./lib/rom-socket";

const BUILD = join(root, "build", "h750");
const qspiboot = new Uint8Array(readFileSync(join(BUILD, "qspiboot.bin")));
const example = loadImage(join(BUILD, "example.elf")).segments;
const dir = mkdtempSync(join(tmpdir(), "qspiboot-install-"));

async function openRom(rom: StRomDfu) {
  const usb = new SimUsbDevice(rom);
  await usb.open();
  const dev = await new DfuDevice(usb, { sleep: async (ms) => rom.sleep(ms), now: () => rom.nowMs }).open();
  return { usb, dev };
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "tools/flash.ts"), ...args], { cwd: root, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A DfuSe command sent by hand: the first GETSTATUS runs it (dfuDNBUSY), the second reports. */
async function command(dev: DfuDevice, bytes: number[]) {
  await dev.usb.controlTransferOut({ requestType: "class", recipient: "interface", request: 1, value: 0, index: 0 }, Uint8Array.from(bytes));
  const busy = await dev.getStatus();
  return { busy, after: await dev.getStatus() };
}

test("what the ROM shows a host: ST's IDs, the WeAct's strings, DfuSe 1.1a; the client finds alternate 0 and no qspiboot requests", async () => {
  const rom = new StRomDfu();
  const { usb, dev } = await openRom(rom);
  assert.is(usb.vendorId, 0x0483);
  assert.is(usb.productId, 0xdf11);
  assert.is(usb.productName, "DFU in FS Mode");
  assert.equal(usb.configuration!.interfaces[0].alternates.map((a) => a.interfaceName), [LAYOUT_FLASH, LAYOUT_OPTION_BYTES]);
  const cfg = await dev.configDescriptor();
  const func = cfg.subarray(cfg.length - 9);
  assert.is(func[1], 0x21, "functional descriptor after both alternates");
  assert.is(func[7] | (func[8] << 8), 0x011a, "bcdDFUVersion: DfuSe");
  assert.is(dev.transferSize, 1024);
  assert.is(dev.iface, 0);
  assert.equal(dev.layout.segments.map((s) => [s.start, s.pageSize, s.end]), [[FLASH_BASE, SECTOR, FLASH_BASE + 16 * SECTOR]]);
  assert.is(dev.info, undefined, "the ROM stalls qspiboot's vendor requests");
  const get = await dev.usb.controlTransferIn({ requestType: "class", recipient: "interface", request: 2, value: 0, index: 0 }, 64);
  assert.equal([...new Uint8Array(get.data!.buffer, get.data!.byteOffset, get.data!.byteLength)], [0x00, 0x21, 0x41, 0x92], "AN3156 Get command");
});

test("install: the sector erased, qspiboot.bin written and read back, the ROM jumps to 0x08000000", async () => {
  const old = new Uint8Array(SECTOR).fill(0x5a); // whatever was there: an older build, or an application
  const rom = new StRomDfu({ flash: old });
  const { dev } = await openRom(rom);
  const seen = new Set<string>();
  const r = await installBootloader(dev, qspiboot, { progress: (p) => seen.add(p.phase) });
  assert.equal(r.erasedPages, [FLASH_BASE]);
  assert.equal(rom.erases, [0], "one 128 KiB sector erase");
  assert.equal(rom.flash.subarray(0, qspiboot.length), qspiboot, "internal flash holds qspiboot.bin");
  assert.ok(rom.flash.subarray(qspiboot.length, SECTOR).every((b) => b === 0xff), "the rest of the sector erased");
  assert.is(rom.eccBroken.size, 0, "no flash word programmed twice");
  assert.is(rom.jumpedTo, FLASH_BASE);
  assert.ok(!rom.present(), "the ROM's USB device is gone after the leave");
  assert.equal([...seen], ["erase", "write", "verify", "manifest"]);
});

test("a ROM that is gone before it answers the leave's GETSTATUS has still left: install reports it started", async () => {
  const rom = new StRomDfu({ leavesBeforeStatus: true });
  const { dev } = await openRom(rom);
  const r = await installBootloader(dev, qspiboot);
  assert.ok(r.started);
  assert.is(rom.jumpedTo, FLASH_BASE);
  assert.equal(rom.flash.subarray(0, qspiboot.length), qspiboot);
});

test("a byte the flash gets wrong is caught by the read-back, and the board is not started", async () => {
  const rom = new StRomDfu({ corruptAt: FLASH_BASE + 4000 });
  const { dev } = await openRom(rom);
  try {
    await installBootloader(dev, qspiboot);
    assert.unreachable("verify must fail");
  } catch (e) {
    assert.instance(e, VerifyError);
    assert.match((e as Error).message, /verify failed: the flash holds 0x[0-9a-f]{2} at 0x08000fa0/);
  }
  assert.is(rom.jumpedTo, undefined, "no leave after a failed verify");
  assert.ok(rom.present());
});

test("a file larger than the H750's 128 KiB is refused before anything is erased", async () => {
  const old = new Uint8Array(SECTOR).fill(0x5a);
  const rom = new StRomDfu({ flash: old });
  const { dev } = await openRom(rom);
  const before = rom.transfers;
  try {
    await installBootloader(dev, new Uint8Array(SECTOR + 1));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /131073 bytes, larger than the H750's internal flash \(131072 bytes at 0x08000000\)/);
  }
  assert.is(rom.transfers, before, "not one request sent");
  assert.equal(rom.flash.subarray(0, SECTOR), old);
});

test("what the ROM refuses: addresses outside its layout (errTARGET), requests in the wrong state (STALL, errSTALLEDPKT), read protection (errVENDOR); the flash stays as it was", async () => {
  const old = new Uint8Array(SECTOR).fill(0x5a);
  const rom = new StRomDfu({ flash: old });
  const { dev } = await openRom(rom);
  for (const addr of [0x24000000, 0x08200000, 0x07ffffff]) {
    const r = await command(dev, [0x21, addr & 0xff, (addr >>> 8) & 0xff, (addr >>> 16) & 0xff, addr >>> 24]);
    assert.is(r.busy.state, STATE.dfuDNBUSY, "executed at the first GETSTATUS");
    assert.equal([r.after.state, r.after.status], [STATE.dfuERROR, 1], `set address 0x${addr.toString(16)}: errTARGET`);
    await dev.clrStatus();
  }
  const erase = await command(dev, [0x41, 0x00, 0x00, 0x20, 0x08]); // 0x08200000: past the 16 sectors
  assert.equal([erase.after.state, erase.after.status], [STATE.dfuERROR, 1]);
  await dev.clrStatus();
  // A block that lands past the end of flash from a valid pointer.
  await dev.setAddress(FLASH_BASE + 16 * SECTOR - 1024);
  await dev.usb.controlTransferOut({ requestType: "class", recipient: "interface", request: 1, value: 3, index: 0 }, new Uint8Array(1024));
  await dev.getStatus();
  const w = await dev.getStatus();
  assert.equal([w.state, w.status], [STATE.dfuERROR, 1], "write outside the layout: errTARGET");
  await dev.clrStatus();
  // UPLOAD in dfuDNLOAD-IDLE and a zero-length DNLOAD in dfuIDLE are protocol errors (DFU 1.1).
  await dev.setAddress(FLASH_BASE);
  const up = await dev.usb.controlTransferIn({ requestType: "class", recipient: "interface", request: 2, value: 2, index: 0 }, 1024);
  assert.is(up.status, "stall");
  assert.equal([(await dev.getStatus()).state, (await dev.getStatus()).status], [STATE.dfuERROR, 0x0f]);
  await dev.clrStatus();
  const zero = await dev.usb.controlTransferOut({ requestType: "class", recipient: "interface", request: 1, value: 2, index: 0 }, new Uint8Array(0));
  assert.is(zero.status, "stall");
  assert.is(rom.jumpedTo, undefined, "no leave from dfuIDLE");
  await dev.clrStatus();
  // Read protection (RDP level 1): erase and write refused.
  rom.readProtected = true;
  const ropErase = await command(dev, [0x41, 0x00, 0x00, 0x00, 0x08]);
  assert.equal([ropErase.after.state, ropErase.after.status], [STATE.dfuERROR, 0x0b], "errVENDOR");
  await dev.clrStatus();
  try { await installBootloader(dev, qspiboot); assert.unreachable(); } catch (e) {
    assert.instance(e, DfuError);
    assert.match((e as Error).message, /errVENDOR/);
  }
  assert.equal(rom.flash.subarray(0, SECTOR), old, "nothing refused changed the flash");
  assert.ok(rom.flash.subarray(SECTOR).every((b) => b === 0xff));
  assert.equal(rom.erases, []);
  // Read unprotect (0x92): back to level 0, which erases the flash (AN3156).
  await dev.recover();
  await command(dev, [0x92]);
  assert.ok(!rom.readProtected);
  assert.ok(rom.flash.every((b) => b === 0xff));
});

test("a host that writes without erasing first leaves bits it could not set: the read-back says so", async () => {
  const old = new Uint8Array(SECTOR).fill(0x5a);
  const rom = new StRomDfu({ flash: old });
  const { dev } = await openRom(rom);
  await dev.recover();
  await dev.download(FLASH_BASE, qspiboot);
  await dev.abort();
  const back = await dev.read(FLASH_BASE, 1024);
  assert.equal([...back.subarray(0, 16)], [...qspiboot.subarray(0, 16)].map((b) => b & 0x5a), "bits only go from 1 to 0 (RM0433)");
  assert.ok(rom.eccBroken.size > 0, "flash words programmed twice since their erase");
});

// ---- on the emulated chip ----

/** An older qspiboot: the build with the boot-time CRC check (another binary, same QSPI layout). */
async function olderQspiboot(): Promise<Uint8Array> {
  const v = await buildBoard("h750", { quiet: true, outDir: join(BUILD, "..", "test", "h750-older"), defines: ["BOARD_FLAGS=1"] });
  return new Uint8Array(readFileSync(v.bin));
}

async function qspibootDfu(host: H750UsbHost) {
  assert.ok(host.waitForDevice(100), "qspiboot's DFU device connects");
  assert.is(host.reset(), "ok");
  return new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open();
}

test("install over an older qspiboot: the new one runs from the internal flash install wrote, the QSPI application and its record are kept", async () => {
  const older = await olderQspiboot();
  assert.not.equal(older, qspiboot);
  // A board that had the older qspiboot installed the same way, and an application flashed with it.
  const factory = new StRomDfu();
  await installBootloader(await openRom(factory).then((r) => r.dev), older);
  const first = new H750Emu();
  first.loadFirmware(factory.flash.subarray(0, SECTOR));
  await (await qspibootDfu(new H750UsbHost(first))).flash(example, { leave: true });
  assert.ok(first.runUntil(() => first.uart.includes("blink on"), 10_000_000), "the application runs under the older qspiboot");
  const nor = first.nor.data.slice();

  // BOOT0 held at reset: the ROM, with the internal flash as it is. Install the new build.
  const rom = new StRomDfu({ flash: factory.flash });
  await installBootloader((await openRom(rom)).dev, qspiboot);
  assert.equal(rom.flash.subarray(0, qspiboot.length), qspiboot);
  assert.ok(rom.flash.subarray(qspiboot.length, SECTOR).every((b) => b === 0xff));

  // The same board after the ROM's jump: the new internal flash, the QSPI chip untouched.
  const emu = new H750Emu();
  emu.nor.data.set(nor);
  emu.loadFirmware(rom.flash.subarray(0, SECTOR));
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000), "the application boots under the new qspiboot");
  assert.match(emu.uart, /hello from the WeAct H750, running from QSPI flash/);
  assert.equal(emu.nor.data, nor, "booting changed nothing in QSPI");
  // K1 at reset: it is the new qspiboot that answers, and it still holds the record.
  emu.button = true;
  emu.reset();
  const host = new H750UsbHost(emu);
  const dev = await qspibootDfu(host);
  assert.is(dev.info!.bootReason, "button held");
  assert.is(dev.info!.recordStatus, "valid", "the application's record is kept");
  const bootReadBack = emu.uc.read(FLASH_BASE, qspiboot.length);
  assert.equal(new Uint8Array(bootReadBack), qspiboot, "the CPU runs the bytes install wrote");
});

// ---- unmodified dfu-util (Debian's 0.11) against the ROM model, through the stand-in libusb ----

function dfuUtil(socket: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  const p = spawn("dfu-util", args, { env: { ...process.env, LD_LIBRARY_PATH: shimDir, QSPIBOOT_SIM_SOCKET: socket } });
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  p.stderr.on("data", (d) => (out += d));
  return new Promise((resolve) => p.on("close", (code) => resolve({ code, out })));
}

test("dfu-util -l shows the ROM as on a WeAct H750; dfu-util -a 0 -s 0x08000000:leave -D qspiboot.bin installs and starts it", async () => {
  if (!hasTool("dfu-util")) throw new Error("dfu-util missing: npm run setup");
  buildShim();
  const rom = new StRomDfu({ flash: new Uint8Array(SECTOR).fill(0x5a) });
  const srv = await HostSocket.start(rom);
  try {
    const l = await dfuUtil(srv.socket, "-l");
    assert.is(l.code, 0, l.out);
    // The lines NuttX's weact-stm32h750 page shows from a real board (devnum and path are the shim's).
    assert.match(l.out, 'Found DFU: [0483:df11] ver=0200, devnum=7, cfg=1, intf=0, path="1-1", alt=1, name="@Option Bytes   /0x5200201C/01*128 e", serial="200000500000"');
    assert.match(l.out, 'Found DFU: [0483:df11] ver=0200, devnum=7, cfg=1, intf=0, path="1-1", alt=0, name="@Internal Flash   /0x08000000/16*128Kg", serial="200000500000"');
    const d = await dfuUtil(srv.socket, "-a", "0", "-s", "0x08000000:leave", "-D", join(BUILD, "qspiboot.bin"));
    assert.is(d.code, 0, d.out);
    assert.match(d.out, /Device returned transfer size 1024/);
    assert.match(d.out, /File downloaded successfully/);
    assert.equal(rom.erases, [0], "dfu-util erased the one sector the file covers");
    assert.equal(rom.flash.subarray(0, qspiboot.length), qspiboot);
    assert.is(rom.eccBroken.size, 0);
    assert.is(rom.jumpedTo, FLASH_BASE, "left through the DfuSe leave");
  } finally { await srv.stop(); }
});

// ---- the command line ----

test("flash.ts --sim h750-rom install: progress, verify, leave; --sim-flash keeps the internal flash", () => {
  const img = join(dir, "internal.img");
  const older = join(dir, "older.bin");
  writeFileSync(older, qspiboot.map((b, i) => (i > 64 ? b ^ 0x11 : b)));
  assert.is(cli("--sim", "h750-rom", "--sim-flash", img, "install", older).code, 0);
  const r = cli("--sim", "h750-rom", "--sim-flash", img, "install");
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /erase 100%/);
  assert.match(r.out, /write 100% \(12\.5\/12\.5 KiB\)|write 100%/);
  assert.match(r.out, /verify 100%/);
  assert.match(r.out, new RegExp(`installed ${qspiboot.length} bytes of qspiboot at 0x08000000 \\(sector erased, read back and verified\\); the ROM left DFU mode and jumped to 0x08000000`));
  assert.equal(new Uint8Array(readFileSync(img).subarray(0, qspiboot.length)), qspiboot);
  const j = JSON.parse(cli("--sim", "h750-rom", "--sim-flash", img, "--json", "install", "--no-leave").out);
  assert.ok(j.ok && j.result.verified && !j.result.started);
});

test("flash.ts install: clear errors and the documented exit statuses for a missing build (4), a file too large (4), no ROM device (3)", () => {
  const missing = join(dir, "build", "h750", "qspiboot.bin");
  mkdirSync(join(dir, "build", "h750"), { recursive: true });
  const m = cli("--sim", "h750-rom", "install", missing);
  assert.is(m.code, 4, "exit status 4: the file");
  assert.match(m.err, /qspiboot\.bin does not exist: build it first with npm run build:h750/);
  const big = join(dir, "big.bin");
  writeFileSync(big, new Uint8Array(140_000));
  const b = cli("--sim", "h750-rom", "install", big);
  assert.is(b.code, 4, "exit status 4: the file");
  assert.match(b.err, /140000 bytes, larger than the H750's internal flash/);
  const none = cli("install"); // no USB devices here
  assert.is(none.code, 3, "exit status 3: no board found");
  assert.match(none.err, /no board in its ROM bootloader found \(STM32: USB 0483:df11; RP2040: 2e8a:0003\)\. On the WeAct H750: hold the BOOT0 button while plugging the board in/);
  assert.match(none.err, /On a Pico: hold BOOTSEL while plugging it in/);
});

test("qspiboot's commands on a board in the ROM say so and point at install; install --help", () => {
  const f = cli("--sim", "h750-rom", "flash", join(BUILD, "example.elf"));
  assert.is(f.code, 1);
  assert.match(f.out, /this board is in ST's ROM bootloader \(BOOT0 held at reset, USB 0483:df11\), not in qspiboot: `flash\.ts install` puts qspiboot on it/);
  assert.match(cli("--sim", "h750-rom", "list").out, /200000500000  DFU in FS Mode \(ST ROM model\): ST's ROM bootloader, not qspiboot/);
  const h = cli("install", "--help");
  assert.is(h.code, 0);
  assert.match(h.out, /Usage: flash.ts install \[options\] \[file\]/);
});

test.run();
