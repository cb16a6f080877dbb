// Issue 10 against the real registry: Debian's `docker-registry` (distribution v2.8.2) with
// `auth: token:` and our own token server (tests/fixtures/distribution.mjs), deletion enabled.
//
// Everything here goes through the packed package's own API: images are pushed with
// `client.fetch` (blob upload POST → PUT with `?digest=`, and POST → PATCH → PUT; manifest PUT with
// its Content-Type) using the test user `tester`, whose token-server policy allows pull, push,
// delete and the catalog. Then: `listTags` over 1,050 tags (distribution 2.8.2 answers tags in one
// page and ignores `n`), `catalog` paged with a small `pageSize` (distribution pages it with a
// relative `Link`), `getManifest` with and without `platform`, `headManifest`, `getImageConfig`,
// `deleteManifest`, an `insufficient_scope` re-challenge, and distribution's own error bodies.
//
// Requests are counted with a recording `fetch` option (the registry's access log is off), and
// token requests also in the token server's own log. Without /usr/bin/docker-registry every test
// fails (never skips) with the apt-get hint.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  buildAttestation, buildIndex, buildPlatformImage, DEBIAN_PACKAGE, DOCKER_MANIFEST_LIST, findRegistryBinary, MEDIA_TYPES,
  OCI_MEDIA_TYPES, platformDescriptor, registryMissingMessage, SEED, startDistribution,
} from "../fixtures/distribution.mjs";
import { decodeJwt } from "../fixtures/token-server.mjs";
import { rejectsWith as sharedRejectsWith } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

test(`distribution is installed (Debian package \`${DEBIAN_PACKAGE}\`)`, () => {
  assert.ok(findRegistryBinary(), registryMissingMessage());
});

// =================================================================================================
// What gets pushed (deterministic: the same bytes, digests and sizes on every run)

const DEFAULT_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

const REPOS = Object.freeze({
  multiarch: "team/multiarch",
  oci: "team/oci-image",
  docker: "team/docker-image",
  many: "library/many-tags",
  doomed: "team/doomed",
});

// team/multiarch:v1 — OCI index: linux/amd64, linux/arm64/v8, and an attestation for the amd64 one.
const amd64 = buildPlatformImage({
  format: "oci", label: "multiarch-amd64", architecture: "amd64", layerSizes: [700, 5_000, 12_000],
  created: "2024-05-01T10:00:00Z", labels: { "org.opencontainers.image.version": "1.0.0", "com.example.arch": "amd64" },
});
const arm64 = buildPlatformImage({
  format: "oci", label: "multiarch-arm64", architecture: "arm64", variant: "v8", layerSizes: [900, 7_000],
  created: "2024-05-01T10:05:00Z", labels: { "org.opencontainers.image.version": "1.0.0", "com.example.arch": "arm64" },
});
const attestation = buildAttestation(amd64, { label: "multiarch-amd64" });
const index = buildIndex([platformDescriptor(amd64), platformDescriptor(arm64), attestation.descriptor]);

// team/oci-image:1.0 (and :latest) — a single-platform OCI image.
const ociImage = buildPlatformImage({
  format: "oci", label: "oci-image", layerSizes: [1_500, 9_000, 30_000], created: "2024-06-02T08:30:00Z",
  labels: { "org.opencontainers.image.version": "1.0", "org.opencontainers.image.licenses": "Apache-2.0" },
});

// team/docker-image:2.0 — Docker v2 schema 2; :multi — a Docker manifest list over it, an arm64
// image without a variant and an arm/v7 one.
const dockerImage = buildPlatformImage({
  format: "docker", label: "docker-image", layerSizes: [400, 2_500], created: "2023-11-20T16:45:12Z",
  labels: { maintainer: "registry-token tests", "com.example.flavour": "docker" },
});
const dockerArm64 = buildPlatformImage({ format: "docker", label: "docker-arm64", architecture: "arm64", layerSizes: [600], created: "2023-11-20T16:46:00Z" });
const dockerArmV7 = buildPlatformImage({ format: "docker", label: "docker-armv7", architecture: "arm", variant: "v7", layerSizes: [650], created: "2023-11-20T16:47:00Z" });
const dockerList = buildIndex([platformDescriptor(dockerImage), platformDescriptor(dockerArm64), platformDescriptor(dockerArmV7)], { mediaType: DOCKER_MANIFEST_LIST });

// library/many-tags — one small manifest under 1,050 tags (public: anonymous pull).
const tinyImage = buildPlatformImage({ format: "docker", label: "many-tags", layerSizes: [120], created: "2024-01-01T00:00:00Z" });
const MANY_TAGS = Array.from({ length: 1_050 }, (_, i) => `t${String(i).padStart(4, "0")}`);
const PUSH_CONCURRENCY = 16;

// team/doomed:v1 and :v2 — one manifest under two tags, deleted by the deleteManifest test.
const doomedImage = buildPlatformImage({ format: "oci", label: "doomed", layerSizes: [200], created: "2024-02-02T02:02:02Z" });

const ALL_REPOSITORIES = [...new Set([...Object.keys(SEED), ...Object.values(REPOS)])].sort();

// =================================================================================================
// Helpers

/** A `fetch` that records method, URL, status, the Accept header and whether Authorization went along. */
function recorder(inner = globalThis.fetch) {
  const log = [];
  const fn = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const u = new URL(url);
    const entry = {
      method: String(init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase(),
      url,
      origin: u.origin,
      path: u.pathname,
      search: u.search,
      accept: headers.get("accept"),
      scheme: headers.get("authorization")?.split(" ")[0] ?? null,
      status: 0,
      challenge: null,
    };
    log.push(entry);
    const res = await inner(input, init);
    entry.status = res.status;
    entry.challenge = res.headers.get("www-authenticate");
    return res;
  };
  fn.log = log;
  return fn;
}

let reg;
let pkg;
const registryCalls = (rec) => rec.log.filter((e) => e.origin === reg.registryUrl);
const tokenCalls = (rec) => rec.log.filter((e) => e.origin === reg.tokenServer.url);
const tokenLog = () => reg.tokenServer.requests.filter((r) => r.path === "/token");
const pick = (obj, keys) => Object.fromEntries(keys.filter((k) => obj?.[k] !== undefined).map((k) => [k, obj[k]]));
const descriptorOf = (img) => ({ digest: img.digest, mediaType: img.mediaType, size: img.size });
const ref = (repository, reference = "") => `${reg.host}/${repository}${reference}`;
const testerClient = (rec) => new pkg.RegistryClient({ credentials: { [reg.host]: { ...reg.users.tester } }, ...(rec ? { fetch: rec } : {}) });

/** The scopes one token-server request asked for (GET: repeated `scope`; POST: one space-joined field). */
function requestedScopes(entry) {
  const raw = entry.method === "GET" ? entry.query.scope ?? [] : entry.form?.scope ?? [];
  return raw.flatMap((s) => s.split(" ")).filter(Boolean);
}
/** Scopes → Map(resource → Set(actions)), so merged and separate forms compare alike. */
function scopeMap(scopes) {
  const m = new Map();
  for (const s of scopes) {
    const last = s.lastIndexOf(":");
    const resource = s.slice(0, last);
    const set = m.get(resource) ?? new Set();
    for (const a of s.slice(last + 1).split(",")) set.add(a);
    m.set(resource, set);
  }
  return Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]).sort(([a], [b]) => a.localeCompare(b)));
}

/** Awaits `promise`, which must reject with a RegistryAuthError of `code` and no test password. */
const rejectsWith = (promise, code, opts = {}) =>
  sharedRejectsWith(promise, code, { ...opts, secrets: [reg.users.tester.password, reg.users.reader.password] });

async function expectStatus(res, wanted, what) {
  if (res.status === wanted) return res;
  const body = await res.text().catch(() => "");
  throw new Error(`${what}: HTTP ${res.status} (wanted ${wanted}): ${body.slice(0, 400)} ${res.headers.get("www-authenticate") ?? ""}`.trim());
}
async function drain(res) {
  await res.arrayBuffer();
  return res;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

/**
 * One blob through `client.fetch`: HEAD (skip when present), POST blobs/uploads/ (202 + Location),
 * then either PUT <Location>&digest=… with the bytes (an absolute URL on the registry's origin) or
 * PATCH <Location> with the bytes and PUT <new Location>&digest=… without (an absolute path).
 */
async function pushBlob(client, imageRef, { digest, data }, { chunked = false, auth = {} } = {}) {
  const head = await drain(await client.fetch(imageRef, `blobs/${digest}`, { ...auth, method: "HEAD" }));
  if (head.status === 200) return "present";
  assert.equal(head.status, 404, `HEAD blobs/${digest}`);
  const start = await drain(await expectStatus(await client.fetch(imageRef, "blobs/uploads/", { ...auth, method: "POST" }), 202, `POST ${imageRef} blobs/uploads/`));
  const location = start.headers.get("location");
  assert.ok(location, "distribution answers the upload start with a Location");
  const withDigest = (loc) => `${loc}${loc.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
  let put;
  if (chunked) {
    const url = new URL(location, reg.registryUrl).href;
    const patch = await drain(await expectStatus(await client.fetch(imageRef, url, {
      ...auth, method: "PATCH", headers: { "Content-Type": "application/octet-stream", "Content-Range": `0-${data.length - 1}` }, body: data,
    }), 202, `PATCH ${imageRef} upload`));
    assert.equal(patch.headers.get("range"), `0-${data.length - 1}`);
    const next = new URL(patch.headers.get("location"), reg.registryUrl);
    put = await client.fetch(imageRef, withDigest(`${next.pathname}${next.search}`), { ...auth, method: "PUT" });
  } else {
    put = await client.fetch(imageRef, withDigest(new URL(location, reg.registryUrl).href), {
      ...auth, method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: data,
    });
  }
  await drain(await expectStatus(put, 201, `PUT ${imageRef} blob ${digest}`));
  assert.equal(put.headers.get("docker-content-digest"), digest);
  return "uploaded";
}

/** PUT manifests/<reference> with the manifest's Content-Type; checks 201 and the digest. */
async function pushManifest(client, imageRef, reference, { mediaType, manifest, digest }, auth = {}) {
  const res = await drain(await expectStatus(
    await client.fetch(imageRef, `manifests/${reference}`, { ...auth, method: "PUT", headers: { "Content-Type": mediaType }, body: manifest }),
    201, `PUT ${imageRef} manifests/${reference}`,
  ));
  assert.equal(res.headers.get("docker-content-digest"), digest, `digest of ${imageRef} manifests/${reference}`);
  return res;
}

async function pushImageBlobs(client, imageRef, image, { chunkedLayers = false, auth } = {}) {
  const outcomes = [];
  for (const [i, blob] of image.blobs.entries()) outcomes.push(await pushBlob(client, imageRef, blob, { chunked: chunkedLayers && i > 0, auth }));
  return outcomes;
}

// =================================================================================================

const pushed = { ms: {}, tokenRequests: [], recorder: null, blobOutcomes: {} };

describe("issue 10 against distribution 2.8.2 (pushed through client.fetch)", () => {
  before(async () => {
    reg = await startDistribution();
    pkg = await importPackage();
    const rec = recorder();
    const client = testerClient(rec);
    const t0 = Date.now();

    // team/multiarch: children by digest, then the index by tag.
    const multi = ref(REPOS.multiarch);
    for (const img of [amd64, arm64]) {
      pushed.blobOutcomes[img.digest] = await pushImageBlobs(client, multi, img, { chunkedLayers: img === arm64 });
      await pushManifest(client, multi, img.digest, img);
    }
    pushed.blobOutcomes[attestation.digest] = await pushImageBlobs(client, multi, attestation);
    await pushManifest(client, multi, attestation.digest, attestation);
    await pushManifest(client, multi, "v1", index);

    // team/oci-image:1.0 and :latest.
    const oci = ref(REPOS.oci);
    pushed.blobOutcomes[ociImage.digest] = await pushImageBlobs(client, oci, ociImage, { chunkedLayers: true });
    for (const tag of ["1.0", "latest"]) await pushManifest(client, oci, tag, ociImage);

    // team/docker-image:2.0, plus :multi (a Docker manifest list).
    const docker = ref(REPOS.docker);
    pushed.blobOutcomes[dockerImage.digest] = await pushImageBlobs(client, docker, dockerImage);
    await pushManifest(client, docker, "2.0", dockerImage);
    for (const img of [dockerArm64, dockerArmV7]) {
      await pushImageBlobs(client, docker, img);
      await pushManifest(client, docker, img.digest, img);
    }
    await pushManifest(client, docker, "multi", dockerList);

    // team/doomed:v1 and :v2 — with per-call username/password instead of `credentials`.
    const doomed = ref(REPOS.doomed);
    const perCall = { username: reg.users.tester.username, password: reg.users.tester.password };
    pushed.blobOutcomes[doomedImage.digest] = await pushImageBlobs(client, doomed, doomedImage, { auth: perCall });
    for (const tag of ["v1", "v2"]) await pushManifest(client, doomed, tag, doomedImage, perCall);
    pushed.ms.images = Date.now() - t0;

    // library/many-tags: blobs once, then the manifest under 1,050 tags, 16 at a time.
    const many = ref(REPOS.many);
    await pushImageBlobs(client, many, tinyImage);
    const t1 = Date.now();
    await pool(MANY_TAGS, PUSH_CONCURRENCY, (tag) => pushManifest(client, many, tag, tinyImage));
    pushed.ms.tags = Date.now() - t1;
    pushed.ms.total = Date.now() - t0;
    pushed.recorder = rec;
    pushed.tokenRequests = tokenLog().map((r) => ({ ...r }));
    reg.tokenServer.reset();
  });

  after(async () => {
    await reg?.stop();
  });
  beforeEach(() => reg?.tokenServer.reset());

  test("push through client.fetch: blob uploads (POST → PUT, POST → PATCH → PUT), manifest PUTs (credentials and per-call username/password); one token per repository and action set", (t) => {
    t.diagnostic(`push: images ${pushed.ms.images} ms, ${MANY_TAGS.length} tags ${pushed.ms.tags} ms (${PUSH_CONCURRENCY} at a time), total ${pushed.ms.total} ms`);
    const rec = pushed.recorder;
    const calls = registryCalls(rec);
    const manifestPuts = calls.filter((c) => c.method === "PUT" && c.path.includes("/manifests/"));
    // multiarch: amd64, arm64, attestation by digest + the index by tag; oci: 2 tags; docker: 2.0, two
    // children by digest, the list; doomed: 2 tags; many-tags: 1,050.
    assert.equal(manifestPuts.filter((c) => c.status === 201).length, 4 + 2 + 4 + 2 + MANY_TAGS.length);
    assert.ok(calls.some((c) => c.method === "PATCH" && c.status === 202), "a chunked upload went through PATCH");
    assert.ok(calls.filter((c) => c.method === "POST" && c.path.endsWith("/blobs/uploads/")).every((c) => c.status === 202 || c.status === 401));
    // Every request to the registry carried a bearer token, except 401 answers that started a dance.
    for (const c of calls) if (c.status !== 401) assert.equal(c.scheme, "Bearer", `${c.method} ${c.path} → ${c.status}`);
    // Blobs: HEAD said 404 for every one (each repository starts empty), then uploaded.
    for (const outcome of Object.values(pushed.blobOutcomes)) assert.ok(outcome.every((o) => o === "uploaded"));

    // Token requests: as `authorize` would make them — GET with Basic for tester; one per (repository,
    // actions) pair for reads (HEAD → pull) and writes (POST/PATCH/PUT → pull,push), shared by all
    // 1,050 concurrent tag PUTs.
    const tokens = pushed.tokenRequests;
    assert.ok(tokens.every((r) => r.method === "GET" && r.basicAuth && r.username === "tester" && r.status === 200), JSON.stringify(tokens));
    const asked = tokens.map((r) => requestedScopes(r).join(" ")).sort();
    const wanted = Object.values(REPOS).flatMap((repo) => [`repository:${repo}:pull`, `repository:${repo}:pull,push`]).sort();
    assert.deepEqual(asked, wanted);
    assert.equal(tokenCalls(rec).length, tokens.length, "the recording fetch saw every token request");
    for (const r of tokens) {
      const repo = r.access[0].name;
      assert.deepEqual(r.access, [{ type: "repository", name: repo, actions: requestedScopes(r)[0].split(":").pop().split(",") }]);
    }
    // The registry was asked for a challenge at most once per client (ping or first resource 401).
    assert.ok(calls.filter((c) => c.status === 401).length <= 1, `401s: ${JSON.stringify(calls.filter((c) => c.status === 401).map((c) => c.path))}`);
  });

  // ---------------------------------------------------------------------------------------------
  describe("fetch", () => {
    beforeEach(() => reg?.tokenServer.reset());
    test("relative path, absolute /v2/ path and same-origin URL each reach the image's repository with a Bearer token", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      const imageRef = ref(REPOS.oci, ":1.0");
      const tags = await client.fetch(imageRef, "tags/list");
      assert.ok(tags instanceof Response);
      assert.equal(tags.status, 200);
      const body = await tags.json();
      assert.equal(body.name, REPOS.oci);
      assert.deepEqual(body.tags.sort(), ["1.0", "latest"]);
      const layer = ociImage.layers[2];
      const blob = await client.fetch(imageRef, `/v2/${REPOS.oci}/blobs/${layer.digest}`);
      assert.equal(blob.status, 200);
      assert.deepEqual(Buffer.from(await blob.arrayBuffer()), layer.data);
      const viaUrl = await client.fetch(imageRef, `${reg.registryUrl}/v2/${REPOS.oci}/manifests/1.0`, { headers: { Accept: OCI_MEDIA_TYPES.manifest } });
      assert.equal(viaUrl.status, 200);
      assert.equal(viaUrl.headers.get("docker-content-digest"), ociImage.digest);
      assert.deepEqual(Buffer.from(await viaUrl.arrayBuffer()), ociImage.manifest);

      const calls = registryCalls(rec);
      const served = calls.filter((c) => c.status === 200);
      assert.deepEqual(served.map((c) => `${c.method} ${c.path}`), [
        `GET /v2/${REPOS.oci}/tags/list`, `GET /v2/${REPOS.oci}/blobs/${layer.digest}`, `GET /v2/${REPOS.oci}/manifests/1.0`,
      ]);
      assert.ok(served.every((c) => c.scheme === "Bearer"));
      assert.equal(tokenLog().length, 1, "one pull token for the three requests");
      assert.deepEqual(requestedScopes(tokenLog()[0]), [`repository:${REPOS.oci}:pull`]);
    });

    test("resolves with the registry's answer whatever its status: unknown manifest → 404 MANIFEST_UNKNOWN, unknown blob → 404 BLOB_UNKNOWN", async () => {
      const client = testerClient();
      const res = await client.fetch(ref(REPOS.oci), "manifests/no-such-tag", { headers: { Accept: OCI_MEDIA_TYPES.manifest } });
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "no-such-tag" } }] });
      const blob = await client.fetch(ref(REPOS.oci), `blobs/sha256:${"0".repeat(64)}`);
      assert.equal(blob.status, 404);
      assert.equal((await blob.json()).errors[0].code, "BLOB_UNKNOWN");
    });

    test("a URL on another origin is refused (INVALID_REFERENCE) before anything is sent", async () => {
      const port = new URL(reg.registryUrl).port;
      // Same server, other origins: another host name, another scheme, another port.
      const foreign = [
        `http://localhost:${port}/v2/${REPOS.oci}/tags/list`,
        `https://127.0.0.1:${port}/v2/${REPOS.oci}/tags/list`,
        `${reg.tokenServer.url}/v2/${REPOS.oci}/tags/list`,
      ];
      for (const url of foreign) {
        const rec = recorder();
        const client = testerClient(rec);
        await rejectsWith(client.fetch(ref(REPOS.oci), url), "INVALID_REFERENCE");
        const target = new URL(url).origin;
        assert.deepEqual(rec.log.filter((c) => c.origin === target && c.path !== "/token"), [], `nothing sent to ${target}`);
        assert.deepEqual(rec.log.map((c) => `${c.method} ${c.url} ${c.status}`), [], `${url}: nothing sent at all (no ping, no token request)`);
      }
      assert.equal(tokenLog().length, 0, "the token server saw nothing (no credentials sent for a refused call)");
    });

    test("insufficient_scope: a token for one repository, a fetch of another's manifest → 401 with the needed scope → one token for both → one retry → 200", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      const own = ref(REPOS.oci, ":1.0");
      const token = await client.getToken(own);
      assert.deepEqual(decodeJwt(token).claims.access, [{ type: "repository", name: REPOS.oci, actions: ["pull"] }]);
      const before = rec.log.length;

      const foreign = `/v2/${REPOS.docker}/manifests/2.0`;
      const res = await client.fetch(own, foreign, { headers: { Accept: MEDIA_TYPES.manifest } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("docker-content-digest"), dockerImage.digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), dockerImage.manifest);

      const calls = rec.log.slice(before);
      assert.deepEqual(calls.map((c) => `${c.origin === reg.registryUrl ? "registry" : "token"} ${c.method} ${c.path} ${c.status}`), [
        `registry GET ${foreign} 401`,
        "token GET /token 200",
        `registry GET ${foreign} 200`,
      ]);
      assert.match(calls[0].challenge, /error="insufficient_scope"/);
      assert.match(calls[0].challenge, new RegExp(`scope="repository:${REPOS.docker}:pull"`));
      assert.equal(calls[0].scheme, "Bearer", "the first try carried the cached token");

      const log = tokenLog();
      assert.equal(log.length, 2);
      assert.deepEqual(scopeMap(requestedScopes(log[0])), { [`repository:${REPOS.oci}`]: ["pull"] });
      assert.deepEqual(scopeMap(requestedScopes(log[1])), { [`repository:${REPOS.docker}`]: ["pull"], [`repository:${REPOS.oci}`]: ["pull"] },
        "the retry's token covers the requested scope and the challenge's");
      assert.equal(log[1].username, "tester");
      assert.deepEqual(log[1].access.filter((a) => a.actions.length).map((a) => `${a.name}:${a.actions.join(",")}`).sort(),
        [`${REPOS.docker}:pull`, `${REPOS.oci}:pull`]);
    });

    test("a 401 that remains after the one retry is handed back (anonymous, private repository): two tries, no more", async () => {
      const rec = recorder();
      const client = new pkg.RegistryClient({ fetch: rec });
      const res = await client.fetch(ref("team/secret"), "tags/list");
      assert.equal(res.status, 401);
      // (A cold client may take its challenge from an anonymous first try of the resource: not counted.)
      const tries = registryCalls(rec).filter((c) => c.path === "/v2/team/secret/tags/list" && c.scheme === "Bearer");
      assert.equal(tries.length, 2, JSON.stringify(registryCalls(rec).map((c) => `${c.method} ${c.path} ${c.scheme} ${c.status}`)));
      assert.ok(tries.every((c) => c.status === 401));
      assert.match(tries[1].challenge, /insufficient_scope/);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("listTags / tagPages", () => {
    beforeEach(() => reg?.tokenServer.reset());
    test(`listTags over ${MANY_TAGS.length} tags: one page (distribution ignores n), every tag once; cold = 3 requests, second repository = 2, cached = 1`, async () => {
      const rec = recorder();
      const client = new pkg.RegistryClient({ fetch: rec });
      const tags = await client.listTags(ref(REPOS.many));
      assert.equal(tags.length, MANY_TAGS.length);
      assert.equal(new Set(tags).size, tags.length, "no tag repeated");
      assert.deepEqual([...tags].sort(), MANY_TAGS);
      assert.equal(rec.log.length, 3, `cold: ${JSON.stringify(rec.log.map((c) => `${c.method} ${c.path}${c.search} ${c.status}`))}`);
      assert.equal(rec.log[0].status, 401);
      assert.equal(rec.log[1].origin, reg.tokenServer.url);
      const page = rec.log[2];
      assert.equal(`${page.method} ${page.path} ${page.status}`, `GET /v2/${REPOS.many}/tags/list 200`);
      assert.equal(new URLSearchParams(page.search).get("n"), "1000", "default pageSize 1000");
      assert.deepEqual(requestedScopes(tokenLog()[0]), [`repository:${REPOS.many}:pull`]);

      const alpine = await client.listTags(ref("library/alpine"));
      assert.deepEqual([...alpine].sort(), [...SEED["library/alpine"]].sort());
      assert.equal(rec.log.length, 5, "a second repository on the same registry: token + page");
      const again = await client.listTags(ref(REPOS.many));
      assert.deepEqual(again, tags, "the same order as the registry sent it");
      assert.equal(rec.log.length, 6, "token cached: 1 request per page");
    });

    test("pageSize 10 is sent as n=10; distribution still answers all tags in one page and all are returned", async () => {
      const rec = recorder();
      const tags = await testerClient(rec).listTags(ref(REPOS.many), { pageSize: 10 });
      assert.deepEqual([...tags].sort(), MANY_TAGS);
      const pages = registryCalls(rec).filter((c) => c.path.endsWith("/tags/list") && c.status === 200);
      assert.equal(pages.length, 1);
      assert.equal(new URLSearchParams(pages[0].search).get("n"), "10");
    });

    test("limit stops early (listTags and tagPages); tagPages yields the one page distribution sends", async () => {
      const client = testerClient();
      const all = await client.listTags(ref(REPOS.many));
      assert.deepEqual(await client.listTags(ref(REPOS.many), { limit: 5 }), all.slice(0, 5));
      const pages = [];
      for await (const p of client.tagPages(ref(REPOS.many))) pages.push(p);
      assert.equal(pages.length, 1);
      assert.ok(Array.isArray(pages[0]));
      assert.deepEqual(pages[0], all);
      const limited = [];
      for await (const p of client.tagPages(ref(REPOS.many), { limit: 7 })) limited.push(p);
      assert.deepEqual(limited, [all.slice(0, 7)], "the last page is cut to the limit");
      assert.deepEqual([...(await client.listTags(ref(REPOS.oci)))].sort(), ["1.0", "latest"]);
    });

    test("unknown repository → NOT_FOUND (404) with distribution's NAME_UNKNOWN error body", async () => {
      const err = await rejectsWith(new pkg.RegistryClient().listTags(ref("library/does-not-exist")), "NOT_FOUND", { status: 404 });
      assert.deepEqual(err.errors, [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name: "library/does-not-exist" } }]);
      const viaPages = await rejectsWith((async () => { for await (const _ of testerClient().tagPages(ref("team/does-not-exist"))) { /* none */ } })(), "NOT_FOUND", { status: 404 });
      assert.equal(viaPages.errors[0].code, "NAME_UNKNOWN");
    });

    test("private repository without credentials → UNAUTHORIZED after exactly one retry", async () => {
      const rec = recorder();
      await rejectsWith(new pkg.RegistryClient({ fetch: rec }).listTags(ref("team/secret")), "UNAUTHORIZED", { status: 401 });
      const pages = registryCalls(rec).filter((c) => c.path === "/v2/team/secret/tags/list" && c.scheme === "Bearer");
      assert.deepEqual(pages.map((c) => c.status), [401, 401], "the first try and exactly one retry, both with a token");
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("catalog", () => {
    beforeEach(() => reg?.tokenServer.reset());
    test("pageSize 3 → distribution pages with a relative Link; every repository once, in order, several pages requested", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      const repos = await client.catalog(reg.host, { pageSize: 3 });
      assert.deepEqual(repos, ALL_REPOSITORIES);
      const pages = registryCalls(rec).filter((c) => c.path === "/v2/_catalog" && c.status === 200);
      assert.equal(pages.length, Math.ceil(ALL_REPOSITORIES.length / 3), JSON.stringify(pages.map((p) => p.search)));
      assert.ok(pages.length >= 3);
      const params = pages.map((p) => new URLSearchParams(p.search));
      assert.ok(params.every((q) => q.get("n") === "3"), "each page asks n=3 (the Link keeps it)");
      assert.equal(params[0].get("last"), null);
      assert.deepEqual(params.slice(1).map((q) => q.get("last")), [ALL_REPOSITORIES[2], ALL_REPOSITORIES[5]].slice(0, pages.length - 1));
      assert.ok(pages.every((p) => p.scheme === "Bearer"));
      const scopes = tokenLog().map((r) => requestedScopes(r).join(" "));
      assert.deepEqual(scopes, ["registry:catalog:*"]);
      assert.deepEqual(tokenLog()[0].access, [{ type: "registry", name: "catalog", actions: ["*"] }]);
    });

    test("default pageSize (n=1000, accepted by distribution) → one page; limit 4 with pageSize 3 → two pages, four entries", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      assert.deepEqual(await client.catalog(reg.host), ALL_REPOSITORIES);
      let pages = registryCalls(rec).filter((c) => c.path === "/v2/_catalog" && c.status === 200);
      assert.equal(pages.length, 1);
      assert.equal(new URLSearchParams(pages[0].search).get("n"), "1000");
      rec.log.length = 0;
      assert.deepEqual(await client.catalog(reg.host, { pageSize: 3, limit: 4 }), ALL_REPOSITORIES.slice(0, 4));
      pages = registryCalls(rec).filter((c) => c.path === "/v2/_catalog");
      assert.equal(pages.length, 2, "no third page after the limit");
    });

    test("without catalog rights (anonymous, reader) → UNAUTHORIZED after one retry, with the registry's message", async () => {
      for (const client of [new pkg.RegistryClient(), new pkg.RegistryClient({ credentials: { [reg.host]: { ...reg.users.reader } } })]) {
        await rejectsWith(client.catalog(reg.host, { pageSize: 3 }), "UNAUTHORIZED", { status: 401 });
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("getManifest / headManifest / getImageConfig", () => {
    beforeEach(() => reg?.tokenServer.reset());
    test("index without platform → the index as sent, its runnable platforms in order (no attestation), no `index`; the default Accept list", async () => {
      const rec = recorder();
      const m = await testerClient(rec).getManifest(ref(REPOS.multiarch, ":v1"));
      assert.deepEqual(pick(m, ["digest", "mediaType", "size"]), descriptorOf(index));
      assert.deepEqual(m.manifest, index.manifestJson);
      assert.equal(m.index, undefined);
      assert.deepEqual(m.platforms.map((p) => pick(p, ["os", "architecture", "variant", "digest", "size", "mediaType"])), [
        { os: "linux", architecture: "amd64", digest: amd64.digest, size: amd64.size, mediaType: OCI_MEDIA_TYPES.manifest },
        { os: "linux", architecture: "arm64", variant: "v8", digest: arm64.digest, size: arm64.size, mediaType: OCI_MEDIA_TYPES.manifest },
      ]);
      assert.ok(!m.platforms.some((p) => p.os === "unknown" || p.digest === attestation.digest), "the attestation is left out");
      const get = registryCalls(rec).filter((c) => c.path === `/v2/${REPOS.multiarch}/manifests/v1` && c.status === 200);
      assert.equal(get.length, 1);
      assert.equal(get[0].method, "GET");
      assert.deepEqual(get[0].accept.split(",").map((s) => s.trim()).sort(), [...DEFAULT_ACCEPT].sort());
    });

    test("index with platform linux/arm64 (and linux/arm64/v8, linux/amd64) → that manifest, fetched by digest, with `index` set", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      for (const [platform, img] of [["linux/arm64", arm64], ["linux/arm64/v8", arm64], ["linux/amd64", amd64]]) {
        const m = await client.getManifest(ref(REPOS.multiarch, ":v1"), { platform });
        assert.deepEqual(pick(m, ["digest", "mediaType", "size"]), descriptorOf(img), platform);
        assert.deepEqual(m.manifest, img.manifestJson, platform);
        assert.deepEqual(pick(m.index, ["digest", "mediaType", "size"]), descriptorOf(index), platform);
        assert.equal(m.platforms, undefined, platform);
      }
      const byDigest = registryCalls(rec).filter((c) => c.method === "GET" && c.path.startsWith(`/v2/${REPOS.multiarch}/manifests/sha256:`) && c.status === 200);
      assert.deepEqual(byDigest.map((c) => c.path.split("/").pop()), [arm64.digest, arm64.digest, amd64.digest]);
    });

    test("a platform the index does not hold → NOT_FOUND naming the platforms there are", async () => {
      const err = await rejectsWith(testerClient().getManifest(ref(REPOS.multiarch, ":v1"), { platform: "linux/arm/v7" }), "NOT_FOUND");
      assert.match(err.message, /linux\/amd64/);
      assert.match(err.message, /linux\/arm64/);
      await rejectsWith(testerClient().getManifest(ref(REPOS.multiarch, ":v1"), { platform: "windows/amd64" }), "NOT_FOUND");
    });

    test("Docker manifest list: platforms in order; linux/arm/v7 picks the v7 entry, linux/arm64/v8 the arm64 entry without a variant", async () => {
      const client = testerClient();
      const list = await client.getManifest(ref(REPOS.docker, ":multi"));
      assert.deepEqual(pick(list, ["digest", "mediaType", "size"]), descriptorOf(dockerList));
      assert.deepEqual(list.manifest, dockerList.manifestJson);
      assert.deepEqual(list.platforms.map((p) => pick(p, ["os", "architecture", "variant", "digest"])), [
        { os: "linux", architecture: "amd64", digest: dockerImage.digest },
        { os: "linux", architecture: "arm64", digest: dockerArm64.digest },
        { os: "linux", architecture: "arm", variant: "v7", digest: dockerArmV7.digest },
      ]);
      const v7 = await client.getManifest(ref(REPOS.docker, ":multi"), { platform: "linux/arm/v7" });
      assert.deepEqual(pick(v7, ["digest", "mediaType", "size"]), descriptorOf(dockerArmV7));
      assert.deepEqual(pick(v7.index, ["digest", "mediaType", "size"]), descriptorOf(dockerList));
      const a64 = await client.getManifest(ref(REPOS.docker, ":multi"), { platform: "linux/arm64/v8" });
      assert.equal(a64.digest, dockerArm64.digest);
    });

    test("single images: OCI (by tag, by digest, no tag = latest) and Docker v2, as pushed", async () => {
      const client = testerClient();
      for (const r of [ref(REPOS.oci, ":1.0"), ref(REPOS.oci, `@${ociImage.digest}`), ref(REPOS.oci)]) {
        const m = await client.getManifest(r);
        assert.deepEqual(pick(m, ["digest", "mediaType", "size"]), descriptorOf(ociImage), r);
        assert.deepEqual(m.manifest, ociImage.manifestJson, r);
        assert.equal(m.index, undefined, r);
        assert.equal(m.platforms, undefined, r);
      }
      const d = await client.getManifest(ref(REPOS.docker, ":2.0"));
      assert.deepEqual(pick(d, ["digest", "mediaType", "size"]), descriptorOf(dockerImage));
      assert.equal(d.mediaType, MEDIA_TYPES.manifest);
      assert.deepEqual(d.manifest, dockerImage.manifestJson);
      const att = await client.getManifest(ref(REPOS.multiarch, `@${attestation.digest}`));
      assert.deepEqual(pick(att, ["digest", "mediaType", "size"]), descriptorOf(attestation));
    });

    test("100 concurrent cold getManifest of one image → exactly 1 token request and 100 manifest requests", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      const results = await Promise.all(Array.from({ length: 100 }, () => client.getManifest(ref(REPOS.oci, ":1.0"))));
      assert.ok(results.every((m) => m.digest === ociImage.digest && m.size === ociImage.size));
      assert.equal(tokenCalls(rec).length, 1);
      assert.equal(tokenLog().length, 1);
      const served = registryCalls(rec).filter((c) => c.path === `/v2/${REPOS.oci}/manifests/1.0` && c.status === 200);
      assert.equal(served.length, 100);
      const challenges = registryCalls(rec).filter((c) => c.status === 401);
      assert.ok(challenges.length === 1 || challenges.every((c) => c.path !== "/v2/"), `one ping, or the resources' own 401s: ${challenges.length}`);
      assert.equal(registryCalls(rec).length, 100 + challenges.length, "nothing else");
    });

    test("accept is sent as given", async () => {
      const rec = recorder();
      const m = await testerClient(rec).getManifest(ref(REPOS.docker, ":2.0"), { accept: [MEDIA_TYPES.manifest] });
      assert.equal(m.digest, dockerImage.digest);
      const get = registryCalls(rec).find((c) => c.path === `/v2/${REPOS.docker}/manifests/2.0` && c.status === 200);
      assert.equal(get.accept, MEDIA_TYPES.manifest);
    });

    test("unknown tag, unknown digest, unknown repository → NOT_FOUND (404) with distribution's MANIFEST_UNKNOWN body", async () => {
      const client = testerClient();
      const tag = await rejectsWith(client.getManifest(ref(REPOS.oci, ":no-such-tag")), "NOT_FOUND", { status: 404 });
      assert.deepEqual(tag.errors, [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Tag: "no-such-tag" } }]);
      const missing = `sha256:${"ab".repeat(32)}`;
      const digest = await rejectsWith(client.getManifest(ref(REPOS.oci, `@${missing}`)), "NOT_FOUND", { status: 404 });
      assert.deepEqual(digest.errors, [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: { Name: REPOS.oci, Revision: missing } }]);
      // distribution 2.8.2 answers a manifest of an unknown repository by tag with MANIFEST_UNKNOWN too.
      const repo = await rejectsWith(client.getManifest(ref("team/no-such-repository", ":1.0")), "NOT_FOUND", { status: 404 });
      assert.equal(repo.errors[0].code, "MANIFEST_UNKNOWN");
      await rejectsWith(client.headManifest(ref(REPOS.oci, ":no-such-tag")), "NOT_FOUND", { status: 404 });
    });

    test("headManifest: HEAD only; digest, mediaType and size as pushed (image, index, Docker v2)", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      for (const [r, img] of [[ref(REPOS.oci, ":1.0"), ociImage], [ref(REPOS.multiarch, ":v1"), index], [ref(REPOS.docker, ":2.0"), dockerImage], [ref(REPOS.many, ":t0042"), tinyImage]]) {
        const d = await client.headManifest(r);
        assert.deepEqual(pick(d, ["digest", "mediaType", "size"]), descriptorOf(img), r);
      }
      const manifestCalls = registryCalls(rec).filter((c) => c.path.includes("/manifests/") && c.status !== 401);
      assert.equal(manifestCalls.length, 4);
      assert.ok(manifestCalls.every((c) => c.method === "HEAD"), "distribution sends Docker-Content-Digest on HEAD: no GET fallback");
    });

    test("getImageConfig: created, os/architecture, Labels and history as pushed; digest is the config's (OCI, Docker v2, index + platform)", async () => {
      const rec = recorder();
      const client = testerClient(rec);
      for (const [r, opts, img] of [
        [ref(REPOS.oci, ":1.0"), {}, ociImage],
        [ref(REPOS.docker, ":2.0"), {}, dockerImage],
        [ref(REPOS.multiarch, ":v1"), { platform: "linux/arm64" }, arm64],
        [ref(REPOS.multiarch, ":v1"), { platform: "linux/amd64" }, amd64],
      ]) {
        const c = await client.getImageConfig(r, opts);
        assert.equal(c.digest, img.configDigest, r);
        assert.deepEqual(c.config, img.configJson, r);
        assert.equal(c.config.created, img.configJson.created);
        assert.deepEqual(c.config.config.Labels, img.configJson.config.Labels);
        assert.equal(c.config.history.length, img.layers.length + 1);
      }
      const arm = await client.getImageConfig(ref(REPOS.multiarch, ":v1"), { platform: "linux/arm64/v8" });
      assert.equal(arm.config.architecture, "arm64");
      assert.equal(arm.config.variant, "v8");
      const blobs = registryCalls(rec).filter((c) => c.path.includes("/blobs/") && c.status === 200).map((c) => c.path.split("/").pop());
      assert.deepEqual(blobs, [ociImage.configDigest, dockerImage.configDigest, arm64.configDigest, amd64.configDigest, arm64.configDigest]);
    });

    test("getImageConfig of an index without platform → INVALID_REFERENCE naming the platforms to choose from", async () => {
      const err = await rejectsWith(testerClient().getImageConfig(ref(REPOS.multiarch, ":v1")), "INVALID_REFERENCE");
      assert.match(err.message, /linux\/amd64/);
      assert.match(err.message, /linux\/arm64/);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe("deleteManifest", () => {
    beforeEach(() => reg?.tokenServer.reset());
    test("tag → HEAD for the digest → one DELETE by digest (202) with a delete token; digest and both tags gone afterwards", async () => {
      const target = ref(REPOS.doomed, ":v1");
      // Without the delete action (reader): refused, and nothing is deleted.
      const readerRec = recorder();
      const reader = new pkg.RegistryClient({ credentials: { [reg.host]: { ...reg.users.reader } }, fetch: readerRec });
      await rejectsWith(reader.deleteManifest(target), "UNAUTHORIZED", { status: 401 });
      const readerDeletes = registryCalls(readerRec).filter((c) => c.method === "DELETE" && c.scheme === "Bearer");
      assert.ok(readerDeletes.length >= 1 && readerDeletes.length <= 2 && readerDeletes.every((c) => c.status === 401), JSON.stringify(readerDeletes));
      assert.equal((await testerClient().headManifest(target)).digest, doomedImage.digest, "still there");
      reg.tokenServer.reset();

      const rec = recorder();
      const client = testerClient(rec);
      assert.equal(await client.deleteManifest(target), undefined);
      const calls = registryCalls(rec).filter((c) => c.status !== 401);
      assert.deepEqual(calls.map((c) => `${c.method} ${c.path} ${c.status}`), [
        `HEAD /v2/${REPOS.doomed}/manifests/v1 200`,
        `DELETE /v2/${REPOS.doomed}/manifests/${doomedImage.digest} 202`,
      ]);
      assert.equal(registryCalls(rec).filter((c) => c.method === "DELETE").length, 1, "DELETE sent once");
      const deleteScope = tokenLog().map((r) => scopeMap(requestedScopes(r))).find((m) => m[`repository:${REPOS.doomed}`]?.includes("delete"));
      assert.ok(deleteScope, `a token with the delete action was asked for: ${JSON.stringify(tokenLog().map(requestedScopes))}`);
      assert.ok(tokenLog().some((r) => r.access?.some((a) => a.name === REPOS.doomed && a.actions.includes("delete"))));

      const gone = await rejectsWith(client.getManifest(ref(REPOS.doomed, `@${doomedImage.digest}`)), "NOT_FOUND", { status: 404 });
      assert.equal(gone.errors[0].code, "MANIFEST_UNKNOWN");
      for (const tag of [":v1", ":v2"]) await rejectsWith(client.getManifest(ref(REPOS.doomed, tag)), "NOT_FOUND", { status: 404 });
      assert.deepEqual(await client.listTags(ref(REPOS.doomed)), [], "distribution answers tags: null");
      // Deleting it again by digest: distribution answers 404.
      const again = await rejectsWith(client.deleteManifest(ref(REPOS.doomed, `@${doomedImage.digest}`)), "NOT_FOUND", { status: 404 });
      if (again.errors) assert.equal(again.errors[0].code, "MANIFEST_UNKNOWN"); // absent if a HEAD (no body) answered first
      // The other images are untouched.
      assert.equal((await client.headManifest(ref(REPOS.oci, ":1.0"))).digest, ociImage.digest);
    });
  });

  // ---------------------------------------------------------------------------------------------
  test("module-level functions use the shared client (public repository, anonymous)", async () => {
    for (const name of ["listTags", "tagPages", "catalog", "getManifest", "headManifest", "getImageConfig", "deleteManifest", "registryFetch"]) {
      assert.equal(typeof pkg[name], "function", name);
    }
    const many = ref(REPOS.many);
    assert.deepEqual(await pkg.listTags(many, { limit: 3 }), (await new pkg.RegistryClient().listTags(many)).slice(0, 3));
    const res = await pkg.registryFetch(many, "tags/list");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).tags.length, MANY_TAGS.length);
    assert.equal((await pkg.headManifest(`${many}:t1049`)).digest, tinyImage.digest);
    assert.deepEqual((await pkg.getImageConfig(`${many}:t0000`)).config, tinyImage.configJson);
    await rejectsWith(pkg.catalog(reg.host), "UNAUTHORIZED");
  });
});
