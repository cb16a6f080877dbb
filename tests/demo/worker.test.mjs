// examples/worker/ in workerd (miniflare), bundled the wrangler way with the packed package
// (tests/js/support/workerd.mjs), against the local registry of tests/fixtures/distribution.mjs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startDistribution, TEST_USERS } from "../fixtures/distribution.mjs";
import { secretDigest, startEmulator } from "../js/support/emulator.mjs";
import { root } from "../js/support/package.mjs";
import { COMPATIBILITY_DATE, startWorker } from "../js/support/workerd.mjs";

const EXAMPLE = join(root, "examples", "worker");
const script = readFileSync(join(EXAMPLE, "src", "index.js"), "utf8");

/** wrangler.jsonc without its comments (none of its strings contain "//"). */
function readWranglerConfig() {
  return JSON.parse(readFileSync(join(EXAMPLE, "wrangler.jsonc"), "utf8").replace(/^\s*\/\/.*$/gm, "").replace(/,(\s*[}\]])/g, "$1"));
}

test("wrangler.jsonc points at the example and uses the tested compatibility date", () => {
  const cfg = readWranglerConfig();
  assert.equal(cfg.main, "src/index.js");
  assert.equal(cfg.compatibility_date, COMPATIBILITY_DATE);
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
    assert.equal(body.name, "library/alpine");
    assert.deepEqual(body.tags.sort(), ["3.19", "latest"]);
  });

  test("private repository: refused anonymously (registry 401 behind a partial grant), listed with REGISTRY_CREDENTIALS", async () => {
    const anon = await get(worker, `/tags?image=${q(image("team/secret", "1.0"))}`);
    assert.equal(anon.status, 502);
    const err = (await anon.json()).error;
    assert.equal(err.code, "REGISTRY");
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
      const { error } = await res.json();
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
    assert.equal((await bad.json()).error.code, "INVALID_REFERENCE");

    const missing = await get(worker, "/token");
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.code, "INVALID_REFERENCE");

    const down = await get(worker, `/token?image=${q("127.0.0.1:9/library/alpine")}`);
    assert.equal(down.status, 502);
    assert.equal((await down.json()).error.code, "NETWORK");
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
    assert.equal(ok.headers.get("vary"), "Origin");
    const no = await get(restricted, "/nope", { headers: { Origin: "https://evil.example" } });
    assert.equal(no.headers.get("access-control-allow-origin"), null);
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
    for (const image of images) {
      for (const path of ["/token", "/tags"]) {
        const res = await get(guarded, `${path}?image=${q(image)}`, { headers: { Origin: "https://dash.example" } });
        const text = await answerText(res);
        assert.equal(res.status, 403, `${path} ${image}: ${text}`);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        const { error } = JSON.parse(text);
        assert.equal(error.code, "REGISTRY_NOT_ALLOWED");
        assert.ok(error.message.includes(other.host), error.message);
      }
    }
    // Docker Hub under every name, decided without the network (docker.io is not allowed here).
    for (const image of ["alpine", "library/alpine:3.19", "docker.io/library/alpine", "index.docker.io/library/alpine", "registry-1.docker.io/library/alpine"]) {
      const res = await get(guarded, `/token?image=${q(image)}`);
      const { error } = await res.json();
      assert.equal(res.status, 403, image);
      assert.equal(error.code, "REGISTRY_NOT_ALLOWED", image);
      assert.match(error.message, /"docker\.io"/, image);
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
    test(`${name}: /token and /tags → 500 CONFIGURATION ${message}, no request sent, the secret never quoted`, async () => {
      reg.reset();
      for (const path of ["/token", "/tags"]) {
        const res = await get(workers[name], `${path}?image=${image()}`);
        const text = await res.text();
        assert.equal(res.status, 500, text);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        const { error } = JSON.parse(text);
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
