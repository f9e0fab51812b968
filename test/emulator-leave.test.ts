// The DfuSe leave on the firmware as built, on both emulated chips, with dfu-util 0.11's own
// request sequence for `-s ADDR:leave -D app.bin` and the exit status its loop would give:
// after the zero-length DNLOAD it polls GETSTATUS until dfuMANIFEST or dfuDNLOAD-IDLE (exit 0),
// and a failed GETSTATUS or dfuERROR is "Error during download get_status" (exit 74).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { H750Emu } from "../sim/h750/emulator";
import { H750UsbHost } from "../sim/h750/usb-host";
import { Rp2040Emu } from "../sim/rp2040/emulator";
import { Rp2040UsbHost } from "../sim/rp2040/usb-host";
import type { ControlHost } from "../sim/usb-host";
import { loadImage } from "../tools/image/load";
import { DfuRequests, ST } from "./lib/dfu-requests";
import { pageSizeAt } from "./lib/images";
import type { BoardName } from "../sim/boards";

const root = join(import.meta.dirname, "..", "build");

/** dfu-util's loop after the leave request; its exit status. */
function dfuUtilLeave(dfu: DfuRequests, addr: number): { exit: number; states: number[] } {
  const states: number[] = [];
  dfu.abort();
  dfu.getStatus();
  dfu.setAddress(addr);
  if (dfu.dnload(2, new Uint8Array(0)) !== "ok") return { exit: 74, states };
  for (let i = 0; i < 1000; i++) {
    let s;
    try { s = dfu.getStatus(); } catch { return { exit: 74, states }; }
    states.push(s.state);
    if (s.state === ST.dfuERROR) return { exit: 74, states };
    if (s.state === ST.dfuMANIFEST || s.state === ST.dfuDNLOAD_IDLE) return { exit: 0, states };
    dfu.host.sleep(s.pollMs);
  }
  return { exit: 74, states };
}

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board} firmware: dfu-util -s ADDR:leave -D app.bin exits 0 and the application starts`, async () => {
    const fw = readFileSync(join(root, board, "qspiboot.bin"));
    let host: ControlHost & { reset(): string; waitForDevice(ms: number): boolean };
    let running: () => boolean;
    let settle: (ms: number) => void;
    if (board === "h750") {
      const emu = new H750Emu({});
      emu.loadFirmware(fw);
      host = new H750UsbHost(emu);
      running = () => emu.inApplication;
      settle = (ms) => emu.runForUs(ms * 1000);
    } else {
      const emu = new Rp2040Emu();
      emu.program(0, fw);
      emu.powerOn();
      host = new Rp2040UsbHost(emu);
      running = () => emu.uart.includes("hello");
      settle = (ms) => emu.runFor(ms * 1000);
    }
    assert.ok(host.waitForDevice(200));
    assert.is(host.reset(), "ok");
    const seg = loadImage(join(root, board, "example.elf")).segments[0];
    const dfu = new DfuRequests(host);
    const s = dfu.dfuUtilDownload(seg.address, seg.data, pageSizeAt(board, board === "h750" ? 8 << 20 : 2 << 20), false);
    assert.is(s.state, ST.dfuIDLE);
    const r = dfuUtilLeave(dfu, seg.address);
    assert.is(r.exit, 0, `states seen: ${r.states.join(", ")}`);
    assert.not.ok(r.states.includes(ST.dfuMANIFEST_SYNC), "GETSTATUS never reports dfuMANIFEST-SYNC itself (DFU 1.1 A.2.7)");
    for (let i = 0; i < 100 && !running(); i++) settle(10);
    assert.ok(running(), "the application runs");
  });
}

test.run();
