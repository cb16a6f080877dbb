// Part 1b: round trips of the registry calls (issue 10), counted by an emulated registry that
// pages tags 100 at a time with an absolute Link (as Docker Hub and GHCR do). registry-token is
// compared with what a careful hand-written dashboard does today: a `Map` of tokens per
// repository (no challenge cache, no single flight), `Link` followed, manifests fetched with
// the four Accept types. The counts are exact and checked in CI; wall times are medians.

import { makeImage, multiArch, startEmulator, tagNames } from "../tests/js/support/emulator.mjs";
import { parseChallenge, parseImageRef } from "./baseline.mjs";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** `expected` holds registry-token's exact request counts (the "Size and speed"). */
export const REGISTRY_SCENARIOS = [
  { id: "tagsCold", label: "listTags, cold client, one page", expected: 3 },
  { id: "tagsSecond", label: "listTags, second repository, same registry", expected: 2 },
  { id: "tagsCached", label: "listTags, token cached, one page", expected: 1 },
  { id: "tagsPaged", label: "listTags, token cached, 250 tags (3 pages of 100)", expected: 3 },
  { id: "manifestBurst", label: "100 concurrent getManifest of one image, cold client", expected: 102 },
];

export async function startRegistryEmulator(latency) {
  const repos = {
    "bench/one": { manifests: { "1.0": makeImage({ name: "one" }) } },
    "bench/two": { manifests: { "1.0": makeImage({ name: "two" }) } },
    "bench/many": { manifests: { "1.0": makeImage({ name: "many" }) }, tags: tagNames(250) },
    "bench/multi": { manifests: { "1.0": multiArch({ name: "multi" }) } },
  };
  return startEmulator({
    name: "bench-registry",
    ping: { delayMs: latency },
    token: { delayMs: latency },
    repos,
    resources: { tagsPage: { max: 100, default: 100, link: "absolute" } },
  });
}

/** The hand-written dashboard: token per repository in a Map, Link followed. */
export function handWritten() {
  const tokens = new Map();
  async function token(imageRef) {
    const { base, repository } = parseImageRef(imageRef);
    const hit = tokens.get(`${base}/${repository}`);
    if (hit) return { base, repository, token: hit };
    const ping = await fetch(`${base}/v2/`);
    await ping.arrayBuffer();
    const challenge = parseChallenge(ping.headers.get("www-authenticate"));
    const url = new URL(challenge.realm, base);
    if (challenge.service) url.searchParams.set("service", challenge.service);
    url.searchParams.set("scope", `repository:${repository}:pull`);
    const body = await (await fetch(url)).json();
    const t = body.token ?? body.access_token;
    tokens.set(`${base}/${repository}`, t);
    return { base, repository, token: t };
  }
  return {
    async listTags(imageRef) {
      const { base, repository, token: t } = await token(imageRef);
      const all = [];
      let url = `${base}/v2/${repository}/tags/list`;
      while (url) {
        const res = await fetch(url, { headers: { Authorization: `Bearer ${t}` } });
        all.push(...((await res.json()).tags ?? []));
        const next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get("link") ?? "");
        url = next ? new URL(next[1], url).href : null;
      }
      return all;
    },
    async getManifest(imageRef) {
      const { base, repository, token: t } = await token(imageRef);
      const res = await fetch(`${base}/v2/${repository}/manifests/1.0`, { headers: { Authorization: `Bearer ${t}`, Accept: ACCEPT } });
      return { digest: res.headers.get("docker-content-digest"), manifest: await res.json() };
    },
  };
}

async function measure(em, fn) {
  em.reset();
  const t = performance.now();
  const result = await fn();
  return { ms: performance.now() - t, requests: em.counts().total, result };
}

/** One walk through every scenario with fresh clients. */
export async function registryWalk(fresh, em) {
  const ref = (name) => `${em.host}/bench/${name}:1.0`;
  const c = fresh();
  const out = {};
  out.tagsCold = await measure(em, () => c.listTags(ref("one")));
  out.tagsSecond = await measure(em, () => c.listTags(ref("two")));
  out.tagsCached = await measure(em, () => c.listTags(ref("one")));
  await c.listTags(ref("many"));
  out.tagsPaged = await measure(em, () => c.listTags(ref("many")));
  const burst = fresh();
  out.manifestBurst = await measure(em, () => Promise.all(Array.from({ length: 100 }, () => burst.getManifest(ref("multi")))));
  return out;
}
