// Part 3, Node: one fresh process. Times the import of the package (by name, from the consumer
// folder that has the packed tarball installed) and the first cached-path call. The token is
// primed through an in-process `fetch` stub, so no socket is involved and only the package's
// own start-up is measured. Prints one JSON line. Usage: node coldstart-child.mjs <impl> <consumer>
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [impl, consumer] = process.argv.slice(2);
const REF = "127.0.0.1:9/bench/cold/app:1"; // port 9 (discard) is never contacted: the stub answers
const stub = async (url) =>
  String(url).endsWith("/v2/")
    ? new Response("{}", { status: 401, headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1:9/token",service="stub"' } })
    : new Response(JSON.stringify({ token: "stub-token", expires_in: 300 }), { headers: { "content-type": "application/json" } });

// Node loads its fetch implementation (undici) lazily, on first use of fetch/Response: about
// 90 ms here. Both implementations need it, neither ships it, so it is loaded before the clock.
void globalThis.Response;
void globalThis.fetch;
new Response("");

const t0 = performance.now(); // ms since this process started
const mod = impl === "baseline" ? await import("./baseline.mjs") : await import(pathToFileURL(join(consumer, "load.mjs")).href);
const t1 = performance.now();
const client = impl === "baseline" ? mod.createCachedBaseline({ fetch: stub }) : new mod.RegistryClient({ fetch: stub });
await client.getToken(REF);
const t2 = performance.now();
const token = await client.getToken(REF);
const t3 = performance.now();
if (token !== "stub-token") throw new Error(`unexpected token ${token}`);
console.log(JSON.stringify({ nodeBoot: t0, import: t1 - t0, prime: t2 - t1, cached: t3 - t2, total: t3 - t0 }));
