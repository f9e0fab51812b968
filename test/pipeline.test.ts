// The pipeline's seams: the list of HAL imports in boot/hal.ts, the .wasm that uses them, the
// C HALs of both chips and the simulator's HAL must agree, name for name and argument for
// argument; the boards the simulator models must be the boards the C HALs describe.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildCore, buildCoreUf2, root } from "../tools/build-core";
import { HAL_IMPORT_NAMES } from "../sim/hal";
import { BOARDS } from "../sim/boards";

/** name -> parameter count, from the @external declarations in boot/hal.ts. */
function declared(): Map<string, number> {
  const src = readFileSync(join(root, "boot/hal.ts"), "utf8");
  const out = new Map<string, number>();
  for (const m of src.matchAll(/@external\("hal", "(\w+)"\) export declare function \w+\(([^)]*)\)/g)) {
    out.set(m[1], m[2].trim() ? m[2].split(",").length : 0);
  }
  return out;
}

/** name -> parameter count (without the instance), from Z_halZ_ definitions in C files. */
function implemented(dirs: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of dirs) {
    for (const f of readdirSync(join(root, d)).filter((f) => f.endsWith(".c"))) {
      const src = readFileSync(join(root, d, f), "utf8");
      for (const m of src.matchAll(/^\w[\w ]*\bZ_halZ_(\w+)\(struct Z_hal_instance_t\* \w+((?:, [^)]*)?)\)\s*\{/gm)) {
        out.set(m[1], m[2] ? m[2].split(",").length - 1 : 0);
      }
    }
  }
  return out;
}

const decl = declared();

test("boot/hal.ts declares the HAL (and nothing is declared twice)", () => {
  assert.ok(decl.size > 0);
  const src = readFileSync(join(root, "boot/hal.ts"), "utf8");
  assert.is((src.match(/@external/g) ?? []).length, decl.size);
});

/** The bulk endpoints serve only the UF2 drive: the default core does not import them. */
const UF2_ONLY = new Set(["usb_ep_open", "usb_ep_xfer", "usb_ep_stall"]);

for (const [label, build, uf2] of [["the core", () => buildCore(), false], ["the UF2-drive core", () => buildCoreUf2(), true]] as const) {
  test(`${label}: the .wasm imports only declared HAL functions, with the declared arity`, async () => {
    const file = await build();
    const m = new WebAssembly.Module(readFileSync(file));
    const imports = WebAssembly.Module.imports(m);
    for (const i of imports) {
      assert.is(i.module, "hal", `import ${i.module}.${i.name}`);
      assert.ok(decl.has(i.name), `${i.name} is imported but not declared in boot/hal.ts`);
    }
    // A wasm import receives exactly its declared parameters: compare with the text format.
    const wat = readFileSync(file.replace(/\.wasm$/, ".wat"), "utf8");
    for (const mm of wat.matchAll(/\(import "hal" "(\w+)" \(func \$[^\s]+ ((?:\(param[^)]*\)\s*)*)/g)) {
      const params = (mm[2].match(/i32|i64|f32|f64/g) ?? []).length;
      assert.is(params, decl.get(mm[1]), `${mm[1]}: wasm has ${params} parameters`);
    }
    // An unused import is dead weight in every HAL: each core uses all that it may.
    const expected = [...decl.keys()].filter((n) => uf2 || !UF2_ONLY.has(n)).sort();
    assert.equal(imports.map((i) => i.name).sort(), expected);
  });
}

for (const [chip, dir] of [["STM32H750", "hal/stm32h750"], ["RP2040", "hal/rp2040"]]) {
  test(`${chip}: the C HAL defines every declared import with the same number of parameters`, () => {
    const impl = implemented([dir, "hal/common"]);
    for (const [name, n] of decl) {
      assert.ok(impl.has(name), `${dir} does not define Z_halZ_${name}`);
      assert.is(impl.get(name), n, `Z_halZ_${name} parameter count`);
    }
    for (const name of impl.keys()) assert.ok(decl.has(name), `${dir} defines Z_halZ_${name}, which boot/hal.ts does not declare`);
  });
}

test("the simulator's HAL implements exactly the declared imports", () => {
  assert.equal([...HAL_IMPORT_NAMES].sort(), [...decl.keys()].sort());
});

for (const [name, dir] of [["h750", "stm32h750"], ["rp2040", "rp2040"]] as const) {
  test(`${name}: the simulated board has the facts of hal/${dir}/board.h`, () => {
    const h = readFileSync(join(root, "hal", dir, "board.h"), "utf8");
    const def = (k: string) => {
      const m = h.match(new RegExp(`#define ${k} (\\S+)`));
      assert.ok(m, `${k} defined`);
      return m![1].startsWith('"') ? m![1].slice(1, -1) : Number(m![1].replace(/u$/, ""));
    };
    const f = BOARDS[name];
    assert.is(f.boardId, def("BOARD_ID"));
    assert.is(f.flashBase, def("BOARD_FLASH_BASE"));
    assert.is(f.bootReserved, def("BOARD_BOOT_RESERVED"));
    assert.is(f.ramStart, def("BOARD_RAM_START"));
    assert.is(f.ramEnd, def("BOARD_RAM_END"));
    assert.is(f.vid, def("BOARD_USB_VID"));
    assert.is(f.pid, def("BOARD_USB_PID"));
    assert.is(f.bcdDevice, def("BOARD_BCD_DEVICE"));
    assert.is(f.uf2Family, Number(String(def("BOARD_UF2_FAMILY")).replace(/u$/, "")));
    assert.is(f.recordOffset, h.includes("BOARD_RECORD_OFFSET") ? def("BOARD_RECORD_OFFSET") : 0);
    assert.is(!!f.legacyRecord, h.includes("BOARD_LEGACY_RECORD") ? def("BOARD_LEGACY_RECORD") === 1 : false);
    const nameMatch = h.match(/#define BOARD_NAME "([^"]*)"/);
    assert.is(f.name, nameMatch![1]);
  });
}

test.run();
