// The RP2040 firmware as built (build/rp2040/qspiboot.bin: boot2, startup, HAL and the
// translated core as Cortex-M0+ code) running in rp2040js, with the project's NOR flash model
// behind the SSI model of sim/rp2040/ssi.ts and a USB host on the emulated controller. What a
// user does with a Pico: plug it in, see the DFU device, download the example, watch it run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { BOOT2_SRAM } from "../sim/rp2040/boot-rom";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import { SimBoard } from "../sim/board";
import { BOARDS } from "../sim/boards";
import { SimUsbHost } from "../sim/usb-host";
import { loadImage } from "../tools/image/load";
import { assertSameDescriptors } from "./lib/descriptor-requests";
import { usedSlots, SLOT } from "./lib/record";
import { DfuRequests, ST, STATUS } from "./lib/dfu-requests";
import { appEntry, dfuOn } from "./lib/pico";

const BUILD = join(import.meta.dirname, "..", "build", "rp2040");
const firmware = readFileSync(join(BUILD, "qspiboot.bin"));
const example = loadImage(join(BUILD, "example.elf")).segments;
const APP = 0x10000;
const RECORD = 0xf000; // the last sector of the bootloader's 64 KiB
/** Where the record the bootloader reads is: the last used slot of the record sector. */
const currentSlot = (nor: Uint8Array) => RECORD + (usedSlots(nor, RECORD) - 1) * SLOT;

function freshPico(): { emu: Rp2040Emu; host: Rp2040UsbHost } {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  return { emu, host: new Rp2040UsbHost(emu) };
}

const dfu = dfuOn;

function checkBus(emu: Rp2040Emu, host: Rp2040UsbHost) {
  assert.equal(host.pidErrors, [], "every packet had the right DATA0/DATA1");
  assert.is(emu.flash.rxOverflows, 0, "the driver never let the SSI's RX FIFO overflow");
  assert.is(emu.flash.txOverflows, 0);
}

test("blank flash (bootloader only): the chip comes up as the DFU device, no image to run", async () => {
  const { emu, host } = freshPico();
  assert.ok(host.waitForDevice(200), "USB device connected");
  assert.is(host.reset(), "ok");
  assert.is(host.deviceAddress, 7, "SET_ADDRESS applied after its status stage");
  const dev = await dfu(host);
  assert.is(dev.info!.bootReason, "no image");
  assert.is(dev.info!.jedecId, 0x1540ef, "W25Q16JV found over the SSI");
  assert.is(dev.info!.flashSize, 2 << 20);
  assert.ok(emu.nor.quadEnabled(), "boot2 left QE set");
  assert.is(emu.mcu.clkSys / emu.flash.baudr, BOARDS.rp2040.flashSckHz.dfu,
    "DFU mode runs the SSI at clk_sys / BAUDR, the SCK the Wasm simulator charges its bus time at");
  checkBus(emu, host);
});

test("every descriptor matches the Wasm simulator's for the same board", async () => {
  const { host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  const sim = await SimBoard.create({ board: "rp2040" });
  sim.powerOn();
  const simHost = new SimUsbHost(sim);
  simHost.enumerate();
  assertSameDescriptors(host, simHost);
  const serial = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0303, wIndex: 0x409, wLength: 255 });
  assert.ok(serial.data.length > 2, "a serial number string (from the flash chip's unique ID)");
});

test("boot2 sets QE once when the chip comes with it clear; later boots leave it alone", async () => {
  const emu = new Rp2040Emu();
  emu.nor.startState({ qe: false });
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  assert.ok(emu.nor.quadEnabled());
  assert.is(emu.nor.stats.statusWrites, 1, "one non-volatile status write");
  emu.powerOn();
  assert.ok(host.waitForDevice(200));
  assert.is(emu.nor.stats.statusWrites, 1, "none on the next boot");
});

test("back-to-back transfers: a status-stage completion and the next SETUP pending together", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  host.backToBack = true;
  // Count the polls that find SETUP_REC (SIE_STATUS bit 17) and a buffer completion together.
  const ctrl = emu.mcu.usbCtrl as unknown as { readUint32(o: number): number; buffStatus: number };
  const read = ctrl.readUint32.bind(ctrl);
  let together = 0;
  ctrl.readUint32 = (o: number) => {
    const v = read(o);
    if (o === 0x50 && v & (1 << 17) && ctrl.buffStatus) together++;
    return v;
  };
  for (let i = 0; i < 20; i++) {
    const r = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 });
    assert.is(r.status, "ok", `configuration descriptor, round ${i}`);
    assert.is(r.data[1], 2);
    const st = host.control({ bmRequestType: 0x00, bRequest: 9, wValue: 1, wIndex: 0, wLength: 0 });
    assert.is(st.status, "ok", `SET_CONFIGURATION, round ${i}`);
  }
  const d = new DfuRequests(host);
  for (let i = 0; i < 10; i++) assert.is(d.getStatus().state, ST.dfuIDLE);
  assert.ok(together >= 20, `the case happened (${together} times)`);
  checkBus(emu, host);
});

test("DFU download of the example application, leave: it runs from XIP and talks on UART0", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  const dev = await dfu(host);
  const r = await dev.flash(example, { leave: false });
  assert.is(r.sectorsSent, 1);
  const back = await dev.read(0x10010000, 5000); // DFU upload: IN data stages of 64-byte packets
  assert.equal([...back.subarray(0, example[0].data.length)], [...example[0].data]);
  assert.ok(back.subarray(example[0].data.length).every((b) => b === 0xff));
  await dev.leave();
  checkBus(emu, host);
  const resets = emu.resets.length;
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "the CPU reaches the application's reset handler");
  assert.equal(emu.resets.slice(resets - 1), ["watchdog"], "left DFU mode through one watchdog reset");
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 5_000_000), "UART output seen");
  assert.match(emu.uart, /hello from the Pico, running from flash/);
  assert.equal([...emu.nor.data.subarray(APP, APP + example[0].data.length)], [...example[0].data]);
  assert.ok(emu.flash.xip.reads > 0 && !host.present(), "running from XIP, no USB device");
});

test("a reboot of the chip with the flash kept runs the application again", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  await (await dfu(host)).flash(example, { leave: true });
  emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000);
  emu.uart = "";
  emu.reboot();
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000));
  assert.ok(emu.runUntil(() => emu.uart.includes("hello"), 5_000_000));
  emu.powerOn();
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "and after a power cycle");
});

test("the application's reboot-to-bootloader request brings the DFU device back", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  await (await dfu(host)).flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000));
  emu.mcu.uart[0].feedByte("b".charCodeAt(0)); // the example reboots into the bootloader on 'b'
  assert.ok(host.waitForDevice(500), "DFU device back");
  host.reset();
  assert.is((await dfu(host)).info!.bootReason, "application asked");
});

test("a corrupted record, or an update cut short, is not run: the chip stays in DFU mode", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  await (await dfu(host)).flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000));
  const slot = currentSlot(emu.nor.data);
  emu.nor.data[slot + 24] ^= 1; // the current record's checksum
  emu.powerOn();
  assert.ok(host.waitForDevice(500), "stays in DFU mode");
  assert.ok(!emu.runUntil(() => emu.pc === appEntry(emu), 2_000_000), "the application never runs");
  emu.nor.data[slot + 24] ^= 1;
  emu.powerOn();
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "repaired, it boots");

  // A download that erased the first sector and then lost the host. The way into DFU mode with
  // an application present is the application's request (BOOTSEL is the ROM's: see below).
  assert.ok(emu.runUntil(() => emu.uart.includes("blink on"), 10_000_000));
  emu.mcu.uart[0].feedByte("b".charCodeAt(0));
  assert.ok(host.waitForDevice(500), "DFU mode on the application's request");
  host.reset();
  const d = new DfuRequests(host);
  assert.is(d.erase(0x10010000).state, ST.dfuDNLOAD_IDLE);
  emu.powerOn();
  assert.ok(host.waitForDevice(500));
  host.reset();
  assert.is((await dfu(host)).info!.bootReason, "update interrupted");
});

test("BOOTSEL held at reset: the boot ROM's own USB boot, neither qspiboot nor the application runs", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  await (await dfu(host)).flash(example, { leave: true });
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000));
  emu.bootsel = true;
  const reads = emu.nor.stats.reads;
  emu.reboot();
  assert.is(emu.mode, "usb-boot", "the ROM saw CSn low and went to its USB boot");
  assert.is(emu.usbBoot, "bootsel");
  assert.is(emu.nor.stats.reads, reads, "the ROM did not even read boot2");
  assert.ok(!host.waitForDevice(300), "no qspiboot DFU device");
  assert.ok(!emu.runUntil(() => emu.pc === appEntry(emu) || emu.uart.includes("hello"), 1_000_000), "the application does not run");
  emu.bootsel = false;
  emu.reboot();
  assert.is(emu.mode, "running");
  assert.ok(emu.runUntil(() => emu.pc === appEntry(emu), 5_000_000), "let go: the application boots");
});

test("no valid boot2 (blank flash): the ROM's USB boot after its 128 read attempts", () => {
  const emu = new Rp2040Emu();
  assert.is(emu.mode, "usb-boot");
  assert.is(emu.usbBoot, "no valid boot2");
  assert.ok(emu.nor.stats.bytesRead >= 128 * 256, `every attempt read boot2 (${emu.nor.stats.bytesRead} bytes)`);
});

test("boot2 starts in the state the boot ROM leaves: pins on XIP, SSI in standard SPI at clk_sys/6, SER = 1, lr = 0", () => {
  const emu = new Rp2040Emu();
  emu.program(0, firmware);
  emu.powerOn();
  assert.is(emu.pc, BOOT2_SRAM, "the CPU is at boot2's first instruction in SRAM");
  assert.is(emu.mcu.core.LR, 0);
  assert.equal([...emu.nor.data.subarray(0, 256)], [...Array.from({ length: 256 }, (_, i) => emu.mcu.readUint8(BOOT2_SRAM + i))]);
  for (const pin of ["SCLK", "SS", "SD0", "SD1", "SD2", "SD3"] as const) assert.is(emu.pins.ctrl(pin), 0, `${pin}: FUNCSEL xip, no overrides`);
  const ssi = (o: number) => emu.flash.read(o);
  assert.is(ssi(0x14), 6, "BAUDR 6");
  assert.is(ssi(0x10), 1, "SER: slave 0 selected");
  assert.is(ssi(0x00), 7 << 16, "CTRLR0: standard SPI, 8-bit frames, TX and RX");
  assert.is(ssi(0x08), 1, "SSIENR");
  assert.is(emu.pins.pad("SD2") & 0xc, 0x8, "SD2 pulled up (flash_exit_xip: WP# may be live)");
  assert.is(emu.pins.pad("SD3") & 0xc, 0x8, "SD3 pulled up (HOLD#)");
  assert.ok(!emu.nor.continuous);
  const released = ["IO_QSPI", "PADS_QSPI", "TIMER", "PADS_BANK0"];
  const r = emu.resetsBlock;
  assert.equal(released.filter((b) => r.inReset(b)), [], "the blocks the ROM released");
  assert.ok(["IO_BANK0", "SYSINFO", "DMA", "USBCTRL", "PLL_SYS", "UART0"].every((b) => r.inReset(b)), "everything else still held");
});

test("the QSPI pads as pico-sdk's boot2 leaves them: SCLK 8 mA fast slew, SD0-SD3 Schmitt triggers off", () => {
  const { emu, host } = freshPico();
  assert.ok(host.waitForDevice(200));
  const sclk = emu.pins.pad("SCLK");
  assert.is((sclk >>> 4) & 3, 2, "SCLK DRIVE 8 mA");
  assert.is(sclk & 1, 1, "SCLK SLEWFAST");
  for (const pin of ["SD0", "SD1", "SD2", "SD3"] as const) {
    const pad = emu.pins.pad(pin);
    assert.is(pad & 2, 0, `${pin} Schmitt trigger off`);
    assert.is(pad & 0x40, 0x40, `${pin} input enabled`);
    assert.is(pad & 0x80, 0, `${pin} output not disabled`);
  }
});

// The RP2040-E5 workaround (hal/rp2040/usb.c) as the writes to GPIO15 and USBCTRL show it.
function e5Run(chipId: number) {
  const emu = new Rp2040Emu({ chipId });
  emu.program(0, firmware);
  emu.powerOn();
  const host = new Rp2040UsbHost(emu);
  assert.ok(host.waitForDevice(200));
  const p = (emu.mcu as unknown as { peripherals: Record<number, { readUint32(o: number): number; writeUint32(o: number, v: number): void }> }).peripherals;
  const io = p[0x40014], pads = p[0x4001c], usb = p[0x50110];
  io.writeUint32(0x7c, 5);     // GPIO15 on SIO, as an application might have left it
  pads.writeUint32(0x40, 0x66);
  const writes: string[] = [];
  const muxAt: number[] = [];
  const trace = (name: string, dev: typeof io, offsets: Record<number, string>) => {
    const w = dev.writeUint32.bind(dev);
    dev.writeUint32 = (o: number, v: number) => {
      if (offsets[o]) writes.push(`${offsets[o]}=${(v >>> 0).toString(16)}`);
      if (offsets[o] === "MUXING") muxAt.push(emu.nowUs);
      w(o, v);
    };
  };
  trace("io", io, { 0x7c: "GPIO15_CTRL" });
  trace("pads", pads, { 0x40: "PAD15" });
  trace("usb", usb, { 0x74: "MUXING", 0x80: "PHY_OVERRIDE" });
  assert.is(host.reset(), "ok", "enumerates");
  return { emu, host, writes, muxAt, ctrl: io.readUint32(0x7c), pad: pads.readUint32(0x40), override: usb.readUint32(0x80) };
}

test("RP2040-E5: on B0/B1 silicon a bus reset forces J through GPIO15 for 1 ms, then restores GPIO15 and the PHY", async () => {
  const r = e5Run(0x10002927);
  const first = r.writes.slice(0, 7);
  assert.equal(first, ["PAD15=6e", "GPIO15_CTRL=32008", "PHY_OVERRIDE=4", "MUXING=c", "MUXING=9", "PHY_OVERRIDE=0", "GPIO15_CTRL=5"],
    "bus keeper, function 8 with input forced high and output off, pull-up override, digital pad; then back");
  assert.is(r.writes[7], "PAD15=66");
  // TIMER counts whole microseconds from wherever within one the first read fell.
  assert.ok(r.muxAt[1] - r.muxAt[0] >= 999, `J forced for ${(r.muxAt[1] - r.muxAt[0]).toFixed(1)} us (pico-sdk: 1 ms)`);
  assert.is(r.ctrl, 5, "GPIO15 as it was");
  assert.is(r.pad, 0x66);
  assert.is(r.override & 4, 0, "no pull-up override left");
  assert.is((await dfu(r.host)).info!.bootReason, "no image", "and DFU works");
});

test("RP2040-E5: B2 silicon (CHIP_ID revision 2) is left alone", () => {
  const r = e5Run(0x20002927);
  assert.equal(r.writes, [], "GPIO15 and the PHY untouched");
  assert.is(r.ctrl, 5);
});

test("writes aimed at the bootloader's region are refused and change nothing", async () => {
  const { emu, host } = freshPico();
  host.waitForDevice(200);
  host.reset();
  const before = emu.nor.data.slice(0, RECORD); // boot2 and the bootloader; then the record sector
  const d = new DfuRequests(host);
  for (const addr of [0x10000000, 0x10000100, 0x1000f000]) {
    d.setAddress(addr);
    assert.is(d.dnload(2, new Uint8Array(4096).fill(0x5a)), "ok");
    const s = d.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
    assert.is(s.state, ST.dfuERROR, `data block at ${addr.toString(16)}`);
    assert.is(s.status, STATUS.errADDRESS);
    d.clrStatus();
    const e = d.erase(addr);
    assert.is(e.status, STATUS.errADDRESS, `erase at ${addr.toString(16)}`);
    d.clrStatus();
  }
  const m = d.massErase();
  assert.is(m.status, STATUS.OK, "mass erase is allowed: it covers the application region only");
  host.sleep(100);
  assert.equal(emu.nor.data.subarray(0, RECORD), before, "boot2 and the bootloader untouched");
  checkBus(emu, host);
});

test("the XIP window as on silicon: stores are an error, reads need the SSI in XIP mode", async () => {
  const { emu, host } = freshPico();
  assert.ok(host.waitForDevice(200));
  // The bootloader runs from SRAM with the SSI in direct mode between commands.
  assert.throws(() => emu.mcu.readUint32(0x10001000), /not set up for XIP/);
  assert.throws(() => emu.mcu.writeUint32(0x10001000, 0), /store to the XIP window/);
  assert.throws(() => emu.mcu.writeUint8(0x13000000, 0), /store to the XIP window/);
});

test.run();
