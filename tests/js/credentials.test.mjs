// Issue 13, "Credentials": `credentials` bound to registries (a record keyed by the domain
// parseReference names, or a function asked with that one name), GET + Basic by default, the
// OAuth2 POST only with `offline: true`, Basic never over plain http to a non-loopback host, the
// token cache and single-flight keys that a registry naming another's realm cannot share, and
// credentials that never cross to another origin on a token-server redirect.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { basicAuth, secretDigest, startEmulator } from "./support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, assertNoSecrets, assertRegistryError, recordingFetch, rejectsWith, throwsWith } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { RegistryClient, getToken, parseReference } = await importPackage();

const USER = "alice";
const CRED = { username: USER, password: PASSWORD };
const BASIC = basicAuth(USER, PASSWORD);
/** Every form in which the password (or the refresh token) could travel or be echoed. */
const SECRET_FORMS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  BASIC.slice("Basic ".length),
  secretDigest(PASSWORD),
  REFRESH_TOKEN,
  encodeURIComponent(REFRESH_TOKEN),
  secretDigest(REFRESH_TOKEN),
];

let A; // the registry the credentials are for: GET and POST 200, realm on its own origin
let B; // another registry with the same repository names
let D; // distribution preset: POST issues refresh tokens when access_type=offline
let G; // ghcr preset: POST 405 (OAuth2 refused)
let N; // nexus preset: Basic only
before(async () => {
  [A, B, D, G, N] = await Promise.all([
    startEmulator({ name: "alpha" }),
    startEmulator({ name: "beta" }),
    startEmulator("distribution"),
    startEmulator("ghcr"),
    startEmulator("nexus"),
  ]);
});
after(() => Promise.all([A, B, D, G, N].map((e) => e.close())));
beforeEach(() => [A, B, D, G, N].forEach((e) => e.restore()));

const ref = (e, path = "team/app") => `${e.host}/${path}`;
/** [kind, method, path, Authorization scheme] per request. */
const shape = (e) => e.log.map((r) => [r.kind, r.method, r.path, r.authorization]);

/** The emulator received no credential of any kind, in no form. */
function assertNoCredentialIn(e, label = e.name) {
  for (const r of e.log) {
    assert.equal(r.authorization, null, `${label}: ${r.method} ${r.path} carried Authorization`);
    assert.equal(r.basicUser, null, `${label}: ${r.method} ${r.path} carried a Basic user`);
    assert.equal(r.credential, null, `${label}: ${r.method} ${r.path} carried a credential`);
    assert.equal(r.form, null, `${label}: ${r.method} ${r.path} carried a form body`);
  }
  const text = JSON.stringify(e.log);
  SECRET_FORMS.forEach((s, i) => assert.ok(!text.includes(s), `${label}: secret form #${i} appears in its request log`));
}

/** The Authorization header a custom fetch was given, whatever shape `init.headers` has. */
function headerOf(input, init, name) {
  const h = init?.headers ?? (typeof Request !== "undefined" && input instanceof Request ? input.headers : undefined);
  if (!h) return null;
  if (typeof h.get === "function") return h.get(name);
  if (Array.isArray(h)) return h.find(([k]) => k.toLowerCase() === name)?.[1] ?? null;
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
  return null;
}

const urlOf = (input) => (typeof input === "string" ? input : input instanceof URL ? input.href : input.url);

/**
 * An in-process fetch: `routes` maps "METHOD url-without-query" to a function returning a
 * Response. Each request is recorded as { method, url, origin, path, query, authorization,
 * authDigest, body } with the Authorization value digested (never in clear); an unknown route
 * rejects.
 */
function scriptedFetch(routes) {
  const seen = [];
  const fn = async (input, init = {}) => {
    const url = new URL(urlOf(input));
    const auth = headerOf(input, init, "authorization");
    const method = init.method ?? (typeof input === "object" && input.method) ?? "GET";
    seen.push({
      method,
      url: url.href,
      origin: url.origin,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: auth === null ? null : auth.split(" ")[0].toLowerCase(),
      authDigest: auth === null ? null : secretDigest(auth),
      body: init.body == null ? null : secretDigest(String(init.body)),
    });
    const route = routes[`${method} ${url.origin}${url.pathname}`];
    if (!route) throw new TypeError(`test fetch: no route for ${method} ${url.origin}${url.pathname}`);
    return route(url, init);
  };
  fn.seen = seen;
  return fn;
}

const unauthorized = (challenge) => () =>
  new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}', {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": challenge },
  });
let issued = 0;
const tokenResponse = () => () =>
  new Response(JSON.stringify({ token: `scripted-token-${++issued}`, expires_in: 300 }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });

/** Docker Hub as the library contacts it (registry-1.docker.io, realm auth.docker.io), in process. */
function dockerHubFetch() {
  return scriptedFetch({
    "GET https://registry-1.docker.io/v2/": unauthorized('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"'),
    "GET https://auth.docker.io/token": tokenResponse(),
    "POST https://auth.docker.io/token": tokenResponse(),
  });
}

describe("credentials as a record keyed by registry", () => {
  it("the entry for the image's registry goes to its realm as GET + Basic; another registry's image gets an anonymous GET", async () => {
    assert.equal(parseReference(ref(A)).domain, A.host, "the key is the domain as parseReference names it");
    const client = new RegistryClient();
    const credentials = { [A.host]: CRED };

    const auth = await client.authorize(ref(A), { credentials });
    assert.deepEqual(shape(A), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", "basic"],
    ]);
    const [get] = A.entries("token");
    assert.equal(get.basicUser, USER);
    assert.equal(get.credential, secretDigest(PASSWORD), "Basic carries the password of the entry");
    assert.equal(get.form, null);
    assert.deepEqual(get.query, { service: "emulator", scope: "repository:team/app:pull" });
    assert.equal(auth.token, get.issued);
    assert.equal(auth.authorization, `Bearer ${get.issued}`);
    assert.equal(auth.refreshToken, null);

    const tokenB = await client.getToken(ref(B), { credentials });
    assert.deepEqual(shape(B), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", null],
    ]);
    assert.deepEqual(B.entries("token")[0].query, { service: "emulator", scope: "repository:team/app:pull" });
    assertNoCredentialIn(B);
    assert.equal(tokenB, B.entries("token")[0].issued);
  });

  it("a record with entries for two registries gives each its own credential", async () => {
    const client = new RegistryClient();
    const credentials = { [A.host]: CRED, [B.host]: { username: "bob", password: `${PASSWORD}-bob` } };
    await client.getToken(ref(A), { credentials });
    await client.getToken(ref(B), { credentials });
    assert.deepEqual(
      A.entries("token").map((r) => [r.method, r.authorization, r.basicUser, r.credential]),
      [["GET", "basic", USER, secretDigest(PASSWORD)]],
    );
    assert.deepEqual(
      B.entries("token").map((r) => [r.method, r.authorization, r.basicUser, r.credential]),
      [["GET", "basic", "bob", secretDigest(`${PASSWORD}-bob`)]],
    );
  });

  it("a record without an entry for the image's registry → anonymous, nothing secret sent", async () => {
    const token = await new RegistryClient().getToken(ref(B), { credentials: { [A.host]: CRED, "ghcr.io": CRED, "127.0.0.1": CRED } });
    assert.deepEqual(shape(B), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", null],
    ]);
    assertNoCredentialIn(B);
    assert.equal(token, B.entries("token")[0].issued);
    assert.equal(A.counts().total, 0, "the other registry was not contacted");
  });

  it("registryUrl does not decide: an image on A sent through B's URL uses A's entry, not B's", async () => {
    const credentials = { [A.host]: CRED, [B.host]: { username: "bob", password: `${PASSWORD}-bob` } };
    const auth = await new RegistryClient().authorize(ref(A), { credentials, registryUrl: B.url });
    assert.equal(A.counts().total, 0, "requests go where registryUrl says");
    assert.deepEqual(shape(B), [
      ["ping", "GET", "/v2/", null],
      ["token", "GET", "/token", "basic"],
    ]);
    const [get] = B.entries("token");
    assert.equal(get.basicUser, USER, "the entry of the image's own registry (A) is used");
    assert.equal(get.credential, secretDigest(PASSWORD));
    assert.equal(auth.registry, B.url);
    assert.equal(auth.token, get.issued);
  });

  it("registryUrl does not decide: an entry only for B's name is not used for an image on A sent through B", async () => {
    const token = await new RegistryClient().getToken(ref(A), { credentials: { [B.host]: CRED }, registryUrl: B.url });
    assertNoCredentialIn(B);
    assert.equal(B.counts().token, 1);
    assert.equal(token, B.entries("token")[0].issued);
  });

  it("the module-level getToken takes credentials per registry too", async () => {
    const token = await getToken(ref(A, "team/module-level"), { credentials: { [A.host]: CRED } });
    const [get] = A.entries("token");
    assert.deepEqual([get.method, get.authorization, get.basicUser, get.credential], ["GET", "basic", USER, secretDigest(PASSWORD)]);
    assert.equal(token, get.issued);
  });

  it("on a Basic-only loopback registry, the entry gives authorize() its Basic header; another registry's entry does not", async () => {
    const auth = await new RegistryClient().authorize(ref(N), { credentials: { [N.host]: CRED } });
    assert.equal(auth.authorization, BASIC);
    assert.equal(auth.token, null);
    assert.deepEqual(shape(N), [["ping", "GET", "/v2/", null]]);
    await rejectsWith(new RegistryClient().authorize(ref(N), { credentials: { [A.host]: CRED } }), "UNAUTHORIZED");
  });
});

describe("credentials as a function", () => {
  it("is called with exactly the image's registry name; its credential goes to that registry only", async () => {
    const calls = [];
    const credentials = (...args) => {
      calls.push(args);
      return args[0] === A.host ? CRED : null;
    };
    const client = new RegistryClient();
    const tokenA = await client.getToken(ref(A), { credentials });
    assert.ok(calls.length >= 1, "the function was asked");
    assert.deepEqual(calls, calls.map(() => [A.host]), "asked with one argument: the image's registry name");
    const [get] = A.entries("token");
    assert.deepEqual([get.method, get.authorization, get.basicUser, get.credential], ["GET", "basic", USER, secretDigest(PASSWORD)]);
    assert.equal(tokenA, get.issued);

    calls.length = 0;
    const tokenB = await client.getToken(ref(B), { credentials });
    assert.ok(calls.length >= 1, "the function was asked for B");
    assert.deepEqual(calls, calls.map(() => [B.host]), "asked with B's name only");
    assertNoCredentialIn(B);
    assert.equal(tokenB, B.entries("token")[0].issued);
  });

  it("may return a Promise", async () => {
    const calls = [];
    const credentials = async (registry) => {
      calls.push(registry);
      await new Promise((resolve) => setImmediate(resolve));
      return registry === A.host ? CRED : undefined;
    };
    const token = await new RegistryClient().getToken(ref(A), { credentials });
    assert.ok(calls.length >= 1);
    assert.ok(calls.every((c) => c === A.host));
    const [get] = A.entries("token");
    assert.deepEqual([get.method, get.authorization, get.basicUser, get.credential], ["GET", "basic", USER, secretDigest(PASSWORD)]);
    assert.equal(token, get.issued);
  });

  it("may return a refresh token credential", async () => {
    const token = await new RegistryClient().getToken(ref(A), { credentials: (r) => (r === A.host ? { refreshToken: REFRESH_TOKEN } : null) });
    const [post] = A.entries("token");
    assert.equal(post.method, "POST");
    assert.equal(post.form.grant_type, "refresh_token");
    assert.equal(post.form.refresh_token, secretDigest(REFRESH_TOKEN));
    assert.equal(token, post.issued);
  });

  for (const [label, value] of [
    ["null", null],
    ["undefined", undefined],
    ["a Promise of null", Promise.resolve(null)],
    ["a Promise of undefined", Promise.resolve(undefined)],
  ]) {
    it(`returning ${label} means anonymous`, async () => {
      let asked = 0;
      const token = await new RegistryClient().getToken(ref(A), {
        credentials: () => {
          asked += 1;
          return value;
        },
      });
      assert.ok(asked >= 1, "the function was asked");
      assert.deepEqual(shape(A), [
        ["ping", "GET", "/v2/", null],
        ["token", "GET", "/token", null],
      ]);
      assertNoCredentialIn(A);
      assert.equal(token, A.entries("token")[0].issued);
    });
  }

  for (const [label, make] of [
    ["throws", () => () => {
      throw new Error(`vault unreachable; last password was ${PASSWORD}`);
    }],
    ["rejects", () => async () => {
      throw new Error(`vault unreachable; last password was ${PASSWORD}`);
    }],
    ["throws a non-Error naming the secret", () => () => {
      throw `password=${PASSWORD}`;
    }],
    ["returns a rejected Promise of a non-Error", () => () => Promise.reject(`refresh_token=${REFRESH_TOKEN}`)],
  ]) {
    it(`a function that ${label} → the call rejects INVALID_REFERENCE, no secret in message or cause, no token request`, async () => {
      const client = new RegistryClient();
      for (const mode of ["getToken", "authorize"]) {
        const p = client[mode](ref(A), { credentials: make() });
        assert.ok(p instanceof Promise, `${mode} returns a promise (does not throw synchronously)`);
        const err = await rejectsWith(p, "INVALID_REFERENCE", { secrets: [] });
        const texts = {
          message: err.message,
          "String(err)": String(err),
          stack: err.stack,
          "String(err.cause)": String(err.cause),
          "err.cause.message": err.cause?.message,
          "err.cause.stack": err.cause?.stack,
          "err.cause.cause?.message": err.cause?.cause?.message,
        };
        for (const [field, text] of Object.entries(texts)) {
          SECRET_FORMS.forEach((s, i) => assert.ok(!String(text ?? "").includes(s), `${mode}: secret form #${i} appears in ${field}`));
        }
      }
      assert.equal(A.counts().token, 0, "no token request without the credential");
      for (const r of A.log) assert.equal(r.authorization, null);
    });
  }

  it("a function returning an invalid credential → INVALID_REFERENCE, no secret in the message, no token request", async () => {
    for (const bad of [{ password: PASSWORD }, { user: USER, pass: PASSWORD }, 42, `${USER}:${PASSWORD}`]) {
      await rejectsWith(new RegistryClient().getToken(ref(A), { credentials: () => bad }), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
    }
    assert.equal(A.counts().token, 0);
  });
});

describe("Docker Hub's names: index.docker.io and registry-1.docker.io count as docker.io", () => {
  const cases = [
    ["docker.io", "nginx"],
    ["index.docker.io", "nginx"],
    ["registry-1.docker.io", "nginx"],
    ["docker.io", "docker.io/library/nginx"],
    ["docker.io", "index.docker.io/library/nginx"],
    ["index.docker.io", "index.docker.io/library/nginx:1.25"],
    ["docker.io", "registry-1.docker.io/library/nginx"],
    ["registry-1.docker.io", "registry-1.docker.io/library/nginx"],
  ];
  for (const [key, image] of cases) {
    it(`key ${key}, image ${image} → Basic to auth.docker.io by GET`, async () => {
      const fetch = dockerHubFetch();
      const token = await new RegistryClient().getToken(image, { fetch, credentials: { [key]: CRED } });
      assert.deepEqual(
        fetch.seen.map((r) => [r.method, r.origin, r.path, r.authorization]),
        [
          ["GET", "https://registry-1.docker.io", "/v2/", null],
          ["GET", "https://auth.docker.io", "/token", "basic"],
        ],
      );
      const [, get] = fetch.seen;
      assert.equal(get.authDigest, secretDigest(BASIC), "the Basic value is base64(alice:password)");
      assert.deepEqual(get.query, { service: "registry.docker.io", scope: "repository:library/nginx:pull" });
      assert.equal(get.body, null);
      assert.match(token, /^scripted-token-\d+$/);
    });
  }

  it('the function form is asked with "docker.io" for nginx and index.docker.io/library/nginx', async () => {
    for (const image of ["nginx", "index.docker.io/library/nginx", "docker.io/library/nginx:latest"]) {
      const calls = [];
      const fetch = dockerHubFetch();
      await new RegistryClient().getToken(image, {
        fetch,
        credentials: (...args) => {
          calls.push(args);
          return CRED;
        },
      });
      assert.ok(calls.length >= 1, image);
      assert.deepEqual(calls, calls.map(() => ["docker.io"]), image);
      assert.equal(fetch.seen[1].authorization, "basic", image);
    }
  });

  it("a key for another registry sends nothing to Docker Hub", async () => {
    for (const key of ["ghcr.io", "docker.com", "auth.docker.io", "registry-2.docker.io", "hub.docker.com"]) {
      const fetch = dockerHubFetch();
      const token = await new RegistryClient().getToken("nginx", { fetch, credentials: { [key]: CRED } });
      assert.match(token, /^scripted-token-\d+$/);
      assert.deepEqual(
        fetch.seen.map((r) => [r.method, r.path, r.authorization, r.body]),
        [
          ["GET", "/v2/", null, null],
          ["GET", "/token", null, null],
        ],
        `key ${key}`,
      );
    }
  });
});

describe("RegistryClient defaults", () => {
  for (const [label, defaults] of [
    ["username + password", { username: USER, password: PASSWORD }],
    ["refreshToken", { refreshToken: REFRESH_TOKEN }],
    ["username alone", { username: USER }],
    ["password alone", { password: PASSWORD }],
    ["username + password next to credentials", { username: USER, password: PASSWORD, credentials: { [`127.0.0.1:1`]: CRED } }],
  ]) {
    it(`new RegistryClient({ ${label} }) throws INVALID_REFERENCE pointing to credentials`, () => {
      throwsWith(() => new RegistryClient(defaults), "INVALID_REFERENCE", { message: /credentials/, secrets: SECRET_FORMS });
    });
  }

  it("new RegistryClient({ credentials }) works; its credentials apply per registry; per-call username/password still work", async () => {
    const client = new RegistryClient({ credentials: { [A.host]: CRED } });
    const tokenA = await client.getToken(ref(A));
    const [getA] = A.entries("token");
    assert.deepEqual([getA.method, getA.authorization, getA.basicUser, getA.credential], ["GET", "basic", USER, secretDigest(PASSWORD)]);
    assert.equal(tokenA, getA.issued);

    const tokenB = await client.getToken(ref(B));
    assertNoCredentialIn(B);
    assert.equal(tokenB, B.entries("token")[0].issued);

    B.reset();
    const tokenB2 = await client.getToken(ref(B, "team/other"), { username: "carol", password: `${PASSWORD}-carol` });
    assert.deepEqual(
      B.entries("token").map((r) => [r.method, r.authorization, r.basicUser, r.credential]),
      [["GET", "basic", "carol", secretDigest(`${PASSWORD}-carol`)]],
      "per-call username/password: GET + Basic",
    );
    assert.equal(tokenB2, B.entries("token")[0].issued);
  });

  it("new RegistryClient({ credentials: fn }) asks the function per call with the image's registry", async () => {
    const calls = [];
    const client = new RegistryClient({
      credentials: (r) => {
        calls.push(r);
        return r === A.host ? CRED : null;
      },
    });
    await client.getToken(ref(A));
    await client.getToken(ref(B));
    assert.deepEqual([...new Set(calls)].sort(), [A.host, B.host].sort());
    assert.equal(A.entries("token")[0].authorization, "basic");
    assertNoCredentialIn(B);
  });
});

describe("invalid credentials values → INVALID_REFERENCE, nothing sent, no secret in the message", () => {
  // Values are built when a test runs (the emulators' ports are not known before). `image` is the
  // emulator whose image the call names (A), or a registry on which nothing listens.
  const cases = [
    ["a password without a username", () => ({ [A.host]: { password: PASSWORD } })],
    ["a username without a password", () => ({ [A.host]: { username: USER } })],
    ["an entry with neither pair", () => ({ [A.host]: {} })],
    ["an entry with other field names", () => ({ [A.host]: { user: USER, pass: PASSWORD } })],
    ["a non-string password", () => ({ [A.host]: { username: USER, password: 42 } })],
    ["a non-string refresh token", () => ({ [A.host]: { refreshToken: { value: REFRESH_TOKEN } } })],
    ["a string entry", () => ({ [A.host]: `${USER}:${PASSWORD}` })],
    ["a number", () => 42],
    ["a string", () => `${USER}:${PASSWORD}`],
    ["true", () => true],
  ];
  for (const [label, make] of cases) {
    it(`${label}: per call`, async () => {
      const credentials = make();
      await rejectsWith(new RegistryClient().getToken(ref(A), { credentials }), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
      await rejectsWith(new RegistryClient().authorize(ref(A), { credentials }), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
      assert.equal(A.counts().total, 0, "nothing was sent");
    });

    it(`${label}: as a RegistryClient default (the constructor throws, or the call rejects)`, async () => {
      const credentials = make();
      let client;
      try {
        client = new RegistryClient({ credentials });
      } catch (err) {
        assertRegistryError(err, "INVALID_REFERENCE", { secrets: SECRET_FORMS });
        return;
      }
      await rejectsWith(client.getToken(ref(A)), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
      assert.equal(A.counts().total, 0, "nothing was sent");
    });
  }

  it('{ "127.0.0.1:1": { password } }: a call for an image on 127.0.0.1:1 rejects before any request; the constructor throws', async () => {
    const credentials = { "127.0.0.1:1": { password: PASSWORD } };
    const fetch = recordingFetch();
    await rejectsWith(new RegistryClient().getToken("127.0.0.1:1/team/app", { credentials, fetch }), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
    assert.deepEqual(fetch.urls, [], "nothing was sent");
    throwsWith(() => new RegistryClient({ credentials }), "INVALID_REFERENCE", { secrets: SECRET_FORMS });
  });
});

describe("how a username and password reach the token server", () => {
  for (const [label, opts] of [
    ["per call", () => ({ ...CRED })],
    ["from credentials", () => ({ credentials: { [D.host]: CRED } })],
  ]) {
    it(`${label}: exactly one token request, GET with Basic, no POST, no access_type, refreshToken null`, async () => {
      const auth = await new RegistryClient().authorize(ref(D), opts());
      assert.deepEqual(shape(D), [
        ["ping", "GET", "/v2/", null],
        ["token", "GET", "/auth", "basic"],
      ]);
      const [get] = D.entries("token");
      assert.equal(get.basicUser, USER);
      assert.equal(get.credential, secretDigest(PASSWORD));
      assert.equal(get.form, null);
      assert.deepEqual(get.query, { service: "Docker registry", scope: "repository:team/app:pull" });
      assert.ok(!D.log.some((r) => r.method === "POST"), "no POST");
      assert.ok(!D.log.some((r) => "access_type" in r.query || (r.form && "access_type" in r.form)), "no access_type anywhere");
      assert.equal(auth.refreshToken, null, "no refresh token unless asked for");
      assert.equal(auth.token, get.issued);
    });

    it(`${label}, offline: true → OAuth2 POST grant_type=password, access_type=offline; the refresh token comes back`, async () => {
      const auth = await new RegistryClient().authorize(ref(D), { ...opts(), offline: true, actions: ["pull", "push"] });
      assert.deepEqual(shape(D), [
        ["ping", "GET", "/v2/", null],
        ["token", "POST", "/auth", null],
      ]);
      const [post] = D.entries("token");
      assert.match(post.contentType, /^application\/x-www-form-urlencoded/);
      assert.equal(post.form.grant_type, "password");
      assert.equal(post.form.access_type, "offline");
      assert.equal(post.form.username, USER);
      assert.equal(post.form.password, secretDigest(PASSWORD));
      assert.equal(post.form.service, "Docker registry");
      assert.equal(post.form.scope, "repository:team/app:pull,push");
      assert.equal(typeof post.form.client_id, "string");
      assert.equal(auth.token, post.issued);
      assert.match(auth.refreshToken ?? "", /^distribution-refresh-\d+$/, "authorize() returns the issued refresh token");
    });
  }

  it("offline: false is the same as no offline: GET + Basic", async () => {
    const auth = await new RegistryClient().authorize(ref(D), { ...CRED, offline: false });
    assert.deepEqual(D.entries("token").map((r) => [r.method, r.authorization]), [["GET", "basic"]]);
    assert.equal(auth.refreshToken, null);
  });

  it("offline against a realm that refuses the POST (405) → GET + Basic, remembered per realm", async () => {
    const client = new RegistryClient();
    const credentials = { [G.host]: CRED };
    const first = await client.getToken(ref(G, "owner/app"), { credentials, offline: true });
    assert.deepEqual(
      G.entries("token").map((r) => [r.method, r.status, r.authorization]),
      [
        ["POST", 405, null],
        ["GET", 200, "basic"],
      ],
    );
    const [post, get] = G.entries("token");
    assert.equal(post.form.grant_type, "password");
    assert.equal(post.form.access_type, "offline");
    assert.equal(get.credential, secretDigest(PASSWORD));
    assert.equal(first, get.issued);

    G.reset();
    const second = await client.getToken(ref(G, "owner/other"), { credentials, offline: true });
    assert.deepEqual(shape(G), [["token", "GET", "/token", "basic"]], "the second call goes straight to GET");
    assert.equal(second, G.entries("token")[0].issued);
  });

  it("a refreshToken credential → POST grant_type=refresh_token", async () => {
    const auth = await new RegistryClient().authorize(ref(A), { credentials: { [A.host]: { refreshToken: REFRESH_TOKEN } } });
    assert.deepEqual(shape(A), [
      ["ping", "GET", "/v2/", null],
      ["token", "POST", "/token", null],
    ]);
    const [post] = A.entries("token");
    assert.equal(post.form.grant_type, "refresh_token");
    assert.equal(post.form.refresh_token, secretDigest(REFRESH_TOKEN));
    assert.equal(post.form.service, "emulator");
    assert.equal(post.form.scope, "repository:team/app:pull");
    assert.equal(post.form.password, undefined);
    assert.equal(auth.token, post.issued);
  });
});

describe("no credential over plain http to a host that is not loopback", () => {
  for (const [label, opts] of [
    ["per-call username/password", { ...CRED }],
    ["credentials record", { credentials: { "registry.example": CRED } }],
    ["credentials function", { credentials: () => CRED }],
  ]) {
    it(`${label}: a Basic challenge from http://registry.example → authorize rejects INSECURE_REALM, no Authorization sent`, async () => {
      const fetch = scriptedFetch({ "GET http://registry.example/v2/": unauthorized('Basic realm="x"') });
      const p = new RegistryClient().authorize("registry.example/app", { ...opts, registryUrl: "http://registry.example", fetch });
      await rejectsWith(p, "INSECURE_REALM", { secrets: SECRET_FORMS });
      assert.ok(fetch.seen.length >= 1, "the challenge was asked for");
      for (const r of fetch.seen) {
        assert.equal(r.authorization, null, `${r.method} ${r.url} carried Authorization`);
        assert.equal(r.body, null, `${r.method} ${r.url} carried a body`);
      }
    });

    it(`${label}: a Bearer realm on http://auth.example → INSECURE_REALM, nothing sent to the realm`, async () => {
      const fetch = scriptedFetch({
        "GET https://registry.example/v2/": unauthorized('Bearer realm="http://auth.example/token",service="s"'),
        "GET http://auth.example/token": tokenResponse(),
        "POST http://auth.example/token": tokenResponse(),
      });
      await rejectsWith(new RegistryClient().getToken("registry.example/app", { ...opts, fetch }), "INSECURE_REALM", { secrets: SECRET_FORMS });
      assert.deepEqual(
        fetch.seen.map((r) => [r.method, r.url, r.authorization]),
        [["GET", "https://registry.example/v2/", null]],
      );
    });
  }

  it("the loopback positive control: Basic from an http loopback registry is returned", async () => {
    const auth = await new RegistryClient().authorize(ref(N), { ...CRED });
    assert.equal(auth.authorization, BASIC);
  });
});

describe("cache and single-flight keys", () => {
  describe("a registry whose challenge names another registry's realm and service", () => {
    let owner; // issues tokens
    let borrower; // its /v2/ challenge names owner's realm and service
    before(async () => {
      owner = await startEmulator({ name: "owner" });
      borrower = await startEmulator({
        name: "borrower",
        ping: { challenge: `Bearer realm="${owner.url}/token",service="emulator"` },
      });
    });
    after(() => Promise.all([owner.close(), borrower.close()]));
    beforeEach(() => [owner, borrower].forEach((e) => e.restore()));

    for (const [label, opts] of [
      ["anonymous", () => ({})],
      ["the same credentials for both", () => ({ credentials: { [owner.host]: CRED, [borrower.host]: CRED } })],
      ["the same credentials from a function", () => ({ credentials: () => CRED })],
    ]) {
      it(`${label}: the borrower's image does not get the owner's cached token`, async () => {
        assert.match(borrower.challenges()[0], new RegExp(`realm="${owner.url}/token",service="emulator"`));
        const client = new RegistryClient();
        const ownerToken = await client.getToken(ref(owner), opts());
        assert.equal(owner.counts().token, 1);
        assert.equal(ownerToken, owner.entries("token")[0].issued);

        const borrowerToken = await client.getToken(ref(borrower), opts());
        assert.equal(borrower.counts().ping, 1, "the borrower was asked for its challenge");
        assert.equal(borrower.counts().token, 0, "its challenge sends the token request to the owner's realm");
        assert.equal(owner.counts().token, 2, "the owner's token server saw a second token request");
        assert.notEqual(borrowerToken, ownerToken, "the owner's cached token was not handed out");
        assert.equal(borrowerToken, owner.entries("token")[1].issued);

        // Each registry's own entry is still cached.
        owner.reset();
        borrower.reset();
        assert.equal(await client.getToken(ref(owner), opts()), ownerToken);
        assert.equal(await client.getToken(ref(borrower), opts()), borrowerToken);
        assert.equal(owner.counts().total + borrower.counts().total, 0, "both cached");
      });
    }
  });

  it("two concurrent identical calls with different fetch functions → two flights, each through its own fetch", async () => {
    const client = new RegistryClient();
    const f1 = recordingFetch();
    const f2 = recordingFetch();
    const [t1, t2] = await Promise.all([client.getToken(ref(A), { fetch: f1 }), client.getToken(ref(A), { fetch: f2 })]);
    const tokenUrls = (f) => f.urls.filter((u) => new URL(u).pathname === "/token");
    assert.equal(tokenUrls(f1).length, 1, "the first call's fetch made its token request");
    assert.equal(tokenUrls(f2).length, 1, "the second call's fetch made its token request");
    assert.equal(A.counts().token, 2);
    assert.notEqual(t1, t2);
    assert.deepEqual([t1, t2].sort(), A.entries("token").map((r) => r.issued).sort());
  });

  it("… with the same fetch function → one shared flight", async () => {
    const client = new RegistryClient();
    const f = recordingFetch();
    const [t1, t2] = await Promise.all([client.getToken(ref(A), { fetch: f }), client.getToken(ref(A), { fetch: f })]);
    assert.equal(A.counts().token, 1);
    assert.equal(A.counts().ping, 1);
    assert.deepEqual(f.urls.map((u) => new URL(u).pathname), ["/v2/", "/token"]);
    assert.equal(t1, t2);
    assert.equal(t1, A.entries("token")[0].issued);
  });

  it("two concurrent identical calls with different now functions → two token requests; the same now → one", async () => {
    const client = new RegistryClient();
    const now1 = () => Date.now();
    const now2 = () => Date.now();
    const [t1, t2] = await Promise.all([client.getToken(ref(A), { now: now1 }), client.getToken(ref(A), { now: now2 })]);
    assert.equal(A.counts().token, 2);
    assert.notEqual(t1, t2);

    const other = new RegistryClient();
    A.reset();
    const [u1, u2] = await Promise.all([other.getToken(ref(A), { now: now1 }), other.getToken(ref(A), { now: now1 })]);
    assert.equal(A.counts().token, 1);
    assert.equal(u1, u2);
  });
});

describe("a token-server redirect to another origin", () => {
  let realm; // the allowed registry, whose token endpoint redirects
  let elsewhere; // another emulator on another port
  before(async () => {
    elsewhere = await startEmulator({ name: "elsewhere" });
    realm = await startEmulator({ name: "redirecting" });
  });
  after(() => Promise.all([realm.close(), elsewhere.close()]));
  beforeEach(() => [realm, elsewhere].forEach((e) => e.restore()));

  for (const status of [301, 302, 303, 307, 308]) {
    for (const [label, extra] of [
      ["credentials record", {}],
      ["credentials record, offline", { offline: true }],
    ]) {
      it(`${status}, ${label}: Basic reaches the allowed realm, never the other origin`, async () => {
        realm.set({ token: { redirect: { status, to: `${elsewhere.url}/token` } } });
        assert.notEqual(new URL(realm.url).port, new URL(elsewhere.url).port);
        const credentials = { [realm.host]: CRED };
        const result = await new RegistryClient()
          .getToken(ref(realm), { credentials, timeoutMs: 5000, ...extra })
          .then((token) => ({ token }), (error) => ({ error }));
        if (result.error) assertNoSecrets(result.error, SECRET_FORMS);
        else assert.equal(result.token, elsewhere.entries("token").at(-1)?.issued, "the token came from where the redirect pointed");

        const hops = realm.log.filter((r) => r.kind === "redirect");
        const basicHop = hops.find((r) => r.method === "GET" && r.authorization === "basic");
        assert.ok(basicHop, "the allowed realm got a GET with Basic");
        assert.equal(basicHop.basicUser, USER);
        assert.equal(basicHop.credential, secretDigest(PASSWORD));
        if (!extra.offline) assert.ok(!realm.log.some((r) => r.method === "POST"), "no POST without offline");
        assertNoCredentialIn(elsewhere);
      });
    }
  }
});
