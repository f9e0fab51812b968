// A command line tool run as a child process, its output read line by line as it comes, so that
// a test acts on what the tool has said (no sleeps).
import { spawn, type ChildProcess } from "node:child_process";

export class Child {
  readonly proc: ChildProcess;
  out = "";
  err = "";
  readonly exited: Promise<number | null>;
  private waiters: { stream: "out" | "err"; re: RegExp; from: number; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];

  constructor(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.proc = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, FORCE_COLOR: "0", ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdout!.on("data", (d) => { this.out += d; this.check(); });
    this.proc.stderr!.on("data", (d) => { this.err += d; this.check(); });
    this.exited = new Promise((resolve) => this.proc.on("close", (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`exited (${code}) before printing ${w.re}:\n--- stdout\n${this.out}--- stderr\n${this.err}`));
      resolve(code);
    }));
  }

  private check() {
    this.waiters = this.waiters.filter((w) => {
      const text = w.stream === "out" ? this.out : this.err;
      const m = text.slice(w.from).match(w.re);
      if (m) w.resolve(m);
      return !m;
    });
  }

  /** Resolves when `re` matches the stream's text from offset `from` on (use /m for lines). */
  waitFor(stream: "out" | "err", re: RegExp, from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => { this.waiters.push({ stream, re, from, resolve, reject }); this.check(); });
  }

  signal(sig: NodeJS.Signals) { this.proc.kill(sig); }
}
