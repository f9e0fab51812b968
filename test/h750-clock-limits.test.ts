// The H750 models' side of a 480 MHz application (sim/h750/rcc.ts): SYSCFG answers only with its
// clock on, the overdrive gives VOS0 only from VOS1, a switch to a SYSCLK above what the voltage
// scale allows is recorded, and PCLK2 follows D2PPRE2. Register facts: RM0433 (RCC, PWR, SYSCFG),
// offsets and reset values from ST's SVD (sim/h750/vendor-regs.json).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RccModel, PwrModel, SyscfgModel, FlashAcrModel } from "../sim/h750/rcc";
import { reg } from "../sim/h750/vendor";

const off = (name: string, base: string) => reg(name).address - reg(base).address;
const PWRCR = reg("SYSCFG_PWRCR").address & 0x3ff;

function chip() {
  const pwr = new PwrModel();
  const rcc = new RccModel(() => pwr.maxSysclkHz());
  return { pwr, rcc, syscfg: new SyscfgModel(rcc, pwr) };
}

/** PLL1 from the 25 MHz HSE: M 5, N 192, P 2 = 480 MHz, then SW = PLL1. */
function switchTo480(rcc: RccModel) {
  rcc.write(0, rcc.read(0) | (1 << 16));                       // HSEON
  rcc.write(off("RCC_PLLCKSELR", "RCC_CR"), 2 | (5 << 4));     // PLLSRC HSE, DIVM1 5
  rcc.write(off("RCC_PLL1DIVR", "RCC_CR"), 191 | (1 << 9));    // DIVN1 192, DIVP1 2
  rcc.write(0, rcc.read(0) | (1 << 24));                       // PLL1ON
  rcc.write(off("RCC_CFGR", "RCC_CR"), 3);                     // SW = PLL1
}

test("SYSCFG_PWRCR takes writes only with SYSCFGEN set", () => {
  const { rcc, syscfg } = chip();
  syscfg.write(PWRCR, 1);
  assert.is(syscfg.read(PWRCR), 0);
  rcc.write(off("RCC_APB4ENR", "RCC_CR"), 1 << 1);
  syscfg.write(PWRCR, 1);
  assert.is(syscfg.read(PWRCR), 1);
});

test("VOS0 needs scale 1 in PWR_D3CR before ODEN; a faster SYSCLK than the scale allows is recorded", () => {
  const a = chip();
  a.rcc.write(off("RCC_APB4ENR", "RCC_CR"), 1 << 1);
  assert.is(a.pwr.scale, 3, "VOS3 after reset (D3CR.VOS 01)");
  a.syscfg.write(PWRCR, 1);
  assert.is(a.pwr.scale, 3, "ODEN at scale 3 is no VOS0");
  switchTo480(a.rcc);
  assert.is(a.rcc.sysclk(), 480e6);
  assert.equal(a.rcc.violations, ["SYSCLK 480 MHz above the voltage scale's 200 MHz"]);

  const b = chip();
  b.rcc.write(off("RCC_APB4ENR", "RCC_CR"), 1 << 1);
  b.pwr.write(off("PWR_D3CR", "PWR_CR1"), 3 << 14);            // scale 1
  assert.is(b.pwr.scale, 1);
  b.syscfg.write(PWRCR, 1);
  assert.is(b.pwr.scale, 0, "ODEN from scale 1: VOS0");
  assert.ok(b.pwr.read(off("PWR_D3CR", "PWR_CR1")) & (1 << 13), "VOSRDY");
  switchTo480(b.rcc);
  assert.equal(b.rcc.violations, []);
});

test("PCLK2 is HCLK through D2PPRE2, and is USART1's kernel clock by default", () => {
  const { rcc } = chip();
  switchTo480(rcc);
  rcc.write(off("RCC_D1CFGR", "RCC_CR"), 8);                   // HPRE /2
  rcc.write(off("RCC_D2CFGR", "RCC_CR"), 4 << 8);              // D2PPRE2 /2
  assert.is(rcc.hclk(), 240e6);
  assert.is(rcc.pclk2(), 120e6);
  assert.is(rcc.usart1KernelHz(), 120e6);
  rcc.write(off("RCC_D2CFGR", "RCC_CR"), 7 << 8);              // /16
  assert.is(rcc.pclk2(), 15e6);
});

test("HCLK above what FLASH_ACR.LATENCY allows at the voltage scale is recorded (RM0433 table 17)", () => {
  const pwr = new PwrModel(), acr = new FlashAcrModel();
  const rcc = new RccModel(() => pwr.maxSysclkHz(), undefined, () => acr.maxHclkHz(pwr.scale));
  pwr.write(off("PWR_D3CR", "PWR_CR1"), 3 << 14);              // scale 1
  assert.is(acr.maxHclkHz(1), Infinity, "LATENCY 7 after reset: any clock");
  acr.write(0, 1 | (1 << 4));                                  // 1 wait state: up to 140 MHz at VOS1
  rcc.write(off("RCC_D1CFGR", "RCC_CR"), 8);                   // HPRE /2
  rcc.write(0, rcc.read(0) | (1 << 16));
  rcc.write(off("RCC_PLLCKSELR", "RCC_CR"), 2 | (5 << 4));
  rcc.write(off("RCC_PLL1DIVR", "RCC_CR"), 159 | (1 << 9));   // 5 MHz x 160 / 2 = 400 MHz
  rcc.write(0, rcc.read(0) | (1 << 24));
  rcc.write(off("RCC_CFGR", "RCC_CR"), 3);
  assert.is(rcc.hclk(), 200e6);
  assert.equal(rcc.violations, ["HCLK 200 MHz above the 140 MHz the flash wait states allow"]);
  rcc.violations.length = 0;
  acr.write(0, 2 | (2 << 4));                                  // 2 wait states, WRHIGHFREQ 2: up to 210 MHz
  rcc.write(off("RCC_D1CFGR", "RCC_CR"), 8);
  assert.equal(rcc.violations, [], "what clocks_raise programs for DFU mode");
  rcc.write(off("RCC_D1CFGR", "RCC_CR"), 0);                   // HPRE /1: 400 MHz AXI
  assert.equal(rcc.violations, ["HCLK 400 MHz above the 210 MHz the flash wait states allow"]);
});

test.run();
