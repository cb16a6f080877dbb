// Issue 2, flow steps 2–4 against each emulated registry: which requests go out (method, path,
// query, form, Authorization scheme) and what the Authorization result says.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { basicAuth, secretDigest, startEmulator } from "./support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, assertExpiresIn, recordingFetch, rejectsWith } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { RegistryClient } = await importPackage();

const NAMES = [
  "dockerhub",
  "ghcr",
  "quay",
  "acr",
  "gcr",
  "artifactRegistry",
  "artifactory",
  "gitlab",
  "harbor",
  "gitea",
  "nexus",
  "distribution",
  "relativeRealm",
  "basicOnly",
  "noAuth",
  "noChallenge",
];
/** @type {Record<string, Awaited<ReturnType<typeof startEmulator>>>} */
const em = {};
before(async () => {
  await Promise.all(NAMES.map(async (n) => (em[n] = await startEmulator(n))));
});
after(() => Promise.all(Object.values(em).map((e) => e.close())));
beforeEach(() => Object.values(em).forEach((e) => e.restore()));

const creds = { username: "alice", password: PASSWORD };
/** The same credentials, asking for a refresh token: the one case that uses the OAuth2 POST. */
const offline = { ...creds, offline: true };
/** [kind, method, path, Authorization scheme] per request, for compact comparisons. */
const shape = (e) => e.log.map((r) => [r.kind, r.method, r.path, r.authorization]);
const tokenRequests = (e) => e.entries("token");

describe("Docker Hub", () => {
  it("anonymous: /v2/ without credentials, then GET on the separate auth origin with service and scope only", async () => {
    const hub = em.dockerhub;
    const t0 = Date.now();
    const auth = await new RegistryClient().authorize(`${hub.host}/library/nginx:1.25`);
    const t1 = Date.now();
    assert.deepEqual(
      hub.log.map((r) => [r.kind, r.origin, r.method, r.path, r.authorization]),
      [
        ["ping", "registry", "GET", "/v2/", null],
        ["token", "auth", "GET", "/token", null],
      ],
    );
    const [, token] = hub.log;
    assert.deepEqual(token.query, { service: "registry.docker.io", scope: "repository:library/nginx:pull" });
    assert.equal(auth.token, token.issued);
    assert.equal(auth.authorization, `Bearer ${token.issued}`);
    assert.equal(auth.realm, `${hub.authUrl}/token`);
    assert.equal(auth.service, "registry.docker.io");
    assert.equal(auth.registry, hub.url);
    assert.equal(auth.repository, "library/nginx");
    assert.deepEqual(auth.scope, ["repository:library/nginx:pull"]);
    assert.equal(auth.refreshToken, null);
    assertExpiresIn(auth, 300, t0, t1);
  });

  it("getToken resolves the bare token", async () => {
    const token = await new RegistryClient().getToken(`${em.dockerhub.host}/library/nginx`);
    assert.equal(token, tokenRequests(em.dockerhub)[0].issued);
  });

  it("docker.io references through registryUrl: nginx → scope repository:library/nginx", async () => {
    const hub = em.dockerhub;
    const auth = await new RegistryClient().authorize("nginx:1.25", { registryUrl: hub.url });
    assert.equal(tokenRequests(hub)[0].query.scope, "repository:library/nginx:pull");
    assert.equal(auth.registry, hub.url);
    assert.equal(auth.repository, "library/nginx");
  });

  it('actions are merged and de-duplicated: ["push","pull","pull"] → repository:x:pull,push', async () => {
    await new RegistryClient().getToken(`${em.dockerhub.host}/library/nginx`, { actions: ["push", "pull", "pull"] });
    assert.deepEqual(tokenRequests(em.dockerhub)[0].query, { service: "registry.docker.io", scope: "repository:library/nginx:pull,push" });
  });

  it("username + password → one GET with Basic (service, scope), no refresh token minted", async () => {
    const hub = em.dockerhub;
    const auth = await new RegistryClient().authorize(`${hub.host}/library/nginx`, { ...creds, actions: ["pull", "push"] });
    assert.deepEqual(shape(hub), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", "basic"],
    ]);
    const get = tokenRequests(hub)[0];
    assert.deepEqual(get.query, { service: "registry.docker.io", scope: "repository:library/nginx:pull,push" });
    assert.equal(get.basicUser, "alice");
    assert.equal(get.credential, secretDigest(PASSWORD), "Basic carries the password given");
    assert.equal(auth.token, get.issued);
    assert.equal(auth.refreshToken, null, "no refresh token unless offline asks for one");
  });

  it("username + password + offline → one OAuth2 POST form (grant_type=password, service, client_id, scope, access_type=offline)", async () => {
    const hub = em.dockerhub;
    const auth = await new RegistryClient().authorize(`${hub.host}/library/nginx`, { ...offline, actions: ["pull", "push"] });
    assert.deepEqual(shape(hub), [
      ["ping", "GET", "/v2/", null],
      ["token", "POST", "/token", null],
    ]);
    const post = tokenRequests(hub)[0];
    assert.match(post.contentType, /^application\/x-www-form-urlencoded/);
    assert.equal(post.form.grant_type, "password");
    assert.equal(post.form.service, "registry.docker.io");
    assert.equal(typeof post.form.client_id, "string");
    assert.ok(post.form.client_id.length > 0, "client_id is set");
    assert.equal(post.form.scope, "repository:library/nginx:pull,push");
    assert.equal(post.form.access_type, "offline");
    assert.equal(post.form.username, "alice");
    assert.equal(post.form.password, secretDigest(PASSWORD), "the password sent is the one given");
    assert.equal(auth.token, post.issued);
    assert.equal(auth.authorization, `Bearer ${post.issued}`);
    assert.match(auth.refreshToken ?? "", /^dockerhub-refresh-\d+$/, "refresh_token from access_type=offline is kept");
  });

  it("a granted scope of several space-separated entries becomes several items; the POST sends scope once", async () => {
    em.dockerhub.set({ token: { methods: { POST: { scope: "repository:library/nginx:pull repository:library/redis:pull" } } } });
    const auth = await new RegistryClient().authorize(`${em.dockerhub.host}/library/nginx`, offline);
    assert.equal(typeof tokenRequests(em.dockerhub)[0].form.scope, "string", "scope sent once");
    assert.deepEqual(auth.scope, ["repository:library/nginx:pull", "repository:library/redis:pull"]);
  });

  it("the granted scope the server reports wins over the requested one", async () => {
    em.dockerhub.set({ token: { methods: { POST: { scope: "repository:library/nginx:pull" } } } });
    const auth = await new RegistryClient().authorize(`${em.dockerhub.host}/library/nginx`, { ...offline, actions: ["pull", "push"] });
    assert.equal(tokenRequests(em.dockerhub)[0].form.scope, "repository:library/nginx:pull,push");
    assert.deepEqual(auth.scope, ["repository:library/nginx:pull"]);
  });

  it("refreshToken → POST grant_type=refresh_token with service, client_id, scope", async () => {
    const hub = em.dockerhub;
    const auth = await new RegistryClient().authorize(`${hub.host}/library/nginx`, { refreshToken: REFRESH_TOKEN });
    assert.deepEqual(shape(hub), [
      ["ping", "GET", "/v2/", null],
      ["token", "POST", "/token", null],
    ]);
    const { form } = tokenRequests(hub)[0];
    assert.equal(form.grant_type, "refresh_token");
    assert.equal(form.refresh_token, secretDigest(REFRESH_TOKEN), "the refresh token sent is the one given");
    assert.equal(form.service, "registry.docker.io");
    assert.ok(form.client_id, "client_id is set");
    assert.equal(form.scope, "repository:library/nginx:pull");
    assert.equal(form.password, undefined);
    assert.equal(auth.token, tokenRequests(hub)[0].issued);
  });

  it('bad credentials: GET with Basic 401 → UNAUTHORIZED with {"details":…} and status 401', async () => {
    const hub = em.dockerhub;
    hub.set({ token: { users: { alice: "the-right-one" } } });
    await rejectsWith(new RegistryClient().getToken(`${hub.host}/library/nginx`, creds), "UNAUTHORIZED", {
      status: 401,
      message: /incorrect username or password/,
    });
    assert.deepEqual(
      tokenRequests(hub).map((r) => [r.method, r.status, r.authorization, r.basicUser]),
      [["GET", 401, "basic", "alice"]],
    );
  });

  it('bad credentials, offline: POST 401 → GET with Basic 401 → UNAUTHORIZED', async () => {
    const hub = em.dockerhub;
    hub.set({ token: { users: { alice: "the-right-one" } } });
    await rejectsWith(new RegistryClient().getToken(`${hub.host}/library/nginx`, offline), "UNAUTHORIZED", { status: 401 });
    assert.deepEqual(
      tokenRequests(hub).map((r) => [r.method, r.status, r.authorization, r.basicUser]),
      [
        ["POST", 401, null, null],
        ["GET", 401, "basic", "alice"],
      ],
    );
  });

  it("issued_at far in the past does not shorten the life: expiry counts from receipt", async () => {
    const hub = em.dockerhub;
    hub.set({ token: { issuedAt: "2001-01-01T00:00:00Z" } });
    const client = new RegistryClient();
    const t0 = Date.now();
    const auth = await client.authorize(`${hub.host}/library/nginx`);
    assertExpiresIn(auth, 300, t0, Date.now());
    hub.reset();
    await client.getToken(`${hub.host}/library/nginx`);
    assert.equal(hub.counts().total, 0, "the token is still cached");
  });
});

describe("GHCR", () => {
  it("the scope in the /v2/ challenge (another repository) is not requested", async () => {
    const ghcr = em.ghcr;
    const auth = await new RegistryClient().authorize(`${ghcr.host}/owner/app`);
    assert.deepEqual(tokenRequests(ghcr)[0].query, { service: "ghcr.io", scope: "repository:owner/app:pull" });
    assert.deepEqual(auth.scope, ["repository:owner/app:pull"]);
  });

  it("{token} only, no expires_in → expiresAt ≈ now + 60 s", async () => {
    const t0 = Date.now();
    const auth = await new RegistryClient().authorize(`${em.ghcr.host}/owner/app`);
    assert.equal(auth.token, tokenRequests(em.ghcr)[0].issued);
    assertExpiresIn(auth, 60, t0, Date.now());
  });

  it("username + password: GET with Basic at once, the one request GHCR accepts", async () => {
    const ghcr = em.ghcr;
    const auth = await new RegistryClient().authorize(`${ghcr.host}/owner/app`, creds);
    assert.deepEqual(shape(ghcr), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", "basic"],
    ]);
    assert.equal(auth.token, ghcr.log[1].issued);
  });

  it("offline: POST → 405 → GET with Basic; the next call to the same realm goes straight to GET", async () => {
    const ghcr = em.ghcr;
    const client = new RegistryClient();
    const auth = await client.authorize(`${ghcr.host}/owner/app`, offline);
    assert.deepEqual(shape(ghcr), [
      ["ping", "GET", "/v2/", null],
      ["token", "POST", "/token", null],
      ["token", "GET", "/token", "basic"],
    ]);
    const [, post, get] = ghcr.log;
    assert.equal(post.status, 405);
    assert.equal(post.form.grant_type, "password");
    assert.equal(get.basicUser, "alice");
    assert.equal(get.credential, secretDigest(PASSWORD), "Basic carries the password given");
    assert.equal(get.query.service, "ghcr.io");
    assert.equal(get.query.scope, "repository:owner/app:pull");
    assert.equal(auth.token, get.issued);

    ghcr.reset();
    await client.getToken(`${ghcr.host}/owner/other`, offline);
    assert.deepEqual(shape(ghcr), [["token", "GET", "/token", "basic"]]);
  });
});

describe("offline: OAuth2 POST fallback to GET + Basic, per registry", () => {
  const cases = [
    ["acr", 400, "/oauth2/token"],
    ["artifactory", 401, "/artifactory/api/docker/docker-remote/v2/token"],
    ["harbor", 403, "/service/token"],
    ["gcr", 404, "/v36/tokenz"],
    ["gitlab", 404, "/jwt/auth"],
    ["ghcr", 405, "/token"],
    ["quay", 405, "/v2/auth"],
  ];
  for (const [name, status, path] of cases) {
    it(`${name}: POST ${status} → GET with Basic (without offline: only the GET)`, async () => {
      const e = em[name];
      const direct = await new RegistryClient().getToken(`${e.host}/team/app`, creds);
      assert.deepEqual(tokenRequests(e).map((r) => [r.method, r.path, r.status, r.authorization]), [["GET", path, 200, "basic"]]);
      assert.equal(direct, tokenRequests(e)[0].issued);
      e.reset();
      const token = await new RegistryClient().getToken(`${e.host}/team/app`, offline);
      assert.deepEqual(
        tokenRequests(e).map((r) => [r.method, r.path, r.status, r.authorization]),
        [
          ["POST", path, status, null],
          ["GET", path, 200, "basic"],
        ],
      );
      assert.equal(token, tokenRequests(e)[1].issued);
      assert.equal(tokenRequests(e)[1].credential, secretDigest(PASSWORD));
    });
  }
});

describe("ACR", () => {
  it("a comma inside the quoted challenge scope; access_token only", async () => {
    const acr = em.acr;
    const auth = await new RegistryClient().authorize(`${acr.host}/team/app`);
    assert.deepEqual(tokenRequests(acr)[0].query, { service: "emulated.azurecr.io", scope: "repository:team/app:pull" });
    assert.equal(auth.realm, `${acr.url}/oauth2/token`);
    assert.equal(auth.service, "emulated.azurecr.io");
    assert.equal(auth.token, tokenRequests(acr)[0].issued);
  });

  it("refreshToken → POST grant_type=refresh_token is accepted", async () => {
    const acr = em.acr;
    const token = await new RegistryClient().getToken(`${acr.host}/team/app`, { refreshToken: REFRESH_TOKEN, actions: ["pull", "push"] });
    const [post] = tokenRequests(acr);
    assert.equal(post.method, "POST");
    assert.equal(post.status, 200);
    assert.equal(post.form.grant_type, "refresh_token");
    assert.equal(post.form.refresh_token, secretDigest(REFRESH_TOKEN));
    assert.equal(post.form.scope, "repository:team/app:pull,push");
    assert.equal(token, post.issued);
  });
});

describe("other challenges", () => {
  it("GCR: service before realm", async () => {
    const auth = await new RegistryClient().authorize(`${em.gcr.host}/project/app`);
    assert.deepEqual(tokenRequests(em.gcr)[0].query, { service: "gcr.io", scope: "repository:project/app:pull" });
    assert.equal(auth.realm, `${em.gcr.url}/v36/tokenz`);
  });

  it("Gitea: Bearer preferred over Basic in one line; scope=\"*\" not requested", async () => {
    const gitea = em.gitea;
    const auth = await new RegistryClient().authorize(`${gitea.host}/owner/app`);
    assert.deepEqual(shape(gitea), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/v2/token", null],
    ]);
    assert.deepEqual(gitea.log[1].query, { service: "container_registry", scope: "repository:owner/app:pull" });
    assert.match(auth.authorization, /^Bearer /);
  });

  it("Bearer preferred when it comes on a separate header line after Basic", async () => {
    const e = await startEmulator({ ping: { challenge: ['Basic realm="first"', 'Bearer realm="{origin}/token",service="second"'] } });
    try {
      const auth = await new RegistryClient().authorize(`${e.host}/owner/app`, creds);
      assert.match(auth.authorization, /^Bearer /);
      assert.equal(auth.service, "second");
    } finally {
      await e.close();
    }
  });

  it("Artifact Registry: no service → no service parameter, service null", async () => {
    const ar = em.artifactRegistry;
    const auth = await new RegistryClient().authorize(`${ar.host}/project/repo/image`);
    assert.deepEqual(tokenRequests(ar)[0].query, { scope: "repository:project/repo/image:pull" });
    assert.equal(auth.service, null);
    assert.equal(auth.token, tokenRequests(ar)[0].issued);
  });

  it("Artifactory: service is host:port", async () => {
    await new RegistryClient().getToken(`${em.artifactory.host}/team/app`);
    assert.deepEqual(tokenRequests(em.artifactory)[0].query, { service: em.artifactory.host, scope: "repository:team/app:pull" });
  });

  it("Harbor and GitLab anonymous GET", async () => {
    for (const [name, service] of [
      ["harbor", "harbor-registry"],
      ["gitlab", "container_registry"],
    ]) {
      const token = await new RegistryClient().getToken(`${em[name].host}/group/app`);
      assert.deepEqual(tokenRequests(em[name])[0].query, { service, scope: "repository:group/app:pull" }, name);
      assert.equal(token, tokenRequests(em[name])[0].issued, name);
    }
  });

  it("relative realm resolves against the registry", async () => {
    const rel = em.relativeRealm;
    const auth = await new RegistryClient().authorize(`${rel.host}/owner/app`);
    assert.deepEqual(shape(rel), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", null],
    ]);
    assert.equal(auth.realm, `${rel.url}/token`);
  });

  it("query values are URL-encoded (service with a space; service with & = +)", async () => {
    const dist = em.distribution;
    await new RegistryClient().getToken(`${dist.host}/team/app`);
    const [get] = tokenRequests(dist);
    assert.deepEqual(get.query, { service: "Docker registry", scope: "repository:team/app:pull" });
    assert.ok(!get.rawQuery.includes(" "), "no raw space in the query");

    const odd = await startEmulator({ ping: { challenge: 'Bearer realm="{origin}/token",service="a&b=c+d#e"' } });
    try {
      await new RegistryClient().getToken(`${odd.host}/team/app`);
      assert.deepEqual(odd.entries("token")[0].query, { service: "a&b=c+d#e", scope: "repository:team/app:pull" });
    } finally {
      await odd.close();
    }
  });

  it("scope names use the path only, also for a registry on a port", async () => {
    await new RegistryClient().getToken(`${em.ghcr.host}/a/b/c`);
    assert.equal(tokenRequests(em.ghcr)[0].query.scope, "repository:a/b/c:pull");
  });
});

describe("Basic-only registries", () => {
  it("Nexus (upper-case BASIC): authorize returns Basic base64(user:pass) from one ping", async () => {
    const nexus = em.nexus;
    const auth = await new RegistryClient().authorize(`${nexus.host}/team/app`, creds);
    assert.equal(auth.authorization, basicAuth("alice", PASSWORD));
    assert.equal(auth.token, null);
    assert.equal(auth.registry, nexus.url);
    assert.equal(auth.repository, "team/app");
    assert.deepEqual(shape(nexus), [["ping", "GET", "/v2/", null]]);
  });

  it("authorize without credentials → UNAUTHORIZED", async () => {
    await rejectsWith(new RegistryClient().authorize(`${em.basicOnly.host}/team/app`), "UNAUTHORIZED");
    assert.equal(em.basicOnly.counts().token, 0);
  });

  it("getToken → UNSUPPORTED_CHALLENGE pointing at authorize (with or without credentials)", async () => {
    for (const options of [creds, {}]) {
      await rejectsWith(new RegistryClient().getToken(`${em.basicOnly.host}/team/app`, options), "UNSUPPORTED_CHALLENGE", {
        message: /authorize/,
      });
      await rejectsWith(new RegistryClient().getToken(`${em.nexus.host}/team/app`, options), "UNSUPPORTED_CHALLENGE", {
        message: /authorize/,
      });
    }
    assert.equal(em.basicOnly.counts().token + em.nexus.counts().token, 0);
  });
});

describe("no authentication, no challenge", () => {
  it('200 on /v2/: getToken resolves "", authorize gives authorization null', async () => {
    const open = em.noAuth;
    assert.equal(await new RegistryClient().getToken(`${open.host}/team/app`), "");
    const auth = await new RegistryClient().authorize(`${open.host}/team/app`);
    assert.equal(auth.authorization, null);
    assert.equal(auth.token, null);
    assert.equal(auth.registry, open.url);
    assert.equal(auth.repository, "team/app");
    assert.equal(open.counts().token, 0);
    assert.equal(open.counts().ping, 2);
  });

  it("401 without WWW-Authenticate → NO_CHALLENGE with status 401", async () => {
    await rejectsWith(new RegistryClient().getToken(`${em.noChallenge.host}/team/app`), "NO_CHALLENGE", { status: 401 });
  });
});

describe("token response shapes", () => {
  it("expires_in 10 is raised to 60 s", async () => {
    em.ghcr.set({ token: { expiresIn: 10 } });
    const t0 = Date.now();
    const auth = await new RegistryClient().authorize(`${em.ghcr.host}/owner/app`);
    assertExpiresIn(auth, 60, t0, Date.now());
  });

  it("refresh_token and scope from a GET response are in the Authorization", async () => {
    em.ghcr.set({ token: { refreshToken: "rt-from-server", scope: "repository:owner/app:pull" } });
    const auth = await new RegistryClient().authorize(`${em.ghcr.host}/owner/app`, { actions: ["pull", "push"] });
    assert.equal(auth.refreshToken, "rt-from-server");
    assert.deepEqual(auth.scope, ["repository:owner/app:pull"]);
  });

  it("access_token alone (ACR) and token alone (GHCR) both work", async () => {
    const a = await new RegistryClient().authorize(`${em.acr.host}/x/y`);
    assert.equal(a.token, tokenRequests(em.acr)[0].issued);
    const g = await new RegistryClient().authorize(`${em.ghcr.host}/x/y`);
    assert.equal(g.token, tokenRequests(em.ghcr)[0].issued);
  });
});

describe("redirects", () => {
  it("same-origin 307 on the token GET is followed", async () => {
    const ghcr = em.ghcr;
    ghcr.set({ token: { redirect: { status: 307, to: "/token-moved" } } });
    const token = await new RegistryClient().getToken(`${ghcr.host}/owner/app`);
    assert.deepEqual(
      ghcr.log.map((r) => [r.kind, r.method, r.path]),
      [
        ["ping", "GET", "/v2/"],
        ["redirect", "GET", "/token"],
        ["token", "GET", "/token-moved"],
      ],
    );
    assert.equal(token, ghcr.log[2].issued);
  });

  it("the GET with Basic follows a same-origin 307 and keeps its credentials", async () => {
    const ghcr = em.ghcr;
    ghcr.set({ token: { redirect: { status: 307, to: "/token-moved" } } });
    const token = await new RegistryClient().getToken(`${ghcr.host}/owner/app`, creds);
    const final = ghcr.log.at(-1);
    assert.deepEqual([final.kind, final.method, final.path, final.authorization], ["token", "GET", "/token-moved", "basic"]);
    assert.equal(final.credential, secretDigest(PASSWORD));
    assert.equal(token, final.issued);
  });

  it("a redirected OAuth2 POST is not re-sent with its form: the password goes out once, then GET + Basic", async () => {
    // fetch would replay a 307/308 body to any origin; the client treats the redirect as
    // "POST not supported here" (see src/flow.rs `Redirect::Manual`) and falls back to GET.
    const dist = em.distribution;
    dist.set({ token: { redirect: { status: 307, to: "/auth-moved" } } });
    const token = await new RegistryClient().getToken(`${dist.host}/team/app`, offline);
    const withPassword = dist.log.filter((r) => r.form?.password);
    assert.equal(withPassword.length, 1, "the password form is sent exactly once");
    assert.deepEqual([withPassword[0].method, withPassword[0].path], ["POST", "/auth"]);
    const final = dist.log.at(-1);
    assert.deepEqual([final.kind, final.method, final.path, final.authorization], ["token", "GET", "/auth-moved", "basic"]);
    assert.equal(token, final.issued);
  });

  it("a redirect of the password POST to another origin never delivers the password there", async () => {
    const target = await startEmulator({ name: "elsewhere", ping: { status: 404 } });
    try {
      em.distribution.set({ token: { redirect: { status: 307, to: `${target.url}/token` } } });
      await new RegistryClient().getToken(`${em.distribution.host}/team/app`, offline).catch(() => {});
      await new RegistryClient().getToken(`${em.distribution.host}/team/app`, creds).catch(() => {});
      assert.deepEqual(
        target.log.filter((r) => r.form?.password || r.authorization),
        [],
        "no form password and no Authorization reached the other origin",
      );
    } finally {
      await target.close();
    }
  });

  it("a redirect to another server (another emulator) is followed", async () => {
    const target = await startEmulator({ name: "elsewhere", ping: { status: 404 } });
    try {
      em.ghcr.set({ token: { redirect: { status: 307, to: `${target.url}/token` } } });
      const token = await new RegistryClient().getToken(`${em.ghcr.host}/owner/app`);
      assert.match(token, /^elsewhere-token-\d+$/);
      assert.deepEqual(target.entries("token")[0].query, { service: "ghcr.io", scope: "repository:owner/app:pull" });
    } finally {
      await target.close();
    }
  });
});

describe("insecure realm", () => {
  const INSECURE = 'Bearer realm="http://example.invalid/token",service="insecure"';
  for (const [what, options] of [
    ["username + password", creds],
    ["refreshToken", { refreshToken: REFRESH_TOKEN }],
  ]) {
    it(`plain-http non-loopback realm with ${what} → INSECURE_REALM, nothing sent`, async () => {
      const e = await startEmulator({ ping: { challenge: INSECURE } });
      try {
        const fetch = recordingFetch();
        await rejectsWith(new RegistryClient().getToken(`${e.host}/team/app`, { ...options, fetch }), "INSECURE_REALM");
        assert.deepEqual(fetch.urls, [`${e.url}/v2/`], "only the ping went out");
        assert.equal(e.counts().total, 1);
      } finally {
        await e.close();
      }
    });
  }
});
