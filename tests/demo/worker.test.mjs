// examples/worker/ in workerd (miniflare), bundled the wrangler way with the packed package
// (tests/js/support/workerd.mjs), against the local registry of tests/fixtures/distribution.mjs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startDistribution, TEST_USERS } from "../fixtures/distribution.mjs";
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
    const vars = readWranglerConfig().vars;
    [worker, privateWorker, restricted] = await Promise.all([
      // Bundled by `wrangler deploy --dry-run`, as `npx wrangler deploy` would; the others by esbuild.
      startWorker({ script, name: "example-anonymous", bindings: vars, bundler: "wrangler" }),
      startWorker({
        script, name: "example-credentials", bindings: { ...vars, REGISTRY_USERNAME: TEST_USERS.reader.username, REGISTRY_PASSWORD: TEST_USERS.reader.password },
      }),
      startWorker({ script, name: "example-origin", bindings: { ALLOWED_ORIGIN: "https://dash.example, https://other.example" } }),
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

  test("private repository: refused anonymously (registry 401 behind a partial grant), listed with REGISTRY_USERNAME/PASSWORD", async () => {
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
    const bad = await startWorker({ script, name: "example-bad-credentials", bindings: { REGISTRY_USERNAME: "reader", REGISTRY_PASSWORD: "wrong-password-xyz" } });
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
