// The emulated registries answer as registry-facts.md says. Plain `fetch`, no package: this file
// runs before pkg/ exists and guards the fixtures the package tests rely on.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  MEDIA_TYPES,
  basicAuth,
  blobOf,
  closedPort,
  digestOf,
  dockerList,
  makeImage,
  makeIndex,
  multiArch,
  parseScopes,
  presets,
  rawManifest,
  repoNames,
  secretDigest,
  served,
  startEmulator,
  tagNames,
} from "./support/emulator.mjs";

const started = [];
async function start(p) {
  const em = await startEmulator(p);
  started.push(em);
  return em;
}
after(() => Promise.all(started.map((em) => em.close())));

async function ping(em) {
  const res = await fetch(`${em.url}/v2/`);
  await res.arrayBuffer();
  return res;
}

describe("presets: /v2/ challenges", () => {
  const expected = {
    dockerhub: (em) => [`Bearer realm="${em.authUrl}/token",service="registry.docker.io"`],
    ghcr: (em) => [`Bearer realm="${em.url}/token",service="ghcr.io",scope="repository:user/image:pull"`],
    quay: (em) => [`Bearer realm="${em.url}/v2/auth",service="quay.io"`],
    acr: (em) => [`Bearer realm="${em.url}/oauth2/token",service="emulated.azurecr.io",scope="repository:samples/hello-world:pull,push"`],
    gcr: (em) => [`Bearer service="gcr.io",realm="${em.url}/v36/tokenz"`],
    artifactRegistry: (em) => [`Bearer realm="${em.url}/v2/token"`],
    artifactory: (em) => [`Bearer realm="${em.url}/artifactory/api/docker/docker-remote/v2/token",service="${em.host}"`],
    gitlab: (em) => [`Bearer realm="${em.url}/jwt/auth",service="container_registry"`],
    harbor: (em) => [`Bearer realm="${em.url}/service/token",service="harbor-registry"`],
    gitea: (em) => [
      `Bearer realm="${em.url}/v2/token",service="container_registry",scope="*",Basic realm="${em.url}/v2",service="container_registry",scope="*"`,
    ],
    nexus: () => ['BASIC realm="Sonatype Nexus Repository Manager"'],
    distribution: (em) => [`Bearer realm="${em.url}/auth",service="Docker registry"`],
    ecr: (em) => [`Basic realm="${em.url}/",service="ecr.amazonaws.com"`],
    relativeRealm: () => ['Bearer realm="/token",service="relative.example"'],
    basicOnly: () => ['Basic realm="Registry Realm"'],
  };

  it("every preset is covered here", () => {
    assert.deepEqual(Object.keys(presets).sort(), [...Object.keys(expected), "noAuth", "noChallenge"].sort());
  });

  for (const [name, lines] of Object.entries(expected)) {
    it(`${name}: 401 with the documented WWW-Authenticate`, async () => {
      const em = await start(name);
      const res = await ping(em);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), lines(em).join(", "));
      assert.deepEqual(em.challenges(), lines(em));
      assert.deepEqual(em.counts(), { ping: 1, token: 0, redirect: 0, preflight: 0, other: 0, total: 1 });
      assert.equal(em.log[0].authorization, null);
    });
  }

  it("noAuth: 200 with Docker-Distribution-Api-Version and no challenge", async () => {
    const em = await start("noAuth");
    const res = await ping(em);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("www-authenticate"), null);
    assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
  });

  it("noChallenge: 401 without any WWW-Authenticate", async () => {
    const em = await start("noChallenge");
    const res = await ping(em);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), null);
  });

  it("several challenges can go out as separate header lines", async () => {
    const em = await start({ ping: { challenge: ['Basic realm="a"', 'Bearer realm="{origin}/token",service="x"'] } });
    const res = await ping(em);
    // fetch joins repeated fields with ", "; the raw header list keeps them apart.
    assert.equal(res.headers.get("www-authenticate"), `Basic realm="a", Bearer realm="${em.url}/token",service="x"`);
    const raw = await new Promise((resolve, reject) => {
      import("node:http").then(({ get }) =>
        get(`${em.url}/v2/`, (r) => {
          r.resume();
          resolve(r.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i].toLowerCase() === "www-authenticate").length);
        }).on("error", reject),
      );
    });
    assert.equal(raw, 2);
  });

  it("other artifacts: artifactory sends x-jfrog-version, harbor a sid cookie", async () => {
    const a = await start("artifactory");
    assert.match((await ping(a)).headers.get("x-jfrog-version"), /^Artifactory\//);
    const h = await start("harbor");
    assert.match((await ping(h)).headers.get("set-cookie"), /^sid=/);
  });
});

describe("presets: token endpoints", () => {
  const scope = "repository:owner/app:pull";
  const q = (svc) => `?service=${encodeURIComponent(svc)}&scope=${encodeURIComponent(scope)}`;
  const form = (fields) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });

  it("dockerhub: token on the auth origin; GET gives token + access_token + expires_in 300 + issued_at", async () => {
    const em = await start("dockerhub");
    assert.notEqual(em.authUrl, em.url);
    const res = await fetch(`${em.authUrl}/token${q("registry.docker.io")}`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "issued_at", "token"]);
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    const e = em.entries("token")[0];
    assert.equal(e.origin, "auth");
    assert.deepEqual(e.query, { service: "registry.docker.io", scope });
    assert.equal(e.issued, body.token);
    // Not served on the registry origin.
    assert.equal((await fetch(`${em.url}/token`)).status, 404);
  });

  it("dockerhub: OAuth2 POST answers access_token, scope, expires_in 900 and a refresh token when offline", async () => {
    const em = await start("dockerhub");
    const res = await fetch(
      `${em.authUrl}/token`,
      form({ grant_type: "password", service: "registry.docker.io", client_id: "t", scope, access_type: "offline", username: "u", password: "pw-SECRET" }),
    );
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "refresh_token", "scope"]);
    assert.equal(body.scope, scope);
    assert.equal(body.expires_in, 900);
    const e = em.entries("token")[0];
    assert.equal(e.form.password, secretDigest("pw-SECRET"));
    assert.equal(e.form.grant_type, "password");
    assert.ok(!JSON.stringify(em.log).includes("pw-SECRET"));
    // The refresh grant returns the same refresh token.
    const again = await (
      await fetch(`${em.authUrl}/token`, form({ grant_type: "refresh_token", service: "s", client_id: "t", refresh_token: body.refresh_token, access_type: "offline" }))
    ).json();
    assert.equal(again.refresh_token, body.refresh_token);
    assert.equal(em.entries("token")[1].form.refresh_token, secretDigest(body.refresh_token));
  });

  it('dockerhub: wrong credentials → 401 {"details":"incorrect username or password"}', async () => {
    const em = await start("dockerhub");
    em.set({ token: { users: { alice: "right" } } });
    const res = await fetch(`${em.authUrl}/token${q("registry.docker.io")}`, { headers: { authorization: basicAuth("alice", "wrong") } });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { details: "incorrect username or password" });
    const e = em.entries("token")[0];
    assert.equal(e.authorization, "basic");
    assert.equal(e.basicUser, "alice");
    assert.equal(e.credential, secretDigest("wrong"));
    const ok = await fetch(`${em.authUrl}/token${q("registry.docker.io")}`, { headers: { authorization: basicAuth("alice", "right") } });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${em.authUrl}/token`)).status, 200, "anonymous still allowed");
  });

  const posts = { ghcr: 405, gcr: 404, artifactory: 401, gitlab: 404, harbor: 403, quay: 405, gitea: 405, artifactRegistry: 405 };
  const paths = {
    ghcr: "/token",
    gcr: "/v36/tokenz",
    artifactory: "/artifactory/api/docker/docker-remote/v2/token",
    gitlab: "/jwt/auth",
    harbor: "/service/token",
    quay: "/v2/auth",
    gitea: "/v2/token",
    artifactRegistry: "/v2/token",
  };
  for (const [name, status] of Object.entries(posts)) {
    it(`${name}: GET works, password POST → ${status}`, async () => {
      const em = await start(name);
      const get = await fetch(`${em.url}${paths[name]}${q("svc")}`);
      assert.equal(get.status, 200);
      assert.ok((await get.json()).token);
      const post = await fetch(`${em.url}${paths[name]}`, form({ grant_type: "password", username: "u", password: "p", service: "s", client_id: "c" }));
      assert.equal(post.status, status);
      await post.arrayBuffer();
      assert.deepEqual(em.entries("token").map((e) => [e.method, e.status]), [["GET", 200], ["POST", status]]);
    });
  }

  it("ghcr: body is {token} only", async () => {
    const em = await start("ghcr");
    assert.deepEqual(Object.keys(await (await fetch(`${em.url}/token${q("ghcr.io")}`)).json()), ["token"]);
  });

  it("gcr and gitlab: the POST 404 is an HTML page", async () => {
    for (const name of ["gcr", "gitlab"]) {
      const em = await start(name);
      const res = await fetch(`${em.url}${paths[name]}`, form({ grant_type: "password" }));
      assert.match(res.headers.get("content-type"), /^text\/html/);
      assert.match(await res.text(), /404/);
    }
  });

  it("acr: access_token only; refresh-grant POST works, password-grant POST → 400", async () => {
    const em = await start("acr");
    assert.deepEqual(Object.keys(await (await fetch(`${em.url}/oauth2/token${q("emulated.azurecr.io")}`)).json()), ["access_token"]);
    const refresh = await fetch(`${em.url}/oauth2/token`, form({ grant_type: "refresh_token", refresh_token: "r", service: "s", client_id: "c", scope }));
    assert.equal(refresh.status, 200);
    assert.deepEqual(Object.keys(await refresh.json()), ["access_token"]);
    const password = await fetch(`${em.url}/oauth2/token`, form({ grant_type: "password", username: "u", password: "p" }));
    assert.equal(password.status, 400);
    assert.equal((await password.json()).errors[0].code, "UNSUPPORTED");
  });

  it("harbor and artifactory carry expires_in; ghcr, gitlab, gcr do not", async () => {
    for (const [name, expires] of [["harbor", 1800], ["artifactory", 3600], ["ghcr", undefined], ["gitlab", undefined], ["gcr", undefined]]) {
      const em = await start(name);
      const body = await (await fetch(`${em.url}${paths[name]}${q("s")}`)).json();
      assert.equal(body.expires_in, expires, name);
    }
  });

  it("relativeRealm serves /token on the registry origin", async () => {
    const em = await start("relativeRealm");
    assert.equal((await fetch(`${em.url}/token${q("relative.example")}`)).status, 200);
  });

  it("nexus / basicOnly / noAuth / ecr have no token endpoint (405)", async () => {
    for (const name of ["nexus", "basicOnly", "noAuth", "ecr"]) {
      const em = await start(name);
      const res = await fetch(`${em.url}/token`);
      assert.equal(res.status, 405, name);
      await res.arrayBuffer();
    }
  });
});

describe("configurable behaviour", () => {
  let em;
  before(async () => {
    em = await start({ name: "cfg" });
  });

  it("set() deep-merges, restore() undoes, reset() empties the log", async () => {
    em.set({ token: { methods: { GET: { status: 500 } } } });
    assert.equal(em.config.token.methods.POST.status, 200, "sibling kept");
    assert.equal((await fetch(`${em.url}/token`)).status, 500);
    em.reset();
    assert.equal(em.counts().total, 0);
    em.restore();
    assert.equal((await fetch(`${em.url}/token`)).status, 200);
    em.restore();
  });

  it("body shapes: fields, expires_in missing or short, refresh_token, scope", async () => {
    em.set({ token: { fields: ["token", "access_token"], expiresIn: 10, refreshToken: "rt-fixed", scope: "repository:a:pull" } });
    const body = await (await fetch(`${em.url}/token`)).json();
    assert.deepEqual(body, { token: body.token, access_token: body.token, expires_in: 10, refresh_token: "rt-fixed", scope: "repository:a:pull" });
    em.set({ token: { expiresIn: null, refreshToken: null, scope: null, fields: ["access_token"] } });
    assert.deepEqual(Object.keys(await (await fetch(`${em.url}/token`)).json()), ["access_token"]);
    em.restore();
  });

  it("tokens are unique per request", async () => {
    const a = await (await fetch(`${em.url}/token`)).json();
    const b = await (await fetch(`${em.url}/token`)).json();
    assert.notEqual(a.token, b.token);
    em.restore();
  });

  it("error bodies: distribution errors, Docker Hub details, text, custom", async () => {
    em.set({ token: { methods: { GET: { status: 401 } }, errorMessage: "no way" } });
    assert.deepEqual((await (await fetch(`${em.url}/token?scope=repository:o/r:pull`)).json()).errors, [
      { code: "UNAUTHORIZED", message: "no way", detail: [{ Type: "repository", Class: "", Name: "o/r", Action: "pull" }] },
    ]);
    em.set({ token: { errorBody: "details" } });
    assert.deepEqual(await (await fetch(`${em.url}/token`)).json(), { details: "no way" });
    em.set({ token: { errorBody: "text", methods: { GET: { status: 500 } } } });
    assert.equal(await (await fetch(`${em.url}/token`)).text(), "no way\n");
    em.set({ token: { errorBody: "<<not json>>" } });
    assert.equal(await (await fetch(`${em.url}/token`)).text(), "<<not json>>");
    em.restore();
  });

  it("non-JSON and oversized success bodies", async () => {
    em.set({ token: { body: "<html>hello</html>", contentType: "text/html" } });
    const res = await fetch(`${em.url}/token`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "<html>hello</html>");
    em.set({ token: { body: (_e, { token }) => ({ token, pad: "x".repeat(2 << 20) }), contentType: "application/json" } });
    assert.ok((await (await fetch(`${em.url}/token`)).text()).length > 2 << 20);
    em.restore();
  });

  it("same-origin 307 keeps the query and the POST body", async () => {
    em.set({ token: { redirect: { status: 307, to: "/token2" } } });
    const res = await fetch(`${em.url}/token?service=s&scope=a&scope=b`);
    assert.equal(res.status, 200);
    assert.equal(res.redirected, true);
    const post = await fetch(`${em.url}/token`, form({ grant_type: "password", username: "u", password: "p" }));
    assert.equal(post.status, 200);
    assert.deepEqual(
      em.log.map((e) => [e.kind, e.method, e.path]),
      [
        ["redirect", "GET", "/token"],
        ["token", "GET", "/token2"],
        ["redirect", "POST", "/token"],
        ["token", "POST", "/token2"],
      ],
    );
    assert.deepEqual(em.log[1].query, { service: "s", scope: ["a", "b"] });
    assert.equal(em.log[3].form.username, "u");
    em.restore();

    function form(fields) {
      return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() };
    }
  });

  it("redirect to another emulator", async () => {
    const other = await start({ name: "other" });
    em.set({ token: { redirect: { status: 307, to: `${other.url}/token` } } });
    const body = await (await fetch(`${em.url}/token?service=s`)).json();
    assert.match(body.token, /^other-token-/);
    assert.equal(em.counts().redirect, 1);
    assert.deepEqual(other.entries("token")[0].query, { service: "s" });
    em.restore();
  });

  it("delay holds the answer; close() does not wait for it", async () => {
    const slow = await start({ token: { delayMs: 150 } });
    const t0 = Date.now();
    await (await fetch(`${slow.url}/token`)).json();
    assert.ok(Date.now() - t0 >= 140);
    const pending = fetch(`${slow.url}/token`, { signal: AbortSignal.timeout(5000) }).catch((e) => e);
    slow.set({ token: { delayMs: 60_000 } });
    await new Promise((r) => setTimeout(r, 50));
    const t1 = Date.now();
    await slow.close();
    assert.ok(Date.now() - t1 < 1000);
    await pending;
  });

  it("ping status, delay and several header lines are configurable", async () => {
    em.set({ ping: { status: 200, challenge: null } });
    assert.equal((await ping(em)).status, 200);
    em.set({ ping: { status: 500 } });
    assert.equal((await ping(em)).status, 500);
    em.restore();
  });

  it("the log records query, form, scheme, never a secret", async () => {
    await fetch(`${em.url}/token?service=a%20b&scope=repository%3Ax%3Apull`, { headers: { authorization: "Bearer SECRET-bearer" } });
    await fetch(`${em.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=refresh_token&refresh_token=SECRET-rt&scope=a+b",
    });
    const [g, p] = em.log;
    assert.deepEqual(g.query, { service: "a b", scope: "repository:x:pull" });
    assert.equal(g.rawQuery, "service=a%20b&scope=repository%3Ax%3Apull");
    assert.equal(g.authorization, "bearer");
    assert.deepEqual(p.form, { grant_type: "refresh_token", refresh_token: secretDigest("SECRET-rt"), scope: "a b" });
    assert.equal(p.authorization, null);
    assert.ok(!JSON.stringify(em.log).includes("SECRET"));
    em.restore();
  });

  it("unknown paths → 404, counted as other", async () => {
    assert.equal((await fetch(`${em.url}/v2/library/x/manifests/latest`)).status, 404);
    assert.equal(em.counts().other, 1);
    em.restore();
  });
});

describe("cors", () => {
  it("cors: true exposes WWW-Authenticate and answers preflights for Authorization, Content-Type", async () => {
    const em = await start({ preset: "ghcr", cors: true });
    const res = await ping(em);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-expose-headers"), "WWW-Authenticate");
    const pre = await fetch(`${em.url}/token`, {
      method: "OPTIONS",
      headers: { origin: "http://page.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get("access-control-allow-headers"), /Authorization/);
    assert.match(pre.headers.get("access-control-allow-headers"), /Content-Type/);
    assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.equal(em.counts().preflight, 1);
  });

  it("cors on a separate auth origin too; without cors a preflight gets 401 like distribution", async () => {
    const hub = await start({ preset: "dockerhub", cors: true });
    const res = await fetch(`${hub.authUrl}/token`);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const plain = await start("ghcr");
    const pre = await fetch(`${plain.url}/v2/`, { method: "OPTIONS" });
    assert.equal(pre.status, 401);
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
  });
});

describe("helpers", () => {
  it("closedPort refuses connections", async () => {
    const port = await closedPort();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/v2/`), TypeError);
  });

  it("basicAuth and secretDigest", () => {
    assert.equal(basicAuth("alice", "pw"), `Basic ${Buffer.from("alice:pw").toString("base64")}`);
    assert.match(secretDigest("x"), /^sha256:[0-9a-f]{16}$/);
    assert.notEqual(secretDigest("x"), secretDigest("y"));
  });

  it("unknown preset names are refused", async () => {
    await assert.rejects(startEmulator("nope"), /unknown emulator preset/);
  });
});

// ---------------------------------------------------------------------------------------------
// Resources (issue 10): repositories, paging, manifests, blobs, deletion, rate limits, and tokens
// that must cover the resource's scope. Plain fetch against the emulator.

const OCI_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(", ");

/** A token from the emulator's own endpoint for `scopes` (GET, one scope parameter each). */
async function tokenFor(em, scopes, { authorization } = {}) {
  const q = new URLSearchParams();
  for (const s of [scopes].flat()) q.append("scope", s);
  const res = await fetch(`${em.authUrl}${em.config.token.path}?${q}`, { headers: authorization ? { authorization } : {} });
  assert.equal(res.status, 200, `token for ${scopes}`);
  const body = await res.json();
  return body.token ?? body.access_token;
}

const bearer = (t) => ({ authorization: `Bearer ${t}` });

/** Follows `Link: <…>; rel="next"` by hand (resolved against the page URL); returns the pages. */
async function allPages(firstUrl, headers) {
  const pages = [];
  let url = firstUrl;
  for (let i = 0; url && i < 100; i++) {
    const res = await fetch(url, { headers });
    assert.equal(res.status, 200, url);
    const link = res.headers.get("link");
    pages.push({ url, link, body: await res.json() });
    const m = link && /<([^>]*)>\s*;[^,]*rel="?next"?/.exec(link);
    url = m ? new URL(m[1], url).href : null;
  }
  return pages;
}

describe("resources: scopes and tokens", () => {
  it("parseScopes splits space-joined values, keeps colons in names and multiple actions", () => {
    assert.deepEqual(parseScopes(["repository:a/b:pull,push registry:catalog:*", "repository:x:delete"]), [
      { type: "repository", name: "a/b", actions: ["pull", "push"] },
      { type: "registry", name: "catalog", actions: ["*"] },
      { type: "repository", name: "x", actions: ["delete"] },
    ]);
  });

  it("without repos, resource paths stay plain 404s counted as other", async () => {
    const em = await start("ghcr");
    const res = await fetch(`${em.url}/v2/owner/app/tags/list`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    assert.deepEqual(em.counts(), { ping: 0, token: 0, redirect: 0, preflight: 0, other: 1, total: 1 });
  });

  it("the token endpoint grants what the policy allows: public pull to anyone, private pull/push/delete with credentials", async () => {
    const em = await start({ preset: "distribution", token: { users: { alice: "pw" } }, repos: { "team/app": { tags: ["1"] }, "team/secret": { private: true, tags: ["1"] } } });
    const anon = await fetch(`${em.url}/auth?service=x&scope=repository:team/app:pull,push,delete&scope=repository:team/secret:pull&scope=registry:catalog:*`);
    assert.equal(anon.status, 200);
    const anonToken = (await anon.json()).token;
    assert.deepEqual(em.entries("token")[0].granted, ["registry:catalog:*", "repository:team/app:pull"]);
    assert.deepEqual(em.grantsOf(anonToken), ["registry:catalog:*", "repository:team/app:pull"]);
    const authed = await tokenFor(em, ["repository:team/app:pull,push,delete", "repository:team/secret:pull"], { authorization: basicAuth("alice", "pw") });
    assert.deepEqual(em.grantsOf(authed), ["repository:team/app:delete,pull,push", "repository:team/secret:pull"]);
    // OAuth2 POST: one space-joined scope field; the body can report what was granted.
    em.set({ token: { methods: { POST: { scope: "granted" } } } });
    const post = await fetch(`${em.url}/auth`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: "alice", password: "pw", service: "x", client_id: "c", scope: "repository:team/secret:pull repository:team/app:push" }),
    });
    const body = await post.json();
    assert.equal(body.scope, "repository:team/app:push repository:team/secret:pull");
    assert.deepEqual(em.grantsOf(body.access_token), ["repository:team/app:push", "repository:team/secret:pull"]);
    assert.equal(em.grantsOf("never-issued"), null);
    em.set({ token: { grant: "requested" } });
    assert.deepEqual(em.grantsOf(await tokenFor(em, "repository:team/secret:pull,delete")), ["repository:team/secret:delete,pull"]);
    em.set({ token: { grant: (sc) => (sc.name === "team/app" ? ["pull"] : []) } });
    assert.deepEqual(em.grantsOf(await tokenFor(em, ["repository:team/app:pull,push", "repository:team/secret:pull"])), ["repository:team/app:pull"]);
  });

  it("resources need a token covering their scope: none → challenge, other repo → insufficient_scope, unknown or expired → invalid_token", async () => {
    const em = await start({ preset: "ghcr", repos: { "owner/app": { tags: ["1.0"] }, "owner/other": { tags: ["x"] } } });
    const url = `${em.url}/v2/owner/app/tags/list`;
    const realm = `realm="${em.url}/token",service="ghcr.io"`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), `Bearer ${realm},scope="repository:owner/app:pull"`);
    assert.deepEqual((await none.json()).errors, [
      { code: "UNAUTHORIZED", message: "authentication required", detail: [{ Type: "repository", Class: "", Name: "owner/app", Action: "pull" }] },
    ]);
    const other = await tokenFor(em, "repository:owner/other:pull");
    const wrong = await fetch(url, { headers: bearer(other) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("www-authenticate"), `Bearer ${realm},scope="repository:owner/app:pull",error="insufficient_scope"`);
    await wrong.arrayBuffer();
    const unknown = await fetch(url, { headers: bearer("forged-token") });
    assert.equal(unknown.headers.get("www-authenticate"), `Bearer ${realm},scope="repository:owner/app:pull",error="invalid_token"`);
    await unknown.arrayBuffer();
    const good = await tokenFor(em, "repository:owner/app:pull");
    const ok = await fetch(url, { headers: bearer(good) });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { name: "owner/app", tags: ["1.0"] });
    em.expireTokens();
    assert.ok(em.tokens().every((t) => t.expired));
    const expired = await fetch(url, { headers: bearer(good) });
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get("www-authenticate"), /error="invalid_token"$/);
    await expired.arrayBuffer();
    const res = em.resources();
    assert.deepEqual(
      res.map((e) => [e.method, e.resource, e.repository, e.required, e.authorization, e.tokenState, e.status]),
      [
        ["GET", "tags", "owner/app", "repository:owner/app:pull", null, "none", 401],
        ["GET", "tags", "owner/app", "repository:owner/app:pull", "bearer", "insufficient", 401],
        ["GET", "tags", "owner/app", "repository:owner/app:pull", "bearer", "unknown", 401],
        ["GET", "tags", "owner/app", "repository:owner/app:pull", "bearer", "ok", 200],
        ["GET", "tags", "owner/app", "repository:owner/app:pull", "bearer", "expired", 401],
      ],
    );
    assert.equal(res[3].credential, secretDigest(good));
    assert.deepEqual(res[3].granted, ["repository:owner/app:pull"]);
    assert.ok(!JSON.stringify(em.resources()).includes(good), "tokens sent to resources are digested");
    const c = em.counts();
    assert.equal(c.resource, 5);
    assert.equal(c.token, 2);
  });

  it("insufficientScope: false answers a plain challenge; a static challenge template is honoured", async () => {
    const em = await start({ preset: "distribution", repos: { a: { tags: ["1"] } }, resources: { insufficientScope: false } });
    const t = await tokenFor(em, "repository:b:pull");
    const res = await fetch(`${em.url}/v2/a/tags/list`, { headers: bearer(t) });
    assert.equal(res.headers.get("www-authenticate"), `Bearer realm="${em.url}/auth",service="Docker registry",scope="repository:a:pull"`);
    em.set({ resources: { challenge: 'Bearer realm="{origin}/elsewhere",scope="{scope}"{error}', insufficientScope: true } });
    const again = await fetch(`${em.url}/v2/a/tags/list`, { headers: bearer(t) });
    assert.equal(again.headers.get("www-authenticate"), `Bearer realm="${em.url}/elsewhere",scope="repository:a:pull",error="insufficient_scope"`);
  });

  it("dockerhub: the resource challenge names the separate auth origin; its tokens open the registry", async () => {
    const em = await start({ preset: "dockerhub", repos: { "library/alpine": { tags: ["3.19"] } } });
    const none = await fetch(`${em.url}/v2/library/alpine/tags/list`);
    assert.equal(none.headers.get("www-authenticate"), `Bearer realm="${em.authUrl}/token",service="registry.docker.io",scope="repository:library/alpine:pull"`);
    const t = await tokenFor(em, "repository:library/alpine:pull");
    assert.equal((await fetch(`${em.url}/v2/library/alpine/tags/list`, { headers: bearer(t) })).status, 200);
  });

  it("ecr: Basic on resources (any credentials unless token.users is set); noAuth: open", async () => {
    const em = await start({ preset: "ecr", repos: { app: { tags: ["1"] } } });
    const none = await fetch(`${em.url}/v2/app/tags/list`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), `Basic realm="${em.url}/",service="ecr.amazonaws.com"`);
    assert.equal((await fetch(`${em.url}/v2/app/tags/list`, { headers: { authorization: basicAuth("AWS", "x") } })).status, 200);
    em.set({ token: { users: { AWS: "right" } } });
    assert.equal((await fetch(`${em.url}/v2/app/tags/list`, { headers: { authorization: basicAuth("AWS", "x") } })).status, 401);
    assert.equal((await fetch(`${em.url}/v2/app/tags/list`, { headers: { authorization: basicAuth("AWS", "right") } })).status, 200);
    assert.equal(em.resources().at(-1).tokenState, "basic");
    const open = await start({ preset: "noAuth", repos: { app: { tags: ["1"] } } });
    assert.equal((await fetch(`${open.url}/v2/app/tags/list`)).status, 200);
  });
});

describe("resources: tag and catalog paging", () => {
  it("distribution: n/last paging with a relative Link, no Link on the last page, unknown repository → NAME_UNKNOWN", async () => {
    const em = await start({ preset: "distribution", repos: { "team/app": { tags: 5 } } });
    const t = await tokenFor(em, "repository:team/app:pull");
    const pages = await allPages(`${em.url}/v2/team/app/tags/list?n=2`, bearer(t));
    assert.deepEqual(pages.map((p) => p.body.tags), [["t0001", "t0002"], ["t0003", "t0004"], ["t0005"]]);
    assert.deepEqual(pages.map((p) => p.link), ['</v2/team/app/tags/list?last=t0002&n=2>; rel="next"', '</v2/team/app/tags/list?last=t0004&n=2>; rel="next"', null]);
    assert.deepEqual(pages[0].body.name, "team/app");
    const all = await (await fetch(`${em.url}/v2/team/app/tags/list`, { headers: bearer(t) })).json();
    assert.deepEqual(all.tags, tagNames(5), "no n: everything");
    const nope = await fetch(`${em.url}/v2/team/nope/tags/list`, { headers: bearer(await tokenFor(em, "repository:team/nope:pull")) });
    assert.equal(nope.status, 404);
    assert.deepEqual(await nope.json(), { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name: "team/nope" } }] });
    const bad = await fetch(`${em.url}/v2/team/app/tags/list?n=abc`, { headers: bearer(t) });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].code, "PAGINATION_NUMBER_INVALID");
    assert.deepEqual(em.resources({ status: 200 }).map((e) => e.page), [
      { start: 0, count: 2, more: true },
      { start: 2, count: 2, more: true },
      { start: 4, count: 1, more: false },
      { start: 0, count: 5, more: false },
    ]);
  });

  it("dockerhub and ghcr: at most 100 per page (also without n) with an absolute Link", async () => {
    for (const name of ["dockerhub", "ghcr"]) {
      const em = await start({ preset: name, repos: { "library/big": { tags: 250 } } });
      const t = await tokenFor(em, "repository:library/big:pull");
      const pages = await allPages(`${em.url}/v2/library/big/tags/list?n=1000`, bearer(t));
      assert.deepEqual(pages.map((p) => p.body.tags.length), [100, 100, 50], name);
      assert.equal(pages[0].link, `<${em.url}/v2/library/big/tags/list?last=t0100&n=100>; rel="next"`);
      assert.deepEqual(pages.flatMap((p) => p.body.tags), tagNames(250));
      const noN = await (await fetch(`${em.url}/v2/library/big/tags/list`, { headers: bearer(t) })).json();
      assert.equal(noN.tags.length, 100);
    }
  });

  it("quay: n over 100 → 413; 50 by default; an opaque next_page cursor with n first, kept verbatim", async () => {
    const em = await start({ preset: "quay", repos: { "org/app": { tags: 120 } } });
    const t = await tokenFor(em, "repository:org/app:pull");
    const big = await fetch(`${em.url}/v2/org/app/tags/list?n=1000`, { headers: bearer(t) });
    assert.equal(big.status, 413);
    assert.deepEqual((await big.json()).errors, [{ code: "PAGINATION_NUMBER_INVALID", message: "page size too large", detail: { n: 1000 } }]);
    const pages = await allPages(`${em.url}/v2/org/app/tags/list`, bearer(t));
    assert.deepEqual(pages.map((p) => p.body.tags.length), [50, 50, 20]);
    assert.match(pages[0].link, /^<\/v2\/org\/app\/tags\/list\?n=50&next_page=[A-Za-z0-9_-]+>; rel="next"$/);
    assert.deepEqual(pages.flatMap((p) => p.body.tags), tagNames(120));
    assert.equal((await fetch(`${em.url}/v2/org/app/tags/list?n=100`, { headers: bearer(t) })).status, 200);
  });

  it("ecr: n over 1000 → 405 UNSUPPORTED; 100 by default; 1000 allowed", async () => {
    const em = await start({ preset: "ecr", repos: { app: { tags: 1200 } } });
    const h = { authorization: basicAuth("AWS", "x") };
    const big = await fetch(`${em.url}/v2/app/tags/list?n=1001`, { headers: h });
    assert.equal(big.status, 405);
    assert.equal((await big.json()).errors[0].code, "UNSUPPORTED");
    assert.equal((await (await fetch(`${em.url}/v2/app/tags/list`, { headers: h })).json()).tags.length, 100);
    assert.equal((await (await fetch(`${em.url}/v2/app/tags/list?n=1000`, { headers: h })).json()).tags.length, 1000);
  });

  it("catalog: distribution pages with a relative Link and rejects n over 1000 with 400 PAGINATION_NUMBER_INVALID", async () => {
    const repos = Object.fromEntries(repoNames(5).map((n) => [n, { tags: ["1"] }]));
    const em = await start({ preset: "distribution", repos: { ...repos, hidden: { catalog: false } } });
    const t = await tokenFor(em, "registry:catalog:*");
    const pages = await allPages(`${em.url}/v2/_catalog?n=2`, bearer(t));
    assert.deepEqual(pages.map((p) => p.body.repositories), [["team/r0001", "team/r0002"], ["team/r0003", "team/r0004"], ["team/r0005"]]);
    assert.equal(pages[0].link, '</v2/_catalog?last=team%2Fr0002&n=2>; rel="next"');
    const big = await fetch(`${em.url}/v2/_catalog?n=1001`, { headers: bearer(t) });
    assert.equal(big.status, 400);
    assert.deepEqual(await big.json(), { errors: [{ code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results requested", detail: { n: 1001 } }] });
    assert.equal(em.resources()[0].required, "registry:catalog:*");
    // A repository token does not open the catalog.
    const repoToken = await tokenFor(em, "repository:team/r0001:pull");
    const denied = await fetch(`${em.url}/v2/_catalog`, { headers: bearer(repoToken) });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), `Bearer realm="${em.url}/auth",service="Docker registry",scope="registry:catalog:*",error="insufficient_scope"`);
  });

  it("catalog: dockerhub has none (404 with a distribution body, before auth); gitlab never grants it; unsupported → 405", async () => {
    const hub = await start({ preset: "dockerhub", repos: { "library/a": {} } });
    const res = await fetch(`${hub.url}/v2/_catalog`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { errors: [{ code: "NOT_FOUND", message: "404 page not found", detail: null }] });
    const gitlab = await start({ preset: "gitlab", repos: { "group/a": {} } });
    const t = await tokenFor(gitlab, "registry:catalog:*");
    assert.deepEqual(gitlab.grantsOf(t), []);
    const denied = await fetch(`${gitlab.url}/v2/_catalog`, { headers: bearer(t) });
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate"), /scope="registry:catalog:\*",error="insufficient_scope"$/);
    const other = await start({ repos: { a: {} }, resources: { catalog: "unsupported" } });
    assert.equal((await fetch(`${other.url}/v2/_catalog`)).status, 405);
  });

  it('tags: null is served as "tags": null', async () => {
    const em = await start({ preset: "distribution", repos: { empty: { tags: null } } });
    const t = await tokenFor(em, "repository:empty:pull");
    assert.deepEqual(await (await fetch(`${em.url}/v2/empty/tags/list?n=10`, { headers: bearer(t) })).json(), { name: "empty", tags: null });
  });

  it("Link forms: query, path-relative, n-last order, bare rel, extra params, several links in one header and on two lines", async () => {
    const em = await start({ preset: "distribution", repos: { app: { tags: 3 } } });
    const t = await tokenFor(em, "repository:app:pull");
    const linkOf = async (page) => {
      em.set({ resources: { tagsPage: page } });
      const res = await fetch(`${em.url}/v2/app/tags/list?n=1`, { headers: bearer(t) });
      await res.arrayBuffer();
      return res.headers.get("link");
    };
    assert.equal(await linkOf({ link: "query" }), '<?last=t0001&n=1>; rel="next"');
    assert.equal(await linkOf({ link: "path-relative" }), '<list?last=t0001&n=1>; rel="next"');
    assert.equal(await linkOf({ link: "relative", order: "n-last", rel: "bare" }), "</v2/app/tags/list?n=1&last=t0001>; rel=next");
    assert.equal(await linkOf({ order: "last-n", rel: "quoted", style: "params" }), '</v2/app/tags/list?last=t0001&n=1>; title="next page"; type="application/json"; rel="next"');
    assert.equal(await linkOf({ style: "several" }), '</v2/app/tags/list?n=1>; rel="first", </v2/app/tags/list?last=t0001&n=1>; rel="next"');
    assert.equal(await linkOf({ style: "lines" }), '</v2/app/tags/list?n=1>; rel="first", </v2/app/tags/list?last=t0001&n=1>; rel="next"');
    assert.equal(await linkOf({ style: "single", link: (ctx) => `<${ctx.storage}/x?after=${ctx.last}>; rel="next"` }), `<${em.storageUrl}/x?after=t0001>; rel="next"`);
  });

  it("Link targets: a loop (page 2 links to itself) and a cross-origin next page on the storage origin", async () => {
    const em = await start({ preset: "ghcr", repos: { "o/app": { tags: 5 } }, resources: { tagsPage: { target: "loop", link: "relative" } } });
    const t = await tokenFor(em, "repository:o/app:pull");
    const p1 = await fetch(`${em.url}/v2/o/app/tags/list?n=2`, { headers: bearer(t) });
    await p1.arrayBuffer();
    assert.equal(p1.headers.get("link"), '</v2/o/app/tags/list?last=t0002&n=2>; rel="next"', "the first page links on");
    const p2 = await fetch(`${em.url}/v2/o/app/tags/list?last=t0002&n=2`, { headers: bearer(t) });
    assert.deepEqual((await p2.json()).tags, ["t0003", "t0004"]);
    assert.equal(p2.headers.get("link"), '</v2/o/app/tags/list?last=t0002&n=2>; rel="next"', "page 2 links to itself");
    em.set({ resources: { tagsPage: { target: "cross-origin" } } });
    const c = await fetch(`${em.url}/v2/o/app/tags/list?n=2`, { headers: bearer(t) });
    await c.arrayBuffer();
    assert.equal(c.headers.get("link"), `<${em.storageUrl}/v2/o/app/tags/list?last=t0002&n=2>; rel="next"`);
    assert.equal(em.counts().storage, undefined, "nothing went to the storage origin");
  });

  it("beforeResource can expire tokens between pages; respond can answer instead (5xx)", async () => {
    let fired = 0;
    const em = await start({ preset: "distribution", repos: { app: { tags: 4 } } });
    em.set({
      resources: {
        beforeResource: (entry, api) => {
          if (entry.query.last === "t0002" && fired++ === 0) api.expireTokens();
        },
      },
    });
    const t = await tokenFor(em, "repository:app:pull");
    const p1 = await fetch(`${em.url}/v2/app/tags/list?n=2`, { headers: bearer(t) });
    assert.equal(p1.status, 200);
    await p1.arrayBuffer();
    const p2 = await fetch(`${em.url}/v2/app/tags/list?last=t0002&n=2`, { headers: bearer(t) });
    assert.equal(p2.status, 401);
    assert.match(p2.headers.get("www-authenticate"), /error="invalid_token"/);
    await p2.arrayBuffer();
    const t2 = await tokenFor(em, "repository:app:pull");
    assert.deepEqual((await (await fetch(`${em.url}/v2/app/tags/list?last=t0002&n=2`, { headers: bearer(t2) })).json()).tags, ["t0003", "t0004"]);
    em.set({ resources: { respond: (entry) => (entry.resource === "tags" ? { status: 503, body: { errors: [{ code: "UNAVAILABLE", message: "down", detail: null }] }, headers: { "Retry-After": "5" } } : null) } });
    const down = await fetch(`${em.url}/v2/app/tags/list`, { headers: bearer(t2) });
    assert.equal(down.status, 503);
    assert.equal(down.headers.get("retry-after"), "5");
    assert.equal((await down.json()).errors[0].code, "UNAVAILABLE");
    // Unauthorized requests are refused before respond() is asked.
    assert.equal((await fetch(`${em.url}/v2/app/tags/list`)).status, 401);
  });
});

describe("resources: manifests, blobs, deletion, rate limits, push", () => {
  const index = multiArch({ name: "app" });
  const list = dockerList({ name: "app" });
  const docker = makeImage({ format: "docker", name: "app" });
  const amd64 = index.children[0];

  let em;
  let t;
  before(async () => {
    em = await start({
      preset: "ghcr",
      repos: {
        "o/app": {
          manifests: {
            multi: index,
            list,
            v2: docker,
            oci: amd64,
            nohead: served(amd64, { digestHeader: { HEAD: false } }),
            generic: served(docker, { contentType: "application/json" }),
            untyped: served(docker, { contentType: null }),
            corrupt: served(makeImage({ name: "corrupt" }), { corrupt: true }),
          },
        },
      },
    });
    t = await tokenFor(em, "repository:o/app:pull,delete");
  });

  const get = (ref, init = {}) => fetch(`${em.url}/v2/o/app/manifests/${ref}`, { ...init, headers: { ...bearer(t), accept: OCI_ACCEPT, ...(init.headers ?? {}) } });

  it("a multi-arch OCI index: linux/amd64, linux/arm64/v8, linux/arm/v7, then one attestation manifest per image", async () => {
    const res = await get("multi");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), MEDIA_TYPES.ociIndex);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get("docker-content-digest"), digestOf(bytes));
    assert.equal(digestOf(bytes), index.digest);
    const json = JSON.parse(bytes);
    assert.equal(json.mediaType, MEDIA_TYPES.ociIndex);
    assert.deepEqual(
      json.manifests.map((m) => m.platform),
      [
        { architecture: "amd64", os: "linux" },
        { architecture: "arm64", os: "linux", variant: "v8" },
        { architecture: "arm", os: "linux", variant: "v7" },
        { architecture: "unknown", os: "unknown" },
        { architecture: "unknown", os: "unknown" },
        { architecture: "unknown", os: "unknown" },
      ],
    );
    json.manifests.slice(3).forEach((m, i) => {
      assert.deepEqual(m.annotations, { "vnd.docker.reference.digest": json.manifests[i].digest, "vnd.docker.reference.type": "attestation-manifest" });
    });
    // Every child is there by digest (sha256 and sha512), with its own bytes.
    for (const m of json.manifests) {
      const child = await get(m.digest);
      const b = Buffer.from(await child.arrayBuffer());
      assert.equal(child.status, 200);
      assert.equal(digestOf(b), m.digest);
      assert.equal(b.length, m.size);
      assert.equal(child.headers.get("content-type"), m.mediaType);
    }
    const by512 = await get(digestOf(amd64.bytes, "sha512"));
    assert.equal(by512.headers.get("docker-content-digest"), digestOf(amd64.bytes, "sha512"));
    assert.equal(digestOf(Buffer.from(await by512.arrayBuffer()), "sha512"), digestOf(amd64.bytes, "sha512"));
  });

  it("Accept decides: an index not accepted → 404 MANIFEST_UNKNOWN; a Docker manifest list; a Docker v2 image", async () => {
    const res = await get("multi", { headers: { accept: MEDIA_TYPES.dockerManifest } });
    assert.equal(res.status, 404);
    assert.deepEqual((await res.json()).errors, [{ code: "MANIFEST_UNKNOWN", message: "OCI index found, but accept header does not support OCI indexes", detail: { Tag: "multi" } }]);
    const l = await get("list");
    assert.equal(l.headers.get("content-type"), MEDIA_TYPES.dockerList);
    const lj = await l.json();
    assert.deepEqual(lj.manifests.map((m) => [m.mediaType, m.platform.architecture, m.platform.variant]), [
      [MEDIA_TYPES.dockerManifest, "amd64", undefined],
      [MEDIA_TYPES.dockerManifest, "arm64", "v8"],
      [MEDIA_TYPES.dockerManifest, "arm", "v7"],
    ]);
    const v2 = await get("v2");
    assert.equal(v2.headers.get("content-type"), MEDIA_TYPES.dockerManifest);
    assert.equal((await v2.json()).config.mediaType, MEDIA_TYPES.dockerConfig);
    const unknown = await get("nope");
    assert.equal(unknown.status, 404);
    assert.deepEqual((await unknown.json()).errors, [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "nope" } }]);
  });

  it("HEAD: the headers without a body; Docker-Content-Digest can be left out on HEAD only", async () => {
    const head = await get("oci", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("docker-content-digest"), amd64.digest);
    assert.equal(head.headers.get("content-length"), String(amd64.size));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const nohead = await get("nohead", { method: "HEAD" });
    assert.equal(nohead.headers.get("docker-content-digest"), null);
    assert.equal(nohead.headers.get("content-type"), MEDIA_TYPES.ociManifest);
    const noheadGet = await get("nohead");
    assert.equal(noheadGet.headers.get("docker-content-digest"), amd64.digest);
    await noheadGet.arrayBuffer();
  });

  it("generic or missing Content-Type; bytes that do not match the digest", async () => {
    const g = await get("generic");
    assert.equal(g.headers.get("content-type"), "application/json");
    assert.equal((await g.json()).mediaType, MEDIA_TYPES.dockerManifest);
    const u = await get("untyped");
    assert.equal(u.headers.get("content-type"), null);
    await u.arrayBuffer();
    const c = await get("corrupt");
    const bytes = Buffer.from(await c.arrayBuffer());
    assert.notEqual(digestOf(bytes), c.headers.get("docker-content-digest"));
    const byDigest = await get(c.headers.get("docker-content-digest"));
    assert.notEqual(digestOf(Buffer.from(await byDigest.arrayBuffer())), c.headers.get("docker-content-digest"));
  });

  it("config blobs: created, os, architecture, variant, config.Labels, history; unknown blob → BLOB_UNKNOWN", async () => {
    const arm = index.children[1];
    const res = await fetch(`${em.url}/v2/o/app/blobs/${arm.config.digest}`, { headers: bearer(t) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("docker-content-digest"), arm.config.digest);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(digestOf(bytes), arm.config.digest);
    const config = JSON.parse(bytes);
    assert.equal(config.os, "linux");
    assert.equal(config.architecture, "arm64");
    assert.equal(config.variant, "v8");
    assert.equal(config.created, "2024-01-02T03:04:05Z");
    assert.deepEqual(config.config.Labels, { "org.opencontainers.image.title": "app", "org.opencontainers.image.description": "app for linux/arm64/v8" });
    assert.equal(config.history.length, 2);
    assert.match(config.history[0].created_by, /ADD file:app-linux-arm64-v8/);
    const missing = await fetch(`${em.url}/v2/o/app/blobs/sha256:${"0".repeat(64)}`, { headers: bearer(t) });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).errors[0].code, "BLOB_UNKNOWN");
  });

  it("blob redirects go to the storage origin, which records a violation when it sees Authorization", async () => {
    em.set({ resources: { blobRedirect: { status: 307 } } });
    try {
      const digest = amd64.config.digest;
      const res = await fetch(`${em.url}/v2/o/app/blobs/${digest}`, { headers: bearer(t), redirect: "manual" });
      assert.equal(res.status, 307);
      const location = res.headers.get("location");
      assert.ok(location.startsWith(`${em.storageUrl}/hop/1/${digest}?`), location);
      const clean = await fetch(location);
      assert.equal(digestOf(Buffer.from(await clean.arrayBuffer())), digest);
      assert.deepEqual(em.violations, []);
      const leaked = await fetch(location, { headers: bearer(t) });
      assert.equal(leaked.status, 400);
      await leaked.arrayBuffer();
      assert.deepEqual(em.violations, [{ method: "GET", path: `/hop/1/${digest}`, query: { hops: "1", "X-Amz-Signature": "emulated" }, authorization: "bearer" }]);
      assert.deepEqual(em.entries("storage").map((e) => e.status), [200, 400]);
      // A chain of hops: 3 redirects in all, the last hop serves.
      em.set({ resources: { blobRedirect: { hops: 3 } } });
      const chained = await fetch(`${em.url}/v2/o/app/blobs/${digest}`, { headers: bearer(t) }); // fetch drops Authorization cross-origin
      assert.equal(chained.status, 200);
      assert.equal(digestOf(Buffer.from(await chained.arrayBuffer())), digest);
      assert.deepEqual(em.entries("storage").slice(2).map((e) => [e.path, e.status]), [
        [`/hop/1/${digest}`, 302],
        [`/hop/2/${digest}`, 302],
        [`/hop/3/${digest}`, 200],
      ]);
    } finally {
      em.restore();
    }
  });

  it("DELETE by digest → 202 and gone; needs the delete scope; 404 unknown; 405 by tag or when deletion is off", async () => {
    const victim = makeImage({ name: "victim" });
    const d = await start({ preset: "distribution", repos: { app: { manifests: { old: victim, keep: amd64 } } } });
    const del = (ref, token) => fetch(`${d.url}/v2/app/manifests/${ref}`, { method: "DELETE", headers: bearer(token) });
    const pull = await tokenFor(d, "repository:app:pull");
    const noScope = await del(victim.digest, pull);
    assert.equal(noScope.status, 401);
    assert.equal(noScope.headers.get("www-authenticate"), `Bearer realm="${d.url}/auth",service="Docker registry",scope="repository:app:delete",error="insufficient_scope"`);
    const token = await tokenFor(d, "repository:app:delete,pull", { authorization: basicAuth("u", "p") });
    assert.equal((await del("old", token)).status, 405, "by tag");
    const ok = await del(victim.digest, token);
    assert.equal(ok.status, 202);
    assert.deepEqual(d.deleted, [{ repository: "app", digest: victim.digest }]);
    assert.equal((await fetch(`${d.url}/v2/app/manifests/old`, { headers: { ...bearer(token), accept: OCI_ACCEPT } })).status, 404);
    assert.deepEqual(d.repo("app").tags, ["keep"]);
    const again = await del(victim.digest, token);
    assert.equal(again.status, 404);
    assert.equal((await again.json()).errors[0].code, "MANIFEST_UNKNOWN");
    d.set({ resources: { deletion: false } });
    const off = await del(amd64.digest, token);
    assert.equal(off.status, 405);
    assert.deepEqual((await off.json()).errors, [{ code: "UNSUPPORTED", message: "The operation is unsupported.", detail: null }]);
    d.restore();
    assert.deepEqual(d.repo("app").tags, ["keep", "old"], "restore() brings deleted manifests back");
  });

  it("dockerhub: RateLimit-* headers on manifests; 429 TOOMANYREQUESTS with Retry-After once used up (HEAD is free)", async () => {
    const hub = await start({ preset: "dockerhub", repos: { "library/alpine": { manifests: { latest: amd64 } } } });
    hub.set({ resources: { rateLimit: { limit: 100, remaining: 2, retryAfter: 3600 } } });
    const tk = await tokenFor(hub, "repository:library/alpine:pull");
    const m = () => fetch(`${hub.url}/v2/library/alpine/manifests/latest`, { headers: { ...bearer(tk), accept: OCI_ACCEPT } });
    const first = await m();
    assert.equal(first.headers.get("ratelimit-limit"), "100;w=21600");
    assert.equal(first.headers.get("ratelimit-remaining"), "1;w=21600");
    await first.arrayBuffer();
    await (await m()).arrayBuffer();
    const limited = await m();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "3600");
    assert.equal(limited.headers.get("ratelimit-remaining"), "0;w=21600");
    assert.deepEqual(await limited.json(), {
      errors: [{ code: "TOOMANYREQUESTS", message: "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit" }],
    });
    const head = await fetch(`${hub.url}/v2/library/alpine/manifests/latest`, { method: "HEAD", headers: { ...bearer(tk), accept: OCI_ACCEPT } });
    assert.equal(head.status, 200);
    hub.restore();
    assert.equal((await m()).status, 200, "restore() refills the budget");
  });

  it("push: blob upload POST/PATCH/PUT and manifest PUT need pull+push; the pushed manifest is served", async () => {
    const d = await start({ preset: "distribution", repos: {} });
    const pull = await tokenFor(d, "repository:new/app:pull");
    const refused = await fetch(`${d.url}/v2/new/app/blobs/uploads/`, { method: "POST", headers: bearer(pull) });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate"), /scope="repository:new\/app:pull,push",error="insufficient_scope"/);
    const push = await tokenFor(d, "repository:new/app:pull,push", { authorization: basicAuth("u", "p") });
    const layer = blobOf("hello layer\n");
    const start1 = await fetch(`${d.url}/v2/new/app/blobs/uploads/`, { method: "POST", headers: bearer(push) });
    assert.equal(start1.status, 202);
    const loc = start1.headers.get("location");
    assert.equal((await fetch(new URL(loc, d.url), { method: "PATCH", headers: bearer(push), body: layer.bytes.subarray(0, 5) })).status, 202);
    const done = await fetch(new URL(`${loc}?digest=${layer.digest}`, d.url), { method: "PUT", headers: bearer(push), body: layer.bytes.subarray(5) });
    assert.equal(done.status, 201);
    assert.equal(done.headers.get("docker-content-digest"), layer.digest);
    const manifest = rawManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: layer.digest, size: layer.size }, layers: [] });
    const put = await fetch(`${d.url}/v2/new/app/manifests/1.0`, { method: "PUT", headers: { ...bearer(push), "content-type": MEDIA_TYPES.ociManifest }, body: manifest.bytes });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("docker-content-digest"), manifest.digest);
    const back = await fetch(`${d.url}/v2/new/app/manifests/1.0`, { headers: { ...bearer(push), accept: OCI_ACCEPT } });
    assert.equal(back.headers.get("content-type"), MEDIA_TYPES.ociManifest);
    assert.equal(digestOf(Buffer.from(await back.arrayBuffer())), manifest.digest);
    assert.deepEqual(d.repo("new/app").tags, ["1.0"]);
    assert.deepEqual(d.resources().map((e) => [e.method, e.resource, e.required, e.status]), [
      ["POST", "upload", "repository:new/app:pull,push", 401],
      ["POST", "upload", "repository:new/app:pull,push", 202],
      ["PATCH", "upload", "repository:new/app:pull,push", 202],
      ["PUT", "upload", "repository:new/app:pull,push", 201],
      ["PUT", "manifest", "repository:new/app:pull,push", 201],
      ["GET", "manifest", "repository:new/app:pull", 200],
    ]);
  });

  it("makeIndex: entries may override the platform; attestations can be left out", () => {
    const plain = makeImage({ architecture: "arm64" });
    const idx = makeIndex([plain, { content: plain, platform: { os: "linux", architecture: "arm64", variant: "v8" } }], { attestations: false });
    assert.deepEqual(idx.json.manifests.map((m) => m.platform), [
      { architecture: "arm64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    assert.equal(idx.digest, digestOf(idx.bytes));
  });

  it("cors with resources: preflights allow DELETE and Accept; responses expose Link and Docker-Content-Digest", async () => {
    const c = await start({ preset: "ghcr", cors: true, repos: { "o/app": { tags: 3 } } });
    const pre = await fetch(`${c.url}/v2/o/app/manifests/x`, { method: "OPTIONS" });
    assert.match(pre.headers.get("access-control-allow-methods"), /DELETE/);
    assert.match(pre.headers.get("access-control-allow-headers"), /Accept/);
    const res = await fetch(`${c.url}/v2/o/app/tags/list`);
    assert.match(res.headers.get("access-control-expose-headers"), /Link/);
    assert.match(res.headers.get("access-control-expose-headers"), /Docker-Content-Digest/);
    assert.match(res.headers.get("access-control-expose-headers"), /WWW-Authenticate/);
  });
});
