// Part 1: network round trips, counted by the emulated registry, with a fixed delay injected
// into every response. Each implementation walks the same life of a client, in order:
// cold → second repository → cached → 100 concurrent identical → 1,000 calls over 50 images.
// The counts are exact (the CI mode checks them); the wall times are medians over runs.

import { baselineGetToken } from "./baseline.mjs";

/** `expected` is per implementation: registry-token's floor, and what a cacheless flow costs. */
export const SCENARIOS = [
  { id: "cold", label: "cold token (new client)", expected: { "registry-token": 2 }, calls: 1 },
  { id: "second", label: "second repository, same registry", expected: { "registry-token": 1 }, calls: 1 },
  { id: "cached", label: "cached token", expected: { "registry-token": 0 }, calls: 1 },
  { id: "burst", label: "100 concurrent identical calls", expected: { "registry-token": 1 }, calls: 100 },
  { id: "spread", label: "1,000 calls over 50 images (20 waves of 50)", expected: { "registry-token": 50 }, calls: 1000 },
  // Beyond the list: concurrent flows share the /v2/ ping, so 1 ping + 50 tokens.
  { id: "coldFanout", label: "50 concurrent first calls, 50 repos, new client", expected: { "registry-token": 51 }, calls: 50 },
];

/** What a cacheless ping → token flow costs: two requests per call. */
export function cachelessRequests(scenario) {
  return 2 * scenario.calls;
}

/**
 * The implementations, each a factory of fresh clients with `getToken(ref)`.
 * `snyk` is null when @snyk/docker-registry-v2-client cannot be loaded.
 */
export async function implementations(pkg) {
  const impls = [
    { name: "registry-token", fresh: () => new pkg.RegistryClient() },
    { name: "baseline", fresh: () => ({ getToken: (ref) => baselineGetToken(ref) }) },
  ];
  let snykError = null;
  try {
    const snyk = (await import("@snyk/docker-registry-v2-client")).default;
    impls.push({
      name: "snyk",
      // The emulator challenges on /v2/ only, so the peer is pointed at "/" (GET /v2/, then the
      // realm). Against a real registry it pings the manifest URL instead: the same two trips.
      fresh: () => ({
        getToken: (ref) => snyk.getAuthTokenForEndpoint(ref.slice(0, ref.indexOf("/")), "/", undefined, undefined, { protocol: "http:" }),
      }),
    });
  } catch (err) {
    snykError = String(err?.message ?? err);
  }
  return { impls, snykError };
}

async function measure(em, fn) {
  em.reset();
  const t = performance.now();
  const tokens = await fn();
  const ms = performance.now() - t;
  const c = em.counts();
  const bad = [tokens].flat().filter((x) => typeof x !== "string" || x === "").length;
  return { ms, requests: c.total, ping: c.ping, token: c.token, badResults: bad };
}

/** One walk through every scenario with a fresh client; `tag` keeps repository names unique. */
export async function walk(impl, em, tag) {
  const ref = (name) => `${em.host}/bench/${tag}/${name}:1`;
  const c = impl.fresh();
  const out = {};
  out.cold = await measure(em, () => c.getToken(ref("cold")));
  out.second = await measure(em, () => c.getToken(ref("second")));
  out.cached = await measure(em, () => c.getToken(ref("cold")));
  out.burst = await measure(em, () => Promise.all(Array.from({ length: 100 }, () => c.getToken(ref("burst")))));
  out.spread = await measure(em, async () => {
    const all = [];
    for (let wave = 0; wave < 20; wave++) {
      all.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => c.getToken(ref(`img${i}`))))));
    }
    return all;
  });
  const fresh = impl.fresh();
  out.coldFanout = await measure(em, () => Promise.all(Array.from({ length: 50 }, (_, i) => fresh.getToken(ref(`fan${i}`)))));
  return out;
}
