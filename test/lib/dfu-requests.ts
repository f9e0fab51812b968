// Raw DFU/DfuSe requests over the simulated host, one control transfer each, so protocol tests
// can assert exactly what every request does. (The real client is tools/dfu/.)
import type { ControlHost, ControlResult } from "../../sim/usb-host";

export const DFU = { DETACH: 0, DNLOAD: 1, UPLOAD: 2, GETSTATUS: 3, CLRSTATUS: 4, GETSTATE: 5, ABORT: 6 } as const;
export const ST = {
  appIDLE: 0, appDETACH: 1, dfuIDLE: 2, dfuDNLOAD_SYNC: 3, dfuDNBUSY: 4, dfuDNLOAD_IDLE: 5,
  dfuMANIFEST_SYNC: 6, dfuMANIFEST: 7, dfuMANIFEST_WAIT_RESET: 8, dfuUPLOAD_IDLE: 9, dfuERROR: 10,
} as const;
export const STATUS = {
  OK: 0, errTARGET: 1, errFILE: 2, errWRITE: 3, errERASE: 4, errCHECK_ERASED: 5, errPROG: 6,
  errVERIFY: 7, errADDRESS: 8, errNOTDONE: 9, errFIRMWARE: 10, errVENDOR: 11, errUSBR: 12,
  errPOR: 13, errUNKNOWN: 14, errSTALLEDPKT: 15,
} as const;
export const TRANSFER = 4096;

export interface DfuStatus { status: number; pollMs: number; state: number }

export class DfuRequests {
  constructor(readonly host: ControlHost, readonly iface = 0) {}

  out(req: number, value: number, data?: Uint8Array): ControlResult {
    return this.host.control({ bmRequestType: 0x21, bRequest: req, wValue: value, wIndex: this.iface, wLength: data?.length ?? 0 }, data);
  }
  in(req: number, value: number, length: number): ControlResult {
    return this.host.control({ bmRequestType: 0xa1, bRequest: req, wValue: value, wIndex: this.iface, wLength: length });
  }

  getStatus(): DfuStatus {
    const r = this.in(DFU.GETSTATUS, 0, 6);
    if (r.status !== "ok" || r.data.length !== 6) throw new Error(`GETSTATUS failed: ${r.status} (${r.data.length} bytes)`);
    return { status: r.data[0], pollMs: r.data[1] | (r.data[2] << 8) | (r.data[3] << 16), state: r.data[4] };
  }
  getState(): number {
    const r = this.in(DFU.GETSTATE, 0, 1);
    if (r.status !== "ok") throw new Error(`GETSTATE failed: ${r.status}`);
    return r.data[0];
  }
  clrStatus() { return this.out(DFU.CLRSTATUS, 0).status; }
  abort() { return this.out(DFU.ABORT, 0).status; }
  dnload(block: number, data: Uint8Array) { return this.out(DFU.DNLOAD, block, data).status; }
  upload(block: number, length: number) { return this.in(DFU.UPLOAD, block, length); }

  /** GETSTATUS, sleeping the poll timeout each time as dfu-util does, until the state is not `busy`. */
  pollWhile(busy: number[], limit = 10000): DfuStatus {
    for (let i = 0; i < limit; i++) {
      const s = this.getStatus();
      this.host.sleep(s.pollMs);
      if (!busy.includes(s.state)) return s;
    }
    throw new Error("device stays busy");
  }

  /** A DfuSe command as dfu-util sends it: DNLOAD block 0, then GETSTATUS until it is done. */
  command(bytes: number[]): DfuStatus {
    const st = this.dnload(0, Uint8Array.from(bytes));
    if (st !== "ok") throw new Error(`DfuSe command ${bytes[0].toString(16)}: ${st}`);
    const first = this.getStatus();
    if (first.state !== ST.dfuDNBUSY) return first;
    this.host.sleep(first.pollMs);
    return this.pollWhile([ST.dfuDNBUSY]);
  }
  setAddress(addr: number) { return this.command([0x21, ...le32(addr)]); }
  erase(addr: number) { return this.command([0x41, ...le32(addr)]); }
  massErase() { return this.command([0x41]); }

  /** One data chunk at the pointer (block 2), then GETSTATUS until the device can take more. */
  chunk(data: Uint8Array): DfuStatus {
    const st = this.dnload(2, data);
    if (st !== "ok") throw new Error(`DNLOAD: ${st}`);
    return this.pollWhile([ST.dfuDNBUSY, ST.dfuDNLOAD_SYNC]);
  }

  /** The whole DfuSe download dfu-util does for `-s addr:leave -D file`. */
  dfuUtilDownload(addr: number, image: Uint8Array, pageSizeAt: (a: number) => number, leave = true): DfuStatus {
    for (let a = addr - (addr % pageSizeAt(addr)); a < addr + image.length; a += pageSizeAt(a)) {
      const s = this.erase(a);
      if (s.state === ST.dfuERROR) return s;
    }
    for (let off = 0; off < image.length; off += TRANSFER) {
      let s = this.setAddress(addr + off);
      if (s.state === ST.dfuERROR) return s;
      s = this.chunk(image.subarray(off, off + TRANSFER));
      if (s.state === ST.dfuERROR) return s;
    }
    this.abort();
    const s = this.getStatus();
    if (!leave) return s;
    this.setAddress(addr);
    this.dnload(2, new Uint8Array(0));
    const done = this.pollWhile([ST.dfuMANIFEST_SYNC]);
    // dfu-util is done at dfuMANIFEST; the board verifies, records and leaves on its own.
    if (done.state === ST.dfuMANIFEST) this.waitGone();
    return done;
  }

  /** Let the board run (host asleep) until its device has gone, at most `ms`. */
  waitGone(ms = 10_000): boolean {
    for (let t = 0; t < ms && this.host.present(); t += 5) this.host.sleep(5);
    return !this.host.present();
  }

  /** dfu-util's upload of `length` bytes at `addr`. */
  dfuUtilUpload(addr: number, length: number): Uint8Array {
    this.setAddress(addr);
    this.abort();
    this.getStatus();
    const out = new Uint8Array(length);
    let got = 0;
    for (let block = 2; got < length; block++) {
      const r = this.upload(block, Math.min(TRANSFER, length - got));
      if (r.status !== "ok") throw new Error(`UPLOAD block ${block}: ${r.status}`);
      out.set(r.data, got);
      got += r.data.length;
      if (r.data.length < Math.min(TRANSFER, length - got + r.data.length)) break;
    }
    this.abort();
    return out.subarray(0, got);
  }
}

export function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Deterministic pseudo-random bytes (xorshift32), so tests need no seed library. */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export class Rng {
  private x: number;
  constructor(seed: number) { this.x = seed >>> 0 || 1; }
  next(): number { let x = this.x; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; this.x = x >>> 0; return this.x; }
  int(n: number): number { return this.next() % n; }
}
