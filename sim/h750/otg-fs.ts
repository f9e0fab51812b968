// USB2 OTG_FS of the STM32H750 (Synopsys DWC2 core, RM0433 57) in device mode, endpoint 0, as
// far as enumeration and control transfers need; the host side is driven by sim/h750/usb-host.ts.
// Register addresses, reset values and access come from ST's SVD through sim/h750/vendor.ts
// (GUSBCFG 0x00000A00: PHYSEL 0, the ULPI interface; DCTL 0: SDIS clear). Modelled, from the manual:
// - GRSTCTL (57.14.5): CSRST resets the core, its interrupts and FIFOs and clears itself; the
//   PHY selection in GUSBCFG and the transceiver setting in GCCFG are kept, since the core is
//   reset precisely to start on the PHY just selected (ST's LL USB_CoreInit and TinyUSB's
//   phy_fs_init select it, reset, and never write it again); RXFFLSH/TXFFLSH empty the FIFOs
//   and clear themselves; AHBIDL reads 1;
// - the device is on the bus (pull-up on) only when it runs on the embedded full-speed PHY
//   (GUSBCFG.PHYSEL = 1: with 0 the core drives a ULPI PHY the WeAct board does not have, so the
//   host sees nothing; PHYSEL reads back as written, though the SVD calls it write-only: ST's LL
//   read-modify-writes GUSBCFG after selecting the PHY, which works on the chip only if it does),
//   is in device mode (GUSBCFG.FDMOD), the transceiver is on (GCCFG.PWRDWN),
//   a session is valid (GOTGCTL B-valid override) and DCTL.SDIS is clear;
// - bus reset: GINTSTS.USBRST, then ENUMDNE with DSTS.ENUMSPD = full speed (57.4.5);
// - SETUP (57.13.10): accepted whatever EP0's state, as an RX FIFO entry "SETUP data" (8 bytes)
//   then "SETUP done"; DOEPINT0.STUP when the firmware pops the latter; EP0's STALL bits clear;
// - OUT data: taken only when DOEPCTL0.EPENA is set and NAK is cleared (CNAK), else NAKed (STALL
//   if stalled); an RX FIFO entry "OUT data" with the bytes, then "OUT done"; EPENA clears and
//   DOEPINT0.XFRC is set when "OUT done" is popped; DOEPTSIZ0 counts down;
// - IN: with DIEPCTL0.EPENA, the next packet (min(64, XFRSIZ) bytes) leaves from EP0's TX FIFO;
//   when PKTCNT reaches 0, EPENA clears and DIEPINT0.XFRC is set; STALL answers STALL; else NAK;
// - GRXSTSP pops a status word (57.14.10: EPNUM, BCNT, DPID, PKTSTS), FIFO reads at 0x1000 pop
//   that packet's data words; GINTSTS.RXFLVL says the RX FIFO is not empty, NPTXFE/PTXFE and
//   DIEPINT0.TXFE that EP0's TX FIFO is;
// - interrupt flags are cleared by writing 1 (rc_w1, 57.14.6, 57.14.47; the SVD marks them
//   read-write), DCFG.DAD (57.14.38) is the address the device answers at; a new address takes
//   effect once the status stage of the SETUP that set it has completed.
// Simplifications: FIFO sizes are not enforced beyond the TX FIFO's depth, DATA0/1 toggling is
// the core's own business (the host sees only completed packets), SOF/suspend are absent, the
// 25 ms device-mode switch is immediate.
import { reg, modelResetOf, vendorRegs } from "./vendor";

const BASE = reg("OTG_GOTGCTL").address;
const off = (name: string) => reg(name).address - BASE;
const GUSBCFG = off("OTG_GUSBCFG"), GCCFG = off("OTG_GCCFG");
const GRXFSIZ = off("OTG_GRXFSIZ"), DIEPTXF0 = off("OTG_DIEPTXF0"), DCTL = off("OTG_DCTL");
const PHYSEL = 1 << 6, FDMOD = 1 << 30, PWRDWN = 1 << 16, SDIS = 1 << 1;
const OTG_RESETS: [number, number][] = [...vendorRegs()].filter(([k]) => k.startsWith("OTG_")).map(([k, r]) => [r.address - BASE, modelResetOf(k)]);
const READ_ONLY = new Set([...vendorRegs()].filter(([k, r]) => k.startsWith("OTG_") && r.access === "read-only").map(([, r]) => r.address - BASE));

export type HostIn = { kind: "data"; data: Uint8Array } | { kind: "nak" } | { kind: "stall" };
export type HostOut = "ack" | "nak" | "stall";

interface RxEntry { status: number; words: number[] }

const PKT_OUT = 2, PKT_OUT_DONE = 3, PKT_SETUP_DONE = 4, PKT_SETUP = 6;

export class OtgFsModel {
  regs = new Uint32Array(0x1000 / 4);
  private rx: RxEntry[] = [];
  private rxData: number[] = [];
  private tx: number[] = [];          // EP0 TX FIFO, words
  private address = 0;                // the address the device answers at
  private pendingAddress = -1;
  private enumerated = false;         // a bus reset has set DSTS.ENUMSPD
  stats = { setups: 0, inPackets: 0, outPackets: 0, stalls: 0 };

  /** Each time the pull-up came on: whether the FIFO sizes had been written since reset by then. */
  connects: { fifosSized: boolean }[] = [];
  private fifosWritten = 0;

  constructor() { this.coreReset(true); }

  private r(off: number): number { return this.regs[off >> 2]; }
  private set(off: number, v: number): void { this.regs[off >> 2] = v >>> 0; }

  private coreReset(powerOn = false): void {
    const keep = [GUSBCFG, GCCFG].map((o) => this.r(o));
    this.regs.fill(0);
    for (const [o, v] of OTG_RESETS) if (o < 0x1000) this.set(o, v);
    if (!powerOn) [GUSBCFG, GCCFG].forEach((o, i) => this.set(o, keep[i]));
    this.rx = []; this.rxData = []; this.tx = [];
    this.fifosWritten = 0;
  }

  /** On the bus with the pull-up on. */
  get connected(): boolean {
    const session = (this.r(0x000) & 0xc0) === 0xc0; // B-valid override enabled and valid
    const cfg = this.r(GUSBCFG);
    return (cfg & PHYSEL) !== 0 && (cfg & FDMOD) !== 0 && (this.r(GCCFG) & PWRDWN) !== 0 && session && !(this.r(DCTL) & SDIS);
  }

  // ---- firmware side ----
  read(off: number): number {
    if (off >= 0x1000 && off < 0x2000) return this.rxData.shift() ?? 0;
    switch (off) {
      case 0x014: { // GINTSTS: RXFLVL, NPTXFE, PTXFE, IEPINT, OEPINT are summaries
        let v = this.r(0x014) & ~((1 << 4) | (1 << 5) | (1 << 26) | (1 << 18) | (1 << 19));
        if (this.rx.length) v |= 1 << 4;
        if (!this.tx.length) v |= (1 << 5) | (1 << 26);
        if (this.r(0x908) & ~0x80) v |= 1 << 18;
        if (this.r(0xb08) & ~0x80) v |= 1 << 19;
        return v >>> 0;
      }
      case 0x908: return ((this.r(0x908) & ~0x80) | (this.tx.length ? 0 : 0x80)) >>> 0; // TXFE
      case 0x01c: { const e = this.rx[0]; return e ? e.status : 0; }
      case 0x020: {
        const e = this.rx.shift();
        if (!e) return 0;
        this.rxData = e.words.slice();
        const kind = (e.status >>> 17) & 15;
        if (kind === PKT_SETUP_DONE) this.set(0xb08, this.r(0xb08) | (1 << 3));                // STUP
        if (kind === PKT_OUT_DONE) {
          this.set(0xb00, this.r(0xb00) & ~(1 << 31));
          this.set(0xb08, this.r(0xb08) | 1);                                                   // XFRC
        }
        return e.status;
      }
      case 0x808: return this.enumerated ? (this.r(0x808) & ~6) | (3 << 1) : this.r(0x808); // DSTS.ENUMSPD
      case 0x918: return Math.max(0, ((this.r(0x028) >>> 16) & 0xffff) - this.tx.length); // DTXFSTS0
      default: return off < 0x1000 ? this.r(off) : 0;
    }
  }

  write(off: number, value: number): void {
    const was = this.connected;
    this.writeReg(off, value >>> 0);
    if (off === GRXFSIZ) this.fifosWritten |= 1;
    if (off === DIEPTXF0) this.fifosWritten |= 2;
    if (!was && this.connected) this.connects.push({ fifosSized: this.fifosWritten === 3 });
  }

  private writeReg(off: number, value: number): void {
    if (off >= 0x1000 && off < 0x2000) {
      const depth = (this.r(0x028) >>> 16) & 0xffff;
      if (this.tx.length < depth) this.tx.push(value); // beyond the FIFO: lost, as on the bus
      return;
    }
    switch (off) {
      case 0x010:
        if (value & 1) { this.coreReset(); this.enumerated = false; return; }
        if (value & (1 << 4)) { this.rx = []; this.rxData = []; }
        if (value & (1 << 5)) this.tx = [];
        return; // self-clearing, AHBIDL stays
      case 0x014: this.set(0x014, this.r(0x014) & ~value); return;        // rc_w1
      case 0x908: case 0xb08: this.set(off, this.r(off) & ~value); return; // rc_w1
      case 0x900: case 0xb00: {
        // EPENA, CNAK, SNAK are actions; STALL is set by software and cleared by a SETUP.
        let v = (this.r(off) & (1 << 31)) | (value & ~((1 << 26) | (1 << 27)));
        if (value & (1 << 27)) v |= 1 << 17;   // NAKSTS
        if (value & (1 << 26)) v &= ~(1 << 17);
        this.set(off, v);
        return;
      }
      case 0x800: {
        const dad = (value >>> 4) & 0x7f;
        if (dad !== ((this.r(0x800) >>> 4) & 0x7f)) this.pendingAddress = dad;
        this.set(0x800, value);
        return;
      }
      default: if (off < 0x1000 && !READ_ONLY.has(off)) this.set(off, value);
    }
  }

  // ---- host side ----
  busReset(): void {
    this.set(0x014, this.r(0x014) | (1 << 12) | (1 << 13)); // USBRST, ENUMDNE
    this.enumerated = true;
    this.address = 0;
    this.pendingAddress = -1;
  }

  private forUs(addr: number): boolean { return this.connected && addr === this.address; }

  setup(addr: number, bytes: Uint8Array): boolean {
    if (!this.forUs(addr)) return false;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
    this.rx.push({ status: (PKT_SETUP << 17) | (8 << 4), words: [dv.getUint32(0, true), dv.getUint32(4, true)] });
    this.rx.push({ status: PKT_SETUP_DONE << 17, words: [] });
    this.set(0x900, this.r(0x900) & ~(1 << 21));
    this.set(0xb00, this.r(0xb00) & ~(1 << 21));
    this.stats.setups++;
    return true;
  }

  in(addr: number): HostIn {
    if (!this.forUs(addr)) return { kind: "nak" };
    const ctl = this.r(0x900);
    if (ctl & (1 << 21)) { this.stats.stalls++; return { kind: "stall" }; }
    if (!(ctl & (1 << 31))) return { kind: "nak" };
    const tsiz = this.r(0x910);
    const left = tsiz & 0x7f, pkts = (tsiz >>> 19) & 3;
    const n = Math.min(64, left);
    const words = Math.ceil(n / 4);
    if (this.tx.length < words) return { kind: "nak" }; // the firmware has not filled the FIFO yet
    const data = new Uint8Array(n);
    for (let i = 0; i < words; i++) {
      const w = this.tx.shift()!;
      for (let j = 0; j < 4 && 4 * i + j < n; j++) data[4 * i + j] = (w >>> (8 * j)) & 0xff;
    }
    const remaining = pkts - 1;
    this.set(0x910, (tsiz & ~0x7f & ~(3 << 19)) | (left - n) | (Math.max(remaining, 0) << 19));
    if (remaining <= 0) {
      this.set(0x900, ctl & ~(1 << 31));
      this.set(0x908, this.r(0x908) | 1); // XFRC
      if (n === 0 && this.pendingAddress >= 0) { this.address = this.pendingAddress; this.pendingAddress = -1; }
    }
    this.stats.inPackets++;
    return { kind: "data", data };
  }

  out(addr: number, data: Uint8Array): HostOut {
    if (!this.forUs(addr)) return "nak";
    const ctl = this.r(0xb00);
    if (ctl & (1 << 21)) { this.stats.stalls++; return "stall"; }
    if (!(ctl & (1 << 31)) || ctl & (1 << 17)) return "nak";
    const tsiz = this.r(0xb10);
    if (data.length > 64) return "stall";
    const words: number[] = [];
    for (let i = 0; i < data.length; i += 4) {
      let w = 0;
      for (let j = 0; j < 4 && i + j < data.length; j++) w |= data[i + j] << (8 * j);
      words.push(w >>> 0);
    }
    this.rx.push({ status: (PKT_OUT << 17) | (data.length << 4), words });
    this.rx.push({ status: PKT_OUT_DONE << 17, words: [] });
    const pkts = Math.max(((tsiz >>> 19) & 3) - 1, 0);
    this.set(0xb10, (tsiz & ~(0x7f | (3 << 19))) | (Math.max((tsiz & 0x7f) - data.length, 0)) | (pkts << 19));
    this.set(0xb00, ctl | (1 << 17)); // NAK until the firmware re-arms
    this.stats.outPackets++;
    return "ack";
  }
}
