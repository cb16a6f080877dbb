// Issue 2, flow step 5 and the RegistryClient contract: exact request counts for the token cache,
// the per-registry challenge cache and single-flight; defaults merging; options.fetch; the
// module-level client behind the top-level getToken.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { secretDigest, startEmulator } from "./support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, recordingFetch } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { RegistryClient, getToken } = await importPackage();

let hub; // dockerhub: GET anonymous, POST OAuth2 with refresh tokens, auth on its own origin
let reg; // generic Bearer registry, GET and POST both 200
let other; // a second registry with the same repository names
before(async () => {
  hub = await startEmulator("dockerhub");
  reg = await startEmulator({ name: "reg" });
  other = await startEmulator({ name: "other" });
});
after(async () => {
  await Promise.all([hub.close(), reg.close(), other.close()]);
});
beforeEach(() => [hub, reg, other].forEach((e) => e.restore()));

const ref = (e, path = "team/app") => `${e.host}/${path}`;

describe("token cache", () => {
  it("the second identical call makes no request and returns the same token", async () => {
    const client = new RegistryClient();
    const first = await client.getToken(ref(hub));
    assert.deepEqual(hub.counts(), { ping: 1, token: 1, redirect: 0, preflight: 0, other: 0, total: 2 });
    hub.reset();
    assert.equal(await client.getToken(ref(hub)), first);
    const auth = await client.authorize(ref(hub));
    assert.equal(auth.token, first, "authorize shares the cache with getToken");
    assert.equal(hub.counts().total, 0);
  });

  it("a second repository on the same registry costs one request (token only; challenge cached)", async () => {
    const client = new RegistryClient();
    await client.getToken(ref(hub, "team/one"));
    hub.reset();
    await client.getToken(ref(hub, "team/two"));
    assert.deepEqual(
      hub.log.map((r) => [r.kind, r.query.scope]),
      [["token", "repository:team/two:pull"]],
    );
  });

  it("actions are sorted for the key: [push, pull] then [pull, push] is a hit; [pull] is not", async () => {
    const client = new RegistryClient();
    await client.getToken(ref(reg), { actions: ["push", "pull"] });
    reg.reset();
    await client.getToken(ref(reg), { actions: ["pull", "push"] });
    await client.getToken(ref(reg), { actions: ["pull", "push", "pull"] });
    assert.equal(reg.counts().total, 0);
    await client.getToken(ref(reg), { actions: ["pull"] });
    assert.equal(reg.counts().token, 1);
  });

  it("the default actions are [pull]", async () => {
    const client = new RegistryClient();
    await client.getToken(ref(reg));
    reg.reset();
    await client.getToken(ref(reg), { actions: ["pull"] });
    assert.equal(reg.counts().total, 0);
  });

  it("100 concurrent identical getToken calls → exactly one token request, one token", async () => {
    reg.set({ token: { delayMs: 50 } });
    const client = new RegistryClient();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getToken(ref(reg))));
    assert.equal(reg.counts().token, 1);
    assert.equal(new Set(tokens).size, 1);
    assert.equal(tokens[0], reg.entries("token")[0].issued);
  });

  it("… and one /v2/ ping", async () => {
    reg.set({ token: { delayMs: 50 }, ping: { delayMs: 20 } });
    const client = new RegistryClient();
    await Promise.all(Array.from({ length: 100 }, () => client.getToken(ref(reg))));
    assert.equal(reg.counts().ping, 1);
  });

  it("50 concurrent first calls for 50 repositories of one registry share one /v2/ ping", async () => {
    reg.set({ ping: { delayMs: 20 } });
    const client = new RegistryClient();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => client.getToken(ref(reg, `team/app${i}`))));
    assert.equal(reg.counts().ping, 1);
    assert.equal(reg.counts().token, 50);
    assert.equal(new Set(tokens).size, 50);
  });

  it("a shared ping whose flight was aborted does not fail the others: they ask again", async () => {
    reg.set({ ping: { delayMs: 100 } });
    const client = new RegistryClient();
    const controller = new AbortController();
    const first = client.getToken(ref(reg, "team/a"), { signal: controller.signal });
    const second = client.getToken(ref(reg, "team/b"));
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(first, { name: "RegistryAuthError", code: "ABORTED" });
    assert.equal(typeof (await second), "string");
    assert.equal(reg.counts().token, 1);
  });

  it("different credentials → different cache entries; same credentials → hit", async () => {
    const client = new RegistryClient();
    const alice = { username: "alice", password: PASSWORD };
    const bob = { username: "bob", password: `${PASSWORD}-bob` };
    const alice2 = { username: "alice", password: `${PASSWORD}-changed` };
    const tokens = [];
    for (const c of [alice, bob, alice2, {}, { refreshToken: REFRESH_TOKEN }, { refreshToken: `${REFRESH_TOKEN}-2` }]) {
      tokens.push(await client.getToken(ref(hub), c));
    }
    assert.equal(new Set(tokens).size, 6, "six different tokens");
    assert.equal(hub.counts().token, 6);
    assert.deepEqual(
      hub.entries("token").map((r) => [r.method, r.form?.username ?? r.basicUser ?? null, r.form?.password ?? r.form?.refresh_token ?? r.credential ?? null]),
      [
        ["GET", "alice", secretDigest(PASSWORD)],
        ["GET", "bob", secretDigest(`${PASSWORD}-bob`)],
        ["GET", "alice", secretDigest(`${PASSWORD}-changed`)],
        ["GET", null, null],
        ["POST", null, secretDigest(REFRESH_TOKEN)],
        ["POST", null, secretDigest(`${REFRESH_TOKEN}-2`)],
      ],
    );
    hub.reset();
    const again = [];
    for (const c of [alice, bob, alice2, {}, { refreshToken: REFRESH_TOKEN }, { refreshToken: `${REFRESH_TOKEN}-2` }]) {
      again.push(await client.getToken(ref(hub), c));
    }
    assert.deepEqual(again, tokens);
    assert.equal(hub.counts().total, 0);
  });

  it("the key includes the realm: the same repository on two registries → two tokens", async () => {
    const client = new RegistryClient();
    const a = await client.getToken(ref(reg));
    const b = await client.getToken(ref(other));
    assert.notEqual(a, b);
    assert.equal(reg.counts().token + other.counts().token, 2);
  });

  it("clearCache() → the next call requests a token again", async () => {
    const client = new RegistryClient();
    const first = await client.getToken(ref(reg));
    client.clearCache();
    reg.reset();
    const second = await client.getToken(ref(reg));
    assert.equal(reg.counts().token, 1);
    assert.notEqual(second, first);
  });

  it("clients do not share caches", async () => {
    await new RegistryClient().getToken(ref(reg));
    reg.reset();
    await new RegistryClient().getToken(ref(reg));
    assert.equal(reg.counts().token, 1);
  });

  it("a failure is not cached: 401, then the server relents, then success", async () => {
    const client = new RegistryClient();
    reg.set({ token: { methods: { GET: { status: 401 } } } });
    await assert.rejects(client.getToken(ref(reg)), (e) => e.code === "UNAUTHORIZED");
    reg.restore();
    const token = await client.getToken(ref(reg));
    assert.equal(token, reg.entries("token")[0].issued);
  });
});

describe("RegistryClient defaults", () => {
  it("defaults apply to every call; call options override them", async () => {
    const client = new RegistryClient({ credentials: { [hub.host]: { username: "alice", password: PASSWORD } }, actions: ["push"] });
    await client.getToken(ref(hub, "team/one"));
    await client.getToken(ref(hub, "team/two"), { actions: ["pull"] });
    await client.getToken(ref(hub, "team/three"), { username: "bob", password: `${PASSWORD}-bob` });
    assert.deepEqual(
      hub.entries("token").map((r) => [r.method, r.basicUser, r.credential, r.query.scope]),
      [
        ["GET", "alice", secretDigest(PASSWORD), "repository:team/one:push"],
        ["GET", "alice", secretDigest(PASSWORD), "repository:team/two:pull"],
        ["GET", "bob", secretDigest(`${PASSWORD}-bob`), "repository:team/three:push"],
      ],
    );
  });

  it("secrets are never bare defaults: username, password or refreshToken in the constructor throw, pointing to credentials", () => {
    for (const defaults of [{ username: "alice", password: PASSWORD }, { password: PASSWORD }, { refreshToken: REFRESH_TOKEN }, { username: "alice" }]) {
      assert.throws(
        () => new RegistryClient(defaults),
        (e) => e.name === "RegistryAuthError" && e.code === "INVALID_REFERENCE" && /credentials/.test(e.message) && !e.message.includes(PASSWORD) && !e.message.includes(REFRESH_TOKEN),
      );
    }
  });

  it("registryUrl as a default", async () => {
    const client = new RegistryClient({ registryUrl: reg.url });
    const auth = await client.authorize("example.com/team/app");
    assert.equal(auth.registry, reg.url);
    assert.equal(reg.entries("token")[0].query.scope, "repository:team/app:pull");
  });

  it("fetch as a default is used", async () => {
    const fetch = recordingFetch();
    await new RegistryClient({ fetch }).getToken(ref(reg));
    assert.deepEqual(fetch.urls.map((u) => new URL(u).pathname), ["/v2/", "/token"]);
  });
});

describe("options.fetch", () => {
  it("the whole flow runs through a custom fetch, with no network at all", async () => {
    const seen = [];
    const fetch = async (input, init) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      seen.push(`${init?.method ?? input?.method ?? "GET"} ${url.host}${url.pathname}`);
      if (url.pathname === "/v2/") {
        return new Response("{}", {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="https://auth.registry.invalid/token",service="synthetic"' },
        });
      }
      assert.equal(url.searchParams.get("scope"), "repository:team/app:pull");
      return new Response(JSON.stringify({ token: "synthetic-token", expires_in: 300 }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    };
    const token = await new RegistryClient().getToken("registry.invalid/team/app", { fetch });
    assert.equal(token, "synthetic-token");
    assert.deepEqual(seen, ["GET registry.invalid/v2/", "GET auth.registry.invalid/token"]);
  });

  it("a custom fetch on a call is used instead of the global one", async () => {
    const original = globalThis.fetch;
    const fetch = recordingFetch(original);
    let globalCalls = 0;
    globalThis.fetch = (...args) => {
      globalCalls += 1;
      return original(...args);
    };
    try {
      await new RegistryClient().getToken(ref(reg), { fetch });
    } finally {
      globalThis.fetch = original;
    }
    assert.equal(fetch.urls.length, 2);
    assert.equal(globalCalls, 0);
  });
});

describe("registryUrl", () => {
  it("contacts the given base instead of the one derived from the reference", async () => {
    const auth = await new RegistryClient().authorize("ghcr.io/owner/app", { registryUrl: reg.url });
    assert.equal(auth.registry, reg.url);
    assert.equal(auth.repository, "owner/app");
    assert.deepEqual(reg.entries("token")[0].query, { service: "emulator", scope: "repository:owner/app:pull" });
  });
});

describe("top-level getToken", () => {
  it("uses one module-level client: its cache is shared between calls", async () => {
    const first = await getToken(ref(other, "shared/module"));
    other.reset();
    const second = await getToken(ref(other, "shared/module"));
    assert.equal(second, first);
    assert.equal(other.counts().total, 0);
    await getToken(ref(other, "shared/another"));
    assert.deepEqual(other.log.map((r) => r.kind), ["token"], "challenge cached too");
  });

  it("accepts the same options as RegistryClient#getToken", async () => {
    await getToken(ref(hub, "shared/opts"), { username: "alice", password: PASSWORD, actions: ["push"] });
    const [get] = hub.entries("token");
    assert.equal(get.query.scope, "repository:shared/opts:push");
    assert.equal(get.basicUser, "alice");
  });
});
