// `npm start`: a local registry with token auth (distribution 2.8.2 via the test fixture, CORS
// enabled), and a static server for www/ and pkg/ on 127.0.0.1. Ctrl-C stops everything.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { startDistribution } from "../tests/fixtures/distribution.mjs";
import { log, root } from "./lib.mjs";

const port = Number(process.env.PORT ?? 8080);
const registry = await startDistribution({ cors: true });
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml" };

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/config.json") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ registry: registry.corsHost, images: Object.keys(registry.images ?? {}), user: registry.users?.tester?.username }));
    return;
  }
  const [base, rel] = url.pathname.startsWith("/pkg/") ? [join(root, "pkg"), url.pathname.slice(5)] : [join(root, "www"), url.pathname.slice(1) || "index.html"];
  const file = normalize(join(base, decodeURIComponent(rel)));
  if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
  createReadStream(file).pipe(res);
});
server.listen(port, "127.0.0.1", () => {
  log(`demo on http://127.0.0.1:${port}/  (local registry ${registry.corsHost}, token server ${registry.realm})`);
  log("Ctrl-C to stop");
});
const stop = async () => {
  server.close();
  await registry.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
