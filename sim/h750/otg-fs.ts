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
// - bulk endpoints 1..3 (57.13.x, 57.15.x; DIEPCTLx/DOEPCTLx, DIEPINTx/DOEPINTx, DIEPTSIZx/
//   DOEPTSIZx, DTXFSTSx, DIEPTXFx, 57.14.16-57.14.58): a token is answered only while USBAEP is
//   set (the core clears it on endpoints 1..3 at a bus reset); STALL answers STALL (only
//   software clears it); with EPENA clear or NAK set (SNAK, NAKSTS) the answer is NAK;
//   CNAK/SNAK/SD0PID/SODDFRM are write-only actions (SD0PID sets the DPID toggle to DATA0,
//   SODDFRM to DATA1); each endpoint keeps its DATA0/DATA1 toggle (DPID, read back in bit 16)
//   and flips it per packet; an OUT packet with the wrong toggle is a retry whose ACK the host
//   missed: ACKed and dropped (USB 2.0 8.6.4);
//   IN: a packet (min(MPSIZ, XFRSIZ) bytes, 0 for a ZLP) leaves only when all of it is in the
//   endpoint's TX FIFO (its depth is DIEPTXFx.INEPTXFD; DTXFSTSx says the free words); PKTCNT
//   and XFRSIZ count down as packets leave; at PKTCNT 0, EPENA clears and DIEPINTx.XFRC is set;
//   SNAK sets DIEPINTx.INEPNE at once (nothing is on the wire in the model);
//   OUT: a packet is taken when the RX FIFO (GRXFSIZ.RXFD words, one status word per entry) has
//   room, else NAKed; it becomes an "OUT data" entry with EPNUM and DPID; PKTCNT and XFRSIZ
//   count down; at PKTCNT 0 or a short packet the endpoint NAKs and an "OUT transfer completed"
//   entry follows, whose pop clears EPENA and sets DOEPINTx.XFRC;
//   EPDIS on an enabled endpoint disables it and sets EPDISD; the manual asks for the endpoint's
//   NAK (IN: SNAK then INEPNE) or the global OUT NAK (OUT) first, and `violations` records an
//   EPDIS without it;
//   global OUT NAK (DCTL.SGONAK/CGONAK, 57.15.x "Setting the global OUT NAK"): every OUT token
//   is NAKed (SETUPs are not), a "Global OUT NAK" entry (PKTSTS 1) goes into the RX FIFO and
//   GINTSTS.GONAKEFF is set when the firmware pops it; DCTL.GONSTS shows the mode; CGONAK ends it;
//   GRSTCTL.TXFFLSH flushes TX FIFO TXFNUM (0x10: all).
// Simplifications: the RX FIFO's size is enforced for bulk OUT packets only, EP0's DATA0/1
// toggling is the core's own business (the host sees only completed packets), DIEPINTx.TXFE of
// endpoints 1..3 is not modelled (ST's SVD resets it to 0, unlike EP0's), an endpoint without
// USBAEP NAKs rather than staying silent, SOF/suspend are absent, the 25 ms device-mode switch
// is immediate.
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

export type HostBulkIn = { kind: "data"; data: Uint8Array; pid: 0 | 1 } | { kind: "nak" } | { kind: "stall" };

const EPENA = 1 << 31, EPDIS = 1 << 30, SODDFRM = 1 << 29, SD0PID = 1 << 28, SNAK_ = 1 << 27, CNAK_ = 1 << 26;
const STALL = 1 << 21, NAKSTS = 1 << 17, DPID = 1 << 16, USBAEP = 1 << 15;
const SGONAK = 1 << 9, CGONAK = 1 << 10, GONSTS = 1 << 3, GONAKEFF = 1 << 7;
const XFRC = 1, EPDISD = 1 << 1, INEPNE = 1 << 6;
const PKT_GONAK = 1,
PKT_OUT = 2, PKT_OUT_DONE = 3, PKT_SETUP_DONE = 4, PKT_SETUP = 6;

export class OtgFsModel {
  regs = new Uint32Array(0x1000 / 4);
  private rx: RxEntry[] = [];
  private rxData: number[] = [];
  private txq: number[][] = [[], [], [], []]; // TX FIFOs 0..3, words
  private get tx(): number[] { return this.txq[0]; }
  private toggle = { in: [0, 0, 0, 0], out: [0, 0, 0, 0] };
  private gonak = false;              // DCTL.SGONAK given, not yet CGONAK
  private gonakEff = false;           // its RX FIFO entry popped: GINTSTS.GONAKEFF
  /** Register-programming rules of the manual the firmware broke (e.g. EPDIS without NAK). */
  violations: string[] = [];
  /** Bulk OUT packets ACKed and dropped for a repeated toggle. */
  toggleDrops = 0;
  private address = 0;                // the address the device answers at
  private pendingAddress = -1;
  private enumerated = false;         // a bus reset has set DSTS.ENUMSPD
  stats = { setups: 0, inPackets: 0, outPackets: 0, stalls: 0, epDisables: 0 };

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
    this.rx = []; this.rxData = []; this.txq = [[], [], [], []];
    this.toggle = { in: [0, 0, 0, 0], out: [0, 0, 0, 0] };
    this.gonak = this.gonakEff = false;
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
    if (off >= 0x1000 && off < 0x5000) return this.rxData.shift() ?? 0;
    const ep = epOf(off);
    if (ep) {
      const { n, dir, reg } = ep;
      if (reg === 0x00) return (this.r(off) & ~DPID) | (this.toggle[dir][n] ? DPID : 0); // DxEPCTLn.DPID
      if (reg === 0x18 && dir === "in") return Math.max(0, this.txDepth(n) - this.txq[n].length); // DTXFSTSn
      return this.r(off);
    }
    switch (off) {
      case 0x014: { // GINTSTS: RXFLVL, NPTXFE, PTXFE, IEPINT, OEPINT, GONAKEFF are summaries
        let v = this.r(0x014) & ~((1 << 4) | (1 << 5) | (1 << 26) | (1 << 18) | (1 << 19) | GONAKEFF);
        if (this.rx.length) v |= 1 << 4;
        if (!this.tx.length) v |= (1 << 5) | (1 << 26);
        if (this.r(0x908) & ~0x80) v |= 1 << 18;
        if (this.r(0xb08) & ~0x80) v |= 1 << 19;
        for (let n = 1; n < 4; n++) {
          if (this.r(0x908 + 0x20 * n) & ~0x80) v |= 1 << 18;
          if (this.r(0xb08 + 0x20 * n)) v |= 1 << 19;
        }
        if (this.gonakEff) v |= GONAKEFF;
        return v >>> 0;
      }
      case 0x804: return ((this.r(0x804) & ~GONSTS) | (this.gonak ? GONSTS : 0)) >>> 0;
      case 0x908: return ((this.r(0x908) & ~0x80) | (this.tx.length ? 0 : 0x80)) >>> 0; // TXFE
      case 0x01c: { const e = this.rx[0]; return e ? e.status : 0; }
      case 0x020: {
        const e = this.rx.shift();
        if (!e) return 0;
        this.rxData = e.words.slice();
        const kind = (e.status >>> 17) & 15, epn = e.status & 15;
        if (kind === PKT_GONAK) { this.gonakEff = true; return e.status; }
        if (kind === PKT_OUT_DONE && epn) {
          this.set(0xb00 + 0x20 * epn, this.r(0xb00 + 0x20 * epn) & ~EPENA);
          this.set(0xb08 + 0x20 * epn, this.r(0xb08 + 0x20 * epn) | XFRC);
          return e.status;
        }
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

  private txDepth(n: number): number { return (this.r(n ? 0x104 + 4 * (n - 1) : 0x028) >>> 16) & 0xffff; }

  private writeReg(off: number, value: number): void {
    if (off >= 0x1000 && off < 0x5000) {
      const n = (off >> 12) - 1;
      if (this.txq[n].length < this.txDepth(n)) this.txq[n].push(value); // beyond the FIFO: lost, as on the bus
      return;
    }
    const ep = epOf(off);
    if (ep) { this.writeEp(ep.n, ep.dir, ep.reg, off, value); return; }
    switch (off) {
      case 0x010:
        if (value & 1) { this.coreReset(); this.enumerated = false; return; }
        if (value & (1 << 4)) { this.rx = []; this.rxData = []; }
        if (value & (1 << 5)) {
          const num = (value >>> 6) & 0x1f;
          if (num === 0x10) this.txq = [[], [], [], []]; else if (num < 4) this.txq[num] = [];
        }
        return; // self-clearing, AHBIDL stays
      case 0x804: // DCTL: SGONAK/CGONAK are actions (write-only), GONSTS is status
        if (value & SGONAK && !this.gonak) { this.gonak = true; this.rx.push({ status: PKT_GONAK << 17, words: [] }); }
        if (value & CGONAK) { this.gonak = false; this.gonakEff = false; }
        this.set(0x804, value & ~(SGONAK | CGONAK | GONSTS | (1 << 2) | (1 << 7) | (1 << 8)));
        return;
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

  /** Endpoint n (1..3) registers: control (0x00), interrupts (0x08), transfer size (0x10). */
  private writeEp(n: number, dir: "in" | "out", reg: number, off: number, value: number): void {
    if (reg === 0x08) { this.set(off, this.r(off) & ~(value & ~0x80)); return; } // rc_w1; TXFE read-only
    if (reg === 0x10) { this.set(off, value & ((0x3ff << 19) | 0x7ffff)); return; }
    if (reg !== 0x00) return; // DTXFSTSn: read-only
    const old = this.r(off);
    const rw = 0x7ff | USBAEP | (3 << 18) | STALL | (dir === "in" ? 0xf << 22 : 1 << 20);
    let v = (old & (EPENA | NAKSTS)) | (value & rw);
    if (value & EPENA) v |= EPENA;
    if (value & SNAK_) { v |= NAKSTS; if (dir === "in") this.set(off + 8, this.r(off + 8) | INEPNE); }
    if (value & CNAK_) v &= ~NAKSTS;
    if (value & SD0PID) this.toggle[dir][n] = 0;
    if (value & SODDFRM) this.toggle[dir][n] = 1;
    if (value & EPDIS && old & EPENA) {
      const nakFirst = dir === "in" ? (this.r(off + 8) & INEPNE) !== 0 : this.gonakEff;
      if (!nakFirst) this.violations.push(`EPDIS on ${dir === "in" ? "IN" : "OUT"} endpoint ${n} without ${dir === "in" ? "NAK effective (SNAK, INEPNE)" : "the global OUT NAK effective (SGONAK, GONAKEFF)"} (RM0433 57.15)`);
      v &= ~EPENA;
      this.stats.epDisables++;
      this.set(off + 8, this.r(off + 8) | EPDISD);
    }
    this.set(off, v);
  }

  // ---- host side ----
  busReset(): void {
    this.set(0x014, this.r(0x014) | (1 << 12) | (1 << 13)); // USBRST, ENUMDNE
    for (let n = 1; n < 4; n++) for (const b of [0x900, 0xb00]) this.set(b + 0x20 * n, this.r(b + 0x20 * n) & ~USBAEP);
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

  /** An IN token on bulk endpoint n (1..3). */
  bulkIn(addr: number, n: number): HostBulkIn {
    if (!this.forUs(addr)) return { kind: "nak" };
    const off = 0x900 + 0x20 * n, ctl = this.r(off);
    if (!(ctl & USBAEP)) return { kind: "nak" };
    if (ctl & STALL) { this.stats.stalls++; return { kind: "stall" }; }
    if (!(ctl & EPENA) || ctl & NAKSTS) return { kind: "nak" };
    const tsiz = this.r(off + 0x10);
    const left = tsiz & 0x7ffff, pkts = (tsiz >>> 19) & 0x3ff;
    if (!pkts) return { kind: "nak" };
    const len = Math.min(ctl & 0x7ff, left), words = Math.ceil(len / 4);
    const fifo = this.txq[n];
    if (fifo.length < words) return { kind: "nak" }; // the whole packet must be in the FIFO
    const data = new Uint8Array(len);
    for (let i = 0; i < words; i++) {
      const w = fifo.shift()!;
      for (let j = 0; j < 4 && 4 * i + j < len; j++) data[4 * i + j] = (w >>> (8 * j)) & 0xff;
    }
    const pid = this.toggle.in[n] as 0 | 1;
    this.toggle.in[n] ^= 1;
    this.set(off + 0x10, (tsiz & ~((0x3ff << 19) | 0x7ffff)) | ((pkts - 1) << 19) | (left - len));
    if (pkts === 1) { this.set(off, ctl & ~EPENA); this.set(off + 8, this.r(off + 8) | XFRC); }
    this.stats.inPackets++;
    return { kind: "data", data, pid };
  }

  /** An OUT packet on bulk endpoint n (1..3) with data toggle `pid`. */
  bulkOut(addr: number, n: number, data: Uint8Array, pid: 0 | 1): HostOut {
    if (!this.forUs(addr)) return "nak";
    const off = 0xb00 + 0x20 * n, ctl = this.r(off);
    if (!(ctl & USBAEP)) return "nak";
    if (ctl & STALL) { this.stats.stalls++; return "stall"; }
    if (this.gonak || !(ctl & EPENA) || ctl & NAKSTS) return "nak";
    const mps = ctl & 0x7ff;
    if (data.length > mps) return "stall"; // babble
    const tsiz = this.r(off + 0x10);
    const pkts = (tsiz >>> 19) & 0x3ff;
    if (!pkts) return "nak";
    const words: number[] = [];
    for (let i = 0; i < data.length; i += 4) {
      let w = 0;
      for (let j = 0; j < 4 && i + j < data.length; j++) w |= data[i + j] << (8 * j);
      words.push(w >>> 0);
    }
    const used = this.rx.reduce((a, e) => a + 1 + e.words.length, 0) + this.rxData.length;
    if (used + 2 + words.length > (this.r(GRXFSIZ) & 0xffff)) return "nak"; // no room in the RX FIFO
    if (pid !== this.toggle.out[n]) { this.toggleDrops++; return "ack"; }
    this.toggle.out[n] ^= 1;
    this.rx.push({ status: n | (data.length << 4) | ((pid ? 2 : 0) << 15) | (PKT_OUT << 17), words });
    this.set(off + 0x10, (tsiz & ~((0x3ff << 19) | 0x7ffff)) | ((pkts - 1) << 19) | Math.max((tsiz & 0x7ffff) - data.length, 0));
    if (pkts === 1 || data.length < mps) {
      this.rx.push({ status: n | (PKT_OUT_DONE << 17), words: [] });
      this.set(off, ctl | NAKSTS);
    }
    this.stats.outPackets++;
    return "ack";
  }

  /** Whether bulk endpoint `ep` (address) is stalled. */
  bulkHalted(ep: number): boolean { return (this.r((ep & 0x80 ? 0x900 : 0xb00) + 0x20 * (ep & 0x7f)) & STALL) !== 0; }
}

/** Endpoint 1..3 registers: DIEPCTLn/INTn/TSIZn/DTXFSTSn at 0x900 + 0x20n, DOEP* at 0xB00 + 0x20n. */
function epOf(off: number): { n: number; dir: "in" | "out"; reg: number } | null {
  for (const [base, dir] of [[0x900, "in"], [0xb00, "out"]] as const) {
    const rel = off - base;
    if (rel >= 0x20 && rel < 0x80 && [0x00, 0x08, 0x10, 0x18].includes(rel & 0x1f)) {
      if (dir === "out" && (rel & 0x1f) === 0x18) return null;
      return { n: rel >> 5, dir, reg: rel & 0x1f };
    }
  }
  return null;
}
