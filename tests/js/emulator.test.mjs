// The emulated registries answer as registry-facts.md says. Plain `fetch`, no package: this file
// runs before pkg/ exists and guards the fixtures the package tests rely on.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { basicAuth, closedPort, presets, secretDigest, startEmulator } from "./support/emulator.mjs";

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

  it("nexus / basicOnly / noAuth have no token endpoint (405)", async () => {
    for (const name of ["nexus", "basicOnly", "noAuth"]) {
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
