// `npm run web`: build the page and serve it on localhost (WebUSB needs a secure context, and
// http://localhost is one).
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { buildWeb } from "./build";

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

export async function serveWeb(port = 8040, dir?: string): Promise<{ server: Server; url: string }> {
  const root = await buildWeb(dir);
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(root, path === "/" ? "index.html" : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return { server, url: `http://localhost:${addr.port}/` };
}

if (process.argv[1] === import.meta.filename) {
  const port = Number(process.argv[2] ?? 8040);
  const { url } = await serveWeb(port);
  console.log(`qspiboot flasher page: ${url} (Chrome or Edge; Ctrl-C stops)`);
}
