// examples/worker/ in workerd (miniflare), bundled the wrangler way with the packed package
// (tests/js/support/workerd.mjs), against the local registry of tests/fixtures/distribution.mjs
// and the emulated registries of tests/js/support/emulator.mjs (paging, multi-arch, 429, hosts
// that must never see a request or a secret).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startDistribution, TEST_USERS } from "../fixtures/distribution.mjs";
import { makeImage, MEDIA_TYPES, multiArch, secretDigest, startEmulator, tagNames } from "../js/support/emulator.mjs";
import { root } from "../js/support/package.mjs";
import { COMPATIBILITY_DATE, startWorker } from "../js/support/workerd.mjs";

const EXAMPLE = join(root, "examples", "worker");
/** The endpoints that take `image` (/catalog takes `registry`). */
const IMAGE_ENDPOINTS = ["/token", "/tags", "/manifest", "/config"];
const script = readFileSync(join(EXAMPLE, "src", "index.js"), "utf8");

/** wrangler.jsonc without its comments (none of its strings contain "//"). */
function readWranglerConfig() {
  return JSON.parse(readFileSync(join(EXAMPLE, "wrangler.jsonc"), "utf8").replace(/^\s*\/\/.*$/gm, "").replace(/,(\s*[}\]])/g, "$1"));
}

test("wrangler.jsonc points at the example and uses the tested compatibility date", () => {
  const cfg = readWranglerConfig();
  assert.equal(cfg.main, "src/index.js");
  assert.equal(cfg.compatibility_date, COMPATIBILITY_DATE);
  assert.deepEqual(cfg.kv_namespaces.map((ns) => ns.binding), ["TOKENS"], "the token store's KV binding");
  assert.equal(cfg.vars.ALLOWED_ORIGIN, "*");
  assert.equal(cfg.vars.ALLOWED_REGISTRIES, "docker.io");
  // A secret never sits among the vars.
  for (const name of ["REGISTRY_CREDENTIALS", "REGISTRY_USERNAME", "REGISTRY_PASSWORD"]) assert.equal(cfg.vars[name], undefined, name);
});

describe("examples/worker in workerd against the local registry", () => {
  let reg;
  let worker;
  let privateWorker;
  let restricted;
  const image = (repo, tag = "latest") => `${reg.host}/${repo}:${tag}`;
  const get = (w, path, init) => w.dispatchFetch(`http://worker.example${path}`, init);
  const q = encodeURIComponent;

  before(async () => {
    reg = await startDistribution();
    // The shipped vars, with the local registry (and a closed port, for the NETWORK case) allowed.
    const vars = { ...readWranglerConfig().vars, ALLOWED_REGISTRIES: `${reg.host},127.0.0.1:9` };
    [worker, privateWorker, restricted] = await Promise.all([
      // Bundled by `wrangler deploy --dry-run`, as `npx wrangler deploy` would; the others by esbuild.
      startWorker({ script, name: "example-anonymous", bindings: vars, bundler: "wrangler" }),
      startWorker({
        script, name: "example-credentials", bindings: { ...vars, REGISTRY_CREDENTIALS: JSON.stringify({ [reg.host]: TEST_USERS.reader }) },
      }),
      startWorker({ script, name: "example-origin", bindings: { ALLOWED_ORIGIN: "https://dash.example, https://other.example", ALLOWED_REGISTRIES: reg.host } }),
    ]);
  });
  after(async () => {
    await Promise.all([worker?.dispose(), privateWorker?.dispose(), restricted?.dispose()]);
    await reg?.stop();
  });

  test("GET /token?image=… → {token, expiresAt, scope} with CORS headers; the token opens the registry", async () => {
    const t0 = Date.now();
    const res = await get(worker, `/token?image=${q(image("library/alpine", "3.19"))}`, { headers: { Origin: "https://dash.example" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.match(res.headers.get("content-type"), /^application\/json/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["expiresAt", "scope", "token"]);
    assert.match(body.token, /^eyJ/);
    assert.ok(body.expiresAt >= t0 + 290_000 && body.expiresAt <= Date.now() + 300_000, `expiresAt ${body.expiresAt}`);
    assert.deepEqual(body.scope, ["repository:library/alpine:pull"]);
    const tags = await fetch(`${reg.registryUrl}/v2/library/alpine/tags/list`, { headers: { Authorization: `Bearer ${body.token}` } });
    assert.equal(tags.status, 200);
  });

  test("the isolate's client caches: a second /token makes no token request", async () => {
    reg.tokenServer.reset();
    const ref = q(image("library/alpine", "latest"));
    const a = await (await get(worker, `/token?image=${ref}`)).json();
    const b = await (await get(worker, `/token?image=${ref}`)).json();
    assert.equal(a.token, b.token);
    assert.ok(reg.tokenServer.requests.length <= 1, `${reg.tokenServer.requests.length} token requests`);
  });

  test("GET /tags?image=… lists the repository's tags with a token", async () => {
    const res = await get(worker, `/tags?image=${q(image("library/alpine"))}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["name", "pages", "tags", "truncated"]);
    assert.equal(body.name, "library/alpine");
    assert.deepEqual(body.tags.sort(), ["3.19", "latest"]);
    assert.equal(body.pages, 1, "distribution 2.8.2 answers tags/list in one page");
    assert.equal(body.truncated, false);
  });

  test("private repository: refused anonymously (401 UNAUTHORIZED: registry 401 behind a partial grant), listed with REGISTRY_CREDENTIALS", async () => {
    const anon = await get(worker, `/tags?image=${q(image("team/secret", "1.0"))}`);
    assert.equal(anon.status, 401, "the Worker holds no credentials for this registry: 401, not 403");
    const err = await anon.json();
    assert.equal(err.code, "UNAUTHORIZED");
    assert.equal(err.status, 401);

    const res = await get(privateWorker, `/tags?image=${q(image("team/secret", "1.0"))}`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual((await res.json()).tags, ["1.0"]);
    assert.ok(reg.tokenServer.requests.some((r) => r.username === TEST_USERS.reader.username), "the reader's credentials reached the token server");
  });

  test("wrong credentials → 403 with code UNAUTHORIZED and the server's words, never the password", async () => {
    const bad = await startWorker({
      script,
      name: "example-bad-credentials",
      bindings: { ALLOWED_REGISTRIES: reg.host, REGISTRY_CREDENTIALS: JSON.stringify({ [reg.host]: { username: "reader", password: "wrong-password-xyz" } }) },
    });
    try {
      const res = await get(bad, `/token?image=${q(image("team/app", "1.0"))}`);
      assert.equal(res.status, 403);
      const error = await res.json();
      assert.equal(error.code, "UNAUTHORIZED");
      assert.equal(error.status, 401);
      assert.match(error.message, /incorrect username or password/);
      assert.doesNotMatch(error.message, /wrong-password-xyz/);
    } finally {
      await bad.dispose();
    }
  });

  test("errors: bad reference → 400 INVALID_REFERENCE; missing image → 400; unreachable registry → 502 NETWORK", async () => {
    const bad = await get(worker, `/token?image=${q(`${reg.host}/Library/Alpine`)}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("access-control-allow-origin"), "*");
    assert.equal((await bad.json()).code, "INVALID_REFERENCE");

    const missing = await get(worker, "/token");
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).code, "INVALID_REFERENCE");

    const down = await get(worker, `/token?image=${q("127.0.0.1:9/library/alpine")}`);
    assert.equal(down.status, 502);
    assert.equal((await down.json()).code, "NETWORK");
  });

  test("routing: OPTIONS preflight 204 with CORS, POST 405, unknown path 404", async () => {
    const pre = await get(worker, "/token?image=x", {
      method: "OPTIONS", headers: { Origin: "https://dash.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-methods"), /GET/);
    assert.equal((await get(worker, "/token?image=x", { method: "POST", body: "" })).status, 405);
    assert.equal((await get(worker, "/nope")).status, 404);
  });

  test("ALLOWED_ORIGIN list: echoes an allowed Origin, omits the header for others", async () => {
    const ok = await get(restricted, "/nope", { headers: { Origin: "https://other.example" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://other.example");
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    assert.equal(ok.headers.get("vary"), "Origin");
    const no = await get(restricted, "/nope", { headers: { Origin: "https://evil.example" } });
    assert.equal(no.headers.get("access-control-allow-origin"), null);
    assert.equal(no.headers.get("access-control-allow-credentials"), null);
    // "*" is never paired with Allow-Credentials (browsers refuse the pair).
    const any = await get(worker, "/nope", { headers: { Origin: "https://evil.example" } });
    assert.equal(any.headers.get("access-control-allow-origin"), "*");
    assert.equal(any.headers.get("access-control-allow-credentials"), null);
  });
});

// Two emulated registries with token servers (tests/js/support/emulator.mjs), on two loopback
// origins: the Worker allows `allowed` and not `other`, and REGISTRY_CREDENTIALS holds an entry
// for each. The username and password must reach the allowed registry's realm (the token
// protocol) and never the other host: not by naming it, not through a redirect.
describe("examples/worker: ALLOWED_REGISTRIES and REGISTRY_CREDENTIALS, two loopback registries", () => {
  const ALICE = { username: "alice-allowed", password: "alice-Pa55-for-the-allowed-registry" };
  const BOB = { username: "bob-other", password: "bob-Pa55-for-the-other-registry" };
  const SECRETS = [ALICE.password, BOB.password];
  let allowed;
  let other;
  let guarded;
  const get = (w, path, init) => w.dispatchFetch(`http://worker.example${path}`, init);
  const q = encodeURIComponent;

  /** Everything a log entry holds that could carry a secret, as text (raw query included). */
  const entryText = (e) => JSON.stringify({ path: e.path, rawQuery: e.rawQuery, query: e.query, form: e.form, basicUser: e.basicUser });

  /** No username or password of either user reached `emu`, in any form. */
  function assertNoCredentials(emu, what) {
    for (const e of emu.log) {
      const where = `${what}: ${e.method} ${e.path}`;
      assert.equal(e.authorization, null, `${where} carried an Authorization header (${e.authorization}, user ${e.basicUser})`);
      assert.equal(e.basicUser, null, where);
      assert.equal(e.credential, null, where);
      const text = entryText(e);
      for (const user of [ALICE, BOB]) {
        for (const secret of [user.password, user.username]) {
          assert.ok(!text.includes(secret) && !text.includes(q(secret)), `${where}: ${secret === user.password ? "a password" : "a username"} in the request`);
          assert.ok(!text.includes(secretDigest(secret)), `${where}: a secret in the query or body`);
        }
      }
      for (const key of ["password", "username", "refresh_token"]) {
        assert.equal(e.query?.[key], undefined, `${where}: ${key} in the query`);
        assert.equal(e.form?.[key], undefined, `${where}: ${key} in the body`);
      }
    }
  }

  /** The Worker's answer, read as text: never a password. */
  async function answerText(res) {
    const text = await res.text();
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `the Worker's answer holds a password: ${text}`);
    return text;
  }

  before(async () => {
    [allowed, other] = await Promise.all([
      startEmulator({ name: "allowed", token: { users: { [ALICE.username]: ALICE.password }, anonymous: false } }),
      // The other host asks for credentials as loudly as it can: 401 with a Basic challenge.
      startEmulator({
        name: "other",
        token: { users: { [BOB.username]: BOB.password }, anonymous: false, headers: { "WWW-Authenticate": 'Basic realm="other"' } },
      }),
    ]);
    guarded = await startWorker({
      script,
      name: "example-allowlist",
      bindings: {
        ALLOWED_ORIGIN: "*",
        ALLOWED_REGISTRIES: allowed.host,
        REGISTRY_CREDENTIALS: JSON.stringify({ [allowed.host]: ALICE, [other.host]: BOB }),
      },
    });
  });
  after(async () => {
    await guarded?.dispose();
    await Promise.all([allowed?.close(), other?.close()]);
  });

  test("positive case: the allowed registry's realm receives its own credentials, as Basic on a GET", async () => {
    allowed.reset();
    other.reset();
    const res = await get(guarded, `/token?image=${q(`${allowed.host}/team/app:1.0`)}`);
    const text = await answerText(res);
    assert.equal(res.status, 200, text);
    const body = JSON.parse(text);
    assert.match(body.token, /^allowed-token-\d+$/);
    const tokens = allowed.entries("token");
    assert.equal(tokens.length, 1, JSON.stringify(tokens.map(entryText)));
    assert.equal(tokens[0].method, "GET", "username + password: GET with Basic (no OAuth2 POST unless offline)");
    assert.equal(tokens[0].authorization, "basic");
    assert.equal(tokens[0].basicUser, ALICE.username);
    assert.equal(tokens[0].credential, secretDigest(ALICE.password), "Alice's password, not Bob's");
    assert.equal(tokens[0].status, 200);
    assert.equal(other.log.length, 0, "nothing reached the other registry");
  });

  test("a request naming the other registry → 403 REGISTRY_NOT_ALLOWED, and zero requests reach it", async () => {
    allowed.reset();
    other.reset();
    const images = [
      `${other.host}/team/app:1.0`,
      `${other.host}/library/alpine`,
      `${other.host}/team/app@sha256:${"a".repeat(64)}`,
      // The allowed host as a path under the other registry is still the other registry.
      `${other.host}/${allowed.host.replace(":", "-")}/app`,
    ];
    const requests = [
      ...images.flatMap((image) => IMAGE_ENDPOINTS.map((path) => `${path}?image=${q(image)}`)),
      ...images.map((image) => `/manifest?image=${q(image)}&platform=linux/amd64`),
      `/catalog?registry=${q(other.host)}`,
      `/catalog?registry=${q(other.host)}&limit=5&pageSize=5`,
    ];
    for (const path of requests) {
      const res = await get(guarded, path, { headers: { Origin: "https://dash.example" } });
      const text = await answerText(res);
      assert.equal(res.status, 403, `${path}: ${text}`);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const error = JSON.parse(text);
      assert.equal(error.code, "REGISTRY_NOT_ALLOWED");
      assert.ok(error.message.includes(other.host), error.message);
    }
    // Docker Hub under every name, decided without the network (docker.io is not allowed here).
    for (const image of ["alpine", "library/alpine:3.19", "docker.io/library/alpine", "index.docker.io/library/alpine", "registry-1.docker.io/library/alpine"]) {
      for (const path of IMAGE_ENDPOINTS.map((p) => `${p}?image=${q(image)}`)) {
        const res = await get(guarded, path);
        const error = JSON.parse(await answerText(res));
        assert.equal(res.status, 403, path);
        assert.equal(error.code, "REGISTRY_NOT_ALLOWED", path);
        assert.match(error.message, /"docker\.io"/, path);
      }
    }
    for (const registry of ["docker.io", "index.docker.io", "registry-1.docker.io", "DOCKER.IO"]) {
      const res = await get(guarded, `/catalog?registry=${q(registry)}`);
      const error = JSON.parse(await answerText(res));
      assert.equal(res.status, 403, registry);
      assert.equal(error.code, "REGISTRY_NOT_ALLOWED", registry);
      assert.match(error.message, /"docker\.io"/, registry);
    }
    assert.equal(other.log.length, 0, `requests reached the other registry: ${JSON.stringify(other.log.map(entryText))}`);
    assert.equal(allowed.log.length, 0, "a refused request sends nothing anywhere");
  });

  for (const status of [302, 307, 308]) {
    test(`a ${status} of the allowed registry's token request to the other host never delivers the username or password there`, async () => {
      allowed.reset();
      other.reset();
      allowed.set({ token: { redirect: { status, to: `${other.url}/token` } } });
      try {
        // A repository of its own, so no cached token answers for it.
        const res = await get(guarded, `/token?image=${q(`${allowed.host}/team/redirected-${status}:1.0`)}`);
        const text = await answerText(res);

        // The credentials went where the protocol sends them: the allowed registry's realm…
        const redirects = allowed.entries("redirect");
        assert.equal(redirects.length, 1, `the allowed realm was asked once (${res.status} ${text})`);
        assert.equal(redirects[0].basicUser, ALICE.username);
        assert.equal(redirects[0].credential, secretDigest(ALICE.password));
        assert.equal(redirects[0].status, status);

        // …and the redirect was followed to the other host, without them.
        assert.ok(other.log.length >= 1, `the redirect to the other host was not followed (the Worker answered ${res.status} ${text})`);
        assertNoCredentials(other, `after a ${status} to the other host`);
        assert.ok(other.log.every((e) => e.kind === "token"), JSON.stringify(other.log.map((e) => e.kind)));
      } finally {
        allowed.restore();
      }
    });
  }
});

describe("examples/worker: configuration errors are 500 CONFIGURATION, send nothing and never quote the secret", () => {
  const SECRET = "s3cret-Pa55-never-shown";
  let reg;
  const workers = {};
  const get = (w, path, init) => w.dispatchFetch(`http://worker.example${path}`, init);
  const image = () => encodeURIComponent(`${reg.host}/team/app:1.0`);

  before(async () => {
    reg = await startEmulator({ name: "config" });
    const creds = { [reg.host]: { username: "carol", password: SECRET } };
    const configs = {
      // No allowlist: refused, not opened to every host.
      noAllowlist: { REGISTRY_CREDENTIALS: JSON.stringify(creds) },
      emptyAllowlist: { ALLOWED_REGISTRIES: " , ", REGISTRY_CREDENTIALS: JSON.stringify(creds) },
      badAllowlist: { ALLOWED_REGISTRIES: `${reg.host},https://ghcr.io` },
      // Cut short: JSON.parse's own message would quote the text around the error.
      badJson: { ALLOWED_REGISTRIES: reg.host, REGISTRY_CREDENTIALS: JSON.stringify(creds).slice(0, -3) },
      notObject: { ALLOWED_REGISTRIES: reg.host, REGISTRY_CREDENTIALS: JSON.stringify([SECRET]) },
      badShape: { ALLOWED_REGISTRIES: reg.host, REGISTRY_CREDENTIALS: JSON.stringify({ [reg.host]: { username: "carol", pass: SECRET } }) },
      badKey: { ALLOWED_REGISTRIES: reg.host, REGISTRY_CREDENTIALS: JSON.stringify({ [SECRET]: { username: "carol", password: "x" } }) },
    };
    const started = await Promise.all(
      Object.entries(configs).map(([name, bindings]) => startWorker({ script, name: `example-config-${name}`, bindings })),
    );
    Object.keys(configs).forEach((name, i) => (workers[name] = started[i]));
  });
  after(async () => {
    await Promise.all(Object.values(workers).map((w) => w.dispose()));
    await reg?.close();
  });

  const expected = {
    noAllowlist: /ALLOWED_REGISTRIES is not set/,
    emptyAllowlist: /ALLOWED_REGISTRIES is not set/,
    badAllowlist: /ALLOWED_REGISTRIES: "https:\/\/ghcr\.io" is not a registry name/,
    badJson: /REGISTRY_CREDENTIALS is not valid JSON/,
    notObject: /REGISTRY_CREDENTIALS must be a JSON object/,
    badShape: /REGISTRY_CREDENTIALS\["127\.0\.0\.1:\d+"\] must be/,
    badKey: /REGISTRY_CREDENTIALS: a key is not a registry name/,
  };
  for (const [name, message] of Object.entries(expected)) {
    test(`${name}: every endpoint → 500 CONFIGURATION ${message}, no request sent, the secret never quoted`, async () => {
      reg.reset();
      const paths = [...IMAGE_ENDPOINTS.map((path) => `${path}?image=${image()}`), `/catalog?registry=${encodeURIComponent(reg.host)}`];
      for (const path of paths) {
        const res = await get(workers[name], path);
        const text = await res.text();
        assert.equal(res.status, 500, `${path}: ${text}`);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        const error = JSON.parse(text);
        assert.equal(error.code, "CONFIGURATION");
        assert.match(error.message, message);
        assert.ok(!text.includes(SECRET) && !text.includes("carol"), `the answer quotes the secret: ${text}`);
      }
      assert.equal(reg.log.length, 0, "a misconfigured Worker sends nothing");
      // Preflights and routing do not need the configuration.
      const pre = await get(workers[name], "/token", { method: "OPTIONS", headers: { Origin: "https://dash.example", "Access-Control-Request-Method": "GET" } });
      assert.equal(pre.status, 204);
    });
  }
});

// The dashboard's backend: /tags (every page), /manifest, /config and /catalog against an emulated
// registry (tests/js/support/emulator.mjs) that pages tags 100 at a time and the catalog 2 at a
// time, holds a multi-arch index with attestations, a private repository and a rate-limited one.
describe("examples/worker as the dashboard's backend: tags, manifest, config, catalog, CORS, errors", () => {
  const DANA = { username: "dana-dash", password: "dana-Pa55-dashboard-secret" };
  const DASH = "https://dash.example";
  const CREATED = "2023-05-06T07:08:09Z";
  const app = makeImage({ name: "app", created: CREATED, labels: { "org.opencontainers.image.version": "1.0" } });
  const secret = makeImage({ name: "secret", created: "2022-01-01T00:00:00Z" });
  const multi = multiArch({ name: "multi", created: CREATED }); // amd64, arm64/v8, arm/v7 + 3 attestations
  const REPOS = ["team/app", "team/limited", "team/many", "team/multi", "team/private"];
  let emu;
  let dash; // ALLOWED_ORIGIN = DASH, with Dana's credentials
  let open; // ALLOWED_ORIGIN = "*", no credentials
  const q = encodeURIComponent;
  const ref = (repo, tag) => q(`${emu.host}/${repo}${tag ? `:${tag}` : ""}`);

  /** The Worker's answer as { res, text, body }; no answer ever holds Dana's password. */
  async function call(w, path, init) {
    const res = await w.dispatchFetch(`http://worker.example${path}`, init);
    const text = await res.text();
    assert.ok(!text.includes(DANA.password) && !text.includes(q(DANA.password)), `the answer to ${path} holds the password: ${text}`);
    assert.ok(![...res.headers.values()].some((v) => v.includes(DANA.password)), `a header of ${path} holds the password`);
    return { res, text, body: text ? JSON.parse(text) : null };
  }

  before(async () => {
    emu = await startEmulator({
      name: "dash",
      token: { users: { [DANA.username]: DANA.password } },
      repos: {
        "team/many": { tags: 250 },
        "team/multi": { manifests: { "1.0": multi } },
        "team/app": { manifests: { "1.0": app } },
        "team/private": { private: true, manifests: { "1.0": secret } },
        "team/limited": { manifests: { "1.0": app } },
      },
      resources: {
        tagsPage: { max: 100, default: 100, link: "absolute" },
        catalogPage: { max: 2, default: 2 },
        // Every request for team/limited: 429 with Retry-After, as Docker Hub's pull limit answers.
        respond: (entry) =>
          entry.repository === "team/limited"
            ? { status: 429, headers: { "Retry-After": "42" }, body: { errors: [{ code: "TOOMANYREQUESTS", message: "too many requests for team/limited" }] } }
            : null,
      },
    });
    [dash, open] = await Promise.all([
      startWorker({
        script, name: "example-dashboard",
        bindings: { ALLOWED_ORIGIN: DASH, ALLOWED_REGISTRIES: emu.host, REGISTRY_CREDENTIALS: JSON.stringify({ [emu.host]: DANA }) },
      }),
      startWorker({ script, name: "example-dashboard-open", bindings: { ALLOWED_ORIGIN: "*", ALLOWED_REGISTRIES: emu.host } }),
    ]);
  });
  after(async () => {
    await Promise.all([dash?.dispose(), open?.dispose()]);
    await emu?.close();
  });

  test("GET /tags follows every Link page: 250 tags in 3 pages, exactly, in order", async () => {
    emu.reset();
    const { res, body } = await call(dash, `/tags?image=${ref("team/many")}`, { headers: { Origin: DASH } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(body, { name: "team/many", tags: tagNames(250), pages: 3, truncated: false });
    assert.equal(emu.resources({ resource: "tags" }).length, 3, "three tags/list requests");
  });

  test("GET /tags with limit and pageSize: cut at the limit, truncated: true", async () => {
    emu.reset();
    const { res, body } = await call(dash, `/tags?image=${ref("team/many")}&limit=120&pageSize=50`);
    assert.equal(res.status, 200);
    assert.deepEqual(body.tags, tagNames(250).slice(0, 120));
    assert.equal(body.truncated, true);
    assert.equal(body.pages, 3, "pages of 50: 50 + 50 + the page that holds the 120th");
    assert.ok(emu.resources({ resource: "tags" }).every((e) => new URLSearchParams(e.rawQuery).get("n") === "50"), "n=50 asked on every page");
    // Exactly as many as there are: not truncated.
    const all = await call(dash, `/tags?image=${ref("team/many")}&limit=250`);
    assert.equal(all.body.tags.length, 250);
    assert.equal(all.body.truncated, false);
  });

  test("GET /manifest of a multi-arch index: its three platforms, attestations left out", async () => {
    const { res, body } = await call(dash, `/manifest?image=${ref("team/multi", "1.0")}`);
    assert.equal(res.status, 200);
    assert.equal(body.digest, multi.digest);
    assert.equal(body.mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(body.size, multi.size);
    assert.equal(body.manifest.manifests.length, 6, "the index as sent: 3 images and 3 attestation manifests");
    assert.deepEqual(
      body.platforms.map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join("/")),
      ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"],
    );
    assert.deepEqual(body.platforms.map((p) => p.digest), multi.children.slice(0, 3).map((c) => c.digest));
    assert.equal(body.index, undefined);
  });

  test("GET /manifest?platform= picks the entry out of the index; an image manifest has no platforms", async () => {
    const arm = await call(dash, `/manifest?image=${ref("team/multi", "1.0")}&platform=linux/arm/v7`);
    assert.equal(arm.res.status, 200, arm.text);
    assert.equal(arm.body.digest, multi.children[2].digest);
    assert.equal(arm.body.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(arm.body.index.digest, multi.digest);
    const arm64 = await call(dash, `/manifest?image=${ref("team/multi", "1.0")}&platform=linux/arm64`);
    assert.equal(arm64.body.digest, multi.children[1].digest, "arm64 matches arm64/v8");

    const image = await call(dash, `/manifest?image=${ref("team/app", "1.0")}`);
    assert.equal(image.body.digest, app.digest);
    assert.equal(image.body.platforms, undefined);
    assert.equal(image.body.manifest.config.digest, app.config.digest);

    const missing = await call(dash, `/manifest?image=${ref("team/multi", "1.0")}&platform=linux/s390x`);
    assert.equal(missing.res.status, 404, missing.text);
    assert.equal(missing.body.code, "NOT_FOUND");
  });

  test("GET /config: the image config with its created date and labels; on an index, per platform", async () => {
    const { res, body } = await call(dash, `/config?image=${ref("team/app", "1.0")}`);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(body).sort(), ["config", "digest"]);
    assert.equal(body.digest, app.config.digest);
    assert.equal(body.config.created, CREATED);
    assert.equal(new Date(body.config.created).toISOString(), "2023-05-06T07:08:09.000Z");
    assert.equal(body.config.config.Labels["org.opencontainers.image.version"], "1.0");

    const arm = await call(dash, `/config?image=${ref("team/multi", "1.0")}&platform=linux/arm/v7`);
    assert.equal(arm.res.status, 200, arm.text);
    assert.deepEqual([arm.body.config.os, arm.body.config.architecture, arm.body.config.variant], ["linux", "arm", "v7"]);
    assert.equal(arm.body.config.created, CREATED);

    // An index without platform: the library's INVALID_REFERENCE naming the platforms → 400.
    const index = await call(dash, `/config?image=${ref("team/multi", "1.0")}`);
    assert.equal(index.res.status, 400, index.text);
    assert.equal(index.body.code, "INVALID_REFERENCE");
    assert.match(index.body.message, /linux\/arm64/);
  });

  test("GET /catalog follows the catalog's pages; limit cuts it", async () => {
    emu.reset();
    const { res, body } = await call(dash, `/catalog?registry=${q(emu.host)}`);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body, { registry: emu.host, repositories: REPOS, truncated: false });
    assert.equal(emu.resources({ resource: "catalog" }).length, 3, "five repositories, two a page");
    const cut = await call(open, `/catalog?registry=${q(emu.host)}&limit=2`);
    assert.deepEqual(cut.body, { registry: emu.host, repositories: REPOS.slice(0, 2), truncated: true });
  });

  test("private repository: 401 without credentials in the Worker, listed with them; the password never in an answer", async () => {
    const anon = await call(open, `/tags?image=${ref("team/private")}`);
    assert.equal(anon.res.status, 401, anon.text);
    assert.equal(anon.body.code, "UNAUTHORIZED");
    assert.equal(anon.body.status, 401);
    const anonConfig = await call(open, `/config?image=${ref("team/private", "1.0")}`);
    assert.equal(anonConfig.res.status, 401, anonConfig.text);

    emu.reset();
    const listed = await call(dash, `/tags?image=${ref("team/private")}`);
    assert.equal(listed.res.status, 200, listed.text);
    assert.deepEqual(listed.body.tags, ["1.0"]);
    const config = await call(dash, `/config?image=${ref("team/private", "1.0")}`);
    assert.equal(config.body.config.created, "2022-01-01T00:00:00Z");
    assert.ok(emu.entries("token").some((e) => e.basicUser === DANA.username && e.credential === secretDigest(DANA.password)), "Dana's credentials reached the token server");
  });

  test("CORS: the allowed origin gets Allow-Origin (echoed, with credentials) on every endpoint, others get none", async () => {
    const paths = [
      `/token?image=${ref("team/app", "1.0")}`,
      `/tags?image=${ref("team/app")}`,
      `/manifest?image=${ref("team/app", "1.0")}`,
      `/config?image=${ref("team/app", "1.0")}`,
      `/catalog?registry=${q(emu.host)}`,
      `/tags?image=${ref("team/nope")}`, // errors carry CORS too
    ];
    for (const path of paths) {
      const ok = await call(dash, path, { headers: { Origin: DASH } });
      assert.equal(ok.res.headers.get("access-control-allow-origin"), DASH, path);
      assert.equal(ok.res.headers.get("access-control-allow-credentials"), "true", path);
      assert.equal(ok.res.headers.get("vary"), "Origin", path);
      assert.equal(ok.res.headers.get("access-control-expose-headers"), "Retry-After", path);

      const evil = await call(dash, path, { headers: { Origin: "https://evil.example" } });
      assert.equal(evil.res.status, ok.res.status, `${path}: CORS does not change the answer itself`);
      assert.equal(evil.res.headers.get("access-control-allow-origin"), null, path);
      assert.equal(evil.res.headers.get("access-control-allow-credentials"), null, path);
      assert.equal(evil.res.headers.get("vary"), "Origin", path);

      const none = await call(dash, path);
      assert.equal(none.res.headers.get("access-control-allow-origin"), null, path);

      const any = await call(open, path, { headers: { Origin: "https://evil.example" } });
      assert.equal(any.res.headers.get("access-control-allow-origin"), "*", path);
      assert.equal(any.res.headers.get("access-control-allow-credentials"), null, `${path}: never "*" with credentials`);
    }
  });

  test("CORS preflight: 204 for every endpoint, Allow-Origin for the allowed origin only; nothing sent", async () => {
    emu.reset();
    for (const path of ["/token", "/tags", "/manifest", "/config", "/catalog"]) {
      const pre = await call(dash, `${path}?image=x`, {
        method: "OPTIONS",
        headers: { Origin: DASH, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
      });
      assert.equal(pre.res.status, 204, path);
      assert.equal(pre.text, "");
      assert.equal(pre.res.headers.get("access-control-allow-origin"), DASH, path);
      assert.equal(pre.res.headers.get("access-control-allow-credentials"), "true", path);
      assert.equal(pre.res.headers.get("access-control-allow-methods"), "GET, OPTIONS", path);
      assert.match(pre.res.headers.get("access-control-allow-headers"), /authorization/i, path);
      assert.equal(pre.res.headers.get("access-control-max-age"), "600", path);

      const evil = await call(dash, `${path}?image=x`, { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
      assert.equal(evil.res.status, 204, path);
      assert.equal(evil.res.headers.get("access-control-allow-origin"), null, path);
    }
    assert.equal(emu.log.length, 0, "a preflight sends nothing to the registry");
  });

  test("errors: 404 NOT_FOUND for an unknown repository, tag or platform", async () => {
    for (const path of [`/tags?image=${ref("team/nope")}`, `/manifest?image=${ref("team/app", "nope")}`, `/config?image=${ref("team/nope", "1.0")}`]) {
      const { res, body } = await call(dash, path, { headers: { Origin: DASH } });
      assert.equal(res.status, 404, path);
      assert.equal(body.code, "NOT_FOUND", path);
      assert.equal(body.status, 404, path);
      assert.equal(typeof body.message, "string");
      assert.deepEqual(Object.keys(body).sort(), ["code", "message", "status"], path);
    }
  });

  test("errors: 429 RATE_LIMITED with Retry-After (header and body) on every endpoint of a rate-limited repository", async () => {
    for (const path of [`/tags?image=${ref("team/limited")}`, `/manifest?image=${ref("team/limited", "1.0")}`, `/config?image=${ref("team/limited", "1.0")}`]) {
      const { res, body } = await call(dash, path, { headers: { Origin: DASH } });
      assert.equal(res.status, 429, path);
      assert.equal(res.headers.get("retry-after"), "42", path);
      assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After", "a page can read Retry-After");
      assert.deepEqual({ code: body.code, status: body.status, retryAfter: body.retryAfter }, { code: "RATE_LIMITED", status: 429, retryAfter: "42" }, path);
      assert.match(body.message, /too many requests for team\/limited/);
    }
  });

  test("errors: the token server's own 429 is a 429 too (TOKEN_ENDPOINT, with its Retry-After)", async () => {
    emu.set({ token: { methods: { GET: { status: 429 } }, headers: { "Retry-After": "7" } } });
    try {
      // A repository of its own, so no cached token answers for it.
      const { res, body } = await call(open, `/tags?image=${ref("team/token-limited")}`);
      assert.equal(res.status, 429, JSON.stringify(body));
      assert.equal(res.headers.get("retry-after"), "7");
      assert.deepEqual({ code: body.code, status: body.status, retryAfter: body.retryAfter }, { code: "TOKEN_ENDPOINT", status: 429, retryAfter: "7" });
    } finally {
      emu.restore();
    }
  });

  test("errors: bad input → 400 before anything is sent", async () => {
    const img = ref("team/app", "1.0");
    const cases = [
      ["/tags", "INVALID_REFERENCE", /image query parameter is required/],
      [`/tags?image=`, "INVALID_REFERENCE", /image query parameter is required/],
      [`/manifest?image=${q(`${emu.host}/Team/App:1.0`)}`, "INVALID_REFERENCE", /./],
      [`/config?image=${q(`${emu.host}/team/${"a".repeat(1100)}`)}`, "INVALID_REFERENCE", /longer than 1024/],
      [`/tags?image=${img}&image=${img}`, "INVALID_PARAMETER", /more than once/],
      [`/tags?image=${img}&page=2`, "INVALID_PARAMETER", /unknown query parameter "page"/],
      [`/manifest?image=${img}&limit=5`, "INVALID_PARAMETER", /unknown query parameter "limit"/],
      [`/tags?image=${img}&limit=0`, "INVALID_PARAMETER", /limit must be an integer from 1 to 50000/],
      [`/tags?image=${img}&limit=50001`, "INVALID_PARAMETER", /limit must be/],
      [`/tags?image=${img}&limit=1.5`, "INVALID_PARAMETER", /limit must be/],
      [`/tags?image=${img}&limit=-3`, "INVALID_PARAMETER", /limit must be/],
      [`/tags?image=${img}&limit=ten`, "INVALID_PARAMETER", /limit must be/],
      [`/tags?image=${img}&pageSize=0`, "INVALID_PARAMETER", /pageSize must be an integer from 1 to 1000/],
      [`/tags?image=${img}&pageSize=1001`, "INVALID_PARAMETER", /pageSize must be/],
      [`/catalog?registry=${q(emu.host)}&pageSize=`, "INVALID_PARAMETER", /pageSize must be/],
      [`/manifest?image=${img}&platform=linux`, "INVALID_PARAMETER", /platform must be os\/architecture/],
      [`/config?image=${img}&platform=linux/arm/v7/x`, "INVALID_PARAMETER", /platform must be/],
      ["/catalog", "INVALID_REFERENCE", /registry query parameter is required/],
      [`/catalog?registry=${q(`https://${emu.host}`)}`, "INVALID_REFERENCE", /registry must be a registry name/],
      [`/catalog?registry=${q(`${emu.host}/team`)}`, "INVALID_REFERENCE", /registry must be a registry name/],
      [`/catalog?image=${img}`, "INVALID_PARAMETER", /unknown query parameter "image"/],
    ];
    emu.reset();
    for (const [path, code, message] of cases) {
      const { res, body } = await call(dash, path, { headers: { Origin: DASH } });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(body)}`);
      assert.equal(res.headers.get("access-control-allow-origin"), DASH);
      assert.equal(body.code, code, path);
      assert.match(body.message, message, path);
    }
    assert.equal(emu.log.length, 0, `bad input sent requests: ${emu.log.map((e) => `${e.method} ${e.path}`).join(", ")}`);
  });
});

// Issue 12: with the TOKENS binding (a KV namespace persisted to a temp directory), the example
// shares tokens between isolates: every request below runs in a fresh Miniflare instance, and
// only the first asks the registry. The tests above run without the binding (it is optional).
describe("examples/worker with the TOKENS KV binding: isolates share tokens", () => {
  const CAROL = { username: "carol-kv", password: "carol-Pa55-kv-secret" };
  let emu;
  let bundle;
  let dir;
  const q = encodeURIComponent;

  before(async () => {
    emu = await startEmulator({
      name: "kv-registry",
      token: { users: { [CAROL.username]: CAROL.password } },
      repos: { "team/app": { manifests: { "1.0": makeImage({ name: "app" }), "1.1": makeImage({ name: "app11" }) } } },
    });
    dir = mkdtempSync(join(tmpdir(), "registry-token-example-kv-"));
  });
  after(async () => {
    await emu?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One fresh isolate with the binding: one request, then (as the platform does) its waitUntil work, then gone. */
  async function isolate(path) {
    const worker = await startWorker({
      script,
      bundle,
      name: "example-kv",
      bindings: { ALLOWED_REGISTRIES: emu.host, REGISTRY_CREDENTIALS: JSON.stringify({ [emu.host]: CAROL }) },
      options: { kvNamespaces: { TOKENS: "tokens" }, kvPersist: dir },
    });
    bundle = worker.bundle;
    try {
      const res = await worker.dispatchFetch(`http://worker.example${path}`);
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      // miniflare's dispose() does not wait for ctx.waitUntil work as a deployed isolate does:
      // wait for the store write the Worker handed to it before ending this isolate.
      const kv = await worker.miniflare.getKVNamespace("TOKENS");
      for (let waited = 0; (await kv.list()).keys.length === 0 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      return body;
    } finally {
      await worker.dispose();
    }
  }

  test("6 fresh isolates (/token and /tags) → 1 ping and 1 token request; the KV entry holds no credential", async (t) => {
    const image = q(`${emu.host}/team/app:1.0`);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await isolate(i % 2 ? `/tags?image=${image}` : `/token?image=${image}`));
    assert.deepEqual([emu.counts().ping, emu.counts().token], [1, 1]);
    assert.equal(emu.entries("token")[0].basicUser, CAROL.username);
    const token = answers[0].token;
    for (const a of answers.filter((_, i) => i % 2 === 0)) assert.equal(a.token, token);
    for (const a of answers.filter((_, i) => i % 2 === 1)) assert.deepEqual(a.tags, ["1.0", "1.1"]);
    assert.ok(emu.resources().every((r) => r.credential === secretDigest(token)), "the tags requests used the shared token");

    const probe = await startWorker({ script, bundle, bindings: { ALLOWED_REGISTRIES: emu.host }, options: { kvNamespaces: { TOKENS: "tokens" }, kvPersist: dir } });
    try {
      const kv = await probe.miniflare.getKVNamespace("TOKENS");
      const { keys } = await kv.list();
      assert.equal(keys.length, 1);
      assert.match(keys[0].name, /^registry-token:rt1-[0-9a-f]{64}$/);
      assert.ok(keys[0].expiration > Date.now() / 1000, "stored with an expiration (expirationTtl)");
      const value = await kv.get(keys[0].name);
      assert.equal(JSON.parse(value).token, token);
      for (const secret of [CAROL.password, CAROL.username, secretDigest(CAROL.password), "Basic"]) {
        assert.ok(!value.includes(secret) && !keys[0].name.includes(secret), "a credential in the KV entry");
      }
    } finally {
      await probe.dispose();
    }
    t.diagnostic(`6 isolates with TOKENS → ${emu.counts().ping} ping, ${emu.counts().token} token request, ${emu.resources().length} tags requests`);
  });
});
