// Issue 10, "Authorized registry calls": the JavaScript contract of fetch / registryFetch,
// listTags / tagPages / catalog, getManifest / headManifest / getImageConfig, deleteManifest and
// the new error codes, against the emulated registries (tests/js/support/emulator.mjs), with
// the request logs as the witness of what went out.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import {
  MEDIA_TYPES,
  blobOf,
  digestOf,
  dockerList,
  makeImage,
  makeIndex,
  multiArch,
  rawManifest,
  repoNames,
  secretDigest,
  served,
  startEmulator,
  tagNames,
} from "./support/emulator.mjs";
import { PASSWORD, rejectsWith, sleep } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const pkg = await importPackage();
const { RegistryClient, parseReference } = pkg;

/** `rejectsWith` with this suite's secret (the shared checker looks at `errors` too). */
const rejectsCode = (promiseOrFn, code, { secrets = [PASSWORD], ...opts } = {}) => rejectsWith(promiseOrFn, code, { ...opts, secrets });

const OCI_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest];
const creds = { username: "alice", password: PASSWORD };
const credsFor = (em) => ({ credentials: { [em.host]: creds } });

// ----- Contents ---------------------------------------------------------------------------------

const index = multiArch({ name: "app" });
const [amd64, arm64v8, armv7] = index.children;
const list = dockerList({ name: "app" });
const dockerImage = makeImage({ format: "docker", name: "dockerapp" });
const secretImage = makeImage({ name: "secret" });
const victim = makeImage({ name: "victim" });
const firstAmd = makeImage({ name: "first" });
const secondAmd = makeImage({ name: "second" });
const dupIndex = makeIndex([firstAmd, secondAmd, makeImage({ name: "arm", architecture: "arm64", variant: "v8" })], { attestations: false });
const arm64Plain = makeImage({ name: "plain", architecture: "arm64" });
const plainIndex = makeIndex([makeImage({ name: "plain", architecture: "amd64" }), arm64Plain]);
const armOnly = makeImage({ name: "armonly", architecture: "arm", variant: "v6" });
const armIndex = makeIndex([armOnly, makeImage({ name: "armonly", architecture: "arm", variant: "v7" })], { attestations: false });
const noMediaType = rawManifest({ schemaVersion: 2, config: amd64.json.config, layers: amd64.json.layers });
const big = rawManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: amd64.json.config, layers: [], annotations: { pad: "x".repeat(5 << 20) } });
const windows = makeImage({ name: "win", os: "windows", architecture: "amd64", osVersion: "10.0.20348.2113" });
const winIndex = makeIndex([amd64, windows]);

const APP = {
  manifests: {
    latest: index,
    "1.0": amd64,
    multi: index,
    list,
    v2: dockerImage,
    oci: amd64,
    nohead: served(arm64v8, { digestHeader: { HEAD: false } }),
    nodigest: served(armv7, { digestHeader: { GET: false, HEAD: false } }),
    generic: served(dockerImage, { contentType: "application/json" }),
    textplain: served(dockerImage, { contentType: "text/plain; charset=utf-8" }),
    octet: served(dockerImage, { contentType: "application/octet-stream" }),
    untyped: served(dockerImage, { contentType: null }),
    headertype: served(noMediaType, { contentType: MEDIA_TYPES.ociManifest }),
    corrupt: served(makeImage({ name: "corrupt" }), { corrupt: true }),
    big,
    dup: dupIndex,
    plain: plainIndex,
    arm: armIndex,
    win: winIndex,
    victim,
  },
};

/** Repositories every emulator below holds. */
const REPOS = {
  "team/app": APP,
  "team/tags": { tags: 5 },
  "team/many": { tags: 250 },
  "team/ten": { tags: 10 },
  "team/empty": { tags: null },
  "team/other": { tags: ["x"] },
  "team/secret": { private: true, manifests: { "1.0": secretImage } },
};

// ----- Emulators --------------------------------------------------------------------------------

/** @type {Record<string, Awaited<ReturnType<typeof startEmulator>>>} */
const em = {};
before(async () => {
  const users = { token: { users: { alice: PASSWORD } } };
  const configs = {
    dist: { preset: "distribution", ...users, repos: REPOS },
    ghcr: { preset: "ghcr", ...users, repos: REPOS },
    hub: { preset: "dockerhub", ...users, repos: REPOS },
    quay: { preset: "quay", ...users, repos: REPOS },
    ecr: { preset: "ecr", ...users, repos: REPOS },
    gitlab: { preset: "gitlab", ...users, repos: REPOS },
    other: { preset: "distribution", repos: REPOS },
    mod: { preset: "distribution", ...users, repos: REPOS },
  };
  await Promise.all(Object.entries(configs).map(async ([k, c]) => (em[k] = await startEmulator(c))));
});
after(() => Promise.all(Object.values(em).map((e) => e.close())));
beforeEach(() => Object.values(em).forEach((e) => e.restore()));

const ref = (e, path) => `${e.host}/${path}`;
const tokenReqs = (e) => e.entries("token");
/** Resource requests as [method, path?query, status]. */
const calls = (e, filter) => e.resources(filter).map((r) => [r.method, r.rawQuery ? `${r.path}?${r.rawQuery}` : r.path, r.status]);
const scopesOf = (entry) => [entry.query.scope ?? entry.form?.scope ?? []].flat().flatMap((s) => s.split(" ")).sort();

function assertNoViolations() {
  for (const [name, e] of Object.entries(em)) assert.deepEqual(e.violations, [], `${name}: Authorization reached the storage origin`);
}

// ----- fetch ------------------------------------------------------------------------------------

describe("fetch(imageRef, path, init)", () => {
  it("a relative path: ping, pull token, one request with Bearer; resolves the Response", async () => {
    const d = em.dist;
    const res = await new RegistryClient().fetch(ref(d, "team/tags"), "tags/list?n=3");
    assert.ok(res instanceof Response, "a Response");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: "team/tags", tags: ["t0001", "t0002", "t0003"] });
    assert.deepEqual(
      d.log.map((r) => [r.kind, r.method, r.path, r.authorization]),
      [
        ["ping", "GET", "/v2/", null],
        ["token", "GET", "/auth", null],
        ["resource", "GET", "/v2/team/tags/tags/list", "bearer"],
      ],
    );
    assert.deepEqual(tokenReqs(d)[0].query, { service: "Docker registry", scope: "repository:team/tags:pull" });
    const [resource] = d.resources();
    assert.equal(resource.rawQuery, "n=3");
    assert.equal(resource.credential, secretDigest(tokenReqs(d)[0].issued), "the token the server issued");
    assert.equal(resource.tokenState, "ok");
  });

  it("an absolute path is taken under the base URL, a URL on the registry's own origin is allowed", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const abs = await client.fetch(ref(d, "team/tags"), "/v2/team/tags/tags/list?n=1");
    assert.deepEqual((await abs.json()).tags, ["t0001"]);
    const full = await client.fetch(ref(d, "team/tags"), `${d.url}/v2/team/tags/tags/list?n=2`);
    assert.deepEqual((await full.json()).tags, ["t0001", "t0002"]);
    assert.deepEqual(calls(d), [
      ["GET", "/v2/team/tags/tags/list?n=1", 200],
      ["GET", "/v2/team/tags/tags/list?n=2", 200],
    ]);
    assert.equal(tokenReqs(d).length, 1, "the second call reuses the token");
  });

  it("a path prefix of registryUrl (a proxy route) is kept, for relative and absolute paths", async () => {
    const d = em.dist;
    const seen = [];
    const viaRoute = (url, init) => {
      const u = String(url);
      seen.push(u);
      return globalThis.fetch(u.replace(`${d.url}/route/`, `${d.url}/`), init);
    };
    const client = new RegistryClient({ fetch: viaRoute, registryUrl: `${d.url}/route` });
    const rel = await client.fetch("team/tags", "tags/list?n=1");
    assert.equal(rel.status, 200);
    await rel.arrayBuffer();
    const abs = await client.fetch("team/tags", "/v2/team/tags/tags/list?n=2");
    assert.equal(abs.status, 200);
    await abs.arrayBuffer();
    const resources = seen.filter((u) => u.includes("/tags/list"));
    assert.deepEqual(resources, [`${d.url}/route/v2/team/tags/tags/list?n=1`, `${d.url}/route/v2/team/tags/tags/list?n=2`]);
    assert.ok(seen.some((u) => u === `${d.url}/route/v2/`), `pinged under the route: ${seen.join(" ")}`);
  });

  it("another origin (even another port on the same host) → INVALID_REFERENCE, nothing sent anywhere", async () => {
    const d = em.dist;
    const o = em.other;
    const client = new RegistryClient();
    for (const target of [`${o.url}/v2/team/tags/tags/list`, `http://localhost:${new URL(d.url).port}/v2/team/tags/tags/list`, "https://evil.example/v2/x"]) {
      await rejectsCode(client.fetch(ref(d, "team/tags"), target, creds), "INVALID_REFERENCE");
    }
    assert.equal(d.log.length, 0, "nothing reached the registry");
    assert.equal(o.log.length, 0, "nothing reached the other origin");
  });

  it("actions default from the method: GET/HEAD pull, POST/PUT/PATCH pull+push, DELETE delete; explicit actions win", async () => {
    const d = em.dist;
    const scopeFor = async (path, init) => {
      d.reset();
      const res = await new RegistryClient().fetch(ref(d, "team/push"), path, { ...init, ...credsFor(d) });
      await res.arrayBuffer();
      const toks = tokenReqs(d);
      assert.equal(toks.length, 1, `${init.method ?? "GET"} ${path}: one token request`);
      assert.equal(toks[0].basicUser, "alice", "credentials of the registry's own entry");
      return { scope: toks[0].query.scope, status: res.status, res };
    };
    const post = await scopeFor("blobs/uploads/", { method: "POST" });
    assert.equal(post.scope, "repository:team/push:pull,push");
    assert.equal(post.status, 202);
    const location = post.res.headers.get("location");
    const layer = blobOf("layer bytes\n");
    const patch = await scopeFor(location, { method: "PATCH", body: layer.bytes });
    assert.equal(patch.scope, "repository:team/push:pull,push");
    assert.equal(patch.status, 202);
    const put = await scopeFor(`${location}?digest=${layer.digest}`, { method: "PUT" });
    assert.equal(put.scope, "repository:team/push:pull,push");
    assert.equal(put.status, 201);
    const manifest = rawManifest({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, digest: layer.digest, size: layer.size }, layers: [] });
    const putManifest = await scopeFor("manifests/1.0", { method: "PUT", headers: { "content-type": MEDIA_TYPES.ociManifest }, body: manifest.bytes });
    assert.equal(putManifest.scope, "repository:team/push:pull,push");
    assert.equal(putManifest.status, 201);
    const get = await scopeFor("manifests/1.0", { headers: { accept: MEDIA_TYPES.ociManifest } });
    assert.equal(get.scope, "repository:team/push:pull");
    assert.equal(get.status, 200);
    const head = await scopeFor("manifests/1.0", { method: "HEAD", headers: { accept: MEDIA_TYPES.ociManifest } });
    assert.equal(head.scope, "repository:team/push:pull");
    assert.equal(head.status, 200);
    const del = await scopeFor(`manifests/${manifest.digest}`, { method: "DELETE" });
    assert.equal(del.scope, "repository:team/push:delete");
    assert.equal(del.status, 202);
    const explicit = await scopeFor("tags/list", { actions: ["push", "pull"] });
    assert.equal(explicit.scope, "repository:team/push:pull,push");
    assert.equal(explicit.status, 200);
    const explicitDelete = await scopeFor(`manifests/sha256:${"0".repeat(64)}`, { method: "DELETE", actions: ["pull", "delete"] });
    assert.equal(explicitDelete.scope, "repository:team/push:delete,pull");
    assert.equal(explicitDelete.status, 404);
  });

  it("insufficient_scope: one retry with a token covering the requested scope and the challenge's", async () => {
    const g = em.ghcr;
    const res = await new RegistryClient().fetch(ref(g, "team/app"), "/v2/team/other/tags/list");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: "team/other", tags: ["x"] });
    assert.deepEqual(
      g.resources().map((r) => [r.path, r.status, r.tokenState]),
      [
        ["/v2/team/other/tags/list", 401, "insufficient"],
        ["/v2/team/other/tags/list", 200, "ok"],
      ],
    );
    const toks = tokenReqs(g);
    assert.equal(toks.length, 2);
    assert.deepEqual(scopesOf(toks[0]), ["repository:team/app:pull"]);
    assert.deepEqual(scopesOf(toks[1]), ["repository:team/app:pull", "repository:team/other:pull"], "both scopes, one scope parameter each");
    assert.ok(Array.isArray(toks[1].query.scope), "GET sends one scope parameter per scope");
    assert.equal(g.resources()[1].credential, secretDigest(toks[1].issued), "the retry carries the new token");
  });

  it("insufficient_scope with the OAuth2 POST (offline): one space-joined scope field; the merged token is cached under that set", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const opts = { username: "alice", password: PASSWORD, offline: true };
    const res = await client.fetch(ref(d, "team/app"), "/v2/team/other/tags/list", opts);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const toks = tokenReqs(d);
    assert.deepEqual(toks.map((t) => [t.method, t.form?.scope]), [
      ["POST", "repository:team/app:pull"],
      ["POST", toks[1].form.scope],
    ]);
    assert.equal(typeof toks[1].form.scope, "string", "one field");
    assert.deepEqual(toks[1].form.scope.split(" ").sort(), ["repository:team/app:pull", "repository:team/other:pull"]);
    assert.equal(toks[1].form.password, secretDigest(PASSWORD));
    d.reset();
    const again = await client.fetch(ref(d, "team/app"), "/v2/team/other/tags/list", opts);
    assert.equal(again.status, 200);
    await again.arrayBuffer();
    assert.equal(tokenReqs(d).length, 0, "the token for the merged scope set came from the cache");
    assert.deepEqual(d.resources().at(-1).granted, ["repository:team/app:pull", "repository:team/other:pull"]);
  });

  it("insufficient_scope on /v2/_catalog: the retry's token covers registry:catalog:* too", async () => {
    const g = em.ghcr;
    const res = await new RegistryClient().fetch(ref(g, "team/app"), "/v2/_catalog?n=3");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { repositories: ["team/app", "team/empty", "team/many"] });
    assert.deepEqual(scopesOf(tokenReqs(g).at(-1)), ["registry:catalog:*", "repository:team/app:pull"]);
    assert.deepEqual(g.grantsOf(tokenReqs(g).at(-1).issued), ["registry:catalog:*", "repository:team/app:pull"]);
  });

  it("invalid_token: the cached token is dropped, a fresh one fetched, the request retried once", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    await (await client.fetch(ref(d, "team/tags"), "tags/list")).arrayBuffer();
    d.expireTokens();
    const res = await client.fetch(ref(d, "team/tags"), "tags/list");
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).tags, tagNames(5));
    const toks = tokenReqs(d);
    assert.equal(toks.length, 2, "one fresh token");
    assert.deepEqual(scopesOf(toks[1]), ["repository:team/tags:pull"]);
    assert.deepEqual(
      d.resources().map((r) => [r.status, r.tokenState, r.credential]),
      [
        [200, "ok", secretDigest(toks[0].issued)],
        [401, "expired", secretDigest(toks[0].issued)],
        [200, "ok", secretDigest(toks[1].issued)],
      ],
    );
    // The fresh token is the cached one now.
    d.reset();
    await (await client.fetch(ref(d, "team/tags"), "tags/list")).arrayBuffer();
    assert.deepEqual(d.log.map((r) => [r.kind, r.status]), [["resource", 200]]);
    assert.equal(d.log[0].credential, secretDigest(toks[1].issued));
  });

  it("a second 401 is what the caller gets, after exactly one retry", async () => {
    const d = em.dist;
    const res = await new RegistryClient().fetch(ref(d, "team/secret"), "manifests/1.0", { headers: { accept: OCI_ACCEPT.join(", ") } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate"), /scope="repository:team\/secret:pull"/);
    assert.deepEqual((await res.json()).errors[0].code, "UNAUTHORIZED");
    assert.deepEqual(d.resources().map((r) => r.status), [401, 401], "one retry, no more");
    assert.ok(tokenReqs(d).length <= 2, "at most the first token and one for the retry");
  });

  it("Authorization goes to the registry's origin only: a blob redirected to storage is fetched without it", async () => {
    const d = em.dist;
    d.set({ resources: { blobRedirect: { status: 307 } } });
    const res = await new RegistryClient().fetch(ref(d, "team/app"), `blobs/${amd64.config.digest}`);
    assert.equal(res.status, 200);
    assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), amd64.config.digest);
    assert.deepEqual(d.violations, []);
    const hops = d.log.filter((r) => r.kind === "resource" || r.kind === "storage").map((r) => [r.origin, r.status, r.authorization]);
    assert.deepEqual(hops, [
      ["registry", 307, "bearer"],
      ["storage", 200, null],
    ]);
  });

  it("at most 10 redirects: 10 are followed; an 11th is not requested and the call rejects NETWORK", async () => {
    const d = em.dist;
    d.set({ resources: { blobRedirect: { hops: 10 } } });
    const client = new RegistryClient();
    const ok = await client.fetch(ref(d, "team/app"), `blobs/${amd64.config.digest}`);
    assert.equal(ok.status, 200);
    assert.equal(digestOf(Buffer.from(await ok.arrayBuffer())), amd64.config.digest);
    assert.equal(d.entries("storage").length, 10);
    d.reset();
    d.set({ resources: { blobRedirect: { hops: 11 } } });
    await rejectsCode(client.fetch(ref(d, "team/app"), `blobs/${amd64.config.digest}`), "NETWORK");
    const storage = d.entries("storage").map((r) => r.path.split("/")[2]);
    assert.deepEqual(storage, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"], "the 11th hop is never requested");
    assertNoViolations();
  });

  it("resolves the final Response whatever its status: 404, 429, 500 (no retry)", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const missing = await client.fetch(ref(d, "team/app"), "manifests/nope", { headers: { accept: OCI_ACCEPT.join(", ") } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).errors[0].code, "MANIFEST_UNKNOWN");
    d.set({ resources: { respond: () => ({ status: 500, body: { errors: [{ code: "UNKNOWN", message: "boom", detail: null }] } }) } });
    const broken = await client.fetch(ref(d, "team/app"), "tags/list");
    assert.equal(broken.status, 500);
    assert.equal((await broken.json()).errors[0].message, "boom");
    d.set({ resources: { respond: () => ({ status: 429, headers: { "Retry-After": "7" }, body: "slow down" }) } });
    const limited = await client.fetch(ref(d, "team/app"), "tags/list");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "7");
    assert.equal(await limited.text(), "slow down");
    assert.deepEqual(d.resources().map((r) => r.status), [404, 500, 429], "each sent once");
  });

  it("registryFetch is fetch on the module-wide client (shares its token cache with getToken)", async () => {
    const m = em.mod;
    const token = await pkg.getToken(ref(m, "team/ten"));
    const res = await pkg.registryFetch(ref(m, "team/ten"), "tags/list?n=2");
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).tags, ["t0001", "t0002"]);
    assert.equal(tokenReqs(m).length, 1, "the module client's cached token is used");
    assert.equal(m.resources()[0].credential, secretDigest(token));
  });
});

// ----- Paging -----------------------------------------------------------------------------------

describe("listTags / tagPages / catalog: paging", () => {
  it("a credentials function is asked once per listing, not again for every page", async () => {
    const d = em.dist;
    const asked = [];
    const credentials = async (registry) => {
      asked.push(registry);
      return creds;
    };
    assert.deepEqual(await new RegistryClient().listTags(ref(d, "team/tags"), { pageSize: 2, credentials }), tagNames(5));
    assert.equal(calls(d).length, 3, "three pages");
    assert.deepEqual(asked, [d.host]);
  });

  it("distribution: every page through relative Links, queries kept verbatim; default pageSize is 1000", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    assert.deepEqual(await client.listTags(ref(d, "team/tags"), { pageSize: 2 }), tagNames(5));
    assert.deepEqual(calls(d), [
      ["GET", "/v2/team/tags/tags/list?n=2", 200],
      ["GET", "/v2/team/tags/tags/list?last=t0002&n=2", 200],
      ["GET", "/v2/team/tags/tags/list?last=t0004&n=2", 200],
    ]);
    d.reset();
    assert.deepEqual(await client.listTags(ref(d, "team/many")), tagNames(250));
    assert.deepEqual(calls(d), [["GET", "/v2/team/many/tags/list?n=1000", 200]]);
  });

  it("Docker Hub and GHCR: 100 per page whatever n asks, absolute Links followed", async () => {
    for (const name of ["hub", "ghcr"]) {
      const e = em[name];
      const tags = await new RegistryClient().listTags(ref(e, "team/many"));
      assert.deepEqual(tags, tagNames(250), name);
      assert.deepEqual(calls(e), [
        ["GET", "/v2/team/many/tags/list?n=1000", 200],
        ["GET", "/v2/team/many/tags/list?last=t0100&n=100", 200],
        ["GET", "/v2/team/many/tags/list?last=t0200&n=100", 200],
      ]);
      assert.ok(e.resources().every((r) => r.authorization === "bearer"));
    }
  });

  it("Quay: 413 on the first page → n=100; its opaque next_page cursor is followed verbatim", async () => {
    const q = em.quay;
    const tags = await new RegistryClient().listTags(ref(q, "team/many"));
    assert.deepEqual(tags, tagNames(250));
    const c = calls(q);
    assert.deepEqual(c.slice(0, 2).map(([, p, s]) => [p, s]), [
      ["/v2/team/many/tags/list?n=1000", 413],
      ["/v2/team/many/tags/list?n=100", 200],
    ]);
    assert.equal(c.length, 4);
    for (const [, p, s] of c.slice(2)) {
      assert.equal(s, 200);
      assert.match(p, /^\/v2\/team\/many\/tags\/list\?n=100&next_page=[A-Za-z0-9_-]+$/);
    }
  });

  it("ECR: 405 for n over 1000 → n=100 (with Basic credentials)", async () => {
    const e = em.ecr;
    const tags = await new RegistryClient().listTags(ref(e, "team/many"), { pageSize: 5000, ...credsFor(e) });
    assert.deepEqual(tags, tagNames(250));
    assert.deepEqual(calls(e).slice(0, 2), [
      ["GET", "/v2/team/many/tags/list?n=5000", 405],
      ["GET", "/v2/team/many/tags/list?n=100", 200],
    ]);
    assert.equal(e.resources().length, 4);
    assert.ok(e.resources().every((r) => r.authorization === "basic" && r.basicUser === "alice"));
    assert.equal(tokenReqs(e).length, 0);
  });

  it("fallback: 400 for n=1000 and for n=100 → asked again without n", async () => {
    const d = em.dist;
    d.set({ resources: { tagsPage: { reject: { above: 50, status: 400, code: "PAGINATION_NUMBER_INVALID" }, default: 30 } } });
    const tags = await new RegistryClient().listTags(ref(d, "team/many"));
    assert.deepEqual(tags, tagNames(250));
    const c = calls(d);
    assert.deepEqual(c.slice(0, 4), [
      ["GET", "/v2/team/many/tags/list?n=1000", 400],
      ["GET", "/v2/team/many/tags/list?n=100", 400],
      ["GET", "/v2/team/many/tags/list", 200],
      ["GET", "/v2/team/many/tags/list?last=t0030&n=30", 200],
    ]);
    assert.equal(c.length, 2 + Math.ceil(250 / 30));
  });

  it("fallback: with pageSize 100 already refused, straight to no n", async () => {
    const d = em.dist;
    d.set({ resources: { tagsPage: { reject: { above: 50, status: 413 }, default: 40 } } });
    assert.deepEqual(await new RegistryClient().listTags(ref(d, "team/many"), { pageSize: 100 }), tagNames(250));
    const c = calls(d);
    assert.deepEqual(c.slice(0, 3), [
      ["GET", "/v2/team/many/tags/list?n=100", 413],
      ["GET", "/v2/team/many/tags/list", 200],
      ["GET", "/v2/team/many/tags/list?last=t0040&n=40", 200],
    ]);
    assert.equal(c.length, 1 + Math.ceil(250 / 40));
  });

  it("the size fallback is for the first page only: a later page refused with 400 → REGISTRY_ERROR, not asked again", async () => {
    const d = em.dist;
    d.set({ resources: { respond: (e) => (e.query.last ? { status: 400, body: { errors: [{ code: "PAGINATION_NUMBER_INVALID", message: "bad page", detail: null }] } } : null) } });
    await rejectsCode(new RegistryClient().listTags(ref(d, "team/tags"), { pageSize: 2 }), "REGISTRY_ERROR", { status: 400, message: /bad page/ });
    assert.deepEqual(calls(d), [
      ["GET", "/v2/team/tags/tags/list?n=2", 200],
      ["GET", "/v2/team/tags/tags/list?last=t0002&n=2", 400],
    ]);
  });

  const LINKS = {
    "n before last": { order: "n-last" },
    "rel=next unquoted": { rel: "bare" },
    "rel after other parameters": { style: "params" },
    "several links in one header": { style: "several" },
    "several links on two header lines": { style: "lines" },
    "a query-only reference (?last=…)": { link: "query" },
    "a path-relative reference (list?…)": { link: "path-relative" },
    absolute: { link: "absolute" },
  };
  for (const [label, page] of Object.entries(LINKS)) {
    it(`Link: ${label}`, async () => {
      const d = em.dist;
      d.set({ resources: { tagsPage: page } });
      assert.deepEqual(await new RegistryClient().listTags(ref(d, "team/tags"), { pageSize: 2 }), tagNames(5));
      const base = "/v2/team/tags/tags/list";
      const q = (last) => (page.order === "n-last" ? `n=2&last=${last}` : `last=${last}&n=2`);
      assert.deepEqual(calls(d), [
        ["GET", `${base}?n=2`, 200],
        ["GET", `${base}?${q("t0002")}`, 200],
        ["GET", `${base}?${q("t0004")}`, 200],
      ]);
    });
  }

  it("a Link to another origin → BAD_REGISTRY_RESPONSE; nothing is sent there", async () => {
    const d = em.dist;
    d.set({ resources: { tagsPage: { target: "cross-origin" } } });
    await rejectsCode(new RegistryClient().listTags(ref(d, "team/tags"), { pageSize: 2 }), "BAD_REGISTRY_RESPONSE");
    assert.equal(d.resources().length, 1);
    assert.equal(d.entries("storage").length, 0, "the storage origin saw nothing");
  });

  it("a Link already visited (a loop) → BAD_REGISTRY_RESPONSE after two pages", async () => {
    const d = em.dist;
    d.set({ resources: { tagsPage: { target: "loop" } } });
    await rejectsCode(new RegistryClient().listTags(ref(d, "team/tags"), { pageSize: 2 }), "BAD_REGISTRY_RESPONSE");
    assert.deepEqual(calls(d), [
      ["GET", "/v2/team/tags/tags/list?n=2", 200],
      ["GET", "/v2/team/tags/tags/list?last=t0002&n=2", 200],
    ]);
  });

  it('"tags": null is an empty list', async () => {
    assert.deepEqual(await new RegistryClient().listTags(ref(em.dist, "team/empty")), []);
    const pages = [];
    for await (const page of new RegistryClient().tagPages(ref(em.dist, "team/empty"))) pages.push(page);
    assert.ok(pages.every((p) => Array.isArray(p) && p.length === 0), JSON.stringify(pages));
  });

  it("limit stops early: no page past the one that reaches it; tagPages cuts the last page", async () => {
    const d = em.dist;
    assert.deepEqual(await new RegistryClient().listTags(ref(d, "team/ten"), { pageSize: 2, limit: 3 }), ["t0001", "t0002", "t0003"]);
    assert.equal(d.resources().length, 2);
    d.reset();
    const pages = [];
    for await (const page of new RegistryClient().tagPages(ref(d, "team/ten"), { pageSize: 2, limit: 5 })) pages.push(page);
    assert.deepEqual(pages, [["t0001", "t0002"], ["t0003", "t0004"], ["t0005"]]);
    assert.equal(d.resources().length, 3);
  });

  it("tagPages yields one array per page, in order", async () => {
    const d = em.dist;
    const pages = [];
    for await (const page of new RegistryClient().tagPages(ref(d, "team/ten"), { pageSize: 4 })) pages.push(page);
    assert.deepEqual(pages, [["t0001", "t0002", "t0003", "t0004"], ["t0005", "t0006", "t0007", "t0008"], ["t0009", "t0010"]]);
    assert.equal(d.resources().length, 3);
  });

  it("tagPages stops fetching when the consumer breaks (at most one page ahead)", async () => {
    const d = em.dist;
    const pages = [];
    for await (const page of new RegistryClient().tagPages(ref(d, "team/many"), { pageSize: 10 })) {
      pages.push(page);
      break;
    }
    assert.deepEqual(pages, [tagNames(10)]);
    await sleep(300); // let any request already under way land in the log
    const n = d.resources().length;
    assert.ok(n >= 1 && n <= 2, `${n} pages were requested for one consumed`);
  });

  it("a token refused between pages (401 invalid_token) is renewed and the page asked again: no tag lost or repeated", async () => {
    const d = em.dist;
    let fired = false;
    d.set({
      resources: {
        beforeResource: (entry, api) => {
          if (!fired && entry.query.last === "t0004") {
            fired = true;
            api.expireTokens();
          }
        },
      },
    });
    const tags = await new RegistryClient().listTags(ref(d, "team/ten"), { pageSize: 2 });
    assert.deepEqual(tags, tagNames(10));
    assert.deepEqual(calls(d), [
      ["GET", "/v2/team/ten/tags/list?n=2", 200],
      ["GET", "/v2/team/ten/tags/list?last=t0002&n=2", 200],
      ["GET", "/v2/team/ten/tags/list?last=t0004&n=2", 401],
      ["GET", "/v2/team/ten/tags/list?last=t0004&n=2", 200],
      ["GET", "/v2/team/ten/tags/list?last=t0006&n=2", 200],
      ["GET", "/v2/team/ten/tags/list?last=t0008&n=2", 200],
    ]);
    assert.equal(tokenReqs(d).length, 2);
    assert.equal(d.resources()[2].tokenState, "expired");
  });

  it("the same in tagPages: the page after the renewal is the one refused", async () => {
    const d = em.dist;
    let fired = false;
    d.set({
      resources: {
        beforeResource: (entry, api) => {
          if (!fired && entry.query.last === "t0002") {
            fired = true;
            api.expireTokens();
          }
        },
      },
    });
    const pages = [];
    for await (const page of new RegistryClient().tagPages(ref(d, "team/ten"), { pageSize: 2 })) pages.push(page);
    assert.deepEqual(pages, [["t0001", "t0002"], ["t0003", "t0004"], ["t0005", "t0006"], ["t0007", "t0008"], ["t0009", "t0010"]]);
    assert.equal(tokenReqs(d).length, 2);
  });

  it("a token expiring between pages by the client's clock (now) is renewed before the next page, with no 401", async () => {
    const d = em.dist;
    let clock = Date.now();
    const client = new RegistryClient({ now: () => clock });
    const pages = [];
    for await (const page of client.tagPages(ref(d, "team/ten"), { pageSize: 2 })) {
      pages.push(page);
      if (pages.length === 1) clock += 3_600_000; // the 900 s token is long gone by this clock
    }
    assert.deepEqual(pages.flat(), tagNames(10));
    assert.equal(new Set(pages.flat()).size, 10);
    assert.ok(d.resources().every((r) => r.status === 200), "no page was refused");
    const toks = tokenReqs(d);
    assert.equal(toks.length, 2, "renewed once");
    assert.equal(d.resources().at(-1).credential, secretDigest(toks[1].issued), "later pages carry the renewed token");
  });

  it("catalog: all pages with scope registry:catalog:*; pageSize", async () => {
    const d = em.dist;
    const names = Object.keys(REPOS).sort();
    assert.deepEqual(await new RegistryClient().catalog(d.host, { pageSize: 3 }), names);
    assert.deepEqual(scopesOf(tokenReqs(d)[0]), ["registry:catalog:*"]);
    assert.deepEqual(calls(d).map(([, p]) => p), [
      "/v2/_catalog?n=3",
      "/v2/_catalog?last=team%2Fmany&n=3",
      "/v2/_catalog?last=team%2Ftags&n=3",
    ]);
    d.reset();
    assert.deepEqual(await new RegistryClient().catalog(d.host, { limit: 2 }), names.slice(0, 2));
    assert.equal(d.resources().length, 1);
  });

  it("catalog: distribution refuses n over 1000 with 400 PAGINATION_NUMBER_INVALID → n=100", async () => {
    const d = em.dist;
    assert.deepEqual(await new RegistryClient().catalog(d.host, { pageSize: 5000 }), Object.keys(REPOS).sort());
    assert.deepEqual(calls(d), [
      ["GET", "/v2/_catalog?n=5000", 400],
      ["GET", "/v2/_catalog?n=100", 200],
    ]);
  });

  it("catalog: 404 (Docker Hub-like), 405, and docker.io → UNSUPPORTED_OPERATION; GitLab's refusal after the retry → UNAUTHORIZED", async () => {
    await rejectsCode(new RegistryClient().catalog(em.hub.host), "UNSUPPORTED_OPERATION", { message: /404 page not found|NOT_FOUND|catalog/i });
    em.dist.set({ resources: { catalog: "unsupported" } });
    await rejectsCode(new RegistryClient().catalog(em.dist.host), "UNSUPPORTED_OPERATION", { message: /unsupported/i });
    em.hub.reset();
    await rejectsCode(new RegistryClient().catalog("docker.io", { registryUrl: em.hub.url }), "UNSUPPORTED_OPERATION");
    assert.equal(em.hub.resources().filter((r) => r.status === 200).length, 0);
    const err = await rejectsCode(new RegistryClient().catalog(em.gitlab.host), "UNAUTHORIZED", { message: /authentication required/ });
    assert.equal(err.status, 401);
    const gl = em.gitlab.resources();
    assert.ok(gl.length >= 1 && gl.length <= 2 && gl.every((r) => r.status === 401), `one retry at most: ${gl.map((r) => r.status)}`);
  });

  it("listTags on a Basic-only registry without credentials → UNAUTHORIZED", async () => {
    await rejectsCode(new RegistryClient().listTags(ref(em.ecr, "team/tags")), "UNAUTHORIZED");
  });
});

// ----- Manifests --------------------------------------------------------------------------------

describe("getManifest / headManifest / getImageConfig", () => {
  it("default Accept: the four manifest types; no tag means latest; an index comes back with its platforms", async () => {
    const d = em.dist;
    const m = await new RegistryClient().getManifest(ref(d, "team/app"));
    const [req] = d.resources();
    assert.equal(req.reference, "latest");
    assert.deepEqual(req.accept.split(",").map((s) => s.trim()).sort(), [...OCI_ACCEPT].sort());
    assert.equal(m.mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(m.digest, index.digest);
    assert.equal(m.size, index.size);
    assert.deepEqual(m.manifest, index.json);
    assert.equal(m.index, undefined);
    assert.deepEqual(m.platforms, [
      { os: "linux", architecture: "amd64", digest: amd64.digest, size: amd64.size, mediaType: MEDIA_TYPES.ociManifest },
      { os: "linux", architecture: "arm64", variant: "v8", digest: arm64v8.digest, size: arm64v8.size, mediaType: MEDIA_TYPES.ociManifest },
      { os: "linux", architecture: "arm", variant: "v7", digest: armv7.digest, size: armv7.size, mediaType: MEDIA_TYPES.ociManifest },
    ]);
  });

  it("a Docker manifest list: its platforms; a Docker v2 image and an OCI image: no platforms", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const l = await client.getManifest(ref(d, "team/app:list"));
    assert.equal(l.mediaType, MEDIA_TYPES.dockerList);
    assert.deepEqual(l.platforms.map((p) => [p.os, p.architecture, p.variant, p.mediaType]), [
      ["linux", "amd64", undefined, MEDIA_TYPES.dockerManifest],
      ["linux", "arm64", "v8", MEDIA_TYPES.dockerManifest],
      ["linux", "arm", "v7", MEDIA_TYPES.dockerManifest],
    ]);
    const v2 = await client.getManifest(ref(d, "team/app:v2"));
    assert.equal(v2.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(v2.digest, dockerImage.digest);
    assert.deepEqual(v2.manifest, dockerImage.json);
    assert.equal(v2.platforms, undefined);
    const oci = await client.getManifest(ref(d, "team/app:1.0"));
    assert.equal(oci.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(oci.size, amd64.size);
  });

  it("mediaType from Content-Type unless it is generic or missing: then the body's", async () => {
    const client = new RegistryClient();
    for (const tag of ["generic", "textplain", "octet", "untyped"]) {
      const m = await client.getManifest(ref(em.dist, `team/app:${tag}`));
      assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest, tag);
      assert.equal(m.digest, dockerImage.digest, tag);
    }
    const fromHeader = await client.getManifest(ref(em.dist, "team/app:headertype"));
    assert.equal(fromHeader.mediaType, MEDIA_TYPES.ociManifest, "a body without mediaType: the header's");
    assert.equal(fromHeader.manifest.mediaType, undefined);
  });

  it("digest: the reference's, checked (sha256 and sha512); else Docker-Content-Digest, checked; else computed", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const byDigest = await client.getManifest(`${ref(d, "team/app")}@${arm64v8.digest}`);
    assert.equal(byDigest.digest, arm64v8.digest);
    assert.equal(d.resources().at(-1).reference, arm64v8.digest);
    const sha512 = digestOf(arm64v8.bytes, "sha512");
    const by512 = await client.getManifest(`${ref(d, "team/app")}@${sha512}`);
    assert.equal(by512.digest, sha512);
    assert.deepEqual(by512.manifest, arm64v8.json);
    const header = await client.getManifest(ref(d, "team/app:oci"));
    assert.equal(header.digest, amd64.digest);
    const computed = await client.getManifest(ref(d, "team/app:nodigest"));
    assert.equal(d.resources().at(-1).status, 200);
    assert.equal(computed.digest, armv7.digest, "computed from the bytes");
    const tagAndDigest = await client.getManifest(`${ref(d, "team/app:oci")}@${amd64.digest}`);
    assert.equal(tagAndDigest.digest, amd64.digest);
  });

  it("DIGEST_MISMATCH: bytes that do not hash to the Docker-Content-Digest, or to the reference's digest", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    await rejectsCode(client.getManifest(ref(d, "team/app:corrupt")), "DIGEST_MISMATCH");
    const announced = APP.manifests.corrupt.digest;
    await rejectsCode(client.getManifest(`${ref(d, "team/app")}@${announced}`), "DIGEST_MISMATCH");
    const sha512 = digestOf(APP.manifests.corrupt.bytes, "sha512");
    await rejectsCode(client.getManifest(`${ref(d, "team/app")}@${sha512}`), "DIGEST_MISMATCH");
    // A correct body under a digest that names other bytes: the registry serving the wrong manifest.
    d.set({ resources: { respond: (e) => (e.resource === "manifest" ? { status: 200, headers: { "Content-Type": MEDIA_TYPES.ociManifest }, body: amd64.bytes } : null) } });
    await rejectsCode(client.getManifest(`${ref(d, "team/app")}@${arm64v8.digest}`), "DIGEST_MISMATCH");
  });

  it("a manifest over 4 MiB → BAD_REGISTRY_RESPONSE; malformed JSON → BAD_REGISTRY_RESPONSE", async () => {
    const d = em.dist;
    assert.ok(big.size > 4 << 20);
    await rejectsCode(new RegistryClient().getManifest(ref(d, "team/app:big")), "BAD_REGISTRY_RESPONSE");
    d.set({ resources: { respond: (e) => (e.resource === "manifest" ? { status: 200, headers: { "Content-Type": MEDIA_TYPES.ociManifest }, body: "{not json" } : null) } });
    await rejectsCode(new RegistryClient().getManifest(ref(d, "team/app:oci")), "BAD_REGISTRY_RESPONSE");
  });

  it("malformed tags or catalog JSON → BAD_REGISTRY_RESPONSE", async () => {
    const d = em.dist;
    d.set({ resources: { respond: () => ({ status: 200, headers: { "Content-Type": "application/json" }, body: '{"name":"x","tags":"nope"' }) } });
    await rejectsCode(new RegistryClient().listTags(ref(d, "team/tags")), "BAD_REGISTRY_RESPONSE");
    await rejectsCode(new RegistryClient().catalog(d.host), "BAD_REGISTRY_RESPONSE");
  });

  it("platform: linux/arm64 matches arm64/v8 and linux/arm64/v8 matches a bare arm64; fetched by digest with index set", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    d.reset();
    const m = await client.getManifest(ref(d, "team/app:multi"), { platform: "linux/arm64" });
    assert.equal(m.digest, arm64v8.digest);
    assert.equal(m.mediaType, MEDIA_TYPES.ociManifest);
    assert.deepEqual(m.manifest, arm64v8.json);
    assert.deepEqual(m.index, { digest: index.digest, mediaType: MEDIA_TYPES.ociIndex, size: index.size });
    assert.deepEqual(d.resources().map((r) => r.reference), ["multi", arm64v8.digest], "the entry fetched by digest");
    const v8 = await client.getManifest(ref(d, "team/app:plain"), { platform: "linux/arm64/v8" });
    assert.equal(v8.digest, arm64Plain.digest);
    const exact = await client.getManifest(ref(d, "team/app:multi"), { platform: "linux/arm64/v8" });
    assert.equal(exact.digest, arm64v8.digest);
  });

  it("platform: variants (arm/v7 vs arm/v6), the first match in index order, windows, Docker lists", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    assert.equal((await client.getManifest(ref(d, "team/app:multi"), { platform: "linux/arm/v7" })).digest, armv7.digest);
    assert.equal((await client.getManifest(ref(d, "team/app:arm"), { platform: "linux/arm/v7" })).digest, armIndex.children[1].digest);
    assert.equal((await client.getManifest(ref(d, "team/app:arm"), { platform: "linux/arm" })).digest, armOnly.digest, "no variant asked: the first arm");
    assert.equal((await client.getManifest(ref(d, "team/app:dup"), { platform: "linux/amd64" })).digest, firstAmd.digest, "first match wins");
    assert.equal((await client.getManifest(ref(d, "team/app:win"), { platform: "windows/amd64" })).digest, windows.digest);
    const fromList = await client.getManifest(ref(d, "team/app:list"), { platform: "linux/arm/v7" });
    assert.equal(fromList.digest, list.children[2].digest);
    assert.equal(fromList.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(fromList.index.mediaType, MEDIA_TYPES.dockerList);
  });

  it("platform with no match → NOT_FOUND naming the platforms there are (not the attestations)", async () => {
    const d = em.dist;
    const err = await rejectsCode(new RegistryClient().getManifest(ref(d, "team/app:multi"), { platform: "linux/s390x" }), "NOT_FOUND");
    for (const p of ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]) assert.ok(err.message.includes(p), `${p} named: ${err.message}`);
    assert.ok(!err.message.includes("unknown/unknown"), err.message);
    assert.ok(err.message.includes("linux/s390x"), err.message);
    await rejectsCode(new RegistryClient().getManifest(ref(d, "team/app:arm"), { platform: "linux/arm/v8" }), "NOT_FOUND", { message: /linux\/arm\/v6/ });
  });

  it("headManifest: HEAD and the headers alone; without Docker-Content-Digest on HEAD it falls back to GET and hashes", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    const h = await client.headManifest(ref(d, "team/app:oci"));
    assert.deepEqual(h, { digest: amd64.digest, mediaType: MEDIA_TYPES.ociManifest, size: amd64.size });
    assert.deepEqual(d.resources().map((r) => [r.method, r.status]), [["HEAD", 200]]);
    d.reset();
    const fb = await client.headManifest(ref(d, "team/app:nohead"));
    assert.equal(fb.digest, arm64v8.digest);
    assert.equal(fb.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(fb.size, arm64v8.size);
    assert.deepEqual(d.resources().map((r) => [r.method, r.reference, r.status]), [
      ["HEAD", "nohead", 200],
      ["GET", "nohead", 200],
    ]);
    const idx = await client.headManifest(ref(d, "team/app"));
    assert.deepEqual(idx, { digest: index.digest, mediaType: MEDIA_TYPES.ociIndex, size: index.size });
    await rejectsCode(client.headManifest(ref(d, "team/app:nope")), "NOT_FOUND", { status: 404 });
  });

  it("getImageConfig: the config blob verified and parsed (created, os, architecture, Labels, history)", async () => {
    const d = em.dist;
    const c = await new RegistryClient().getImageConfig(ref(d, "team/app:1.0"));
    assert.equal(c.digest, amd64.config.digest);
    assert.deepEqual(c.config, amd64.config.json);
    assert.equal(c.config.created, "2024-01-02T03:04:05Z");
    assert.equal(c.config.os, "linux");
    assert.equal(c.config.architecture, "amd64");
    assert.deepEqual(c.config.config.Labels, { "org.opencontainers.image.title": "app", "org.opencontainers.image.description": "app for linux/amd64" });
    assert.equal(c.config.history.length, 2);
    assert.deepEqual(d.resources().map((r) => [r.resource, r.reference]), [
      ["manifest", "1.0"],
      ["blob", amd64.config.digest],
    ]);
    const docker = await new RegistryClient().getImageConfig(ref(d, "team/app:v2"));
    assert.deepEqual(docker.config, dockerImage.config.json);
  });

  it("getImageConfig with platform resolves the index first; without platform on an index → INVALID_REFERENCE naming platforms", async () => {
    const d = em.dist;
    const c = await new RegistryClient().getImageConfig(ref(d, "team/app:multi"), { platform: "linux/arm/v7" });
    assert.equal(c.digest, armv7.config.digest);
    assert.equal(c.config.variant, "v7");
    const err = await rejectsCode(new RegistryClient().getImageConfig(ref(d, "team/app:multi")), "INVALID_REFERENCE");
    for (const p of ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]) assert.ok(err.message.includes(p), `${p} named: ${err.message}`);
  });

  it("getImageConfig: a config blob that does not hash to its digest → DIGEST_MISMATCH; blob redirects carry no Authorization", async () => {
    const d = em.dist;
    d.set({ resources: { blobRedirect: { status: 307 } } });
    const c = await new RegistryClient().getImageConfig(ref(d, "team/app:oci"));
    assert.equal(c.digest, amd64.config.digest);
    assert.deepEqual(d.entries("storage").map((r) => [r.authorization, r.status]), [[null, 200]]);
    assertNoViolations();
    d.restore();
    d.set({ resources: { respond: (e) => (e.resource === "blob" ? { status: 200, headers: { "Content-Type": "application/octet-stream" }, body: '{"os":"linux"}' } : null) } });
    await rejectsCode(new RegistryClient().getImageConfig(ref(d, "team/app:oci")), "DIGEST_MISMATCH");
  });
});

// ----- deleteManifest ---------------------------------------------------------------------------

describe("deleteManifest", () => {
  it("a tag: HEAD for the digest, then one DELETE by digest with a delete token; 202 resolves", async () => {
    const d = em.dist;
    const result = await new RegistryClient().deleteManifest(ref(d, "team/app:victim"), credsFor(d));
    assert.equal(result, undefined);
    const dels = d.resources({ method: "DELETE" });
    assert.equal(dels.length, 1, "sent once");
    assert.equal(dels[0].path, `/v2/team/app/manifests/${victim.digest}`);
    assert.equal(dels[0].status, 202);
    assert.ok(dels[0].granted.some((g) => /^repository:team\/app:.*delete/.test(g)), `delete granted: ${dels[0].granted}`);
    const heads = d.resources({ method: "HEAD" });
    assert.ok(heads.length >= 1 && heads.some((h) => h.reference === "victim" && h.status === 200), "the tag was resolved by HEAD");
    assert.ok(heads.every((h) => h.seq < dels[0].seq));
    assert.deepEqual(d.deleted, [{ repository: "team/app", digest: victim.digest }]);
    assert.ok(tokenReqs(d).some((t) => scopesOf(t).some((s) => /^repository:team\/app:.*delete/.test(s))), "a token for delete was asked for");
  });

  it("a digest reference: one DELETE", async () => {
    const d = em.dist;
    await new RegistryClient().deleteManifest(`${ref(d, "team/app")}@${victim.digest}`, credsFor(d));
    assert.deepEqual(d.resources({ method: "DELETE" }).map((r) => [r.reference, r.status]), [[victim.digest, 202]]);
  });

  it("405 → UNSUPPORTED_OPERATION; an unknown digest or tag → NOT_FOUND", async () => {
    const d = em.dist;
    d.set({ resources: { deletion: false } });
    await rejectsCode(new RegistryClient().deleteManifest(ref(d, "team/app:victim"), credsFor(d)), "UNSUPPORTED_OPERATION", { status: 405 });
    assert.equal(d.resources({ method: "DELETE" }).length, 1, "not retried");
    d.restore();
    await rejectsCode(new RegistryClient().deleteManifest(`${ref(d, "team/app")}@sha256:${"a".repeat(64)}`, credsFor(d)), "NOT_FOUND", { status: 404 });
    await rejectsCode(new RegistryClient().deleteManifest(ref(d, "team/app:no-such-tag"), credsFor(d)), "NOT_FOUND", { status: 404 });
    assert.deepEqual(d.deleted, []);
  });

  it("without the right to delete: UNAUTHORIZED after the one retry", async () => {
    const d = em.dist;
    await rejectsCode(new RegistryClient().deleteManifest(`${ref(d, "team/app")}@${victim.digest}`), "UNAUTHORIZED", { status: 401 });
    assert.ok(d.resources({ method: "DELETE" }).length <= 2);
    assert.deepEqual(d.deleted, []);
  });
});

// ----- Errors -----------------------------------------------------------------------------------

describe("errors", () => {
  it("429 → RATE_LIMITED with retryAfter and the registry's errors; no automatic retry", async () => {
    const h = em.hub;
    h.set({ resources: { rateLimit: { remaining: 0, retryAfter: 3600 } } });
    const err = await rejectsCode(new RegistryClient().getManifest(ref(h, "team/app:oci")), "RATE_LIMITED", { status: 429 });
    assert.equal(err.retryAfter, "3600", "the Retry-After value, a string as for TOKEN_ENDPOINT");
    assert.equal(err.errors?.[0]?.code, "TOOMANYREQUESTS");
    assert.match(err.errors[0].message, /pull rate limit/);
    assert.equal(h.resources({ resource: "manifest" }).length, 1, "sent once");
  });

  it("404 → NOT_FOUND with the errors array as sent", async () => {
    const d = em.dist;
    const err = await rejectsCode(new RegistryClient().listTags(ref(d, "team/nope")), "NOT_FOUND", { status: 404, message: /repository name not known to registry/ });
    assert.deepEqual(err.errors, [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name: "team/nope" } }]);
    const m = await rejectsCode(new RegistryClient().getManifest(ref(d, "team/app:nope")), "NOT_FOUND", { status: 404 });
    assert.deepEqual(m.errors, [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "nope" } }]);
  });

  it("5xx and other statuses → REGISTRY_ERROR with status", async () => {
    const d = em.dist;
    for (const status of [500, 502, 503, 418]) {
      d.set({ resources: { respond: () => ({ status, body: { errors: [{ code: "UNAVAILABLE", message: `status ${status} here`, detail: null }] } }) } });
      for (const [name, call] of [
        ["listTags", () => new RegistryClient().listTags(ref(d, "team/tags"))],
        ["getManifest", () => new RegistryClient().getManifest(ref(d, "team/app:oci"))],
        ["headManifest", () => new RegistryClient().headManifest(ref(d, "team/app:oci"))],
        ["catalog", () => new RegistryClient().catalog(d.host)],
      ]) {
        const err = await rejectsCode(call, "REGISTRY_ERROR", { status });
        if (name !== "headManifest") {
          assert.match(err.message, new RegExp(`status ${status} here`), `${name}: the registry's words`);
          assert.deepEqual(err.errors, [{ code: "UNAVAILABLE", message: `status ${status} here`, detail: null }]);
        }
      }
    }
  });

  it("403 from a resource is one of the other statuses → REGISTRY_ERROR with status 403 (only a remaining 401 is UNAUTHORIZED)", async () => {
    const d = em.dist;
    const denied = { errors: [{ code: "DENIED", message: "requested access to the resource is denied", detail: null }] };
    d.set({ resources: { respond: () => ({ status: 403, body: denied }) } });
    for (const call of [() => new RegistryClient().listTags(ref(d, "team/tags")), () => new RegistryClient().getManifest(ref(d, "team/app:oci"))]) {
      const err = await rejectsCode(call, "REGISTRY_ERROR", { status: 403, message: /requested access to the resource is denied/ });
      assert.deepEqual(err.errors, denied.errors);
    }
  });

  it("a 401 that remains after the one retry → UNAUTHORIZED for every high-level method", async () => {
    const d = em.dist;
    const r = ref(d, "team/secret");
    for (const [name, call] of [
      ["listTags", () => new RegistryClient().listTags(r)],
      ["tagPages", async () => {
        for await (const _ of new RegistryClient().tagPages(r));
      }],
      ["getManifest", () => new RegistryClient().getManifest(`${r}:1.0`)],
      ["headManifest", () => new RegistryClient().headManifest(`${r}:1.0`)],
      ["getImageConfig", () => new RegistryClient().getImageConfig(`${r}:1.0`)],
    ]) {
      d.reset();
      await rejectsCode(call, "UNAUTHORIZED", { status: 401 });
      assert.ok(d.resources().length <= 2, `${name}: ${d.resources().length} resource requests`);
    }
    // With the credentials, it opens.
    assert.equal((await new RegistryClient().getManifest(`${r}:1.0`, credsFor(d))).digest, secretImage.digest);
  });

  it("secrets never appear in messages or errors, even when the registry echoes them", async () => {
    const d = em.dist;
    const echo = { errors: [{ code: "DENIED", message: `no access for alice:${PASSWORD}`, detail: { password: PASSWORD, basic: Buffer.from(`alice:${PASSWORD}`).toString("base64") } }] };
    for (const status of [404, 500, 429]) {
      d.set({ resources: { respond: () => ({ status, body: echo }) } });
      const codes = { 404: "NOT_FOUND", 500: "REGISTRY_ERROR", 429: "RATE_LIMITED" };
      for (const call of [
        () => new RegistryClient().listTags(ref(d, "team/secret"), credsFor(d)),
        () => new RegistryClient().getManifest(ref(d, "team/secret:1.0"), { username: "alice", password: PASSWORD }),
        () => new RegistryClient().deleteManifest(`${ref(d, "team/secret")}@${secretImage.digest}`, credsFor(d)),
      ]) {
        const err = await rejectsCode(call, codes[status], { secrets: [PASSWORD, Buffer.from(`alice:${PASSWORD}`).toString("base64")] });
        if (err.errors) assert.equal(err.errors[0].code, "DENIED");
      }
    }
  });
});

// ----- Round trips ------------------------------------------------------------------------------

describe("round trips (Size and speed)", () => {
  it("cold listTags on a one-page repository = 3 requests; a second repository = 2; cached token = 1 per page", async () => {
    const d = em.dist;
    const client = new RegistryClient();
    await client.listTags(ref(d, "team/tags"));
    assert.equal(d.log.length, 3, JSON.stringify(d.log.map((r) => [r.kind, r.status])));
    assert.deepEqual(d.log.map((r) => r.kind).slice(1), ["token", "resource"]);
    assert.ok(d.log[0].kind === "ping" || (d.log[0].kind === "resource" && d.log[0].status === 401));
    d.reset();
    await client.listTags(ref(d, "team/ten"));
    assert.deepEqual(d.log.map((r) => [r.kind, r.status]), [["token", 200], ["resource", 200]]);
    d.reset();
    await client.listTags(ref(d, "team/ten"), { pageSize: 4 });
    assert.deepEqual(d.log.map((r) => [r.kind, r.status]), [["resource", 200], ["resource", 200], ["resource", 200]]);
  });

  it("100 concurrent cold getManifest of one image = 1 ping, 1 token request, 100 manifest requests", async () => {
    const g = em.ghcr;
    const client = new RegistryClient();
    const results = await Promise.all(Array.from({ length: 100 }, () => client.getManifest(ref(g, "team/app:1.0"))));
    assert.ok(results.every((m) => m.digest === amd64.digest));
    const c = g.counts();
    assert.equal(c.token, 1, "exactly one token request");
    const ok = g.resources({ status: 200 });
    assert.equal(ok.length, 100);
    const refused = g.resources({ status: 401 }).length;
    assert.ok((c.ping === 1 && refused === 0) || (c.ping === 0 && refused >= 1), `ping ${c.ping}, resource 401s ${refused}`);
    assert.equal(c.total, c.ping + 1 + 100 + refused);
  });
});

// ----- Module-level functions -------------------------------------------------------------------

describe("module-level functions use the shared client", () => {
  it("listTags, tagPages, catalog, getManifest, headManifest, getImageConfig, deleteManifest, registryFetch", async () => {
    const m = em.mod;
    assert.deepEqual(await pkg.listTags(ref(m, "team/tags"), { pageSize: 2 }), tagNames(5));
    const pages = [];
    for await (const p of pkg.tagPages(ref(m, "team/tags"), { pageSize: 2 })) pages.push(p);
    assert.deepEqual(pages, [["t0001", "t0002"], ["t0003", "t0004"], ["t0005"]]);
    assert.equal(tokenReqs(m).filter((t) => scopesOf(t).includes("repository:team/tags:pull")).length, 1, "tagPages reused listTags' token");
    assert.deepEqual(await pkg.catalog(m.host, { limit: 3 }), Object.keys(REPOS).sort().slice(0, 3));
    const man = await pkg.getManifest(ref(m, "team/app:multi"), { platform: "linux/amd64" });
    assert.equal(man.digest, amd64.digest);
    assert.equal(man.index.digest, index.digest);
    assert.deepEqual(await pkg.headManifest(ref(m, "team/app:oci")), { digest: amd64.digest, mediaType: MEDIA_TYPES.ociManifest, size: amd64.size });
    assert.equal((await pkg.getImageConfig(ref(m, "team/app:oci"))).digest, amd64.config.digest);
    await pkg.deleteManifest(ref(m, "team/app:victim"), credsFor(m));
    assert.deepEqual(m.deleted, [{ repository: "team/app", digest: victim.digest }]);
    const res = await pkg.registryFetch(ref(m, "team/app"), "tags/list?n=1");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { name: "team/app", tags: ["1.0"] });
    await rejectsCode(pkg.listTags(ref(m, "team/nope")), "NOT_FOUND");
    assertNoViolations();
  });
});

// ----- parseReference ---------------------------------------------------------------------------

describe("parseReference", () => {
  it('"docker.io/<64 hex>".familiar is the 64 hex characters (distribution FamiliarName)', () => {
    const hex = "a".repeat(32) + "0123456789abcdef0123456789abcdef";
    const r = parseReference(`docker.io/${hex}`);
    assert.equal(r.familiar, hex);
    assert.equal(r.domain, "docker.io");
    assert.equal(r.path, `library/${hex}`, "the path keeps library/");
    assert.equal(parseReference("docker.io/library/alpine").familiar, "alpine", "ordinary names still drop library/");
  });
});
