// Oscillator start-up in the H750 models (sim/h750/rcc.ts), with the times the STM32H750xB
// datasheet gives (HSE tSU 2 ms, PLL tLOCK 50 us, typical), and what it means for the firmware:
// DFU mode waits for the crystal and the PLLs, the boot path waits for neither.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RccModel, HSE_STARTUP_US, PLL_LOCK_US } from "../sim/h750/rcc";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { reg } from "../sim/h750/vendor";
import { loadImage } from "../tools/image/load";

const CR = 0, HSEON = 1 << 16, HSERDY = 1 << 17, PLL1ON = 1 << 24, PLL1RDY = 1 << 25, PLL3ON = 1 << 28, PLL3RDY = 1 << 29;
const PLLCKSELR = reg("RCC_PLLCKSELR").address - reg("RCC_CR").address;
const CFGR = reg("RCC_CFGR").address - reg("RCC_CR").address;

function model() {
  let now = 0;
  const rcc = new RccModel(() => Infinity, () => now);
  return { rcc, at: (us: number) => { now = us; } };
}

test("HSE: HSERDY only after its start-up time; SW to the HSE does not take before", () => {
  const { rcc, at } = model();
  rcc.write(CR, rcc.read(CR) | HSEON);
  at(HSE_STARTUP_US - 1);
  assert.is(rcc.read(CR) & HSERDY, 0);
  rcc.write(CFGR, 2);
  assert.is((rcc.read(CFGR) >> 3) & 7, 0, "SWS stays on the HSI");
  at(HSE_STARTUP_US);
  assert.ok(rcc.read(CR) & HSERDY);
  rcc.write(CFGR, 2);
  assert.is((rcc.read(CFGR) >> 3) & 7, 2, "SWS follows once the HSE runs");
});

test("PLL on the HSE locks a lock time after the HSE is ready, PLL on the HSI a lock time after it is on; off drops RDY", () => {
  const { rcc, at } = model();
  rcc.write(PLLCKSELR, 2 | (5 << 4)); // HSE, DIVM1 5
  rcc.write(CR, rcc.read(CR) | HSEON | PLL1ON);
  at(HSE_STARTUP_US + PLL_LOCK_US - 1);
  assert.is(rcc.read(CR) & PLL1RDY, 0, "no lock before its input runs");
  at(HSE_STARTUP_US + PLL_LOCK_US);
  assert.ok(rcc.read(CR) & PLL1RDY);
  rcc.write(CR, rcc.read(CR) & ~PLL1ON);
  assert.is(rcc.read(CR) & PLL1RDY, 0);

  const b = model();
  b.rcc.write(PLLCKSELR, 0 | (4 << 4)); // HSI
  b.at(100);
  b.rcc.write(CR, b.rcc.read(CR) | PLL3ON);
  b.at(100 + PLL_LOCK_US - 1);
  assert.is(b.rcc.read(CR) & PLL3RDY, 0);
  b.at(100 + PLL_LOCK_US);
  assert.ok(b.rcc.read(CR) & PLL3RDY);
});

const BUILD = join(import.meta.dirname, "..", "build", "h750");

test("the firmware: DFU mode comes up after the crystal's start-up; the boot path never starts the HSE or a PLL", () => {
  const emu = new H750Emu();
  emu.loadFirmware(readFileSync(join(BUILD, "qspiboot.bin")));
  const host = new H750UsbHost(emu);
  assert.ok(host.waitForDevice(100), "the DFU device connects");
  const connectedAt = emu.nowUs;
  assert.ok(connectedAt >= HSE_STARTUP_US + PLL_LOCK_US, `DFU device after ${connectedAt.toFixed(0)} us: waits for the HSE and PLL lock`);
  assert.ok(emu.m.rcc.read(CR) & HSERDY, "and the HSE runs");

  // With an image: from reset to the application's first instruction, nothing starts.
  const app = loadImage(join(BUILD, "example.elf")).segments[0];
  const boot = new H750Emu({ exactCount: true });
  boot.loadFirmware(readFileSync(join(BUILD, "qspiboot.bin")));
  boot.nor.data.set(app.data, app.address - 0x90000000);
  const entry = (new DataView(app.data.buffer, app.data.byteOffset).getUint32(4, true) & ~1) >>> 0;
  assert.ok(boot.countUntil(entry, 2_000_000) > 0, "the example starts (no record: its vector table is plausible)");
  assert.is(boot.m.rcc.read(CR) & (HSEON | PLL1ON | (1 << 26) | PLL3ON), 0, "no HSE, no PLL switched on");
  assert.ok(boot.nowUs < 1000, `boot ${boot.nowUs.toFixed(0)} us on the HSI`);
});

test.run();
