// A table-driven walk of the DFU 1.1 state diagram (appendix A.2): every reachable state of
// DFU mode, every request, the spec's answer (stall or not) and the state after it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SimBoard } from "../sim/board";
import { SimUsbHost, setupBytes } from "../sim/usb-host";
import { DfuRequests, DFU, ST, STATUS, le32 } from "./lib/dfu-requests";
import { fakeApp, pageSizeAt } from "./lib/images";
import { geometry, SafetyWatch } from "./lib/safety";

type State = keyof typeof ST;
type Req = "DNLOAD" | "DNLOAD0" | "UPLOAD" | "GETSTATUS" | "CLRSTATUS" | "GETSTATE" | "ABORT";

async function inState(s: State) {
  const b = await SimBoard.create();
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const dfu = new DfuRequests(host);
  const setAddr = () => dfu.dnload(0, Uint8Array.from([0x21, ...le32(0x90000000)]));
  switch (s) {
    case "dfuIDLE": break;
    case "dfuDNLOAD_SYNC": setAddr(); break;
    case "dfuDNBUSY": setAddr(); assert.is(dfu.getStatus().state, ST.dfuDNBUSY); break;
    case "dfuDNLOAD_IDLE": dfu.setAddress(0x90000000); break;
    case "dfuMANIFEST_SYNC": dfu.setAddress(0x90000000); dfu.dnload(2, new Uint8Array(0)); break;
    case "dfuUPLOAD_IDLE": dfu.upload(0, 4); break;
    case "dfuERROR": dfu.clrStatus(); break;
    default: throw new Error(`state ${s} is not reachable in DFU mode`);
  }
  assert.is(dfu.getState(), ST[s], `reached ${s}`);
  return { b, host, dfu };
}

function send(dfu: DfuRequests, r: Req): string {
  switch (r) {
    case "DNLOAD": return dfu.dnload(0, Uint8Array.from([0x21, ...le32(0x90000000)]));
    case "DNLOAD0": return dfu.dnload(2, new Uint8Array(0));
    case "UPLOAD": return dfu.upload(0, 4).status;
    case "GETSTATUS": return dfu.in(DFU.GETSTATUS, 0, 6).status;
    case "CLRSTATUS": return dfu.clrStatus();
    case "GETSTATE": return dfu.in(DFU.GETSTATE, 0, 1).status;
    case "ABORT": return dfu.abort();
  }
}

// [state, request, "ok" | "stall", state after]
const X = "stall", O = "ok";
const table: [State, Req, string, State][] = [
  ["dfuIDLE", "DNLOAD", O, "dfuDNLOAD_SYNC"],
  ["dfuIDLE", "DNLOAD0", O, "dfuMANIFEST_SYNC"], // DfuSe's leave from dfuIDLE (AN3156), not DFU 1.1's stall
  ["dfuIDLE", "UPLOAD", O, "dfuUPLOAD_IDLE"],
  ["dfuIDLE", "GETSTATUS", O, "dfuIDLE"],
  ["dfuIDLE", "CLRSTATUS", X, "dfuERROR"],
  ["dfuIDLE", "GETSTATE", O, "dfuIDLE"],
  ["dfuIDLE", "ABORT", O, "dfuIDLE"],
  ["dfuDNLOAD_SYNC", "DNLOAD", X, "dfuERROR"],
  ["dfuDNLOAD_SYNC", "DNLOAD0", X, "dfuERROR"],
  ["dfuDNLOAD_SYNC", "UPLOAD", X, "dfuERROR"],
  ["dfuDNLOAD_SYNC", "GETSTATUS", O, "dfuDNBUSY"],
  ["dfuDNLOAD_SYNC", "CLRSTATUS", X, "dfuERROR"],
  ["dfuDNLOAD_SYNC", "GETSTATE", O, "dfuDNLOAD_SYNC"],
  ["dfuDNLOAD_SYNC", "ABORT", O, "dfuIDLE"],
  ["dfuDNBUSY", "DNLOAD", O, "dfuDNLOAD_SYNC"], // DNBUSY is over once its poll timeout has passed (A.2.5)
  ["dfuDNBUSY", "UPLOAD", X, "dfuERROR"],
  ["dfuDNBUSY", "GETSTATUS", O, "dfuDNLOAD_IDLE"],
  ["dfuDNBUSY", "CLRSTATUS", X, "dfuERROR"],
  ["dfuDNLOAD_IDLE", "DNLOAD", O, "dfuDNLOAD_SYNC"],
  ["dfuDNLOAD_IDLE", "DNLOAD0", O, "dfuMANIFEST_SYNC"],
  ["dfuDNLOAD_IDLE", "UPLOAD", X, "dfuERROR"],
  ["dfuDNLOAD_IDLE", "GETSTATUS", O, "dfuDNLOAD_IDLE"],
  ["dfuDNLOAD_IDLE", "CLRSTATUS", X, "dfuERROR"],
  ["dfuDNLOAD_IDLE", "GETSTATE", O, "dfuDNLOAD_IDLE"],
  ["dfuDNLOAD_IDLE", "ABORT", O, "dfuIDLE"],
  ["dfuMANIFEST_SYNC", "DNLOAD", X, "dfuERROR"],
  ["dfuMANIFEST_SYNC", "UPLOAD", X, "dfuERROR"],
  ["dfuMANIFEST_SYNC", "CLRSTATUS", X, "dfuERROR"],
  ["dfuMANIFEST_SYNC", "GETSTATE", O, "dfuMANIFEST_SYNC"],
  ["dfuMANIFEST_SYNC", "ABORT", O, "dfuIDLE"],
  ["dfuUPLOAD_IDLE", "DNLOAD", X, "dfuERROR"],
  ["dfuUPLOAD_IDLE", "UPLOAD", O, "dfuUPLOAD_IDLE"],
  ["dfuUPLOAD_IDLE", "GETSTATUS", O, "dfuUPLOAD_IDLE"],
  ["dfuUPLOAD_IDLE", "CLRSTATUS", X, "dfuERROR"],
  ["dfuUPLOAD_IDLE", "GETSTATE", O, "dfuUPLOAD_IDLE"],
  ["dfuUPLOAD_IDLE", "ABORT", O, "dfuIDLE"],
  ["dfuERROR", "DNLOAD", X, "dfuERROR"],
  ["dfuERROR", "UPLOAD", X, "dfuERROR"],
  ["dfuERROR", "GETSTATUS", O, "dfuERROR"],
  ["dfuERROR", "CLRSTATUS", O, "dfuIDLE"],
  ["dfuERROR", "GETSTATE", O, "dfuERROR"],
  ["dfuERROR", "ABORT", X, "dfuERROR"],
];

for (const [from, req, answer, to] of table) {
  test(`${from} + ${req} -> ${answer}, ${to}`, async () => {
    const { dfu } = await inState(from);
    assert.is(send(dfu, req), answer);
    assert.is(dfu.getState(), ST[to]);
    if (answer === X && from !== "dfuERROR") assert.is(dfu.getStatus().status, STATUS.errSTALLEDPKT, "a refused request reports errSTALLEDPKT");
  });
}

test("manifestation without a valid image ends in dfuERROR/errFIRMWARE, and CLRSTATUS recovers", async () => {
  const { dfu } = await inState("dfuMANIFEST_SYNC");
  const s = dfu.pollWhile([ST.dfuMANIFEST_SYNC]);
  assert.is(s.state, ST.dfuERROR);
  assert.is(s.status, STATUS.errFIRMWARE);
  assert.is(dfu.clrStatus(), "ok");
  assert.is(dfu.getStatus().state, ST.dfuIDLE);
});

test("requests to another interface, or of the wrong direction, stall and leave the state alone", async () => {
  const { dfu, host } = await inState("dfuIDLE");
  assert.is(host.control({ bmRequestType: 0xa1, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: 1, wLength: 6 }).status, "stall");
  assert.is(dfu.getState(), ST.dfuIDLE);
  assert.is(host.control({ bmRequestType: 0xa1, bRequest: DFU.DNLOAD, wValue: 0, wIndex: 0, wLength: 6 }).status, "stall");
  assert.is(dfu.getState(), ST.dfuERROR, "a DNLOAD in the IN direction is a refused DFU request");
});

test("wLength above wTransferSize: DNLOAD and UPLOAD refused with errSTALLEDPKT", async () => {
  const { dfu } = await inState("dfuIDLE");
  assert.is(dfu.dnload(2, new Uint8Array(4097)), "stall");
  assert.is(dfu.getStatus().status, STATUS.errSTALLEDPKT);
  dfu.clrStatus();
  assert.is(dfu.upload(2, 4097).status, "stall");
  assert.is(dfu.getStatus().status, STATUS.errSTALLEDPKT);
});

test("DfuSe: get-commands lists 00 21 41 92; read-unprotect is refused with errTARGET", async () => {
  const { dfu } = await inState("dfuIDLE");
  assert.equal([...dfu.upload(0, 64).data], [0x00, 0x21, 0x41, 0x92]);
  dfu.abort();
  const s = dfu.command([0x92]);
  assert.is(s.state, ST.dfuERROR);
  assert.is(s.status, STATUS.errTARGET);
});

test("DfuSe: any address may be set (the leave); data, reads and erases outside the layout are errADDRESS", async () => {
  const { dfu } = await inState("dfuIDLE");
  for (const bad of [0, 0x08000000, 0x90800000, 0x90000000 - 4]) {
    const s = dfu.setAddress(bad);
    assert.is(s.status, STATUS.OK, `set address 0x${bad.toString(16)}`);
    assert.is(dfu.dnload(2, new Uint8Array(64)), "ok");
    const w = dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
    assert.is(w.status, STATUS.errADDRESS, `data at 0x${bad.toString(16)}`);
    dfu.clrStatus();
    {
      dfu.setAddress(bad);
      dfu.abort();
      assert.is(dfu.upload(2, 64).status, "stall", `upload at 0x${bad.toString(16)}`);
      assert.is(dfu.getStatus().status, STATUS.errADDRESS);
      dfu.clrStatus();
    }
    assert.is(dfu.erase(bad).status, STATUS.errADDRESS, `erase at 0x${bad.toString(16)}`);
    dfu.clrStatus();
  }
  const rec = dfu.erase(0x907ff000);
  assert.is(rec.status, STATUS.errADDRESS, "the update-record sector cannot be erased by the host");
  dfu.clrStatus();
  dfu.setAddress(0x907ff000 - 16);
  dfu.dnload(2, new Uint8Array(32));
  const s = dfu.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
  assert.is(s.status, STATUS.errADDRESS, "a write running into the record sector");
});

// In the middle of manifestation: every request, for each way manifestation starts. Whatever
// the host does, the manifestation runs to its end and records exactly what was downloaded;
// nothing the host sends meanwhile reaches the flash (a write waits for the end, when it is
// the first write of a new download and invalidates the record first). DETACH, and a bus
// reset during a leave, start the application once the image is recorded.
type Trigger = "leave" | "stay" | "detach";
type MidReq = Req | "DETACH" | "DNLOAD_DATA" | "RESET";
// [trigger, request, answer ("ok" | "stall" | "nodevice": the board left while the request waited), state after, mode at the end]
const during: [Trigger, MidReq, string, State | null, "app" | "bootloader"][] = [
  ["leave", "GETSTATUS", O, "dfuMANIFEST", "app"],
  ["leave", "GETSTATE", O, "dfuMANIFEST_SYNC", "bootloader"],
  ["leave", "DNLOAD_DATA", X, "dfuERROR", "bootloader"],
  ["leave", "DNLOAD0", X, "dfuERROR", "bootloader"],
  ["leave", "UPLOAD", X, "dfuERROR", "bootloader"],
  ["leave", "ABORT", O, "dfuIDLE", "bootloader"],
  ["leave", "CLRSTATUS", X, "dfuERROR", "bootloader"],
  ["leave", "DETACH", X, "dfuERROR", "bootloader"],
  ["leave", "RESET", O, "dfuIDLE", "app"],
  ["stay", "GETSTATUS", O, "dfuMANIFEST", "bootloader"],
  ["stay", "DNLOAD_DATA", X, "dfuERROR", "bootloader"],
  ["stay", "ABORT", O, "dfuIDLE", "bootloader"],
  ["stay", "DETACH", X, "dfuERROR", "bootloader"],
  ["stay", "RESET", O, "dfuIDLE", "bootloader"],
  ["detach", "GETSTATUS", O, "dfuIDLE", "app"],
  ["detach", "GETSTATE", O, "dfuIDLE", "app"],
  ["detach", "DNLOAD_DATA", X, "dfuERROR", "app"],
  ["detach", "DNLOAD0", X, "dfuERROR", "app"],
  ["detach", "UPLOAD", O, "dfuUPLOAD_IDLE", "app"],
  ["detach", "ABORT", O, "dfuIDLE", "app"],
  ["detach", "CLRSTATUS", X, "dfuERROR", "app"],
  ["detach", "DETACH", O, "dfuIDLE", "app"],
  ["detach", "RESET", O, "dfuIDLE", "app"],
];

for (const [trigger, req, answer, after, mode] of during) {
  test(`manifestation started by ${trigger}, then ${req} -> ${answer}, ${after ?? "(gone)"}; the download is recorded, board ends in ${mode}`, async () => {
    const b = await SimBoard.create({ board: "h750", timing: "typical" });
    // A record sector with no free slot (all of it damaged records): the record write has to
    // erase it first (45 ms typical), and that is when the request comes.
    b.flash.data.fill(0, b.flash.data.length - 4096);
    b.powerOn();
    const host = new SimUsbHost(b);
    host.enumerate();
    const dfu = new DfuRequests(host);
    const watch = new SafetyWatch(b, geometry(host));
    const img = fakeApp("h750", 24_000, 31);
    dfu.dfuUtilDownload(0x90000000, img, pageSizeAt("h750", 8 << 20), false);
    if (trigger === "detach") assert.is(dfu.out(DFU.DETACH, 1000).status, "ok");
    else { dfu.setAddress(0x90000000); assert.is(dfu.dnload(trigger === "leave" ? 2 : 0, new Uint8Array(0)), "ok"); }
    assert.is.not(watch.record().kind, "valid", "the request comes while manifestation runs");
    let got: string;
    if (req === "DETACH") got = dfu.out(DFU.DETACH, 1000).status;
    else if (req === "RESET") got = host.reset() === "ok" ? O : "reset failed";
    else if (req === "DNLOAD_DATA") got = dfu.dnload(2, fakeApp("h750", 4096, 32));
    else got = send(dfu, req);
    assert.is(got, answer);
    if (after) assert.is(dfu.getState(), ST[after]);
    b.runUntil(b.clock.now + 3e6);
    watch.check("end");
    assert.equal(watch.violations, []);
    assert.is(b.mode, mode);
    const rec = watch.record();
    assert.is(rec.kind, "valid", "the download is recorded");
    assert.is(rec.length, img.length);
    assert.equal(b.flash.data.subarray(0, img.length), img, "and nothing sent during manifestation reached the flash");
  });
}

// dfu-util ends a leave at the first GETSTATUS answering dfuMANIFEST and fails if that request
// finds the device gone. A manifestation that ends while the answer still waits in the
// endpoint for the host's IN token must not take the device away before the host has it.
test("leave: the device waits for the host to take the dfuMANIFEST answer, even when the manifestation ends first", async () => {
  const b = await SimBoard.create({ board: "h750", timing: "typical" });
  b.powerOn();
  const host = new SimUsbHost(b);
  host.enumerate();
  const dfu = new DfuRequests(host);
  const img = fakeApp("h750", 24_000, 33);
  dfu.dfuUtilDownload(0x90000000, img, pageSizeAt("h750", 8 << 20), false);
  dfu.setAddress(0x90000000);
  assert.is(dfu.dnload(2, new Uint8Array(0)), "ok");
  b.ep0.hostSetup(setupBytes({ bmRequestType: 0xa1, bRequest: DFU.GETSTATUS, wValue: 0, wIndex: 0, wLength: 6 }));
  b.runUntil(b.clock.now + 2e6); // the host is slow to send its IN token: verified and recorded meanwhile
  assert.is(b.mode, "bootloader", "still in DFU mode");
  assert.ok(host.present(), "and on the bus");
  const r = b.ep0.hostIn();
  assert.is(r.kind, "data");
  assert.is(r.kind === "data" && r.data[4], ST.dfuMANIFEST, "the answer is dfuMANIFEST");
  b.runUntil(b.clock.now + 100);
  assert.is(b.ep0.hostOut(new Uint8Array(0)), "ack", "status stage");
  b.runUntil(b.clock.now + 1e6);
  assert.is(b.mode, "app", "then it starts the application");
});

test.run();
