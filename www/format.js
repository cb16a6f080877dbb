// Pure helpers of the demo page (no DOM), also imported by tests/demo/format.test.mjs.

/** "eyJhbGciOi…Xk3Q" — enough to recognise a token without putting all of it on screen. */
export function truncateToken(token, head = 24, tail = 8) {
  if (typeof token !== "string") return "";
  return token.length <= head + tail + 1 ? token : `${token.slice(0, head)}…${token.slice(-tail)}`;
}

function base64UrlToText(part) {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/**
 * The header and claims of a JWS compact token (RFC 7515 §7.1), without checking the signature:
 * only the registry can do that. null when `token` is not a JWT (opaque tokens are common).
 */
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return null;
  try {
    const header = JSON.parse(base64UrlToText(parts[0]));
    const claims = JSON.parse(base64UrlToText(parts[1]));
    if (!header || typeof header !== "object" || !claims || typeof claims !== "object") return null;
    return { header, claims };
  } catch {
    return null;
  }
}

/**
 * A JWT header for display: `x5c` certificate chains are thousands of characters of base64, so
 * each entry is shortened.
 */
export function displayHeader(header) {
  if (!Array.isArray(header?.x5c)) return header;
  return { ...header, x5c: header.x5c.map((c) => (typeof c === "string" ? `${c.slice(0, 16)}… (${c.length} chars)` : c)) };
}

/** Claims for display, with the NumericDate claims (RFC 7519 §4.1.4–6) also shown as ISO times. */
export function displayClaims(claims) {
  const out = { ...claims };
  for (const k of ["exp", "nbf", "iat"]) {
    if (typeof claims[k] === "number") out[k] = `${claims[k]} (${new Date(claims[k] * 1000).toISOString()})`;
  }
  return out;
}

/** Remaining time as "4:59" or "1:02:03"; "expired" at or below zero. */
export function formatRemaining(ms) {
  if (!(ms > 0)) return "expired";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * Splits a library error message into what happened and the browser/CORS advice the library
 * appends (". In a browser this is also how a missing CORS header shows: …").
 */
export function splitHint(message) {
  const text = String(message ?? "");
  const at = text.search(/In a browser|\bCORS\b|Access-Control-/);
  if (at < 0) return { message: text, hint: null };
  const cut = text.lastIndexOf(". ", at);
  if (cut < 0) return { message: text, hint: null };
  return { message: text.slice(0, cut + 1), hint: text.slice(cut + 2) };
}

/**
 * What a request made by the library is for: the `/v2/` ping is the challenge; `_catalog`,
 * `tags/list`, `manifests/…` and `blobs/…` are registry calls; anything else goes to the realm.
 */
export function requestKind(url) {
  let path;
  try {
    path = new URL(url).pathname;
  } catch {
    return "token";
  }
  if (path.endsWith("/v2/")) return "challenge";
  // examples/worker's endpoints (GET /catalog?registry=…, /tags?image=…, /manifest?image=…, /config?image=…)
  const worker = /\/(catalog|tags|manifest|config)$/.exec(path);
  if (worker && /[?&](image|registry)=/.test(url)) return { catalog: "catalog", tags: "tags", manifest: "manifest", config: "blob" }[worker[1]];
  if (/\/v2\/_catalog$/.test(path)) return "catalog";
  if (/\/v2\/.+\/tags\/list$/.test(path)) return "tags";
  if (/\/v2\/.+\/manifests\/[^/]+$/.test(path)) return "manifest";
  if (/\/v2\/.+\/blobs\/[^/]+$/.test(path)) return "blob";
  return "token";
}

/**
 * A `fetch` to pass as `options.fetch`: calls the real one and records each request's kind,
 * method, URL, status (0 when it failed) and start/duration in ms into `log`.
 */
export function recordingFetch(log, realFetch = globalThis.fetch, clock = () => performance.now()) {
  const t0 = clock();
  return async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const entry = { kind: requestKind(url), method: init.method ?? "GET", url, status: null, start: clock() - t0, ms: null, error: null };
    log.push(entry);
    try {
      const res = await realFetch(input, init);
      entry.status = res.status;
      return res;
    } catch (err) {
      entry.status = 0;
      entry.error = err?.message ?? String(err);
      throw err;
    } finally {
      entry.ms = clock() - t0 - entry.start;
    }
  };
}

/** The dev proxy base URL for a registry base URL, e.g. https://registry-1.docker.io → <origin>/proxy/registry-1.docker.io. */
export function proxyBase(origin, registryUrl) {
  return `${origin}/proxy/${new URL(registryUrl).host}`;
}

// ---------------------------------------------------------------------------------------------
// The dashboard: tags, sizes, platforms, media types, errors.

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:[-+_~](.+))?$/i;

/** A tag as a version: { nums: [major, minor, patch, build], pre } or null ("latest", "main"). */
export function parseVersion(tag) {
  const m = VERSION.exec(String(tag));
  if (!m) return null;
  return { nums: m.slice(1, 5).map((n) => (n === undefined ? -1 : Number(n))), pre: m[5] ?? null };
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Name order with numbers compared as numbers: "1.9" < "1.10", "alpine3.9" < "alpine3.19". */
export const compareNatural = (a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Semver-aware order, highest version first: 2.0 > 1.10.1 > 1.10 > 1.10.0-rc.1 > 1.9; tags that
 * are not versions ("latest", "edge") come after every version, in name order.
 */
export function compareVersionsDesc(a, b) {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (!va || !vb) return va ? -1 : vb ? 1 : compareNatural(a, b);
  for (let i = 0; i < 4; i++) if (va.nums[i] !== vb.nums[i]) return vb.nums[i] - va.nums[i];
  if (va.pre !== vb.pre) {
    if (va.pre === null) return -1; // a release is above its pre-releases
    if (vb.pre === null) return 1;
    return compareNatural(vb.pre, va.pre);
  }
  return compareNatural(a, b);
}

/**
 * `tags` filtered by `query` (case-insensitive substring; `*` matches anything) and sorted by
 * `sort`: "version" (highest first), "name" (A→Z, numbers in order) or "created" (newest first by
 * `created(tag)` → ms or undefined; unknown dates last, in version order). A new array.
 */
export function selectTags(tags, { query = "", sort = "version", created = () => undefined } = {}) {
  const q = query.trim().toLowerCase();
  let out = tags;
  if (q) {
    const re = q.includes("*") ? new RegExp(`^${q.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`) : null;
    out = tags.filter((t) => (re ? re.test(t.toLowerCase()) : t.toLowerCase().includes(q)));
  } else {
    out = [...tags];
  }
  if (sort === "name") return out.sort(compareNatural);
  if (sort === "created") {
    return out.sort((a, b) => {
      const ca = created(a);
      const cb = created(b);
      if (ca !== undefined && cb !== undefined && ca !== cb) return cb - ca;
      if ((ca === undefined) !== (cb === undefined)) return ca === undefined ? 1 : -1;
      return compareVersionsDesc(a, b);
    });
  }
  return out.sort(compareVersionsDesc);
}

/** "1,500" (thousands grouped the same way on every machine, for tests and screenshots alike). */
export const formatCount = (n) => Math.round(n).toLocaleString("en-US");

/** `n` "tag"/"tags". */
export const plural = (n, one, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** The progress line of a tag listing: "1,200 tags, 12 pages, loading…". */
export function progressText({ tags, pages, state, ms }) {
  const head = `${plural(tags, "tag")}, ${plural(pages, "page")}`;
  if (state === "loading") return `${head}, loading…`;
  if (state === "stopped") return `${head}, stopped. Tags arrived so far are listed.`;
  if (state === "error") return `${head}, then an error (below).`;
  const took = ms === undefined ? "" : ms < 1000 ? ` in ${Math.round(ms)} ms` : ` in ${(ms / 1000).toFixed(1)} s`;
  return `${head}, all loaded${took}.`;
}

/** Compressed bytes as Docker shows them (powers of 1000): "999 B", "1.2 kB", "45.3 MB". */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "—";
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 999.95 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** `os/arch[/variant]`, e.g. "linux/arm/v7", from a Platform or an OCI descriptor's `platform`. */
export function platformText(p) {
  if (!p) return "";
  const arch = p.architecture ?? p.arch;
  return [p.os, arch, p.variant].filter(Boolean).join("/");
}

/** The platform to show first for an index: linux/amd64 if there is one, else the first. */
export function defaultPlatform(platforms) {
  if (!platforms?.length) return null;
  return platforms.find((p) => p.os === "linux" && p.architecture === "amd64") ?? platforms[0];
}

/** What a manifest media type is: { family: "OCI"|"Docker"|"other", kind: "index"|"image"|"other", text }. */
export function mediaTypeInfo(mediaType) {
  const t = String(mediaType ?? "").split(";")[0].trim();
  const table = {
    "application/vnd.oci.image.index.v1+json": ["OCI", "index"],
    "application/vnd.oci.image.manifest.v1+json": ["OCI", "image"],
    "application/vnd.docker.distribution.manifest.list.v2+json": ["Docker", "index"],
    "application/vnd.docker.distribution.manifest.v2+json": ["Docker", "image"],
    "application/vnd.docker.distribution.manifest.v1+prettyjws": ["Docker", "schema 1"],
    "application/vnd.docker.distribution.manifest.v1+json": ["Docker", "schema 1"],
  };
  const [family, kind] = table[t] ?? ["other", "other"];
  return { family, kind, text: family === "other" ? t || "unknown" : `${family} ${kind}` };
}

/** "sha256:0123456789ab" — 12 hex digits, as `docker images` shows IDs. */
export function shortDigest(digest) {
  const s = String(digest ?? "");
  const at = s.indexOf(":");
  return at < 0 ? s.slice(0, 12) : s.slice(0, at + 13);
}

/** Compressed size of an image manifest: config + layers (what a pull downloads). null for an index. */
export function compressedSize(manifest) {
  if (!manifest?.config || !Array.isArray(manifest.layers)) return null;
  return manifest.layers.reduce((sum, l) => sum + (Number(l.size) || 0), Number(manifest.config.size) || 0);
}

/** A config's `created` as "2024-05-01 12:00 UTC" (one format for every locale and time zone). */
export function formatCreated(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return "—";
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * When to retry after a 429: `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3).
 * → { at: ms since the epoch, text: "retry in 42 s (at 12:01:05 UTC)" }, or null when absent or unreadable.
 */
export function retryAfterInfo(retryAfter, now = Date.now()) {
  if (retryAfter === undefined || retryAfter === null || retryAfter === "") return null;
  const s = String(retryAfter).trim();
  const at = /^\d+$/.test(s) ? now + Number(s) * 1000 : Date.parse(s);
  if (Number.isNaN(at)) return null;
  const secs = Math.max(0, Math.ceil((at - now) / 1000));
  const wait = secs >= 120 ? `${Math.round(secs / 60)} min` : `${secs} s`;
  return { at, text: `retry in ${wait} (at ${new Date(at).toISOString().slice(11, 19)} UTC)` };
}

/**
 * What the page shows of a rejection: { code, status, message, hint, registry, retry }. `registry`
 * is the registry's own words ("TOOMANYREQUESTS: slow down"), `hint` the package's CORS advice.
 */
export function errorView(err, now = Date.now()) {
  const { message, hint } = splitHint(err?.message ?? String(err));
  const entries = Array.isArray(err?.errors) ? err.errors : [];
  return {
    code: err?.code ?? err?.name ?? "Error",
    status: typeof err?.status === "number" ? err.status : null,
    message,
    hint,
    registry: entries.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ") || null,
    retry: err?.code === "RATE_LIMITED" ? retryAfterInfo(err.retryAfter, now) : null,
  };
}

/**
 * Runs at most `n` of the queued jobs at once. `run(job)` returns a promise for `job()`'s result;
 * `pending()` counts waiting and running jobs; `clear()` drops the waiting ones (they reject with
 * an AbortError-named error).
 */
export function createLimiter(n) {
  const waiting = [];
  let running = 0;
  const next = () => {
    while (running < n && waiting.length) {
      const { job, resolve, reject } = waiting.shift();
      running++;
      Promise.resolve().then(job).then(resolve, reject).finally(() => {
        running--;
        next();
      });
    }
  };
  return {
    run(job) {
      return new Promise((resolve, reject) => {
        waiting.push({ job, resolve, reject });
        next();
      });
    },
    pending: () => waiting.length + running,
    clear() {
      for (const w of waiting.splice(0)) w.reject(Object.assign(new Error("dropped from the queue"), { name: "AbortError" }));
    },
  };
}

/** A registry the user typed → its host: "https://GHCR.io/" → "ghcr.io", "docker.io" stays. null if not a host. */
export function registryHost(input) {
  let s = String(input ?? "").trim().replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(s)) return null;
  s = s.toLowerCase();
  return s === "index.docker.io" || s === "registry-1.docker.io" || s === "hub.docker.com" ? "docker.io" : s;
}

// ---------------------------------------------------------------------------------------------
// examples/worker as the page's backend: the Worker makes the registry calls (with its own
// credentials) and answers JSON; the page calls it instead of the package in the browser.

/** A Worker URL the user typed → its base ("https://proxy.example.workers.dev", no trailing slash), or null. */
export function workerBase(input) {
  const s = String(input ?? "").trim();
  if (!s) return null;
  let u;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`);
  } catch {
    return null;
  }
  if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password || u.search || u.hash) return null;
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

/**
 * A Worker's error answer ({code, message, status?, retryAfter?}) as the package's errors look to
 * the page: { name, code, status, message, retryAfter }. `status` is the registry's when the Worker
 * names it, else the Worker's own HTTP status (403 REGISTRY_NOT_ALLOWED, 500 CONFIGURATION).
 */
export function workerError(httpStatus, body, retryAfterHeader = null) {
  const ok = body && typeof body === "object" && typeof body.code === "string";
  const err = new Error(ok && typeof body.message === "string" ? `The Worker says: ${body.message}` : `The Worker answered HTTP ${httpStatus} without its JSON error body.`);
  err.name = "WorkerError";
  err.code = ok ? body.code : "UNEXPECTED_RESPONSE";
  err.status = ok && typeof body.status === "number" ? body.status : httpStatus;
  const retryAfter = (ok && typeof body.retryAfter === "string" && body.retryAfter) || retryAfterHeader;
  if (retryAfter) err.retryAfter = retryAfter;
  return err;
}

/**
 * The calls the page makes, answered by the Worker at `base` (GET /catalog, /tags, /manifest,
 * /config) with the package's shapes, so the same rendering serves both. Each call takes
 * `{ fetch, signal, platform }` (fetch: the page's recording fetch). `/tags` answers every tag at
 * once: tagPages yields one page. headManifest is a GET /manifest whose answer getManifest of the
 * same digest reuses (the Worker has no HEAD). Pull only: no authorize, no deleteManifest.
 */
export function createWorkerClient(base, { origin = globalThis.location?.origin ?? "" } = {}) {
  const manifests = new Map(); // digest → the Worker's /manifest answer
  async function call(endpoint, params, { fetch: f = globalThis.fetch, signal } = {}) {
    const url = `${base}/${endpoint}?${new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null))}`;
    let res;
    try {
      res = await f(url, { signal });
    } catch (err) {
      if (err?.name === "AbortError") throw Object.assign(new Error("stopped"), { name: "WorkerError", code: "ABORTED" });
      throw Object.assign(new Error(`Could not reach the Worker at ${base} (${err?.message ?? err}). In a browser this is also how a missing CORS header shows: the Worker's ALLOWED_ORIGIN must list this page's origin${origin ? ` (${origin})` : ""}.`), { name: "WorkerError", code: "NETWORK" });
    }
    let body = null;
    try {
      body = await res.json();
    } catch { /* not JSON: workerError says so */ }
    if (!res.ok || body === null) throw workerError(res.status, body, res.headers.get("retry-after"));
    return body;
  }
  async function manifest(image, opts = {}) {
    const m = await call("manifest", { image, platform: opts.platform }, opts);
    if (!opts.platform) manifests.set(m.digest, m);
    return m;
  }
  return {
    worker: base,
    async catalog(registry, opts) {
      return (await call("catalog", { registry }, opts)).repositories;
    },
    async *tagPages(image, opts) {
      yield (await call("tags", { image }, opts)).tags;
    },
    async headManifest(image, opts) {
      const { digest, mediaType, size } = await manifest(image, opts);
      return { digest, mediaType, size };
    },
    async getManifest(image, opts) {
      const at = image.lastIndexOf("@");
      return (at > 0 && manifests.get(image.slice(at + 1))) || manifest(image, opts);
    },
    async getImageConfig(image, opts = {}) {
      return call("config", { image, platform: opts.platform }, opts);
    },
  };
}
