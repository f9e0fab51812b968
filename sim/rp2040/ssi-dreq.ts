// DMA channels paced by the SSI's requests, DREQ_XIP_SSITX (38) and DREQ_XIP_SSIRX (39): rp2040js
// knows the numbers (its DREQChannel) but nothing raises them. A channel whose TREQ_SEL is one of
// them transfers when the SSI model says the request is up (sim/rp2040/ssi.ts dreqDelayNs: the
// DW_apb_ssi's levels in DMACR, DMATDLR and DMARDLR), at most one transfer per clk_sys cycle
// (RP2040 datasheet 2.5.1: the DMA moves one word per cycle at best), and waits while it is down
// until the CPU changes something in the SSI.
import type { RP2040 } from "rp2040js";
import type { Rp2040Flash } from "./ssi";

export const DREQ_XIP_SSITX = 38, DREQ_XIP_SSIRX = 39;

interface Channel {
  treqValue: number; active: number | boolean;
  scheduleTransfer: () => void; transferAlarm: { schedule(ns: number): void };
}

/** Returns the hook the SSI calls when its state changed (SsiHost.dreqChanged). */
export function installSsiDreq(mcu: RP2040, ssi: () => Rp2040Flash): () => void {
  const dma = mcu.dma as unknown as { channels: Channel[] };
  const paced = (ch: Channel) => ch.treqValue === DREQ_XIP_SSITX || ch.treqValue === DREQ_XIP_SSIRX;
  const waiting = new Set<Channel>(); // paced, active, request down: nothing scheduled
  for (const ch of dma.channels) {
    const schedule = ch.scheduleTransfer.bind(ch);
    ch.scheduleTransfer = () => {
      waiting.delete(ch);
      if (!paced(ch)) return schedule();
      const ns = ssi().dreqDelayNs(ch.treqValue);
      if (ns === null) waiting.add(ch);
      else ch.transferAlarm.schedule(Math.max(ns, 1e9 / mcu.clkSys));
    };
  }
  return () => {
    for (const ch of [...waiting]) if (ch.active && paced(ch)) ch.scheduleTransfer(); else waiting.delete(ch);
  };
}
