// Progress for long work: a bar with bytes, throughput and ETA on a terminal, plain lines
// otherwise (CI logs, pipes), nothing with --json. Times are those of the flasher's clock:
// wall time for real boards, simulated time for the simulator.
import cliProgress from "cli-progress";
import type { Progress } from "../dfu/client";

export interface Reporter { update(p: Progress): void; stop(): void }

const kib = (n: number) => (n / 1024).toFixed(1);

/** For several boards: the shortest tail of each serial (at least `min` characters) that no other
 *  board shares; boards of one batch share the tail of an STM32 UID (the lot number), so a
 *  fixed-length tail does not tell them apart. One board needs no label. */
export function boardLabels(serials: string[], min = 8): string[] {
  if (serials.length < 2) return serials.map(() => "");
  return serials.map((s, i) => {
    for (let n = Math.min(min, s.length); n < s.length; n++) {
      const tail = s.slice(-n);
      if (serials.every((o, j) => j === i || !o.endsWith(tail))) return tail;
    }
    return serials.indexOf(s) === i && serials.lastIndexOf(s) === i ? s : `${s}#${i + 1}`;
  });
}

export function makeReporters(labels: string[], mode: "tty" | "plain" | "json", now: () => number): Reporter[] {
  if (mode === "json") return labels.map(() => ({ update() {}, stop() {} }));
  if (mode === "plain") {
    return labels.map((label) => {
      let lastPhase = "", lastPct = -1;
      const t0 = now();
      return {
        update(p) {
          const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
          if (p.phase !== lastPhase || pct >= lastPct + 25 || (pct === 100 && lastPct !== 100)) {
            const bytes = p.total > 1 ? ` (${kib(p.done)}/${kib(p.total)} KiB)` : "";
            console.log(`${label ? label + ": " : ""}${p.phase} ${pct}%${bytes}, ${((now() - t0) / 1000).toFixed(1)} s`);
            lastPhase = p.phase; lastPct = pct;
          }
        },
        stop() {},
      };
    });
  }
  const multi = new cliProgress.MultiBar({
    format: "{label} {phase} |{bar}| {percentage}% {doneK}/{totalK} KiB {rate} KiB/s ETA {etaS}s",
    hideCursor: true, clearOnComplete: false, barsize: 30,
  }, cliProgress.Presets.shades_classic);
  let running = labels.length;
  return labels.map((label) => {
    const bar = multi.create(1, 0, { label, phase: "", doneK: "0", totalK: "0", rate: "0", etaS: "-" });
    let t0 = now(), phase = "", stopped = false;
    return {
      update(p) {
        if (p.phase !== phase) { phase = p.phase; t0 = now(); }
        const secs = Math.max(1e-3, (now() - t0) / 1000);
        const rate = p.done / 1024 / secs;
        bar.setTotal(Math.max(1, p.total));
        bar.update(p.done, {
          label, phase: p.phase.padEnd(8), doneK: kib(p.done), totalK: kib(p.total), rate: rate.toFixed(0),
          etaS: rate > 0 ? ((p.total - p.done) / 1024 / rate).toFixed(1) : "-",
        });
      },
      // The whole display ends when the last board's bar does, whichever board that is.
      stop() { if (stopped) return; stopped = true; bar.stop(); if (--running === 0) multi.stop(); },
    };
  });
}
