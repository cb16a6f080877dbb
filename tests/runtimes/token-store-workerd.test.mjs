// Issue 12, the proof in the real runtime: a Worker using the packed package with
// `kvStore(env.TOKENS)` (a real KV namespace binding, persisted to a temp directory) or
// `cacheStore(caches.default)` (the Cache API, persisted likewise) and `waitUntil: (p) =>
// ctx.waitUntil(p)`. Every request runs in a fresh Miniflare instance, disposed before the next
// one starts, so nothing is shared in memory: only the persisted store carries tokens from one
// isolate to the next. The registry is the loopback emulator, which counts every request.
//
// The counts (with and without a store) are printed as test diagnostics; examples/worker/README.md
// ("What the token store saves") quotes them.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { startEmulator } from "../js/support/emulator.mjs";
import { bundleWorker, startWorker } from "../js/support/workerd.mjs";

const PASSWORDS = { alice: "alice-password-for-the-store-test", bob: "bob-password-for-the-store-test" };
const ISOLATES = 20;
const LIFE_MS = 300_000; // the emulator's expires_in

/**
 * The Worker. GET /?ref=…&store=kv|cache|none[&user=…&pass=…][&now=<ms>][&nowait=1] → JSON
 * { ok, token, stats } or { ok: false, code, message }. One client per isolate (workerd has no
 * FinalizationRegistry), made on the first request because the store needs `env`. `now` is the
 * injected clock (the library's `now` option); `nowait` leaves `waitUntil` out.
 */
const WORKER = `
import { cacheStore, kvStore, RegistryClient } from "registry-token";

let client = null;

function storeFor(kind, env) {
  if (kind === "kv") return kvStore(env.TOKENS);
  if (kind === "cache") return cacheStore(caches.default);
  return undefined;
}

// The JSON at once; the body ends when the work handed to waitUntil has settled. A deployed
// isolate lives on for that work; miniflare's dispose() does not wait for it, so the test reads
// the whole body before disposing, and so ends each isolate as the platform would.
function answer(value, handed) {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  writer.write(new TextEncoder().encode(JSON.stringify(value)));
  Promise.allSettled(handed).then(() => writer.close());
  return new Response(readable, { headers: { "content-type": "application/json" } });
}

export default {
  async fetch(request, env, ctx) {
    const q = new URL(request.url).searchParams;
    client ??= new RegistryClient({ tokenStore: storeFor(q.get("store"), env) });
    const handed = [];
    const options = q.has("nowait") ? {} : { waitUntil: (p) => (handed.push(p), ctx.waitUntil(p)) };
    if (q.has("user")) Object.assign(options, { username: q.get("user"), password: q.get("pass") });
    if (q.has("now")) {
      const t = Number(q.get("now"));
      options.now = () => t;
    }
    try {
      const token = await client.getToken(q.get("ref"), options);
      return answer({ ok: true, token, stats: client.stats() }, handed);
    } catch (err) {
      return Response.json({ ok: false, code: err.code, message: err.message });
    }
  },
};
`;

describe("token stores in workerd (miniflare): fresh isolates share one token", () => {
  let reg;
  let bundle;
  let dir;
  const figures = [];

  before(async () => {
    reg = await startEmulator({ name: "reg", token: { users: PASSWORDS, anonymous: true, expiresIn: LIFE_MS / 1000 } });
    bundle = await bundleWorker({ script: WORKER, name: "token-store" });
    dir = mkdtempSync(join(tmpdir(), "registry-token-store-"));
  });
  after(async () => {
    await reg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // One line with every measured figure, for the README's table.
    if (figures.length) console.log(`token store request counts: ${figures.join("; ")}`);
  });

  const ref = () => `${reg.host}/team/app`;

  /** One fresh isolate: start, one request, dispose. Returns the Worker's JSON. */
  async function isolate(kind, query = {}) {
    const options = {
      kvNamespaces: { TOKENS: "tokens" },
      kvPersist: join(dir, kind, "kv"),
      cachePersist: join(dir, kind, "cache"),
    };
    const worker = await startWorker({ bundle, options });
    try {
      const res = await worker.dispatchFetch(`http://worker.test/?${new URLSearchParams({ ref: ref(), store: kind, ...query })}`);
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.ok, true, JSON.stringify(body));
      return body;
    } finally {
      await worker.dispose();
    }
  }

  /** `n` isolates one after another; returns their answers. */
  async function isolates(n, kind, query) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await isolate(kind, query));
    return out;
  }

  const requests = () => ({ ping: reg.counts().ping, token: reg.counts().token });

  it(`without a store: ${ISOLATES} fresh isolates → ${ISOLATES} pings and ${ISOLATES} token requests`, { timeout: 120_000 }, async (t) => {
    reg.reset();
    const started = Date.now();
    const answers = await isolates(ISOLATES, "none");
    assert.deepEqual(requests(), { ping: ISOLATES, token: ISOLATES });
    assert.equal(new Set(answers.map((a) => a.token)).size, ISOLATES, "every isolate asked for its own token");
    const line = `no store: ${ISOLATES} isolates → ${reg.counts().total} requests (${ISOLATES} pings, ${ISOLATES} token requests)`;
    figures.push(line);
    t.diagnostic(`${line}, ${Date.now() - started} ms`);
  });

  for (const [kind, what] of [
    ["kv", "Workers KV (kvStore(env.TOKENS), kvPersist)"],
    ["cache", "the Cache API (cacheStore(caches.default), cachePersist)"],
  ]) {
    describe(what, () => {
      let first;

      it(`${ISOLATES} fresh isolates → exactly 1 ping and 1 token request in total`, { timeout: 120_000 }, async (t) => {
        reg.reset();
        const started = Date.now();
        const answers = await isolates(ISOLATES, kind);
        assert.deepEqual(requests(), { ping: 1, token: 1 });
        assert.equal(reg.counts().total, 2);
        first = answers[0].token;
        assert.equal(first, reg.entries("token")[0].issued);
        assert.deepEqual(new Set(answers.map((a) => a.token)), new Set([first]), "one token for all");
        assert.deepEqual([answers[0].stats.storeMisses, answers[0].stats.storeHits], [1, 0]);
        for (const a of answers.slice(1)) {
          assert.deepEqual([a.stats.storeHits, a.stats.storeMisses, a.stats.storeErrors], [1, 0, 0]);
          assert.equal(a.stats.challenges, 0, "a store hit needs no ping");
        }
        assert.ok(readdirSync(join(dir, kind)).length > 0, "the store persisted to disk");
        const line = `${kind}: ${ISOLATES} isolates → ${reg.counts().total} requests (1 ping, 1 token request)`;
        figures.push(line);
        t.diagnostic(`${line}, ${Date.now() - started} ms`);
      });

      it("two credentials → two token requests; no isolate gets another credential's token", { timeout: 60_000 }, async (t) => {
        reg.reset();
        const answers = [];
        for (let i = 0; i < 6; i++) {
          const user = i % 2 ? "bob" : "alice";
          answers.push({ user, ...(await isolate(kind, { user, pass: PASSWORDS[user] })) });
        }
        assert.deepEqual(requests(), { ping: 2, token: 2 });
        const issued = Object.fromEntries(reg.entries("token").map((e) => [e.basicUser, e.issued]));
        assert.deepEqual(Object.keys(issued).sort(), ["alice", "bob"]);
        assert.ok(issued.alice !== issued.bob && ![issued.alice, issued.bob].includes(first), "three different tokens");
        for (const a of answers) assert.equal(a.token, issued[a.user], `${a.user}'s isolate got ${a.user}'s token`);
        t.diagnostic(`${kind}: 6 isolates, 2 credentials → ${reg.counts().total} requests`);
      });

      it("after the token's life passes (injected clock) → exactly one refresh, shared again", { timeout: 60_000 }, async (t) => {
        reg.reset();
        const later = Date.now() + LIFE_MS; // past the stored token's expiry (and its 30 s margin)
        const answers = await isolates(5, kind, { now: String(later) });
        assert.deepEqual(requests(), { ping: 1, token: 1 });
        const refreshed = answers[0].token;
        assert.notEqual(refreshed, first);
        assert.equal(refreshed, reg.entries("token")[0].issued);
        assert.deepEqual([answers[0].stats.storeMisses, answers[0].stats.storeHits], [1, 0], "the expired value was refused");
        for (const a of answers.slice(1)) {
          assert.equal(a.token, refreshed);
          assert.equal(a.stats.storeHits, 1);
        }
        const line = `${kind} refresh: 5 isolates after expiry → ${reg.counts().total} requests`;
        figures.push(line);
        t.diagnostic(line);
      });
    });
  }

  it("without waitUntil workerd may drop the write (the Cache API does): the reason the option exists", { timeout: 60_000 }, async (t) => {
    reg.reset();
    const query = { nowait: "1", user: "alice", pass: PASSWORDS.alice, now: String(Date.now() + 3 * LIFE_MS) };
    const answers = await isolates(3, "cache", query);
    // Whatever workerd does with unawaited work, each isolate got a good token: at worst it asked.
    for (const a of answers) assert.ok(reg.entries("token").some((e) => e.issued === a.token));
    assert.ok(reg.counts().token >= 1 && reg.counts().token <= 3);
    t.diagnostic(`cache without waitUntil: 3 isolates → ${reg.counts().token} token requests (1 when the write survives)`);
  });
});
