// Locked mode (a board built with --key and --locked) in the Wasm simulator: nothing of the
// flash leaves the board over USB. DFU and DfuSe UPLOAD stall, the functional descriptor says
// so, the flasher's read refuses, the sector digests are keyed (only a host with the lock key
// matches them, and so still sends only what changed), INFO shows no image CRC, the UF2 drive
// has no CURRENT.UF2 and no sector of it holds flash contents, and read-unprotect stays refused.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SimBoard, loadCoreVariant } from "../sim/board";
import { SimUsbHost } from "../sim/usb-host";
import { SimUsbDevice } from "../tools/usb/sim-device";
import { DfuDevice, DfuError } from "../tools/dfu/client";
import { crc32 } from "../tools/dfu/crc32";
import { signWithKey } from "../tools/cli/keys";
import { keyedSectorDigest } from "../tools/cli/lock";
import { fakeApp, appBase } from "./lib/images";
import { DfuRequests, ST, STATUS } from "./lib/dfu-requests";
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY, TEST_LOCK_KEY } from "./lib/test-key";
import { attach, mtools, readWholeDrive } from "./lib/uf2-drive";
import type { BoardName } from "../sim/boards";

const digestWith = keyedSectorDigest(TEST_LOCK_KEY);

async function lockedBoard(board: BoardName, o: { uf2?: boolean; lockKey?: Uint8Array } = {}) {
  const b = await SimBoard.create({ board, module: await loadCoreVariant({ signed: true, locked: true, uf2: o.uf2 }) });
  b.facts.publicKey = TEST_PUBLIC_KEY;
  b.facts.lockKey = o.lockKey ?? TEST_LOCK_KEY;
  b.powerOn({ button: true });
  return b;
}

async function client(b: SimBoard, withKey: boolean) {
  if (b.mode !== "bootloader") b.powerOn({ button: true });
  const host = new SimUsbHost(b);
  host.enumerate();
  const dev = await new DfuDevice(new SimUsbDevice(host), { sleep: async (ms) => host.sleep(ms), ...(withKey ? { sectorDigest: digestWith } : {}) }).open();
  return { host, dev };
}

const signed = (board: BoardName, img: Uint8Array, version = 1) => signWithKey([{ address: appBase(board), data: img }], TEST_PRIVATE_KEY, { version })[0].data;

/** A locked board that has taken a signed image, and that image. */
async function withImage(board: BoardName, o: { uf2?: boolean; lockKey?: Uint8Array } = {}) {
  const b = await lockedBoard(board, o);
  const image = signed(board, fakeApp(board, 50_000, 61));
  const { dev } = await client(b, true);
  await dev.flash([{ address: appBase(board), data: image }], { leave: true });
  b.step();
  assert.is(b.mode, "app", "the signed image runs");
  b.powerOn({ button: true });
  return { b, image };
}

const appOffset = (board: BoardName) => (board === "rp2040" ? 0x10000 : 0);

for (const board of ["h750", "rp2040"] as BoardName[]) {
  test(`${board}: a locked board answers no UPLOAD (DfuSe or plain DFU) and says so in its descriptor`, async () => {
    const { b } = await withImage(board);
    const before = b.flash.data.slice();
    const host = new SimUsbHost(b);
    host.enumerate();
    const cfg = host.control({ bmRequestType: 0x80, bRequest: 6, wValue: 0x0200, wIndex: 0, wLength: 255 }).data;
    const func = cfg.findIndex((x, i) => x === 9 && cfg[i + 1] === 0x21);
    assert.ok(func > 0);
    assert.is(cfg[func + 2] & 0x02, 0, "bitCanUpload is clear (DFU 1.1 table 4.2)");
    const dfu = new DfuRequests(host);
    for (const block of [0, 2, 3]) {
      dfu.abort();
      if (block >= 2) assert.is(dfu.setAddress(appBase(board)).state, ST.dfuDNLOAD_IDLE);
      dfu.abort();
      const r = dfu.upload(block, 4096);
      assert.is(r.status, "stall", `UPLOAD block ${block} stalls`);
      const s = dfu.getStatus();
      assert.is(s.state, ST.dfuERROR);
      assert.is(s.status, STATUS.errSTALLEDPKT);
      dfu.clrStatus();
    }
    assert.throws(() => dfu.dfuUtilUpload(appBase(board), 4096), /UPLOAD block 2: stall/, "dfu-util -U gets nothing");
    dfu.clrStatus();
    dfu.abort();
    const unprotect = dfu.command([0x92]);
    assert.is(unprotect.state, ST.dfuERROR, "DfuSe read-unprotect is still refused");
    assert.is(unprotect.status, STATUS.errTARGET);
    const { dev } = await client(b, true);
    assert.ok(dev.info!.locked, "INFO says the board is locked");
    assert.is(dev.info!.imageCrc, 0, "and shows no image CRC");
    assert.is(dev.info!.recordStatus, "valid");
    try {
      await dev.read(appBase(board), 4096);
      assert.unreachable("read must fail");
    } catch (e) {
      assert.instance(e, DfuError);
      assert.match((e as Error).message, /locked .* gives no flash contents away/);
    }
    assert.equal(b.flash.data, before, "nothing changed");
  });

  test(`${board}: sector digests are keyed: not the CRC-32, different per offset and per lock key; the key holder matches them`, async () => {
    const { b, image } = await withImage(board);
    const host = new SimUsbHost(b);
    host.enumerate();
    const first = appOffset(board) / 4096;
    const ask = (h: SimUsbHost, sector: number, n: number) => {
      const r = h.control({ bmRequestType: 0xc1, bRequest: 0x43, wValue: sector, wIndex: 0, wLength: 4 * n });
      assert.is(r.status, "ok");
      return [...new Uint32Array(r.data.slice().buffer)];
    };
    const got = ask(host, first, 4);
    for (let i = 0; i < 4; i++) {
      const off = (first + i) * 4096;
      const data = b.flash.data.subarray(off, off + 4096);
      assert.is(got[i], digestWith(off, data), `sector ${first + i}: HMAC-SHA256 under the lock key`);
      assert.is.not(got[i], crc32(0, data), "not the plain CRC-32");
    }
    // Erased sectors past the image are equal in content, not in digest.
    const blank = first + Math.ceil(image.length / 4096) + 2;
    const [e1, e2] = ask(host, blank, 2);
    assert.is.not(e1, e2, "two erased sectors do not show as equal");
    // The same flash on a board with another lock key: other digests.
    const other = await lockedBoard(board, { lockKey: new Uint8Array(32).fill(0xa5) });
    other.flash.data.set(b.flash.data);
    other.powerOn({ button: true });
    const h2 = new SimUsbHost(other);
    h2.enumerate();
    const theirs = ask(h2, first, 4);
    for (let i = 0; i < 4; i++) assert.is.not(theirs[i], got[i]);
  });

  test(`${board}: the flasher with the signing key sends only what changed; without it, every sector`, async () => {
    const { b, image } = await withImage(board);
    const sectors = Math.ceil(image.length / 4096);
    let { dev } = await client(b, true);
    const same = await dev.flash([{ address: appBase(board), data: image }], { leave: false });
    assert.is(same.sectorsTotal, sectors);
    // The first and the last sector go again unless the record spans whole sectors (client.ts).
    assert.ok(same.sectorsSent <= 2, `the same image again: ${same.sectorsSent} sent`);
    const img2 = fakeApp(board, 50_000, 61);
    img2[5000] ^= 0xff; // sector 1; the trailer in the last sector changes with it
    const resigned = signed(board, img2, 2);
    const r = await dev.flash([{ address: appBase(board), data: resigned }], { leave: false });
    assert.ok(r.sectorsSent >= 2 && r.sectorsSent <= 3, `a change in one sector: ${r.sectorsSent} of ${sectors} sent`);
    assert.equal(await dev.verify([{ address: appBase(board), data: resigned }]), [], "verify with the key: the board holds it");
    ({ dev } = await client(b, false));
    const blind = await dev.flash([{ address: appBase(board), data: resigned }], { leave: false });
    assert.is(blind.sectorsSent, sectors, "without the lock key the flasher cannot compare: all sent");
    try {
      await dev.verify([{ address: appBase(board), data: resigned }]);
      assert.unreachable("verify without the key must fail");
    } catch (e) {
      assert.match((e as Error).message, /keyed; compare with the signing key/);
    }
  });
}

test("rp2040 UF2 drive of a locked board: no CURRENT.UF2, and no sector of the drive holds flash contents", async () => {
  const { b, image } = await withImage("rp2040", { uf2: true });
  const d = attach(b);
  const whole = readWholeDrive(d.msc);
  const dir = mkdtempSync(join(tmpdir(), "qspiboot-locked-"));
  try {
    const p = join(dir, "drive.img");
    writeFileSync(p, whole);
    const names = mtools("mdir", p, ["-b", "::"]).trim().split("\n").map((l) => l.replace(/^::\//, "")).sort();
    assert.equal(names, ["INDEX.HTM", "INFO_UF2.TXT"]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  // Any 32 bytes of the image (it is random past its vector table) would show up if read out.
  const text = Buffer.from(whole);
  for (let off = 1024; off + 32 <= image.length - 128; off += 4096) {
    assert.is(text.indexOf(Buffer.from(image.subarray(off, off + 32))), -1, `image bytes at ${off} are not on the drive`);
  }
});

test.run();
