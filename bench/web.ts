// The web page's weight and first-load time: the bundle as built (and gzipped, as a static host
// would serve it), and the time Debian's chromium takes from navigation to the load event, from
// a fresh browser context each time (nothing cached), served on localhost. Wall-clock time on
// this machine, so a benchmark figure only, never a test.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildWeb } from "../tools/web/build";
import { serveWeb } from "../tools/web/serve";

const CHROMIUM = "/usr/bin/chromium";

export async function webPage(loads = 5) {
  const dir = await buildWeb(join(import.meta.dirname, "..", "build", "web-bench"));
  const files = ["index.html", "style.css", "app.js"].map((f) => join(dir, f));
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  const gzipBytes = files.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const scriptBytes = statSync(join(dir, "app.js")).size;
  if (!existsSync(CHROMIUM)) return { bytes, gzipBytes, scriptBytes, firstLoadMs: null as number | null, note: "no chromium: npm run setup" };
  const { chromium } = await import("playwright-core");
  const { server, url } = await serveWeb(0, dir);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const times: number[] = [];
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "load" });
      times.push(await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return nav.loadEventEnd - nav.startTime;
      }));
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  times.sort((a, b) => a - b);
  return { bytes, gzipBytes, scriptBytes, firstLoadMs: times[Math.floor(times.length / 2)], note: `median of ${loads} loads, fresh context each, localhost` };
}

if (process.argv[1] === import.meta.filename) console.log(await webPage());
