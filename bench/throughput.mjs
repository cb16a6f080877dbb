// Part 2: cached-call throughput in one process — registry-token's cached path against the
// baseline behind a `Map` — and what one JS → wasm call costs on its own.

import { createCachedBaseline, parseImageRef } from "./baseline.mjs";

async function rate(fn, calls) {
  const t = performance.now();
  for (let i = 0; i < calls; i++) await fn();
  const ms = performance.now() - t;
  return calls / (ms / 1000);
}

function nsPerCall(fn, calls) {
  const t = performance.now();
  for (let i = 0; i < calls; i++) fn();
  return ((performance.now() - t) * 1e6) / calls;
}

/** Sequential `await getToken(ref)` on a warm cache; variants interleaved run by run. */
export async function throughput(pkg, em, { runs, calls }) {
  const ref = `${em.host}/bench/throughput/app:1`;
  const client = new pkg.RegistryClient();
  await client.getToken(ref);
  await pkg.getToken(ref);
  const mapped = createCachedBaseline();
  await mapped.getToken(ref);
  const variants = {
    "registry-token `client.getToken`": () => client.getToken(ref),
    "registry-token `getToken` (module client)": () => pkg.getToken(ref),
    "registry-token `client.getToken(ref, {})` (options: no fast path)": () => client.getToken(ref, {}),
    "baseline + `Map` cache": () => mapped.getToken(ref),
  };
  for (const fn of Object.values(variants)) await rate(fn, Math.min(calls, 2000)); // warm-up (JIT)
  em.reset();
  const rates = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) {
    for (const [k, fn] of Object.entries(variants)) rates[k].push(await rate(fn, calls));
  }
  const requestsDuring = em.counts().total; // must be 0: every call was served from the cache

  // The crossing: a call into wasm that does nearly nothing (clearCache on an empty client)
  // against the same call on a plain JS object; and a string-in, object-out call.
  const empty = new pkg.RegistryClient();
  const plain = { clearCache() {} };
  const crossing = { "JS method call (control)": [], "wasm `clearCache()` on an empty client": [], "wasm `stats()` (returns a 4-key object)": [], "wasm `parseReference(\"nginx:1.25\")`": [], "baseline `parseImageRef(\"nginx:1.25\")` (JS)": [] };
  for (let r = 0; r < runs; r++) {
    crossing["JS method call (control)"].push(nsPerCall(() => plain.clearCache(), 1e6));
    crossing["wasm `clearCache()` on an empty client"].push(nsPerCall(() => empty.clearCache(), 1e6));
    crossing["wasm `stats()` (returns a 4-key object)"].push(nsPerCall(() => empty.stats(), 2e5));
    crossing["wasm `parseReference(\"nginx:1.25\")`"].push(nsPerCall(() => pkg.parseReference("nginx:1.25"), 1e5));
    crossing["baseline `parseImageRef(\"nginx:1.25\")` (JS)"].push(nsPerCall(() => parseImageRef("nginx:1.25"), 1e5));
  }
  empty.free?.();
  return { calls, rates, requestsDuring, crossing };
}
