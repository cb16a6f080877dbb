// Part 6, one fresh process: 100 concurrent flights (100 repositories, so nothing is shared)
// against a token server that answers each with 1 MiB of `[[],[],…]`, the body that cost a tree
// of ~25 MB per flight when token bodies were parsed whole. wasm memory never shrinks, so what
// matters is how far it grows: measured from the instance's `memory` export before and after.
// Prints one JSON line. Usage: node hostile-memory-child.mjs <consumer>
import { createServer } from "node:http";
import { loadWithMemory } from "./load-with-memory.mjs";

const [consumer] = process.argv.slice(2);
const FLIGHTS = 100;
const BODY = Buffer.from(`[${Array.from({ length: (1 << 20) / 3 }, () => "[]").join(",")}]`);

const { pkg, memory } = await loadWithMemory(consumer);

let tokenRequests = 0;
const server = createServer((req, res) => {
  if (req.url === "/v2/") {
    res.writeHead(401, { "WWW-Authenticate": `Bearer realm="http://${req.headers.host}/token",service="hostile"` });
    res.end();
    return;
  }
  tokenRequests++;
  res.writeHead(200, { "Content-Type": "application/json", "Content-Length": BODY.length });
  // Written in 64 KiB pieces, as a socket delivers it.
  for (let i = 0; i < BODY.length; i += 65536) res.write(BODY.subarray(i, i + 65536));
  res.end();
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const host = `127.0.0.1:${server.address().port}`;

const client = new pkg.RegistryClient();
await client.getToken(`${host}/warm/up`).catch(() => {}); // instantiate, cache the challenge
tokenRequests = 0;
const before = memory?.buffer.byteLength ?? null;
const t = performance.now();
const results = await Promise.allSettled(Array.from({ length: FLIGHTS }, (_, i) => client.getToken(`${host}/hostile/repo-${i}`)));
const ms = performance.now() - t;
const after = memory?.buffer.byteLength ?? null;
server.close();
server.closeAllConnections?.();
const codes = {};
for (const r of results) {
  const code = r.status === "fulfilled" ? "resolved" : (r.reason?.code ?? String(r.reason));
  codes[code] = (codes[code] ?? 0) + 1;
}
console.log(JSON.stringify({ flights: FLIGHTS, bodyBytes: BODY.length, tokenRequests, ms, before, after, grown: before === null ? null : after - before, codes }));
