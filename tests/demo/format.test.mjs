// The dashboard's pure helpers (www/format.js), in Node.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compareNatural, compareVersionsDesc, compressedSize, createLimiter, decodeJwt, defaultPlatform, displayClaims, displayHeader, errorView, formatBytes,
  formatCount, formatCreated, formatRemaining, mediaTypeInfo, parseVersion, platformText, plural, progressText, proxyBase, recordingFetch,
  registryHost, requestKind, retryAfterInfo, selectTags, shortDigest, splitHint, truncateToken, createWorkerClient, workerBase, workerError,
} from "../../www/format.js";

const b64url = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");

test("truncateToken keeps the head and tail of long tokens only", () => {
  assert.equal(truncateToken("short"), "short");
  assert.equal(truncateToken("a".repeat(24) + "b".repeat(20) + "c".repeat(8)), `${"a".repeat(24)}…${"c".repeat(8)}`);
  assert.equal(truncateToken(null), "");
});

test("decodeJwt decodes header and claims (UTF-8, no padding) and says null for opaque tokens", () => {
  const jwt = `${b64url({ alg: "ES256", typ: "JWT" })}.${b64url({ sub: "zoë", exp: 1 })}.sig`;
  assert.deepEqual(decodeJwt(jwt), { header: { alg: "ES256", typ: "JWT" }, claims: { sub: "zoë", exp: 1 } });
  for (const t of ["", "opaque-token", "a.b", "a.b.c.d", `${b64url({})}.!!.x`, "e30.bm90IGpzb24.x", `${b64url(1)}.${b64url(2)}.x`, undefined]) {
    assert.equal(decodeJwt(t), null, String(t));
  }
});

test("displayHeader shortens x5c; displayClaims adds ISO times", () => {
  assert.deepEqual(displayHeader({ alg: "ES256", x5c: ["M".repeat(600)] }), { alg: "ES256", x5c: [`${"M".repeat(16)}… (600 chars)`] });
  assert.deepEqual(displayHeader({ alg: "RS256" }), { alg: "RS256" });
  assert.deepEqual(displayClaims({ exp: 0, sub: "x" }), { exp: "0 (1970-01-01T00:00:00.000Z)", sub: "x" });
});

test("formatRemaining", () => {
  assert.equal(formatRemaining(299_500), "4:59");
  assert.equal(formatRemaining(3_723_000), "1:02:03");
  assert.equal(formatRemaining(999), "0:00");
  assert.equal(formatRemaining(0), "expired");
  assert.equal(formatRemaining(-5), "expired");
  assert.equal(formatRemaining(NaN), "expired");
});

test("splitHint separates the library's browser/CORS advice from what happened", () => {
  const network = "could not reach the registry at http://r.example/v2/: Failed to fetch. In a browser this is also how a missing CORS header shows: the server must …";
  assert.deepEqual(splitHint(network), {
    message: "could not reach the registry at http://r.example/v2/: Failed to fetch.",
    hint: "In a browser this is also how a missing CORS header shows: the server must …",
  });
  assert.deepEqual(splitHint("bad name"), { message: "bad name", hint: null });
  assert.equal(splitHint("x. In a browser the header is hidden unless …").hint, "In a browser the header is hidden unless …");
});

test("requestKind: the /v2/ ping is the challenge, the realm the token request", () => {
  assert.equal(requestKind("http://127.0.0.1:5000/v2/"), "challenge");
  assert.equal(requestKind("http://127.0.0.1:8080/proxy/ghcr.io/v2/"), "challenge");
  assert.equal(requestKind("https://auth.docker.io/token?scope=x"), "token");
  assert.equal(requestKind("not a url"), "token");
});

test("recordingFetch logs kind, method, status and timing, and passes failures through", async () => {
  const log = [];
  let now = 100;
  const fake = async (url, init) => {
    now += 7;
    if (url.includes("down")) throw new TypeError("Failed to fetch");
    return { status: init.method === "POST" ? 200 : 401 };
  };
  const f = recordingFetch(log, fake, () => now);
  assert.equal((await f("http://r/v2/", {})).status, 401);
  assert.equal((await f("http://auth/token", { method: "POST" })).status, 200);
  await assert.rejects(f("http://down/v2/", {}), TypeError);
  assert.deepEqual(log, [
    { kind: "challenge", method: "GET", url: "http://r/v2/", status: 401, start: 0, ms: 7, error: null },
    { kind: "token", method: "POST", url: "http://auth/token", status: 200, start: 7, ms: 7, error: null },
    { kind: "challenge", method: "GET", url: "http://down/v2/", status: 0, start: 14, ms: 7, error: "Failed to fetch" },
  ]);
});

test("proxyBase", () => {
  assert.equal(proxyBase("http://127.0.0.1:8080", "https://registry-1.docker.io"), "http://127.0.0.1:8080/proxy/registry-1.docker.io");
  assert.equal(proxyBase("http://127.0.0.1:8080", "http://localhost:5000"), "http://127.0.0.1:8080/proxy/localhost:5000");
});

test("requestKind names each registry call", () => {
  assert.equal(requestKind("http://r/v2/_catalog?n=1000"), "catalog");
  assert.equal(requestKind("http://r/v2/a/b/tags/list?n=100&last=x"), "tags");
  assert.equal(requestKind("http://r/proxy/ghcr.io/v2/o/r/manifests/sha256:ab"), "manifest");
  assert.equal(requestKind("http://r/v2/o/r/blobs/sha256:ab"), "blob");
  assert.equal(requestKind("http://r/v2/o/r/blobs/uploads/"), "token", "not a call the dashboard makes");
});

test("compareVersionsDesc: semver-aware, releases above their pre-releases, non-versions last", () => {
  const tags = ["latest", "1.9", "1.10", "1.10.0-rc.1", "1.10.0", "v2.0.0", "1.2.3", "edge", "1.10.0-rc.2", "10.0"];
  assert.deepEqual([...tags].sort(compareVersionsDesc), ["10.0", "v2.0.0", "1.10.0", "1.10.0-rc.2", "1.10.0-rc.1", "1.10", "1.9", "1.2.3", "edge", "latest"]);
  assert.deepEqual(parseVersion("v1.2.3-alpine"), { nums: [1, 2, 3, -1], pre: "alpine" });
  assert.equal(parseVersion("latest"), null);
  assert.deepEqual(["a10", "a9", "A1", "b"].sort(compareNatural), ["A1", "a9", "a10", "b"]);
});

test("selectTags filters (substring or * glob, any case) and sorts by version, name or date", () => {
  const tags = ["1.0.10", "1.0.9", "2.0.0", "latest", "1.1.0-RC1"];
  assert.deepEqual(selectTags(tags), ["2.0.0", "1.1.0-RC1", "1.0.10", "1.0.9", "latest"]);
  assert.deepEqual(selectTags(tags, { sort: "name" }), ["1.0.9", "1.0.10", "1.1.0-RC1", "2.0.0", "latest"]);
  assert.deepEqual(selectTags(tags, { query: "rc" }), ["1.1.0-RC1"]);
  assert.deepEqual(selectTags(tags, { query: "1.*.1*" }), ["1.0.10"], "anchored at both ends");
  assert.deepEqual(selectTags(tags, { query: "  1.0. " }), ["1.0.10", "1.0.9"]);
  const dates = { "1.0.9": 300, "2.0.0": 100, latest: 300 };
  assert.deepEqual(selectTags(tags, { sort: "created", created: (t) => dates[t] }), ["1.0.9", "latest", "2.0.0", "1.1.0-RC1", "1.0.10"]);
  assert.notEqual(selectTags(tags), tags, "a new array");
  assert.deepEqual(tags, ["1.0.10", "1.0.9", "2.0.0", "latest", "1.1.0-RC1"], "the input is left alone");
});

test("counts, progress lines, sizes", () => {
  assert.equal(formatCount(1500), "1,500");
  assert.equal(plural(1, "page"), "1 page");
  assert.equal(plural(1200, "tag"), "1,200 tags");
  assert.equal(plural(2, "repository", "repositories"), "2 repositories");
  assert.equal(progressText({ tags: 1200, pages: 12, state: "loading" }), "1,200 tags, 12 pages, loading…");
  assert.equal(progressText({ tags: 1500, pages: 15, state: "done", ms: 2481 }), "1,500 tags, 15 pages, all loaded in 2.5 s.");
  assert.equal(progressText({ tags: 1500, pages: 1, state: "done", ms: 341.6 }), "1,500 tags, 1 page, all loaded in 342 ms.");
  assert.equal(progressText({ tags: 2, pages: 1, state: "done" }), "2 tags, 1 page, all loaded.");
  assert.equal(progressText({ tags: 100, pages: 1, state: "stopped" }), "100 tags, 1 page, stopped. Tags arrived so far are listed.");
  assert.equal(progressText({ tags: 0, pages: 0, state: "error" }), "0 tags, 0 pages, then an error (below).");
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1000), "1.00 kB");
  assert.equal(formatBytes(22_215), "22.2 kB");
  assert.equal(formatBytes(3_456_789), "3.46 MB");
  assert.equal(formatBytes(999_999), "1.00 MB");
  assert.equal(formatBytes(-1), "—");
  assert.equal(formatBytes(undefined), "—");
});

test("platforms, media types, digests, sizes, dates", () => {
  assert.equal(platformText({ os: "linux", architecture: "arm", variant: "v7" }), "linux/arm/v7");
  assert.equal(platformText({ os: "linux", architecture: "amd64" }), "linux/amd64");
  assert.equal(platformText(null), "");
  const ps = [{ os: "linux", architecture: "arm64", variant: "v8" }, { os: "linux", architecture: "amd64" }];
  assert.equal(defaultPlatform(ps), ps[1]);
  assert.equal(defaultPlatform([ps[0]]), ps[0]);
  assert.equal(defaultPlatform([]), null);
  assert.deepEqual(mediaTypeInfo("application/vnd.oci.image.index.v1+json"), { family: "OCI", kind: "index", text: "OCI index" });
  assert.equal(mediaTypeInfo("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8").text, "Docker image");
  assert.equal(mediaTypeInfo("application/vnd.docker.distribution.manifest.list.v2+json").text, "Docker index");
  assert.deepEqual(mediaTypeInfo("application/x-other"), { family: "other", kind: "other", text: "application/x-other" });
  assert.equal(shortDigest(`sha256:${"0123456789abcdef".repeat(4)}`), "sha256:0123456789ab");
  assert.equal(compressedSize({ config: { size: 10 }, layers: [{ size: 5 }, { size: 7 }] }), 22);
  assert.equal(compressedSize({ manifests: [] }), null);
  assert.equal(formatCreated("2024-05-01T10:00:00Z"), "2024-05-01 10:00 UTC");
  assert.equal(formatCreated(undefined), "—");
  assert.equal(formatCreated("yesterday"), "—");
});

test("retryAfterInfo reads seconds and HTTP dates; errorView gathers what the error panel shows", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  assert.deepEqual(retryAfterInfo("42", now), { at: now + 42_000, text: "retry in 42 s (at 12:00:42 UTC)" });
  assert.deepEqual(retryAfterInfo("Thu, 01 Jan 2026 12:05:00 GMT", now), { at: now + 300_000, text: "retry in 5 min (at 12:05:00 UTC)" });
  assert.equal(retryAfterInfo(undefined, now), null);
  assert.equal(retryAfterInfo("soon", now), null);
  const err = Object.assign(new Error("the registry answered 429 for GET …/tags/list"), {
    code: "RATE_LIMITED", status: 429, retryAfter: "7", errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }],
  });
  assert.deepEqual(errorView(err, now), {
    code: "RATE_LIMITED", status: 429, message: "the registry answered 429 for GET …/tags/list", hint: null,
    registry: "TOOMANYREQUESTS: slow down", retry: { at: now + 7000, text: "retry in 7 s (at 12:00:07 UTC)" },
  });
  const cors = Object.assign(new Error("could not reach http://r/v2/: Failed to fetch. In a browser this is also how a missing CORS header shows."), { code: "NETWORK" });
  assert.deepEqual(errorView(cors, now), {
    code: "NETWORK", status: null, message: "could not reach http://r/v2/: Failed to fetch.", hint: "In a browser this is also how a missing CORS header shows.", registry: null, retry: null,
  });
  assert.equal(errorView(new TypeError("x")).code, "TypeError");
});

test("createLimiter runs at most n jobs at once, in order, and clear() drops the waiting ones", async () => {
  const limiter = createLimiter(2);
  let running = 0;
  let peak = 0;
  const order = [];
  const job = (i) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    order.push(i);
    running--;
    return i * 10;
  };
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.run(job(i))));
  assert.deepEqual(results, [0, 10, 20, 30, 40]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  await assert.rejects(limiter.run(() => { throw new Error("boom"); }), /boom/);
  const slow = limiter.run(job(5));
  const other = limiter.run(job(6));
  const dropped = limiter.run(job(7));
  assert.equal(limiter.pending(), 3);
  limiter.clear();
  await assert.rejects(dropped, { name: "AbortError" });
  assert.deepEqual(await Promise.all([slow, other]), [50, 60]);
  assert.equal(limiter.pending(), 0);
});

test("registryHost accepts what people paste", () => {
  assert.equal(registryHost("https://GHCR.io/"), "ghcr.io");
  assert.equal(registryHost("ghcr.io/owner/repo"), "ghcr.io");
  assert.equal(registryHost("127.0.0.1:5000"), "127.0.0.1:5000");
  assert.equal(registryHost("registry-1.docker.io"), "docker.io");
  assert.equal(registryHost("[::1]:5000"), "[::1]:5000");
  assert.equal(registryHost("not a host"), null);
  assert.equal(registryHost(""), null);
});

test("workerBase: a Worker URL as typed → its base without a trailing slash; null for what is not one", () => {
  assert.equal(workerBase("https://registry-proxy.example.workers.dev/"), "https://registry-proxy.example.workers.dev");
  assert.equal(workerBase(" registry-proxy.example.workers.dev "), "https://registry-proxy.example.workers.dev");
  assert.equal(workerBase("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
  assert.equal(workerBase("https://example.com/api/registry//"), "https://example.com/api/registry");
  for (const bad of ["", "   ", null, "ftp://x.example", "https://user:pw@x.example", "https://x.example/?a=1", "https://x.example/#h", "http://"]) {
    assert.equal(workerBase(bad), null, String(bad));
  }
});

test("workerError: the Worker's {code, message, status?, retryAfter?} as the page's error view reads it", () => {
  const denied = workerError(403, { code: "REGISTRY_NOT_ALLOWED", message: 'registry "ghcr.io" is not in this Worker\'s ALLOWED_REGISTRIES' });
  assert.deepEqual(errorView(denied), {
    code: "REGISTRY_NOT_ALLOWED", status: 403, message: 'The Worker says: registry "ghcr.io" is not in this Worker\'s ALLOWED_REGISTRIES', hint: null, registry: null, retry: null,
  });
  // The registry's status when the Worker passes it on; Retry-After from the body, else the header.
  const now = Date.parse("2026-01-01T12:00:00Z");
  const limited = workerError(429, { code: "RATE_LIMITED", message: "slow down", status: 429, retryAfter: "42" });
  assert.deepEqual(errorView(limited, now).retry, { at: now + 42_000, text: "retry in 42 s (at 12:00:42 UTC)" });
  assert.equal(workerError(429, { code: "RATE_LIMITED", message: "x", status: 429 }, "7").retryAfter, "7");
  assert.equal(workerError(401, { code: "UNAUTHORIZED", message: "x", status: 401 }).status, 401);
  assert.equal(workerError(502, { code: "NOT_FOUND", message: "x", status: 404 }).status, 404);
  // Not the Worker's JSON (a gateway's HTML page): said so, with the HTTP status.
  const odd = workerError(502, null);
  assert.equal(odd.code, "UNEXPECTED_RESPONSE");
  assert.equal(odd.status, 502);
  assert.match(odd.message, /HTTP 502 without its JSON error body/);
});

test("requestKind names examples/worker's endpoints too", () => {
  assert.equal(requestKind("https://w.example/catalog?registry=ghcr.io"), "catalog");
  assert.equal(requestKind("https://w.example/tags?image=ghcr.io%2Fo%2Fr"), "tags");
  assert.equal(requestKind("https://w.example/api/manifest?image=a%40sha256%3Aab"), "manifest");
  assert.equal(requestKind("https://w.example/config?image=a&platform=linux%2Famd64"), "blob");
  assert.equal(requestKind("https://auth.example/tags"), "token", "only with the Worker's parameters");
});

test("createWorkerClient: the package's calls answered by the Worker's endpoints, one request per answer", async () => {
  const requests = [];
  const index = { digest: "sha256:" + "a".repeat(64), mediaType: "application/vnd.oci.image.index.v1+json", size: 9, manifest: { manifests: [] }, platforms: [{ os: "linux", architecture: "amd64", digest: "sha256:" + "b".repeat(64) }] };
  const answers = {
    "/catalog": () => [200, { registry: "r.example", repositories: ["a", "b/c"], truncated: false }],
    "/tags": () => [200, { name: "b/c", tags: ["1", "2", "3"], pages: 2, truncated: false }],
    "/manifest": () => [200, index],
    "/config": (q) => [200, { digest: "sha256:" + "c".repeat(64), config: { created: "2024-05-01T10:00:00Z", platform: q.get("platform") } }],
  };
  const fakeFetch = async (url, init) => {
    const u = new URL(url);
    requests.push(`${u.pathname}?${u.searchParams}`);
    assert.ok(init.signal === undefined || init.signal instanceof AbortSignal);
    const [status, body] = answers[u.pathname.replace(/^\/w/, "")](u.searchParams);
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  };
  const c = createWorkerClient("https://x.example/w", { origin: "http://page.example" });
  const opts = { fetch: fakeFetch };
  assert.deepEqual(await c.catalog("r.example", opts), ["a", "b/c"]);
  const pages = [];
  for await (const page of c.tagPages("r.example/b/c", opts)) pages.push(page);
  assert.deepEqual(pages, [["1", "2", "3"]], "every tag in one page");
  const head = await c.headManifest("r.example/b/c:1", opts);
  assert.deepEqual(head, { digest: index.digest, mediaType: index.mediaType, size: 9 });
  assert.deepEqual(await c.getManifest(`r.example/b/c@${index.digest}`, opts), index, "the HEAD's GET answers it");
  const cfg = await c.getImageConfig(`r.example/b/c@${index.digest}`, { ...opts, platform: "linux/amd64" });
  assert.equal(cfg.config.platform, "linux/amd64");
  assert.deepEqual(requests, [
    "/w/catalog?registry=r.example",
    "/w/tags?image=r.example%2Fb%2Fc",
    "/w/manifest?image=r.example%2Fb%2Fc%3A1",
    `/w/config?image=r.example%2Fb%2Fc%40${encodeURIComponent(index.digest)}&platform=linux%2Famd64`,
  ]);
  assert.equal(c.authorize, undefined, "pull only: no token panel, no delete");
  assert.equal(c.deleteManifest, undefined);

  // Errors: the Worker's JSON error; the Worker unreachable (or refusing this origin); a Stop.
  answers["/tags"] = () => [403, { code: "REGISTRY_NOT_ALLOWED", message: "not allowed" }];
  await assert.rejects(c.tagPages("ghcr.io/o/r", opts).next(), (e) => e.code === "REGISTRY_NOT_ALLOWED" && e.status === 403);
  const unreachable = async () => { throw new TypeError("Failed to fetch"); };
  const err = await c.catalog("r.example", { fetch: unreachable }).catch((e) => e);
  assert.equal(err.code, "NETWORK");
  const view = errorView(err);
  assert.equal(view.message, "Could not reach the Worker at https://x.example/w (Failed to fetch).");
  assert.equal(view.hint, "In a browser this is also how a missing CORS header shows: the Worker's ALLOWED_ORIGIN must list this page's origin (http://page.example).");
  const stopped = async () => { throw new DOMException("aborted", "AbortError"); };
  await assert.rejects(c.catalog("r.example", { fetch: stopped }), (e) => e.code === "ABORTED");
});
