// Issue 12: the `tokenStore` option (memory → store → network), what a store holds and what the
// client accepts back from one, how a failing store is survived, and the adapters kvStore,
// cacheStore and webStorageStore against small fakes of the platforms' stores. Then the fast path
// of `getToken(imageRef)` without options: it answers from a Map but must behave exactly as the
// slow path does (expiry, clearCache, defaults' signal and credentials, invalid input).
//
// Every store here is a Map behind the contract's three functions, recording each call, so the
// tests can count store reads and writes as exactly as registry requests.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { makeImage, secretDigest, startEmulator } from "./support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, sleep } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { RegistryClient, RegistryAuthError, getToken, kvStore, cacheStore, webStorageStore } = await importPackage();

const KEY = /^rt1-[0-9a-f]{64}$/;
const MARGIN_MS = 30_000; // the refresh margin: a token is used until 30 s before its expiry
const T0 = 1_900_000_000_000; // an injected clock's start (2030), far from Date.now()

let reg; // generic Bearer registry: GET with Basic and OAuth2 POST, 300 s tokens, repositories
before(async () => {
  reg = await startEmulator({
    name: "reg",
    repos: { "team/app": { manifests: { "1.0": makeImage({ name: "app" }), "1.1": makeImage({ name: "app11" }) } } },
  });
});
after(() => reg.close());
beforeEach(() => reg.restore());

const ref = (path = "team/app") => `${reg.host}/${path}`;
const alice = { username: "alice", password: PASSWORD };
const bob = { username: "bob", password: `${PASSWORD}-bob` };

/**
 * A Map-backed TokenStore recording every call: { calls: [[method, key, value?, options?]], map,
 * gets, puts, deletes }. `hooks` replace get/put/delete (they receive the Map-backed default).
 */
function mapStore(hooks = {}) {
  const map = new Map();
  const calls = [];
  const base = {
    get: (key) => map.get(key) ?? null,
    put: (key, value) => void map.set(key, value),
    delete: (key) => void map.delete(key),
  };
  const store = {
    map,
    calls,
    get gets() {
      return calls.filter((c) => c[0] === "get");
    },
    get puts() {
      return calls.filter((c) => c[0] === "put");
    },
    get deletes() {
      return calls.filter((c) => c[0] === "delete");
    },
    get(key) {
      calls.push(["get", key]);
      return (hooks.get ?? base.get)(key, base);
    },
    put(key, value, options) {
      calls.push(["put", key, value, options]);
      return (hooks.put ?? base.put)(key, value, options, base);
    },
    delete(key) {
      calls.push(["delete", key]);
      return (hooks.delete ?? base.delete)(key, base);
    },
  };
  return store;
}

const storeStats = (client) => {
  const { storeHits, storeMisses, storeErrors } = client.stats();
  return { storeHits, storeMisses, storeErrors };
};

/** A clock the test moves: `clock.now` is the function to pass, `clock.t` the time. */
function fakeClock(t = T0) {
  const clock = { t, now: () => clock.t };
  return clock;
}

/** Lets background store writes (and their bookkeeping) finish. */
const settle = () => sleep(20);

describe("memory → store → network", () => {
  it("a second client (a fresh isolate) gets the token from the store: 0 requests, storeHits 1", async () => {
    const store = mapStore();
    const first = new RegistryClient({ tokenStore: store });
    const token = await first.getToken(ref(), alice);
    await settle();
    assert.deepEqual(reg.counts(), { ping: 1, token: 1, redirect: 0, preflight: 0, other: 0, total: 2 });
    assert.deepEqual(storeStats(first), { storeHits: 0, storeMisses: 1, storeErrors: 0 }, "the empty store was read once: a miss");
    assert.deepEqual(store.calls.map((c) => c[0]), ["get", "put"]);
    assert.equal(store.gets[0][1], store.puts[0][1], "read and written under one key");

    reg.reset();
    const second = new RegistryClient({ tokenStore: store });
    assert.equal(await second.getToken(ref(), alice), token);
    assert.equal(reg.counts().total, 0, "no ping, no token request");
    assert.deepEqual(storeStats(second), { storeHits: 1, storeMisses: 0, storeErrors: 0 });
    await settle();
    assert.equal(store.puts.length, 1, "a token read from the store is not written back");

    // A store hit fills memory: the third call reads neither the store nor the network.
    const gets = store.gets.length;
    const auth = await second.authorize(ref(), alice);
    assert.equal(auth.token, token);
    assert.equal(auth.authorization, `Bearer ${token}`);
    assert.deepEqual([auth.realm, auth.service, auth.scope], [`${reg.url}/token`, "emulator", ["repository:team/app:pull"]], "from the value");
    assert.equal(store.gets.length, gets);
    assert.equal(reg.counts().total, 0);
  });

  it("the store value holds the token and what using it needs, never a credential; the key is opaque", async () => {
    const clock = fakeClock();
    const store = mapStore();
    const client = new RegistryClient({ tokenStore: store, now: clock.now });
    const auth = await client.authorize(ref(), alice);
    await settle();
    assert.equal(store.puts.length, 1);
    const [, key, value, options] = store.puts[0];
    assert.match(key, KEY);
    const parsed = JSON.parse(value);
    assert.deepEqual(Object.keys(parsed).sort(), ["expiresAt", "k", "realm", "scope", "service", "token", "v"]);
    assert.equal(parsed.v, 1);
    assert.match(parsed.k, /^[0-9a-f]{32,64}$/);
    assert.equal(parsed.token, auth.token);
    assert.equal(parsed.expiresAt, T0 + 300_000, "the token's own expiry by the call's clock (expires_in 300)");
    assert.deepEqual(parsed.scope, ["repository:team/app:pull"]);
    assert.equal(parsed.realm, `${reg.url}/token`);
    assert.equal(parsed.service, "emulator");
    assert.deepEqual(options, { expiresAt: T0 + 300_000, ttlSeconds: (300_000 - MARGIN_MS) / 1000 });
    assert.ok(Number.isInteger(options.expiresAt) && Number.isInteger(options.ttlSeconds));
    const basic = Buffer.from(`alice:${PASSWORD}`).toString("base64");
    for (const [i, secret] of [PASSWORD, "alice", "Basic", basic, secretDigest(PASSWORD), reg.host].entries()) {
      assert.ok(!value.includes(secret) || (secret === reg.host && parsed.realm.includes(secret)), `secret #${i} in the value`);
      assert.ok(!key.includes(secret), `secret #${i} in the key`);
    }
  });

  it("a refresh token (OAuth2 POST) is not stored either, and its token gets its own key", async () => {
    const store = mapStore();
    const client = new RegistryClient({ tokenStore: store });
    await client.getToken(ref(), alice);
    const token = await client.getToken(ref(), { refreshToken: REFRESH_TOKEN });
    await settle();
    assert.equal(reg.entries("token")[1].method, "POST");
    assert.equal(store.puts.length, 2);
    assert.notEqual(store.puts[0][1], store.puts[1][1], "another credential, another key");
    const value = store.puts[1][2];
    assert.equal(JSON.parse(value).token, token);
    for (const secret of [REFRESH_TOKEN, secretDigest(REFRESH_TOKEN), "refresh"]) assert.ok(!value.includes(secret), "refresh token in the value");
  });

  it("two credentials → two keys; a fresh client never gets the other credential's token (nor does an anonymous one)", async () => {
    const store = mapStore();
    const a = await new RegistryClient({ tokenStore: store }).getToken(ref(), alice);
    const b = await new RegistryClient({ tokenStore: store }).getToken(ref(), bob);
    await settle();
    assert.notEqual(a, b);
    assert.equal(store.map.size, 2);
    assert.deepEqual(reg.entries("token").map((e) => e.basicUser), ["alice", "bob"]);

    reg.reset();
    const freshA = new RegistryClient({ tokenStore: store });
    const freshB = new RegistryClient({ tokenStore: store });
    assert.equal(await freshA.getToken(ref(), alice), a);
    assert.equal(await freshB.getToken(ref(), bob), b);
    assert.equal(reg.counts().total, 0);

    // Same user name, another password: another credential.
    const changed = await new RegistryClient({ tokenStore: store }).getToken(ref(), { username: "alice", password: `${PASSWORD}-new` });
    const anonymous = await new RegistryClient({ tokenStore: store }).getToken(ref());
    assert.ok(![a, b].includes(changed) && ![a, b].includes(anonymous));
    assert.equal(reg.counts().token, 2);
    await settle();
    assert.equal(new Set(store.calls.map((c) => c[1])).size, 4, "four credentials, four keys");
  });

  it("credentials from the client's `credentials` record use the same key as the call's own", async () => {
    const store = mapStore();
    const token = await new RegistryClient({ tokenStore: store }).getToken(ref(), alice);
    reg.reset();
    const client = new RegistryClient({ tokenStore: store, credentials: { [reg.host]: alice } });
    assert.equal(await client.getToken(ref()), token);
    assert.equal(reg.counts().total, 0);
  });

  it("a value copied under another key is refused (storeMisses) and the network is asked", async () => {
    const store = mapStore();
    const a = await new RegistryClient({ tokenStore: store }).getToken(ref(), alice);
    await settle();
    const aliceValue = store.puts[0][2];
    reg.reset();
    // Whatever key is asked for, this store answers with alice's value.
    const copying = mapStore({ get: () => aliceValue });
    const client = new RegistryClient({ tokenStore: copying });
    const b = await client.getToken(ref(), bob);
    assert.notEqual(b, a);
    assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 1, storeErrors: 0 });
    assert.deepEqual([reg.counts().ping, reg.counts().token], [1, 1]);
    assert.equal(reg.entries("token")[0].basicUser, "bob");
    const anonymous = await client.getToken(ref());
    assert.notEqual(anonymous, a);
    assert.equal(client.stats().storeMisses, 2);
  });

  it("values that are not the package's are misses: absent, null, undefined, non-strings, other JSON, another version", async () => {
    const store = mapStore();
    await new RegistryClient({ tokenStore: store, now: fakeClock().now }).getToken(ref(), alice);
    await settle();
    const good = store.puts[0][2];
    const answers = [
      undefined,
      null,
      42,
      { token: "x" },
      "",
      "not json",
      "{}",
      good.replace('"v":1', '"v":2'),
      good.replace(/"token":"[^"]*"/, '"token":""'),
      good.replace(/"expiresAt":\d+/, '"expiresAt":"soon"'),
      good.replace(/"k":"[^"]*"/, '"k":"00"'),
      Promise.resolve(null),
    ];
    for (const answer of answers) {
      reg.reset();
      const client = new RegistryClient({ tokenStore: mapStore({ get: () => answer }), now: fakeClock().now });
      const token = await client.getToken(ref(), alice);
      assert.notEqual(token, JSON.parse(good).token);
      assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 1, storeErrors: 0 }, String(answer).slice(0, 40));
      assert.equal(reg.counts().token, 1);
    }
  });

  it("a stored token expired by the call's `now` (inside the refresh margin) is refused: one refresh", async () => {
    const clock = fakeClock();
    const store = mapStore();
    const old = await new RegistryClient({ tokenStore: store, now: clock.now }).getToken(ref(), alice);
    await settle();
    reg.reset();

    // One millisecond before the margin: still a hit.
    clock.t = T0 + 300_000 - MARGIN_MS - 1;
    const early = new RegistryClient({ tokenStore: store, now: clock.now });
    assert.equal(await early.getToken(ref(), alice), old);
    assert.equal(reg.counts().total, 0);

    clock.t = T0 + 300_000 - MARGIN_MS;
    const late = new RegistryClient({ tokenStore: store, now: clock.now });
    const fresh = await late.getToken(ref(), alice);
    assert.notEqual(fresh, old);
    assert.deepEqual([reg.counts().ping, reg.counts().token], [1, 1], "one refresh");
    assert.deepEqual(storeStats(late), { storeHits: 0, storeMisses: 1, storeErrors: 0 });
    await settle();
    assert.equal(store.puts.length, 2, "the refreshed token is written");
    assert.equal(JSON.parse(store.map.get(store.puts[1][1])).token, fresh);
    assert.equal(store.puts[1][3].expiresAt, clock.t + 300_000);
  });
});

describe("a failing store never fails a call", () => {
  const hangs = () => new Promise(() => {});
  for (const [what, get] of [
    ["throws", () => {
      throw new Error("store down");
    }],
    ["rejects", () => Promise.reject(new Error("store down"))],
  ]) {
    it(`get ${what} → storeErrors, the network answers at once`, async () => {
      const client = new RegistryClient({ tokenStore: mapStore({ get }) });
      const started = Date.now();
      const token = await client.getToken(ref(), alice);
      assert.match(token, /^reg-token-\d+$/);
      assert.ok(Date.now() - started < 500, `${Date.now() - started} ms`);
      assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 0, storeErrors: 1 });
      assert.equal(reg.counts().token, 1);
    });
  }

  it("get hangs → the call waits 1 s for it (not the 30 s timeout), then asks the network", async () => {
    const client = new RegistryClient({ tokenStore: mapStore({ get: hangs }) });
    const started = Date.now();
    const token = await client.getToken(ref(), alice);
    const ms = Date.now() - started;
    assert.match(token, /^reg-token-\d+$/);
    assert.ok(ms >= 950 && ms < 2_500, `${ms} ms`);
    assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 0, storeErrors: 1 });
    assert.equal(reg.counts().token, 1);
  });

  it("get hangs with timeoutMs: 200 → the store gets half the budget (100 ms), the network answers within the rest", async () => {
    const client = new RegistryClient({ tokenStore: mapStore({ get: hangs }) });
    const started = Date.now();
    const token = await client.getToken(ref(), { ...alice, timeoutMs: 200 });
    const ms = Date.now() - started;
    assert.match(token, /^reg-token-\d+$/);
    assert.ok(ms >= 90 && ms < 200, `${ms} ms`);
    assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 0, storeErrors: 1 });
    assert.equal(reg.counts().token, 1);
    assert.equal(client.stats().inFlight, 0);
  });

  for (const [what, put] of [
    ["throws", () => {
      throw new Error("store full");
    }],
    ["rejects", () => Promise.reject(new Error("store full"))],
  ]) {
    it(`put ${what} → storeErrors; the call has its token`, async () => {
      const store = mapStore({ put });
      const client = new RegistryClient({ tokenStore: store });
      const token = await client.getToken(ref(), alice);
      assert.match(token, /^reg-token-\d+$/);
      await settle();
      assert.equal(store.puts.length, 1);
      assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 1, storeErrors: 1 });
      assert.equal(await client.getToken(ref(), alice), token, "memory still holds it");
    });
  }

  it("put hangs → the caller is not delayed; storeErrors once the write has taken over 1 s", async () => {
    const store = mapStore({ put: hangs });
    const client = new RegistryClient({ tokenStore: store });
    const started = Date.now();
    await client.getToken(ref(), alice);
    assert.ok(Date.now() - started < 500, `${Date.now() - started} ms`);
    assert.equal(client.stats().storeErrors, 0);
    await sleep(1_300);
    assert.equal(client.stats().storeErrors, 1);
  });

  it("a store that calls back into the client (clearCache, stats, getToken) never panics it; the call completes", async () => {
    let client;
    const reentrant = [
      mapStore({ get: (key, base) => (client.clearCache(), client.stats(), base.get(key)), put: () => client.clearCache() }),
      // Waits on the very flight that is reading it: the read times out after 1 s (storeErrors).
      mapStore({ get: () => client.getToken(ref(), { ...alice, tokenStore: undefined }).then(() => client.getToken(ref(), alice)) }),
      mapStore({ put: () => void client.getToken(ref(), alice).catch(() => {}) }),
      mapStore({ get: () => ({ then: () => { throw new Error("a thenable that throws"); } }) }),
    ];
    for (const store of reentrant) {
      client = new RegistryClient({ tokenStore: store });
      assert.match(await client.getToken(ref(), alice), /^reg-token-\d+$/);
      await settle();
      assert.equal(client.stats().inFlight, 0);
      assert.match(await client.getToken(ref("team/next"), alice), /^reg-token-\d+$/, "the client still works");
    }
  });

  it("a store that is not an object with get and put → INVALID_REFERENCE, nothing sent (call and constructor)", async () => {
    const bad = [{}, { get() {} }, { put() {} }, { get: 1, put() {} }, "kv", 42, true, () => {}];
    for (const tokenStore of bad) {
      await assert.rejects(new RegistryClient().getToken(ref(), { tokenStore }), (err) => {
        assert.ok(err instanceof RegistryAuthError);
        assert.equal(err.code, "INVALID_REFERENCE");
        assert.match(err.message, /tokenStore/);
        return true;
      });
      assert.throws(() => new RegistryClient({ tokenStore }), { name: "RegistryAuthError", code: "INVALID_REFERENCE" });
    }
    await assert.rejects(getToken(ref(), { tokenStore: {} }), { name: "RegistryAuthError", code: "INVALID_REFERENCE" });
    await assert.rejects(new RegistryClient().listTags(ref(), { tokenStore: { get() {} } }), { code: "INVALID_REFERENCE" });
    await assert.rejects(new RegistryClient().getToken(ref(), { tokenStore: mapStore(), waitUntil: "later" }), { code: "INVALID_REFERENCE" });
    assert.equal(reg.counts().total, 0);
    // null and undefined mean "no store".
    assert.match(await new RegistryClient({ tokenStore: null }).getToken(ref(), { tokenStore: undefined }), /^reg-token-\d+$/);
  });
});

describe("single flight, waitUntil, what is written", () => {
  it("100 concurrent cold calls → exactly 1 store get, 1 token request, 1 put", async () => {
    reg.set({ token: { delayMs: 30 } });
    const store = mapStore({ get: async (key, base) => (await sleep(20), base.get(key)) });
    const client = new RegistryClient({ tokenStore: store });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getToken(ref(), alice)));
    await settle();
    assert.equal(new Set(tokens).size, 1);
    assert.deepEqual([store.gets.length, store.puts.length], [1, 1]);
    assert.deepEqual([reg.counts().ping, reg.counts().token], [1, 1]);

    // … and 100 concurrent calls of a fresh client on the now-filled store: 1 get, 0 requests.
    reg.reset();
    const fresh = new RegistryClient({ tokenStore: store });
    const again = await Promise.all(Array.from({ length: 100 }, () => fresh.getToken(ref(), alice)));
    assert.deepEqual(new Set(again), new Set(tokens));
    assert.equal(store.gets.length, 2);
    assert.equal(reg.counts().total, 0);
    assert.deepEqual(storeStats(fresh), { storeHits: 1, storeMisses: 0, storeErrors: 0 });
  });

  it("calls with different store objects do not share a flight: each reads its own store", async () => {
    reg.set({ token: { delayMs: 30 } });
    const one = mapStore();
    const two = mapStore();
    const client = new RegistryClient();
    const [a, b] = await Promise.all([client.getToken(ref(), { ...alice, tokenStore: one }), client.getToken(ref(), { ...alice, tokenStore: two })]);
    await settle();
    assert.deepEqual([one.gets.length, one.puts.length, two.gets.length, two.puts.length], [1, 1, 1, 1]);
    assert.equal(JSON.parse(one.map.get(one.puts[0][1])).token, a);
    assert.equal(JSON.parse(two.map.get(two.puts[0][1])).token, b);
  });

  it("waitUntil receives the write's promise; the caller does not wait for the write", async () => {
    let stored = false;
    const store = mapStore({ put: async (key, value, options, base) => (await sleep(150), base.put(key, value), (stored = true)) });
    const handed = [];
    const waitUntil = (p) => handed.push(p);
    const client = new RegistryClient({ tokenStore: store, waitUntil });
    await client.getToken(ref(), alice);
    assert.equal(stored, false, "the token came back before the write finished");
    assert.equal(handed.length, 1);
    assert.equal(typeof handed[0].then, "function");
    await handed[0];
    assert.equal(stored, true, "the handed promise settles after the write");
    assert.equal(client.stats().storeErrors, 0);

    // A call's own waitUntil wins over the client's.
    const own = [];
    await client.getToken(ref("team/other"), { ...alice, waitUntil: (p) => own.push(p) });
    assert.deepEqual([handed.length, own.length], [1, 1]);
    await own[0];
    assert.equal(store.map.size, 2);
  });

  it("a waitUntil that throws (outside a request) fails nothing", async () => {
    const store = mapStore();
    const client = new RegistryClient({
      tokenStore: store,
      waitUntil: () => {
        throw new Error("waitUntil outside a request");
      },
    });
    assert.match(await client.getToken(ref(), alice), /^reg-token-\d+$/);
    await settle();
    assert.equal(store.map.size, 1);
  });

  it("a short-lived token (expires_in 100, under 2 minutes) is not written; 150 s is, with ttlSeconds 120", async () => {
    reg.set({ token: { expiresIn: 100 } });
    const store = mapStore();
    const handed = [];
    const client = new RegistryClient({ tokenStore: store, waitUntil: (p) => handed.push(p), now: fakeClock().now });
    await client.getToken(ref(), alice);
    await settle();
    assert.deepEqual([store.gets.length, store.puts.length, handed.length], [1, 0, 0]);

    reg.set({ token: { expiresIn: 150 } });
    await client.getToken(ref(), bob);
    await settle();
    assert.equal(store.puts.length, 1);
    assert.deepEqual(store.puts[0][3], { expiresAt: T0 + 150_000, ttlSeconds: 120 });
  });

  it("offline: true → the store is neither read nor written", async () => {
    const store = mapStore();
    const client = new RegistryClient({ tokenStore: store });
    const auth = await client.authorize(ref(), { ...alice, offline: true });
    await settle();
    assert.equal(reg.entries("token")[0].method, "POST");
    assert.ok(auth.token);
    assert.deepEqual(store.calls, []);
    assert.deepEqual(storeStats(client), { storeHits: 0, storeMisses: 0, storeErrors: 0 });
  });

  it("a registry 401 invalid_token on listTags → delete(key) in the store, a new token, written again", async () => {
    const store = mapStore();
    const writer = new RegistryClient({ tokenStore: store });
    assert.deepEqual(await writer.listTags(ref(), alice), ["1.0", "1.1"]);
    await settle();
    const [, key, value] = store.puts[0];
    reg.expireTokens();
    reg.reset();

    const reader = new RegistryClient({ tokenStore: store });
    assert.deepEqual(await reader.listTags(ref(), alice), ["1.0", "1.1"]);
    await settle();
    assert.equal(reader.stats().storeHits, 1, "the stale token came from the store");
    assert.deepEqual(store.deletes.map((c) => c[1]), [key]);
    assert.equal(reg.counts().token, 1, "one new token");
    assert.equal(reg.resources({ status: 401 }).length, 1);
    assert.equal(store.puts.length, 2);
    assert.equal(store.puts[1][1], key, "the new token under the same key");
    assert.notEqual(store.map.get(key), value);
  });

  it("… also when the store's delete is asynchronous (Workers KV): the refused token is not read back and used again", async () => {
    const store = mapStore({ delete: async (key, base) => (await sleep(50), base.delete(key)) });
    await new RegistryClient({ tokenStore: store }).listTags(ref(), alice);
    await settle();
    reg.expireTokens();
    reg.reset();
    const reader = new RegistryClient({ tokenStore: store });
    assert.deepEqual(await reader.listTags(ref(), alice), ["1.0", "1.1"]);
    assert.equal(store.deletes.length, 1);
    assert.equal(reg.counts().token, 1);
  });
});

describe("adapters", () => {
  /** A Workers KV namespace: get/put/delete with a Map, recording the put options. */
  function fakeKV() {
    const map = new Map();
    const puts = [];
    return {
      map,
      puts,
      get: async (key) => map.get(key) ?? null,
      put: async (key, value, options) => {
        puts.push([key, value, options]);
        map.set(key, value);
      },
      delete: async (key) => void map.delete(key),
    };
  }

  /** A Cache API `Cache`: Responses by URL. */
  function fakeCache() {
    const map = new Map();
    return {
      map,
      match: async (url) => map.get(String(url))?.clone(),
      put: async (url, response) => void map.set(String(url), response),
      delete: async (url) => map.delete(String(url)),
    };
  }

  /** Web Storage (sessionStorage) with key(i) and length. */
  function fakeStorage(entries = {}) {
    const map = new Map(Object.entries(entries));
    return {
      map,
      getItem: (k) => (map.has(k) ? map.get(k) : null),
      setItem: (k, v) => void map.set(k, String(v)),
      removeItem: (k) => void map.delete(k),
      key: (i) => [...map.keys()][i] ?? null,
      get length() {
        return map.size;
      },
    };
  }

  /** Alice's token written through `tokenStore` (injected clock), then read by a fresh client with no request. */
  async function throughStore(tokenStore) {
    const clock = fakeClock();
    const token = await new RegistryClient({ tokenStore, now: clock.now }).getToken(ref(), alice);
    await settle();
    reg.reset();
    const fresh = new RegistryClient({ tokenStore, now: clock.now });
    assert.equal(await fresh.getToken(ref(), alice), token);
    assert.equal(reg.counts().total, 0);
    assert.deepEqual(storeStats(fresh), { storeHits: 1, storeMisses: 0, storeErrors: 0 });
    return token;
  }

  it("one adapter per platform store and prefix: kvStore(env.TOKENS) written in every call still shares one flight", async () => {
    reg.set({ token: { delayMs: 30 } });
    const kv = fakeKV();
    let gets = 0;
    const counted = { ...kv, get: async (key) => (gets++, kv.get(key)) };
    assert.equal(kvStore(counted), kvStore(counted));
    assert.notEqual(kvStore(counted), kvStore(counted, { prefix: "other:" }));
    const storage = fakeStorage();
    assert.equal(webStorageStore(storage), webStorageStore(storage, { prefix: "registry-token:" }));
    const cache = fakeCache();
    assert.equal(cacheStore(cache), cacheStore(cache));
    assert.notEqual(cacheStore(cache), cacheStore(cache, { baseUrl: "https://elsewhere.invalid/" }));
    const client = new RegistryClient();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getToken(ref(), { ...alice, tokenStore: kvStore(counted) })));
    await settle();
    assert.equal(new Set(tokens).size, 1);
    assert.deepEqual([gets, kv.puts.length, reg.counts().token], [1, 1, 1]);
  });

  it("kvStore: prefixed keys, expirationTtl = ttlSeconds, a fresh client hits, delete passes the prefix", async () => {
    const kv = fakeKV();
    const token = await throughStore(kvStore(kv));
    assert.equal(kv.puts.length, 1);
    const [key, value, options] = kv.puts[0];
    assert.match(key, /^registry-token:rt1-[0-9a-f]{64}$/);
    assert.equal(JSON.parse(value).token, token);
    assert.deepEqual(options, { expirationTtl: 270 });

    const custom = fakeKV();
    await new RegistryClient({ tokenStore: kvStore(custom, { prefix: "tok/" }) }).getToken(ref(), alice);
    await settle();
    assert.match(custom.puts[0][0], /^tok\/rt1-[0-9a-f]{64}$/);

    await kvStore(kv).delete(key.slice("registry-token:".length));
    assert.equal(kv.map.size, 0);
    assert.throws(() => kvStore(undefined), { name: "RegistryAuthError", code: "INVALID_REFERENCE" });
    assert.throws(() => kvStore({ get() {} }), { code: "INVALID_REFERENCE" });
    assert.throws(() => kvStore(kv, { prefix: 7 }), { code: "INVALID_REFERENCE" });
    // A namespace without delete is fine: delete is then a no-op.
    const noDelete = kvStore({ get: async () => null, put: async () => {} });
    assert.equal(await noDelete.delete("rt1-x"), undefined);
  });

  it("cacheStore: entries at baseUrl + key with Cache-Control max-age = ttlSeconds; a fresh client hits", async () => {
    const cache = fakeCache();
    const token = await throughStore(cacheStore(cache));
    assert.equal(cache.map.size, 1);
    const [[url, response]] = cache.map;
    assert.match(url, /^https:\/\/registry-token\.invalid\/tokens\/rt1-[0-9a-f]{64}$/);
    assert.equal(response.headers.get("cache-control"), "max-age=270");
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(JSON.parse(await response.clone().text()).token, token);

    const other = fakeCache();
    await new RegistryClient({ tokenStore: cacheStore(other, { baseUrl: "https://tokens.example/v1/" }) }).getToken(ref(), bob);
    await settle();
    assert.match([...other.map.keys()][0], /^https:\/\/tokens\.example\/v1\/rt1-[0-9a-f]{64}$/);
    assert.equal(await cacheStore(other).get("rt1-absent"), null, "no entry → null");
    for (const baseUrl of ["not a url", "ftp://x.example/", "file:///tmp/"]) {
      assert.throws(() => cacheStore(cache, { baseUrl }), { name: "RegistryAuthError", code: "INVALID_REFERENCE" }, baseUrl);
    }
    assert.throws(() => cacheStore({ get() {}, put() {} }), { code: "INVALID_REFERENCE" });
  });

  it("webStorageStore: prefixed entries; a fresh client hits; a write sweeps this store's expired entries only", async () => {
    const past = JSON.stringify({ v: 1, expiresAt: Date.now() - 1_000 });
    const future = JSON.stringify({ v: 1, expiresAt: Date.now() + 600_000 });
    const storage = fakeStorage({
      "registry-token:rt1-old": past,
      "registry-token:rt1-broken": "{",
      "registry-token:rt1-live": future,
      "someone-else": past,
    });
    const token = await throughStore(webStorageStore(storage));
    const keys = [...storage.map.keys()].sort();
    assert.equal(keys.length, 3, keys.join(", "));
    assert.ok(keys.includes("registry-token:rt1-live") && keys.includes("someone-else"), "unexpired and foreign entries stay");
    const mine = keys.find((k) => KEY.test(k.slice("registry-token:".length)));
    assert.ok(mine);
    assert.equal(JSON.parse(storage.map.get(mine)).token, token);

    const prefixed = fakeStorage();
    await new RegistryClient({ tokenStore: webStorageStore(prefixed, { prefix: "rt:" }) }).getToken(ref(), bob);
    await settle();
    assert.match([...prefixed.map.keys()][0], /^rt:rt1-[0-9a-f]{64}$/);
    // A Storage-like object without key()/length still works (no sweep).
    const minimal = new Map();
    const plain = webStorageStore({ getItem: (k) => minimal.get(k) ?? null, setItem: (k, v) => minimal.set(k, v), removeItem: (k) => minimal.delete(k) });
    plain.put("rt1-a", "v", { expiresAt: 0, ttlSeconds: 60 });
    assert.equal(plain.get("rt1-a"), "v");
    plain.delete("rt1-a");
    assert.equal(minimal.size, 0);
    assert.throws(() => webStorageStore({ getItem() {}, setItem() {} }), { name: "RegistryAuthError", code: "INVALID_REFERENCE" });
    assert.throws(() => webStorageStore(prefixed, { prefix: 7 }), { code: "INVALID_REFERENCE" });
  });
});

describe("the fast path of getToken(imageRef) without options", () => {
  /** A client whose token for ref() is cached and already answered once by the fast path; the log emptied. */
  async function warmed(defaults) {
    const client = new RegistryClient(defaults);
    const first = await client.getToken(ref());
    assert.equal(await client.getToken(ref()), first);
    reg.reset();
    return { client, first };
  }

  it("gives what the slow path gives, with no request", async () => {
    const client = new RegistryClient({ credentials: { [reg.host]: alice } });
    const first = await client.getToken(ref());
    reg.reset();
    for (let i = 0; i < 5; i++) assert.equal(await client.getToken(ref()), first);
    assert.equal(await client.getToken(ref(), {}), first, "with an options object (the slow path)");
    assert.equal((await client.authorize(ref())).token, first);
    assert.equal(reg.counts().total, 0);
    // A call without options returns a promise like the slow path, never a bare value.
    const p = client.getToken(ref());
    assert.ok(p instanceof Promise);
    assert.equal(await p, first);
  });

  it("the module-level getToken too", async () => {
    const first = await getToken(ref("team/module"));
    reg.reset();
    assert.equal(await getToken(ref("team/module")), first);
    assert.equal(reg.counts().total, 0);
  });

  it("clearCache() is respected: the next call makes requests", async () => {
    const { client, first } = await warmed();
    client.clearCache();
    const second = await client.getToken(ref());
    assert.notEqual(second, first);
    assert.deepEqual([reg.counts().ping, reg.counts().token], [1, 1]);
  });

  it("expiry by the client's `now` is respected: a refresh at the margin, not before", async () => {
    const clock = fakeClock();
    const { client, first } = await warmed({ now: clock.now });
    clock.t = T0 + 300_000 - MARGIN_MS - 1;
    assert.equal(await client.getToken(ref()), first);
    assert.equal(reg.counts().total, 0);
    clock.t = T0 + 300_000 - MARGIN_MS;
    const second = await client.getToken(ref());
    assert.notEqual(second, first);
    assert.equal(reg.counts().token, 1);
  });

  it("a call with options bypasses it: its signal, timeoutMs and actions count", async () => {
    const { client, first } = await warmed();
    await assert.rejects(client.getToken(ref(), { signal: AbortSignal.abort() }), { name: "RegistryAuthError", code: "ABORTED" });
    await assert.rejects(client.getToken(ref(), { timeoutMs: -1 }), { code: "INVALID_REFERENCE" });
    const push = await client.getToken(ref(), { actions: ["pull", "push"] });
    assert.notEqual(push, first);
    assert.equal(reg.counts().token, 1);
    assert.equal(await client.getToken(ref()), first);
  });

  it("invalid input rejects on every call", async () => {
    const client = new RegistryClient();
    for (let i = 0; i < 3; i++) {
      for (const bad of ["Not/Valid", "", 42, undefined, null, `${reg.host}/Team/App`]) {
        await assert.rejects(client.getToken(bad), { name: "RegistryAuthError", code: "INVALID_REFERENCE" }, String(bad));
        await assert.rejects(getToken(bad), { name: "RegistryAuthError", code: "INVALID_REFERENCE" }, String(bad));
      }
    }
    assert.equal(reg.counts().total, 0);
  });

  it("an aborted default signal rejects, though the token is cached", async () => {
    const controller = new AbortController();
    const { client } = await warmed({ signal: controller.signal });
    controller.abort();
    await assert.rejects(client.getToken(ref()), { name: "RegistryAuthError", code: "ABORTED" });
    await assert.rejects(client.getToken(ref()), { name: "RegistryAuthError", code: "ABORTED" });
  });

  it("the credentials record mutated (password replaced, entry replaced, entry removed) → a new token each time", async () => {
    const record = { [reg.host]: { username: "alice", password: PASSWORD } };
    const client = new RegistryClient({ credentials: record });
    const first = await client.getToken(ref());
    assert.equal(await client.getToken(ref()), first);
    reg.reset();

    record[reg.host].password = `${PASSWORD}-rotated`;
    const rotated = await client.getToken(ref());
    assert.notEqual(rotated, first);
    assert.equal(reg.entries("token").at(-1).credential, secretDigest(`${PASSWORD}-rotated`));
    assert.equal(await client.getToken(ref()), rotated);

    record[reg.host] = { username: "bob", password: bob.password };
    const asBob = await client.getToken(ref());
    assert.ok(![first, rotated].includes(asBob));
    assert.equal(reg.entries("token").at(-1).basicUser, "bob");

    delete record[reg.host];
    const anonymous = await client.getToken(ref());
    assert.ok(![first, rotated, asBob].includes(anonymous));
    assert.equal(reg.entries("token").at(-1).authorization, null);
    assert.equal(reg.counts().token, 3);
  });

  it("a client whose credentials are a function asks it on every call", async () => {
    let asked = 0;
    const client = new RegistryClient({
      credentials: () => {
        asked += 1;
        return alice;
      },
    });
    await client.getToken(ref());
    await client.getToken(ref());
    await client.getToken(ref());
    assert.equal(asked, 3);
    assert.equal(reg.counts().token, 1);
  });

  it("a freed client rejects instead of answering from its fast path", async () => {
    const { client } = await warmed();
    client.free();
    await assert.rejects(async () => client.getToken(ref()));
  });
});
