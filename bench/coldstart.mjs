// Part 3: cold start — import the package and complete the first cached-path call — in fresh
// Node processes and in fresh workerd instances (miniflare), next to the baseline doing the same.

import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export function nodeColdStart(consumer, { runs }) {
  const out = { "registry-token": [], baseline: [] };
  const once = (impl) =>
    JSON.parse(execFileSync(process.execPath, [join(here, "coldstart-child.mjs"), impl, consumer], { encoding: "utf8", timeout: 30_000 }));
  once("registry-token"); // warm the OS file cache
  once("baseline");
  for (let r = 0; r < runs; r++) for (const impl of Object.keys(out)) out[impl].push(once(impl));
  return out;
}

const STUB = `
const REF = "127.0.0.1:9/bench/cold/app:1";
const stub = async (url) =>
  String(url).endsWith("/v2/")
    ? new Response("{}", { status: 401, headers: { "www-authenticate": 'Bearer realm="http://127.0.0.1:9/token",service="stub"' } })
    : new Response(JSON.stringify({ token: "stub-token", expires_in: 300 }), { headers: { "content-type": "application/json" } });
`;

const SCRIPTS = {
  "registry-token": `import { RegistryClient } from "registry-token";
${STUB}
export default { async fetch() { const c = new RegistryClient({ fetch: stub }); await c.getToken(REF); return new Response(await c.getToken(REF)); } };`,
  baseline: `import { createCachedBaseline } from ${JSON.stringify(join(here, "baseline.mjs"))};
${STUB}
export default { async fetch() { const c = createCachedBaseline({ fetch: stub }); await c.getToken(REF); return new Response(await c.getToken(REF)); } };`,
};

/**
 * workerd freezes its clocks while a script runs, so the time is taken from outside: from
 * starting miniflare (the bundle already built; its time is subtracted) to the first answer.
 */
export async function workerdColdStart(consumer, { runs }) {
  const { startWorker } = await import("../tests/js/support/workerd.mjs");
  const out = { "registry-token": [], baseline: [] };
  const once = async (impl) => {
    const t0 = performance.now();
    const w = await startWorker({ script: SCRIPTS[impl], consumer, name: `bench-cold-${impl}` });
    const t1 = performance.now();
    try {
      const res = await w.dispatchFetch("http://worker/");
      const body = await res.text();
      const t2 = performance.now();
      if (body !== "stub-token") throw new Error(`workerd ${impl}: unexpected answer ${res.status} ${body.slice(0, 200)}`);
      const startup = t1 - t0 - w.bundle.ms;
      return { startup, firstCall: t2 - t1, total: startup + (t2 - t1), bundleMs: w.bundle.ms };
    } finally {
      await w.dispose();
    }
  };
  await once("registry-token"); // first miniflare start pays one-off setup
  for (let r = 0; r < runs; r++) for (const impl of Object.keys(out)) out[impl].push(await once(impl));
  return out;
}
