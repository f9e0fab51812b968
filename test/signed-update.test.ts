// Signed updates in the Wasm simulator: a board built with a key (the signed core, its public
// key in BoardInfo) records and runs an image only when the trailer's signature, made here by
// Node's own Ed25519, verifies over the bytes read back from the flash. Every path into the
// flash: DfuSe (tools/flash.ts's client), plain DFU and the UF2 drive.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { SimBoard, loadCoreVariant } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { signWithKey, checkSignedForBoard } from "../tools/cli/keys";
import { fakeApp, appBase } from "./lib/images";
import { DfuRequests, ST, STATUS } from "./lib/dfu-requests";
import { readBoardRecord } from "./lib/record";
import { geometry } from "./lib/safety";
import { attach, changedSectors, copyOnto, mountView, runs, uf2Of } from "./lib/uf2-drive";
import type { BoardName } from "../sim/boards";

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
  return { raw, privateKey };
}

function signed(board: BoardName, image: Uint8Array, key: KeyObject, version = 1, allowDowngrade = false): Uint8Array {
  const segs = signWithKey([{ address: appBase(board), data: image }], key, { version, allowDowngrade });
  assert.is(segs.length, 1);
  return segs[0].data;
}

const owner = keyPair(), stranger = keyPair();

async function signedBoard(board: BoardName, opts: { uf2?: boolean } = {}) {
  const b = await SimBoard.create({ board, module: await loadCoreVariant({ signed: true, uf2: opts.uf2 }) });
  b.facts.publicKey = owner.raw;
  b.powerOn({ button: true });
  return b;
}

async function client(b: SimBoard) {
  if (b.mode !== "bootloader") b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  return { host, dev: await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms) }).open() };
}

function recordOf(b: SimBoard, host: SimUsbHost) {
  return readBoardRecord(b.flash.data, geometry(host));
}

async function flashWith(b: SimBoard, data: Uint8Array, board: BoardName): Promise<"ok" | number> {
  const r = await flashChecked(b, data, board);
  return r === "ok" ? r : r.status!;
}

async function flashChecked(b: SimBoard, data: Uint8Array, board: BoardName): Promise<"ok" | DfuError> {
  const { dev } = await client(b);
  try {
    await dev.flash([{ address: appBase(board), data }], { leave: true });
    return "ok";
  } catch (e) {
    if (e instanceof DfuError && e.status !== undefined) return e;
    throw e;
  }
}

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board}: an image signed with the board's key is recorded and runs`, async () => {
    const b = await signedBoard(board);
    const { dev } = await client(b);
    assert.ok(dev.info?.publicKey, "INFO says the board takes signed images");
    assert.equal([...dev.info!.publicKey!], [...owner.raw], "and names its key");
    const img = fakeApp(board, 40_000, 1);
    assert.is(await flashWith(b, signed(board, img, owner.privateKey), board), "ok");
    b.step();
    assert.is(b.mode, "app");
    b.powerOn();
    assert.is(b.mode, "app", "boots on its own");
  });

  test(`${board}: unsigned, signed by another key, or changed after signing: never recorded, never run`, async () => {
    const img = fakeApp(board, 40_000, 2);
    const good = signed(board, img, owner.privateKey);
    const tampered = good.slice();
    tampered[1234] ^= 0x10;
    const badSig = good.slice();
    badSig[badSig.length - 1] ^= 0x01;
    for (const [what, data] of [["unsigned", img], ["another key", signed(board, img, stranger.privateKey)], ["tampered image", tampered], ["tampered signature", badSig]] as const) {
      const b = await signedBoard(board);
      assert.is(await flashWith(b, data, board), STATUS.errFILE, `${what}: errFILE`);
      const { host } = await client(b);
      assert.not.equal(recordOf(b, host).kind, "valid", `${what}: not recorded`);
      b.powerOn();
      assert.is(b.mode, "bootloader", `${what}: the plausible vector table does not boot it`);
    }
  });
}

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board}: downgrade protection: an older version is refused, one signed with --allow-downgrade is taken, the floor stays the highest`, async () => {
    const b = await signedBoard(board);
    const img = (seed: number) => fakeApp(board, 30_000, seed);
    assert.is(await flashWith(b, signed(board, img(1), owner.privateKey, 5), board), "ok");
    assert.is(recordOf(b, (await client(b)).host).floor, 5, "the record keeps version 5 as the floor");
    // Straight to the board (the host's own pre-check is tested below): the core decides.
    const old = await flashChecked(b, signed(board, img(2), owner.privateKey, 4), board);
    assert.ok(old instanceof DfuError, "version 4 after version 5 fails");
    assert.is((old as DfuError).status, STATUS.errFILE);
    assert.is((old as DfuError).check, "downgrade", "and the board says why");
    let { host, dev } = await client(b);
    assert.is(dev.info!.lastCheck, "downgrade");
    assert.is(dev.info!.versionFloor, 5);
    assert.not.equal(recordOf(b, host).kind, "valid", "nothing recorded (the download replaced the old image)");
    b.powerOn();
    assert.is(b.mode, "bootloader");
    assert.is(await flashWith(b, signed(board, img(3), owner.privateKey, 3, true), board), "ok", "an older version signed for a downgrade is taken");
    b.step();
    assert.is(b.mode, "app");
    ({ host, dev } = await client(b));
    assert.is(recordOf(b, host).floor, 5, "the floor stays at 5");
    assert.is(dev.info!.versionFloor, 5);
    assert.is(await flashWith(b, signed(board, img(4), owner.privateKey, 4), board), STATUS.errFILE, "so version 4 without consent is still refused");
    assert.is(await flashWith(b, signed(board, img(5), owner.privateKey, 5), board), "ok", "the same version is no downgrade");
    assert.is(await flashWith(b, signed(board, img(6), owner.privateKey, 9), board), "ok");
    ({ host, dev } = await client(b));
    assert.is(dev.info!.versionFloor, 9);
    assert.is(dev.info!.lastCheck, "none", "a reset forgets the last check");
    b.powerOn();
    assert.is(b.mode, "app", "the last image boots on its own");
  });
}

test("the flasher refuses an older file against the board's floor before anything is erased", async () => {
  const b = await signedBoard("h750");
  const img = fakeApp("h750", 10_000, 7);
  assert.is(await flashWith(b, signed("h750", img, owner.privateKey, 7), "h750"), "ok");
  const { dev } = await client(b);
  const before = b.flash.data.slice();
  const at = (data: Uint8Array) => [{ address: appBase("h750"), data }];
  assert.throws(() => checkSignedForBoard(at(signed("h750", img, owner.privateKey, 6)), dev.info!.publicKey!, "app.bin", dev.info!.versionFloor),
    /firmware version 6 is older than version 7.*--allow-downgrade/);
  checkSignedForBoard(at(signed("h750", img, owner.privateKey, 6, true)), dev.info!.publicKey!, "app.bin", dev.info!.versionFloor);
  checkSignedForBoard(at(signed("h750", img, owner.privateKey, 7)), dev.info!.publicKey!, "app.bin", dev.info!.versionFloor);
  assert.equal(b.flash.data, before, "nothing was written");
});

test("every single-bit flip of a small signed image and of its trailer is refused at manifestation, the original then taken", async () => {
  const b = await signedBoard("h750");
  const host = new SimUsbHost(b);
  host.enumerate();
  const dfu = new DfuRequests(host);
  const good = signed("h750", fakeApp("h750", 256, 9), owner.privateKey, 1); // 256 image bytes, then the 128-byte trailer
  assert.is(good.length, 384);
  const sector = new Uint8Array(4096).fill(0xff);
  const manifest = (data: Uint8Array) => {
    sector.fill(0xff).set(data);
    dfu.abort();
    dfu.setAddress(appBase("h750"));
    const w = dfu.chunk(sector);
    if (w.state === ST.dfuERROR) return w;
    dfu.dnload(0, new Uint8Array(0)); // manifest and stay
    return dfu.pollWhile([ST.dfuMANIFEST_SYNC, ST.dfuMANIFEST]);
  };
  const record = () => host.control({ bmRequestType: 0xc1, bRequest: 0x49, wValue: 0, wIndex: 0, wLength: 8 }).data[5];
  let refused = 0;
  for (let bit = 0; bit < good.length * 8; bit++) {
    const bad = good.slice();
    bad[bit >> 3] ^= 1 << (bit & 7);
    const s = manifest(bad);
    // A flip in the vector table may make it implausible first (errFIRMWARE): refused either way.
    if (s.state !== ST.dfuERROR || (s.status !== STATUS.errFILE && s.status !== STATUS.errFIRMWARE)) assert.unreachable(`bit ${bit}: state ${s.state}, status ${s.status}`);
    if (record() === 1) assert.unreachable(`bit ${bit}: recorded`);
    dfu.clrStatus();
    refused++;
  }
  assert.is(refused, 384 * 8);
  const ok = manifest(good);
  assert.is(ok.state, ST.dfuIDLE, "the unchanged image is taken");
  assert.is(record(), 1, "and recorded");
});

test("the flasher checks a file against the key the board names before anything is erased", async () => {
  const b = await signedBoard("h750");
  const { dev } = await client(b);
  const img = fakeApp("h750", 10_000, 5);
  const key = dev.info!.publicKey!;
  const at = (data: Uint8Array) => [{ address: appBase("h750"), data }];
  assert.throws(() => checkSignedForBoard(at(img), key, "app.bin"), /takes only images signed with its key .* not signed: flash it with --key/);
  assert.throws(() => checkSignedForBoard(at(signed("h750", img, stranger.privateKey)), key, "app.bin"), /signed with another key than this board's/);
  const changed = signed("h750", img, owner.privateKey);
  changed[10] ^= 1;
  assert.throws(() => checkSignedForBoard(at(changed), key, "app.bin"), /changed after it was signed/);
  checkSignedForBoard(at(signed("h750", img, owner.privateKey)), key, "app.bin");
  assert.ok(b.flash.data.every((x) => x === 0xff), "nothing was written");
});

test("plain DFU (dfu-util's sequence) takes the same rules", async () => {
  const img = fakeApp("h750", 20_000, 3);
  for (const [data, ok] of [[signed("h750", img, owner.privateKey), true], [img, false]] as const) {
    const b = await signedBoard("h750");
    const host = new SimUsbHost(b);
    host.enumerate();
    const s = new DfuRequests(host).dfuUtilDownload(appBase("h750"), data, () => 0x10000);
    if (ok) {
      assert.is(s.state, ST.dfuMANIFEST);
      b.step();
      assert.is(b.mode, "app");
    } else {
      assert.is(s.status, STATUS.errFILE);
      assert.is(b.mode, "bootloader");
    }
  }
});

test("the UF2 drive takes the same rules: a signed .uf2 runs, an unsigned one fails its last write", async () => {
  const img = fakeApp("rp2040", 30_000, 4);
  for (const [data, ok] of [[signed("rp2040", img, owner.privateKey), true], [img, false]] as const) {
    const b = await signedBoard("rp2040", { uf2: true });
    const d = attach(b);
    const view = mountView(d.msc);
    const w = runs(changedSectors(view, copyOnto(view, [{ name: "APP.UF2", data: uf2Of("rp2040", data) }])).sort((x, y) => x.lba - y.lba));
    const statuses = w.map((x) => d.msc.write(x.lba, x.data).status);
    d.host.sleep(1500);
    if (ok) {
      assert.ok(statuses.every((s) => s === 0));
      assert.is(b.mode, "app");
    } else {
      assert.is(statuses[statuses.length - 1], 1, "the write that completed the copy fails");
      assert.is(d.msc.requestSense().key, 0x03, "MEDIUM ERROR");
      assert.is(b.mode, "bootloader");
    }
  }
});

test("a record cut off after its checksum but before its floor is not taken (the board stays in DFU mode)", async () => {
  const b = await signedBoard("h750");
  assert.is(await flashWith(b, signed("h750", fakeApp("h750", 20_000, 12), owner.privateKey, 3), "h750"), "ok");
  const { host } = await client(b);
  const g = geometry(host);
  const rec = readBoardRecord(b.flash.data, g);
  assert.is(rec.kind, "valid");
  assert.is(rec.floor, 3);
  b.flash.data.fill(0xff, rec.at + 32, rec.at + 40); // the floor's 8 bytes never programmed
  b.powerOn();
  assert.is(b.mode, "bootloader", "a record without its floor is damaged: nothing runs");
  assert.not.equal(readBoardRecord(b.flash.data, geometry((await client(b)).host)).kind, "valid");
});

test("the UF2 drive refuses a downgrade too: version 1 after version 2 fails its last write", async () => {
  const b = await signedBoard("rp2040", { uf2: true });
  const copy = (data: Uint8Array) => {
    if (b.mode !== "bootloader") b.powerOn({ button: true });
    const d = attach(b);
    const view = mountView(d.msc);
    const w = runs(changedSectors(view, copyOnto(view, [{ name: "APP.UF2", data: uf2Of("rp2040", data) }])).sort((x, y) => x.lba - y.lba));
    const statuses = w.map((x) => d.msc.write(x.lba, x.data).status);
    d.host.sleep(1500);
    return { d, last: statuses[statuses.length - 1] };
  };
  assert.is(copy(signed("rp2040", fakeApp("rp2040", 20_000, 8), owner.privateKey, 2)).last, 0);
  assert.is(b.mode, "app", "version 2 runs");
  const { d, last } = copy(signed("rp2040", fakeApp("rp2040", 20_000, 9), owner.privateKey, 1));
  assert.is(last, 1, "the write that completed the older copy fails");
  assert.is(d.msc.requestSense().key, 0x03, "MEDIUM ERROR");
  assert.is(b.mode, "bootloader");
  const { dev } = await client(b);
  assert.is(dev.info!.lastCheck, "downgrade");
  assert.is(dev.info!.versionFloor, 2);
});

test.run();
