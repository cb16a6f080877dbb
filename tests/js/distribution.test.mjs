// The packed `registry-token` package against a real registry: Debian's `docker-registry`
// (distribution v2.8.2) with `auth: token:` and our own token server, plus an `auth: htpasswd:`
// instance (issue 3). Started and stopped by tests/fixtures/distribution.mjs on 127.0.0.1.
//
// Two parts:
//  * "fixture self-test" — needs no package: proves the fixture's tokens really open distribution
//    (and that distribution really checks them), so the suite is useful before pkg/ exists.
//  * "package" — the issue's tests against the packed package (importPackage: npm pack + install).
//
// Without /usr/bin/docker-registry every test fails (never skips) with the apt-get hint.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  buildImage, DEBIAN_PACKAGE, findRegistryBinary, ISSUER, MEDIA_TYPES, pushImage, registryMissingMessage, SEED, SERVICE, startDistribution,
} from "../fixtures/distribution.mjs";
import { createSigningCertificate, decodeJwt, REDACTED, signJwt } from "../fixtures/token-server.mjs";
import { importPackage } from "./support/package.mjs";

// First, a plain failure line that names the package when the binary is missing (under CI=true and
// locally alike: the suite fails, it never skips). The `before` hook below throws the same message.
test(`distribution is installed (Debian package \`${DEBIAN_PACKAGE}\`)`, () => {
  assert.ok(findRegistryBinary(), registryMissingMessage());
});

/** @type {Awaited<ReturnType<typeof startDistribution>>} */
let reg;
before(async () => {
  reg = await startDistribution({ htpasswd: true, cors: true });
});
after(async () => {
  await reg?.stop();
});
beforeEach(() => reg?.tokenServer.reset());

let pkgPromise = null;
/** The packed package, imported by name; loaded lazily so the self-test runs without pkg/. */
const pkg = () => (pkgPromise ??= importPackage());

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const basic = ({ username, password }) => `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
const MANIFEST_ACCEPT = { Accept: `${MEDIA_TYPES.manifest}, application/vnd.oci.image.manifest.v1+json` };

async function call(base, path, { token, authorization, method = "GET", headers = {} } = {}) {
  const auth = authorization ?? (token ? `Bearer ${token}` : undefined);
  const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(auth ? { Authorization: auth } : {}) } });
  const text = method === "HEAD" ? "" : await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}
const registry = (path, opts) => call(reg.registryUrl, path, opts);

/** Token-server GET like a client would do it: `scope` repeated, Basic optional. */
async function tokenGet({ scopes = [], credentials, service = reg.service, extra = {} } = {}) {
  const url = new URL(reg.realm);
  if (service) url.searchParams.set("service", service);
  for (const s of scopes) url.searchParams.append("scope", s);
  for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
  const res = await fetch(url, { headers: credentials ? { Authorization: basic(credentials) } : {} });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function tokenPost(fields) {
  const res = await fetch(reg.realm, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Starts a blob upload; on 202 cancels it again so the storage stays clean. */
async function tryStartUpload(repository, token, base = reg.registryUrl) {
  const res = await call(base, `/v2/${repository}/blobs/uploads/`, { method: "POST", token });
  if (res.status === 202) {
    const loc = new URL(res.headers.get("location"), base);
    await fetch(loc, { method: "DELETE", headers: bearer(token) }).then((r) => r.arrayBuffer());
  }
  return res;
}

const accessOf = (token) => decodeJwt(token).claims.access;
const tokenRequests = () => reg.tokenServer.requests.filter((r) => r.path === "/token");

// =================================================================================================
describe("fixture self-test (no package needed)", () => {
  test("distribution asks for a token: /v2/ without one → 401 Bearer challenge naming our realm and service", async () => {
    const res = await registry("/v2/");
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), `Bearer realm="${reg.realm}",service="${SERVICE}"`);
    assert.equal(res.json().errors[0].code, "UNAUTHORIZED");
    const repo = await registry("/v2/library/alpine/tags/list");
    assert.equal(repo.status, 401);
    assert.match(repo.headers.get("www-authenticate"), /scope="repository:library\/alpine:pull"/);
  });

  test("anonymous GET token pulls public library/alpine (tags, manifest), cannot push; asking push is a partial grant", async () => {
    const { status, body } = await tokenGet({ scopes: ["repository:library/alpine:pull,push"] });
    assert.equal(status, 200);
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    assert.ok(!Number.isNaN(Date.parse(body.issued_at)));
    const { header, claims } = decodeJwt(body.token);
    assert.equal(header.alg, "ES256");
    assert.equal(header.x5c.length, 1);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, SERVICE);
    assert.equal(claims.sub, "");
    assert.equal(claims.exp - claims.iat, 300);
    for (const k of ["nbf", "jti"]) assert.ok(claims[k], k);
    assert.deepEqual(claims.access, [{ type: "repository", name: "library/alpine", actions: ["pull"] }]);

    const tags = await registry("/v2/library/alpine/tags/list", { token: body.token });
    assert.equal(tags.status, 200);
    assert.deepEqual(tags.json().tags.sort(), [...SEED["library/alpine"]].sort());
    for (const tag of SEED["library/alpine"]) {
      const m = await registry(`/v2/library/alpine/manifests/${tag}`, { token: body.token, headers: MANIFEST_ACCEPT });
      assert.equal(m.status, 200);
      assert.equal(m.headers.get("docker-content-digest"), reg.images["library/alpine"].digest);
      assert.equal(m.headers.get("content-type"), MEDIA_TYPES.manifest);
    }
    const layer = reg.images["library/alpine"].image.blobs[1];
    const blob = await registry(`/v2/library/alpine/blobs/${layer.digest}`, { token: body.token });
    assert.equal(blob.status, 200);

    const upload = await tryStartUpload("library/alpine", body.token);
    assert.equal(upload.status, 401);
    assert.match(upload.headers.get("www-authenticate"), /error="insufficient_scope"/);
    // The token is for library/alpine only.
    assert.equal((await registry("/v2/team/app/tags/list", { token: body.token })).status, 401);
    const log = tokenRequests();
    assert.equal(log.length, 1);
    assert.deepEqual(log[0].query.scope, ["repository:library/alpine:pull,push"]);
    assert.equal(log[0].basicAuth, false);
  });

  test("several scope parameters in one GET → one access entry each", async () => {
    const { body } = await tokenGet({ scopes: ["repository:library/alpine:pull", "repository:team/app:pull", "repository:library/alpine:push"] });
    assert.deepEqual(accessOf(body.token), [
      { type: "repository", name: "library/alpine", actions: ["pull"] },
      { type: "repository", name: "team/app", actions: [] },
    ]);
  });

  test("tester via GET + Basic: pull+push token starts an upload (202) and pushes a whole image", async () => {
    const { status, body } = await tokenGet({ scopes: ["repository:team/selftest:pull,push"], credentials: reg.users.tester });
    assert.equal(status, 200);
    assert.equal(decodeJwt(body.token).claims.sub, "tester");
    assert.deepEqual(accessOf(body.token), [{ type: "repository", name: "team/selftest", actions: ["pull", "push"] }]);
    assert.equal((await tryStartUpload("team/selftest", body.token)).status, 202);
    const image = buildImage("selftest");
    const digest = await pushImage({ baseUrl: reg.registryUrl, repository: "team/selftest", tags: ["v1"], image, authorization: `Bearer ${body.token}` });
    assert.equal(digest, image.digest);
    const m = await registry("/v2/team/selftest/manifests/v1", { token: body.token, headers: MANIFEST_ACCEPT });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get("docker-content-digest"), image.digest);
    const log = tokenRequests();
    assert.equal(log[0].basicAuth, true);
    assert.equal(log[0].username, "tester");
    assert.ok(!JSON.stringify(log).includes(reg.users.tester.password), "password must not be logged");
  });

  test("wrong password → 401, JSON errors body, Basic challenge (GET and POST); nothing secret logged", async () => {
    const bad = { username: "tester", password: "not-the-password" };
    const get = await tokenGet({ scopes: ["repository:team/app:pull"], credentials: bad });
    assert.equal(get.status, 401);
    assert.equal(get.headers.get("www-authenticate"), `Basic realm="${reg.realm}"`);
    assert.equal(get.body.errors[0].code, "UNAUTHORIZED");
    assert.match(get.body.errors[0].message, /incorrect username or password/);
    const post = await tokenPost({ grant_type: "password", client_id: "selftest", service: reg.service, username: bad.username, password: bad.password, scope: "repository:team/app:pull" });
    assert.equal(post.status, 401);
    assert.equal(post.body.errors[0].code, "UNAUTHORIZED");
    assert.equal(tokenRequests()[1].form.password, REDACTED);
    assert.ok(!JSON.stringify(reg.tokenServer.requests).includes(bad.password));
  });

  test("OAuth2 POST: password grant (+ access_type=offline → refresh token), refresh_token grant, client_id required", async () => {
    const { tester } = reg.users;
    const first = await tokenPost({
      grant_type: "password", client_id: "selftest", service: reg.service, access_type: "offline",
      username: tester.username, password: tester.password, scope: "repository:team/app:pull,push repository:library/alpine:pull",
    });
    assert.equal(first.status, 200);
    assert.equal(first.body.token, undefined);
    assert.equal(first.body.scope, "repository:team/app:pull,push repository:library/alpine:pull");
    assert.equal(first.body.expires_in, 300);
    assert.match(first.body.refresh_token, /^rt-/);
    assert.equal((await registry("/v2/team/app/tags/list", { token: first.body.access_token })).status, 200);

    const refreshed = await tokenPost({ grant_type: "refresh_token", client_id: "selftest", service: reg.service, refresh_token: first.body.refresh_token, scope: "repository:team/app:pull" });
    assert.equal(refreshed.status, 200);
    assert.equal(refreshed.body.refresh_token, undefined); // only with access_type=offline
    assert.equal(decodeJwt(refreshed.body.access_token).claims.sub, "tester");
    assert.equal((await registry("/v2/team/app/manifests/1.0", { token: refreshed.body.access_token, headers: MANIFEST_ACCEPT })).status, 200);

    const again = await tokenPost({ grant_type: "refresh_token", client_id: "selftest", service: reg.service, access_type: "offline", refresh_token: first.body.refresh_token, scope: "" });
    assert.equal(again.body.refresh_token, first.body.refresh_token);
    assert.equal((await tokenPost({ grant_type: "refresh_token", client_id: "x", refresh_token: "rt-bogus" })).status, 401);
    assert.equal((await tokenPost({ grant_type: "password", username: tester.username, password: tester.password })).status, 400);

    const log = JSON.stringify(reg.tokenServer.requests);
    assert.ok(!log.includes(tester.password) && !log.includes(first.body.refresh_token), "secrets must be redacted");
    assert.equal(reg.tokenServer.requests[1].form.refresh_token, REDACTED);
  });

  test("private team/secret: anonymous token has empty access and distribution answers 401; reader and tester may pull", async () => {
    const anon = await tokenGet({ scopes: ["repository:team/secret:pull"] });
    assert.equal(anon.status, 200); // a partial (here: empty) grant is not a token-server error
    assert.deepEqual(accessOf(anon.body.token), [{ type: "repository", name: "team/secret", actions: [] }]);
    const denied = await registry("/v2/team/secret/tags/list", { token: anon.body.token });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate"), /error="insufficient_scope"/);
    for (const user of [reg.users.reader, reg.users.tester]) {
      const { body } = await tokenGet({ scopes: ["repository:team/secret:pull,push"], credentials: user });
      assert.equal((await registry("/v2/team/secret/tags/list", { token: body.token })).status, 200, user.username);
      assert.equal((await tryStartUpload("team/secret", body.token)).status, user.username === "tester" ? 202 : 401, user.username);
    }
  });

  test("distribution really verifies tokens: foreign key, expired, wrong audience/issuer, array aud → 401 invalid_token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "registry-token-foreign-"));
    try {
      const foreign = createSigningCertificate(dir);
      const now = Math.floor(Date.now() / 1000);
      const access = [{ type: "repository", name: "library/alpine", actions: ["pull"] }];
      const claims = { iss: ISSUER, sub: "", aud: SERVICE, exp: now + 300, nbf: now, iat: now, jti: "x", access };
      const good = reg.tokenServer.mint({ access });
      assert.equal((await registry("/v2/library/alpine/tags/list", { token: good })).status, 200);
      const bad = {
        "foreign key": signJwt(claims, foreign),
        // distribution allows 60 s of leeway on exp/nbf: 2 minutes ago is expired for good.
        expired: reg.tokenServer.mint({ access, expiresIn: -120 }),
        "wrong audience": reg.tokenServer.mint({ access, claims: { aud: "some-other-service" } }),
        "wrong issuer": reg.tokenServer.mint({ access, claims: { iss: "someone-else" } }),
        // distribution 2.8.2 wants `aud` as a string: the RFC 7519 array form is refused.
        "aud as an array": reg.tokenServer.mint({ access, claims: { aud: [SERVICE] } }),
      };
      for (const [why, token] of Object.entries(bad)) {
        const res = await registry("/v2/library/alpine/tags/list", { token });
        assert.equal(res.status, 401, why);
        assert.match(res.headers.get("www-authenticate"), /error="invalid_token"/, why);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("token server knobs: expiresIn (runtime) drives expires_in and exp; null omits expires_in; reset() restores", async () => {
    reg.tokenServer.expiresIn = 60;
    const a = await tokenGet({ scopes: ["repository:library/alpine:pull"] });
    assert.equal(a.body.expires_in, 60);
    const { claims } = decodeJwt(a.body.token);
    assert.equal(claims.exp - claims.iat, 60);
    reg.tokenServer.expiresIn = null;
    const b = await tokenGet({ scopes: ["repository:library/alpine:pull"] });
    assert.equal(b.body.expires_in, undefined);
    assert.equal(reg.tokenServer.requests.length, 2);
    reg.tokenServer.reset();
    assert.equal(reg.tokenServer.expiresIn, 300);
    assert.equal(reg.tokenServer.requests.length, 0);
    assert.equal((await tokenGet({ service: "someone-else" })).status, 400);
  });

  test("htpasswd instance: Basic challenge; bcrypt credentials accepted, wrong ones refused; same seeded storage", async () => {
    const none = await call(reg.htpasswdUrl, "/v2/");
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), `Basic realm="${reg.htpasswdRealm}"`);
    const ok = await call(reg.htpasswdUrl, "/v2/library/alpine/manifests/3.19", { authorization: basic(reg.users.tester), headers: MANIFEST_ACCEPT });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("docker-content-digest"), reg.images["library/alpine"].digest);
    const wrong = await call(reg.htpasswdUrl, "/v2/", { authorization: basic({ username: "tester", password: "nope" }) });
    assert.equal(wrong.status, 401);
  });

  test("CORS finding: distribution answers a preflight 401 even with http.headers; the fixture's proxy and token server answer it", async () => {
    const preflight = { Origin: "http://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" };
    const direct = await call(reg.registryUrl, "/v2/library/alpine/manifests/3.19", { method: "OPTIONS", headers: preflight });
    assert.equal(direct.status, 401); // not ok → the browser's preflight fails
    assert.equal(direct.headers.get("access-control-allow-origin"), "*"); // http.headers does reach the 401
    const viaProxy = await call(reg.corsUrl, "/v2/library/alpine/manifests/3.19", { method: "OPTIONS", headers: preflight });
    assert.equal(viaProxy.status, 204);
    assert.equal(viaProxy.headers.get("access-control-allow-origin"), "http://app.example");
    assert.match(viaProxy.headers.get("access-control-allow-headers"), /authorization/i);
    const challenge = await call(reg.corsUrl, "/v2/", { headers: { Origin: "http://app.example" } });
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get("access-control-expose-headers"), /WWW-Authenticate/);
    const tokenPreflight = await fetch(reg.realm, { method: "OPTIONS", headers: preflight });
    assert.equal(tokenPreflight.status, 204);
    assert.equal(tokenPreflight.headers.get("access-control-allow-origin"), "http://app.example");
  });

  test("stop() kills the registry processes by pid and removes the temp dir; a missing binary names the Debian package", async () => {
    const other = await startDistribution({ seed: false });
    const { pids, tempDir, registryUrl } = other;
    assert.equal(pids.length, 1);
    await other.stop();
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
    assert.equal(existsSync(tempDir), false);
    await assert.rejects(fetch(`${registryUrl}/v2/`));
    const msg = registryMissingMessage({ CI: "true", PATH: "" });
    assert.match(msg, new RegExp(`apt-get install -y ${DEBIAN_PACKAGE}`));
    assert.match(msg, /failure, not a skip/);
  });
});

// =================================================================================================
describe("registry-token package against distribution 2.8.2", () => {
  test("anonymous getToken(host/library/alpine) → token lists tags and fetches the manifest; it cannot start a blob upload", async () => {
    const { getToken } = await pkg();
    const token = await getToken(`${reg.host}/library/alpine`);
    assert.equal(typeof token, "string");
    assert.ok(token.length > 0);
    const tags = await registry("/v2/library/alpine/tags/list", { token });
    assert.equal(tags.status, 200);
    assert.deepEqual(tags.json().tags.sort(), [...SEED["library/alpine"]].sort());
    const m = await registry("/v2/library/alpine/manifests/3.19", { token, headers: MANIFEST_ACCEPT });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get("docker-content-digest"), reg.images["library/alpine"].digest);
    const upload = await tryStartUpload("library/alpine", token);
    assert.equal(upload.status, 401, "an anonymous pull token must not open a push");
    assert.match(upload.headers.get("www-authenticate"), /insufficient_scope/);
    const log = tokenRequests();
    assert.equal(log.length, 1);
    assert.equal(log[0].method, "GET");
    assert.equal(log[0].basicAuth, false);
    assert.equal(log[0].query.service, SERVICE);
    assert.deepEqual(log[0].query.scope, ["repository:library/alpine:pull"]);
  });

  test("anonymous with actions pull+push → partial grant: resolves a pull-only token, push still refused", async () => {
    const { RegistryClient } = await pkg();
    const client = new RegistryClient();
    const auth = await client.authorize(`${reg.host}/library/alpine:3.19`, { actions: ["push", "pull"] });
    assert.equal(auth.authorization, `Bearer ${auth.token}`);
    assert.equal(auth.registry, reg.registryUrl);
    assert.equal(auth.repository, "library/alpine");
    assert.equal(auth.realm, reg.realm);
    assert.equal(auth.service, SERVICE);
    assert.deepEqual(accessOf(auth.token), [{ type: "repository", name: "library/alpine", actions: ["pull"] }]);
    assert.deepEqual(tokenRequests()[0].query.scope, ["repository:library/alpine:pull,push"]);
    assert.equal((await registry("/v2/library/alpine/tags/list", { token: auth.token })).status, 200);
    assert.equal((await tryStartUpload("library/alpine", auth.token)).status, 401);
  });

  test("tester credentials + actions pull,push → upload starts (202); a full push succeeds and is then pullable", async () => {
    const { RegistryClient } = await pkg();
    const { tester } = reg.users;
    const repository = "library/pushed-by-package";
    const client = new RegistryClient({ credentials: { [reg.host]: { username: tester.username, password: tester.password } } });
    const auth = await client.authorize(`${reg.host}/${repository}:v1`, { actions: ["pull", "push"] });
    assert.match(auth.authorization, /^Bearer /);
    assert.deepEqual(accessOf(auth.token), [{ type: "repository", name: repository, actions: ["pull", "push"] }]);
    assert.equal(decodeJwt(auth.token).claims.sub, "tester");

    assert.equal((await tryStartUpload(repository, auth.token)).status, 202);
    const image = buildImage("pushed by the package test");
    const digest = await pushImage({ baseUrl: reg.registryUrl, repository, tags: ["v1"], image, authorization: auth.authorization });
    assert.equal(digest, image.digest);

    // Pullable afterwards — anonymously, with a token the package fetches (library/ is public).
    const { getToken } = await pkg();
    const pullToken = await getToken(`${reg.host}/${repository}:v1`);
    const m = await registry(`/v2/${repository}/manifests/v1`, { token: pullToken, headers: MANIFEST_ACCEPT });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get("docker-content-digest"), image.digest);
    const layer = await fetch(`${reg.registryUrl}/v2/${repository}/blobs/${image.blobs[1].digest}`, { headers: bearer(pullToken) });
    assert.deepEqual(Buffer.from(await layer.arrayBuffer()), image.layer);

    // The credentials went by GET with Basic (the token spec's way), never by POST, never in clear in the log.
    const requests = tokenRequests();
    assert.equal(requests.filter((r) => r.method === "POST").length, 0, "no OAuth2 POST without offline");
    const get = requests.find((r) => r.method === "GET" && r.username === "tester");
    assert.ok(get, "username+password sent as GET with Basic");
    assert.deepEqual(get.query.scope, [`repository:${repository}:pull,push`]);
    assert.equal(get.query.service, SERVICE);
    assert.equal(get.query.offline_token, undefined, "no refresh token asked for");
  });

  test("offline: true → OAuth2 POST password grant (access_type=offline), scope sent once", async () => {
    const { RegistryClient } = await pkg();
    const { tester } = reg.users;
    reg.tokenServer.reset();
    const auth = await new RegistryClient().authorize(`${reg.host}/team/app:1.0`, { username: tester.username, password: tester.password, offline: true, actions: ["pull", "push"] });
    assert.equal(typeof auth.refreshToken, "string");
    const post = tokenRequests().find((r) => r.method === "POST");
    assert.equal(post.form.grant_type, "password");
    assert.equal(post.form.access_type, "offline");
    assert.equal(post.form.username, "tester");
    assert.equal(post.form.password, REDACTED);
    assert.equal(post.form.service, SERVICE);
    assert.ok(post.form.client_id);
    // POST takes the scope ONCE, space-separated (the log keeps every `scope` field as an array).
    assert.deepEqual(post.form.scope, ["repository:team/app:pull,push"]);
  });

  test("refresh token: access_type=offline yields refreshToken; a client given only that token gets a push token by grant_type=refresh_token", async () => {
    const { RegistryClient } = await pkg();
    const { tester } = reg.users;
    const first = await new RegistryClient().authorize(`${reg.host}/team/app:1.0`, { username: tester.username, password: tester.password, offline: true, actions: ["pull", "push"] });
    assert.equal(typeof first.refreshToken, "string", "the token server issued a refresh token (access_type=offline)");
    reg.tokenServer.reset();
    const second = await new RegistryClient().authorize(`${reg.host}/team/app:1.0`, { refreshToken: first.refreshToken, actions: ["pull", "push"] });
    assert.equal(decodeJwt(second.token).claims.sub, "tester");
    assert.equal((await tryStartUpload("team/app", second.token)).status, 202);
    const log = tokenRequests();
    assert.equal(log.length, 1);
    assert.equal(log[0].method, "POST");
    assert.equal(log[0].form.grant_type, "refresh_token");
    assert.equal(log[0].form.refresh_token, REDACTED);
  });

  test("wrong password → RegistryAuthError UNAUTHORIZED (status 401) carrying the server's message, not the password", async () => {
    const { RegistryClient } = await pkg();
    const password = "definitely-wrong-password";
    const client = new RegistryClient();
    await assert.rejects(client.getToken(`${reg.host}/team/app:1.0`, { username: "tester", password }), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, "RegistryAuthError");
      assert.equal(err.code, "UNAUTHORIZED");
      assert.equal(err.status, 401);
      assert.match(err.message, /incorrect username or password/);
      assert.ok(!err.message.includes(password), "the password must not appear in the message");
      return true;
    });
    const log = tokenRequests();
    assert.ok(log.length >= 1 && log.every((r) => r.status === 401));
  });

  test("private repo anonymously → getToken resolves a token with empty access; distribution answers 401", async () => {
    // What getToken reports here: it RESOLVES a token. The token server's answer to an anonymous
    // request for team/secret is a partial grant (`access: [{…, actions: []}]`), which the spec says
    // is not an error, and the client cannot tell an empty grant from a full one without decoding
    // the (opaque to it) token. Only the registry's 401 insufficient_scope on use reveals it.
    const { RegistryClient } = await pkg();
    const token = await new RegistryClient().getToken(`${reg.host}/team/secret:1.0`);
    assert.equal(typeof token, "string");
    assert.ok(token.length > 0);
    assert.deepEqual(accessOf(token), [{ type: "repository", name: "team/secret", actions: [] }]);
    const res = await registry("/v2/team/secret/manifests/1.0", { token, headers: MANIFEST_ACCEPT });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate"), /error="insufficient_scope"/);
    assert.equal(res.json().errors[0].code, "UNAUTHORIZED");
    // …while the same call with credentials opens it.
    const { tester } = reg.users;
    const withCreds = await new RegistryClient().getToken(`${reg.host}/team/secret:1.0`, { username: tester.username, password: tester.password });
    assert.equal((await registry("/v2/team/secret/manifests/1.0", { token: withCreds, headers: MANIFEST_ACCEPT })).status, 200);
  });

  test("authorize on the htpasswd instance → a Basic header that distribution accepts (getToken: UNSUPPORTED_CHALLENGE)", async () => {
    const { RegistryClient } = await pkg();
    const { tester } = reg.users;
    const client = new RegistryClient();
    const auth = await client.authorize(`${reg.htpasswdHost}/library/alpine:3.19`, { username: tester.username, password: tester.password });
    assert.equal(auth.authorization, basic(tester));
    assert.equal(auth.token, null);
    assert.equal(auth.registry, reg.htpasswdUrl);
    assert.equal(auth.repository, "library/alpine");
    const m = await call(reg.htpasswdUrl, "/v2/library/alpine/manifests/3.19", { authorization: auth.authorization, headers: MANIFEST_ACCEPT });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get("docker-content-digest"), reg.images["library/alpine"].digest);

    await assert.rejects(client.getToken(`${reg.htpasswdHost}/library/alpine`, { username: tester.username, password: tester.password }), { name: "RegistryAuthError", code: "UNSUPPORTED_CHALLENGE" });
    await assert.rejects(new RegistryClient().authorize(`${reg.htpasswdHost}/library/alpine`), { name: "RegistryAuthError", code: "UNAUTHORIZED" });
  });

  test("expiry: with expires_in 60, expiresAt ≈ receipt + 60 s and a second call within the lifetime hits the cache", async () => {
    const { RegistryClient } = await pkg();
    reg.tokenServer.expiresIn = 60;
    const client = new RegistryClient();
    const ref = `${reg.host}/library/alpine:3.19`;
    const before = Date.now();
    const first = await client.authorize(ref);
    const after = Date.now();
    assert.equal(typeof first.expiresAt, "number");
    // Expiry counts from receipt (not the server's issued_at): between request start and end, + 60 s.
    assert.ok(first.expiresAt >= before + 60_000 - 1000 && first.expiresAt <= after + 60_000 + 1000,
      `expiresAt ${first.expiresAt - after} ms after receipt, wanted ≈ 60000`);
    const count = tokenRequests().length;
    const second = await client.authorize(ref);
    assert.equal(tokenRequests().length, count, "second call within the lifetime must hit the cache");
    assert.equal(second.token, first.token);
    assert.equal(second.expiresAt, first.expiresAt);
    assert.equal((await registry("/v2/library/alpine/tags/list", { token: second.token })).status, 200);
  });

  test("expiry: a token about to expire is fetched anew (Date.now moved to 1 s before expiresAt)", async () => {
    // No sleeping for a minute and no clock-injection API: the wasm shell reads time through the
    // global Date.now(), so moving Date.now forward moves the client's clock. If the core ever takes
    // time from elsewhere (performance.now), this test must move to the injected clock.
    const { RegistryClient } = await pkg();
    reg.tokenServer.expiresIn = 60;
    const client = new RegistryClient();
    const ref = `${reg.host}/library/alpine:3.19`;
    const first = await client.authorize(ref);
    const count = tokenRequests().length;
    const realNow = Date.now;
    const shift = first.expiresAt - 1000 - realNow();
    let second;
    Date.now = () => realNow.call(Date) + shift;
    try {
      second = await client.authorize(ref);
    } finally {
      Date.now = realNow;
    }
    assert.equal(tokenRequests().length, count + 1, "a token 1 s from expiry must be refreshed");
    assert.notEqual(second.token, first.token);
    assert.ok(second.expiresAt > first.expiresAt + 50_000, "the new token's expiry counts from its own receipt");
    assert.equal((await registry("/v2/library/alpine/tags/list", { token: second.token })).status, 200);
  });

  test("expiry: expires_in below 60 (or omitted) is taken as 60 s", async () => {
    const { RegistryClient } = await pkg();
    for (const expiresIn of [10, null]) {
      reg.tokenServer.expiresIn = expiresIn;
      const before = Date.now();
      const auth = await new RegistryClient().authorize(`${reg.host}/library/alpine`);
      const after = Date.now();
      assert.ok(auth.expiresAt >= before + 59_000 && auth.expiresAt <= after + 61_000, `expires_in ${expiresIn}: ${auth.expiresAt - after}`);
    }
  });
});
