// What every entry shares: the error class of every rejection and throw of the package, and
// the disposable client class. One source: the build writes common.cjs from it for the Node
// entry, and the Node ESM entry re-exports that one, so `import` and `require` in one process
// see the same class objects.

/** Every code a RegistryAuthError can carry (`err.code` is the API; the message is for people). */
const CODES = [
  "INVALID_REFERENCE",
  "INVALID_CHALLENGE",
  "NETWORK",
  "NO_CHALLENGE",
  "UNSUPPORTED_CHALLENGE",
  "UNAUTHORIZED",
  "TOKEN_ENDPOINT",
  "BAD_TOKEN_RESPONSE",
  "INSECURE_REALM",
  "TIMEOUT",
  "ABORTED",
  "NOT_FOUND",
  "RATE_LIMITED",
  "DIGEST_MISMATCH",
  "UNSUPPORTED_OPERATION",
  "REGISTRY_ERROR",
  "BAD_REGISTRY_RESPONSE",
  "NOT_INITIALIZED",
];

export class RegistryAuthError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = "RegistryAuthError";
    if (options?.code !== undefined) this.code = options.code;
  }

  /**
   * True for any object that is a RegistryAuthError by shape: `name` "RegistryAuthError" and a
   * known `code`. For values that crossed realms (another copy of the package, an object rebuilt
   * from a worker message), where `instanceof` cannot hold.
   */
  static is(value) {
    return typeof value === "object" && value !== null && value.name === "RegistryAuthError" && CODES.includes(value.code);
  }
}

/** A RegistryAuthError with `code`, as the wasm builds them (`code` an own property). */
const failure = (code, message) => new RegistryAuthError(message, { code });
export const invalid = (message) => failure("INVALID_REFERENCE", message);

/** The caller's clock as the wasm reads it: a number from `now`, else `Date.now()`; 0 if unusable. */
function clockOf(now) {
  let t;
  if (now) {
    try {
      t = now();
    } catch {}
  }
  if (typeof t !== "number") t = Date.now();
  return Number.isFinite(t) && t > 0 ? Math.floor(t) : 0;
}

/** What a credentials record holds now, by identity (never copied into a string or a key). */
function credentialsShape(record) {
  const shape = [];
  for (const key of Object.keys(record)) {
    const c = record[key];
    shape.push(key, c, c?.username, c?.password, c?.refreshToken);
  }
  return shape;
}

/** Whether `record` still holds exactly what `shape` recorded, without building a new shape. */
function sameShape(shape, record) {
  const keys = Object.keys(record);
  if (keys.length * 5 !== shape.length) return false;
  for (let i = 0, j = 0; i < keys.length; i++, j += 5) {
    const c = record[keys[i]];
    if (shape[j] !== keys[i] || shape[j + 1] !== c || shape[j + 2] !== c?.username || shape[j + 3] !== c?.password || shape[j + 4] !== c?.refreshToken) {
      return false;
    }
  }
  return true;
}

const FAST_ENTRIES = 1024;

/**
 * The fast path of `getToken(imageRef)` without options: the wasm's cached answer copied into a
 * `Map`, so a repeated call costs a lookup instead of a crossing into wasm that re-parses the
 * reference and re-reads the options. An entry is used only while everything the wasm would look
 * at is unchanged: the caches' generation (any token or challenge that left them — expiry,
 * eviction, a refusal, `clearCache()` — changes it), the caller's clock before the entry's end,
 * the default signal not aborted, and the credentials record holding the same entries. Clients
 * whose defaults ask a function for credentials never use it: the function is asked every call.
 */
export class FastTokens {
  #entries = new Map();
  #now;
  #signal;
  #credentials;
  #off;
  /** The wasm client's `{ generation }`, which it keeps current. */
  #state = null;

  constructor(defaults) {
    this.#now = typeof defaults?.now === "function" ? defaults.now : undefined;
    this.#signal = defaults?.signal ?? undefined;
    this.#credentials = defaults?.credentials ?? undefined;
    if (this.#credentials === null) this.#credentials = undefined;
    this.#off = typeof this.#credentials === "function" || (this.#credentials !== undefined && typeof this.#credentials !== "object");
  }

  /**
   * A promise of the token for `imageRef` if the fast path may answer: one settled promise per
   * entry, handed to every caller (a promise is immutable once settled), so a hit allocates nothing.
   */
  get(imageRef) {
    const e = this.#entries.get(imageRef);
    if (e === undefined) return undefined;
    if (
      e.generation !== this.#state.generation ||
      !((this.#now === undefined ? Date.now() : clockOf(this.#now)) < e.until) ||
      this.#signal?.aborted ||
      (e.shape !== null && !sameShape(e.shape, this.#credentials))
    ) {
      this.#entries.delete(imageRef);
      return undefined;
    }
    return e.promise;
  }

  /**
   * `getToken(imageRef, options)` with the fast path in front: `client()` is the wasm client (or
   * undefined once freed or before load), `slow` the full call. A call without options that
   * succeeded on the full path fills the entry.
   */
  call(imageRef, options, client, slow) {
    if (options !== undefined) return slow(imageRef, options);
    const hit = this.get(imageRef);
    if (hit !== undefined && client()) return hit;
    return slow(imageRef, options).then((token) => {
      const c = client();
      if (c) this.fill(c, imageRef);
      return token;
    });
  }

  /** After a call without options succeeded: copy the answer the wasm now holds for it. */
  fill(client, imageRef) {
    if (this.#off || typeof imageRef !== "string") return;
    const shape = this.#credentials === undefined ? null : credentialsShape(this.#credentials);
    const entry = client.cachedEntry(imageRef);
    if (entry === undefined) return;
    this.#state ??= client.cacheState();
    if (this.#entries.size >= FAST_ENTRIES) this.#entries.clear();
    this.#entries.set(imageRef, { promise: Promise.resolve(entry[0]), until: entry[1], generation: entry[2], shape });
  }

  clear() {
    this.#entries.clear();
  }
}

/** The module-level `getToken` of an entry: `FastTokens#call` on the module-wide client. */
export function fastGetToken(client, memo, slow) {
  return (imageRef, options) => memo.call(imageRef, options, client, slow);
}

/**
 * The wasm-bindgen class with what every entry's `RegistryClient` promises: `free()` harmless to
 * call twice (wasm-bindgen's throws on the second call), `[Symbol.dispose]`, and the fast path
 * of `getToken`.
 */
export function disposable(Base) {
  class RegistryClient extends Base {
    #freed = false;
    #memo;
    #self = () => (this.#freed ? undefined : this);
    #slow = (imageRef, options) => super.getToken(imageRef, options);

    constructor(defaults) {
      super(defaults);
      this.#memo = new FastTokens(defaults);
    }

    getToken(imageRef, options) {
      return this.#memo.call(imageRef, options, this.#self, this.#slow);
    }

    /** Frees the wasm memory of this client's caches now; later calls are no-ops. */
    free() {
      if (this.#freed) return;
      this.#freed = true;
      super.free();
    }
  }
  // The shipped file is minified without --keep-names (scripts/build.mjs): the class keeps its
  // name by hand, as the one name callers see.
  Object.defineProperty(RegistryClient, "name", { value: "RegistryClient" });
  return withDispose(RegistryClient);
}

/** `[Symbol.dispose]` calling `free()`, where the runtime has the symbol (`using client = …`). */
export function withDispose(Class) {
  if (typeof Symbol.dispose === "symbol") {
    Object.defineProperty(Class.prototype, Symbol.dispose, {
      value() {
        this.free();
      },
      writable: true,
      configurable: true,
    });
  }
  return Class;
}

/** The registry calls as module-level functions on the module-wide client, like getToken. */
export function moduleCalls(shared) {
  return {
    registryFetch: (imageRef, path, init) => shared().fetch(imageRef, path, init),
    listTags: (imageRef, options) => shared().listTags(imageRef, options),
    tagPages: (imageRef, options) => shared().tagPages(imageRef, options),
    catalog: (registry, options) => shared().catalog(registry, options),
    getManifest: (imageRef, options) => shared().getManifest(imageRef, options),
    headManifest: (imageRef, options) => shared().headManifest(imageRef, options),
    getImageConfig: (imageRef, options) => shared().getImageConfig(imageRef, options),
    deleteManifest: (imageRef, options) => shared().deleteManifest(imageRef, options),
  };
}

// ---------------------------------------------------------------------------------------------
// Token stores (the `tokenStore` option): adapters from the platforms' own stores to
// { get(key), put(key, value, { expiresAt, ttlSeconds }), delete(key) }. The package checks every
// value it reads back (format, the key it was written under, expiry by the call's clock), so an
// adapter only moves strings. Keys are opaque ("rt1-" and 64 hex digits) and values hold only the
// token, its expiry, granted scope, realm and service: never a password, refresh token or user name.

const STORE_WAIT_MS = 1000;

/** `p` within `ms`: resolves to its value, or rejects on its rejection or when it takes longer. */
function within(p, ms) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The I/O the wasm hands to JavaScript (src/js/io.rs), given to the module by each entry at load:
 * every await of the token calls (`settle`, `fly`) and the token store's I/O. The store functions
 * never throw or reject: a failure (a throw, a rejection, no answer in time) counts in
 * `storeErrors`; an answer that is no string, in `storeMisses`. Writes and deletes go to
 * `waitUntil` when the call gave one: workerd drops unawaited work once the response is sent (a
 * Cache API `put` then stores an empty body).
 */
export const io = {
  settle,
  fly,
  storeWrite(store, key, value, expiresAt, ttlSeconds, waitUntil, counts) {
    background(() => store.put(key, value, { expiresAt, ttlSeconds }), waitUntil, counts);
  },
  storeRemove(store, key, waitUntil, counts) {
    if (typeof store.delete === "function") background(() => store.delete(key), waitUntil, counts);
  },
};

/** The stored string under `key`, or undefined (counted as a miss or an error). */
async function storeRead(store, key, waitMs, counts) {
  try {
    const value = await within(Promise.resolve(store.get(key)), waitMs);
    if (typeof value === "string") return value;
    counts.storeMisses++;
  } catch {
    counts.storeErrors++;
  }
  return undefined;
}

/**
 * One caller's wait (a `Job` of src/js/mod.rs): for its credentials function's promise, then for
 * the flight it joined, each under the caller's own timeout and signal. The job decides what
 * each outcome means; leaving tells it whether this caller gave up (the last one aborts the flight).
 */
async function settle(job) {
  try {
    for (;;) {
      const [p, signal, ms, credentials] = job.next();
      const [settled, value, fired] = await guard(p, signal, ms);
      if (!credentials) {
        job.leave(fired);
        if (!settled) throw value;
        return value;
      }
      if (fired) throw value;
      const answer = job.credentials(settled, value);
      if (answer !== undefined) return answer;
    }
  } finally {
    job.free();
  }
}

/**
 * One flight of the token flow (a `Run` of src/js/mod.rs): a shared store first when the call
 * has one, then the core's requests in turn. The run decides everything — each request, which
 * bodies to read, what an answer means, what to store —; this loop only awaits. Resolves to the
 * callers' answer.
 */
async function fly(run) {
  try {
    // Nothing runs before the wasm has registered the flight's promise: a custom fetch or store
    // that re-enters the client to join this very flight finds the promise to wait on.
    await undefined;
    const read = run.storeRead();
    if (read !== undefined) {
      const value = await storeRead(...read);
      if (value !== undefined) {
        const answer = run.stored(value);
        if (answer !== undefined) return answer;
      }
    }
    for (;;) {
      let got;
      try {
        got = await sharedAnswer(run, run.request());
      } catch (e) {
        throw run.networkError(e);
      }
      const answer = run.respond(...got);
      if (answer !== undefined) return answer;
    }
  } finally {
    run.finish();
    run.free();
  }
}

/**
 * The answer to a flight's request; a challenge request (`pings`, the client's map of those on
 * the wire) already sent for another flight is waited for instead of sent again. A shared answer
 * that failed (its flight aborted by its last caller, say) is not trusted: this flight asks itself.
 */
async function sharedAnswer(run, request) {
  const [url, , , pings] = request;
  if (pings === undefined) return answerOf(run, request);
  const shared = pings.get(url);
  if (shared !== undefined) {
    const got = await shared.then((a) => a, () => undefined);
    return got ?? answerOf(run, request);
  }
  const mine = answerOf(run, request);
  pings.set(url, mine);
  try {
    return await mine;
  } finally {
    if (pings.get(url) === mine) pings.delete(url);
  }
}

/**
 * Sends one request and reads what the core takes of the response, as the arguments of
 * `run.respond`: status, `WWW-Authenticate`, `Retry-After`, the final URL, `Location`, and the
 * body when the run wants it (read under its cap and copied into wasm once, whole); any other
 * body is cancelled so the connection is freed.
 */
async function answerOf(run, [url, init, fetchFn]) {
  const res = await (fetchFn ? fetchFn.call(undefined, url, init) : fetch(url, init));
  if (res === null || typeof res !== "object") throw new TypeError("fetch resolved to something that is not a Response");
  const status = statusOf(res);
  const got = [status, header(res, "www-authenticate"), header(res, "retry-after"), typeof res.url === "string" ? res.url : undefined, header(res, "location")];
  const cap = run.wants(status);
  if (cap) got.push(...(await readCapped(res, cap)));
  else {
    discard(res);
    got.push(undefined, false);
  }
  return got;
}

function background(start, waitUntil, counts) {
  let work;
  try {
    work = within(Promise.resolve(start()), STORE_WAIT_MS).then(
      () => {},
      () => {
        counts.storeErrors++;
      },
    );
  } catch {
    counts.storeErrors++;
    return;
  }
  if (typeof waitUntil === "function") {
    try {
      waitUntil(work);
    } catch {}
  }
}

function storeArgument(value, methods, what) {
  if (value === null || typeof value !== "object" || methods.some((m) => typeof value[m] !== "function")) {
    throw invalid(`${what} must be an object with ${methods.join(", ")} functions`);
  }
}

/**
 * One adapter per (platform store, prefix): calls share in-flight work only when they name the
 * same store object, so `getToken(ref, { tokenStore: kvStore(env.TOKENS) })` written per request
 * must still give every call the same adapter.
 */
const adapters = new WeakMap();
function adapter(target, variant, make) {
  let byVariant = adapters.get(target);
  if (!byVariant) adapters.set(target, (byVariant = new Map()));
  let made = byVariant.get(variant);
  if (!made) byVariant.set(variant, (made = make()));
  return made;
}

function prefixOf(options, what) {
  const prefix = options?.prefix ?? "registry-token:";
  if (typeof prefix !== "string") throw invalid(`${what}: option prefix must be a string`);
  return prefix;
}

/**
 * Workers KV (`env.TOKENS`, a KV namespace binding). Entries expire on their own: KV's
 * `expirationTtl` is the token's remaining life minus the refresh margin (never under KV's 60 s).
 * KV is eventually consistent (a write can take up to a minute to show in other locations), so
 * some isolates may still ask the registry once in that window.
 */
export function kvStore(namespace, options) {
  storeArgument(namespace, ["get", "put"], "kvStore(namespace)");
  const prefix = prefixOf(options, "kvStore");
  return adapter(namespace, `kv:${prefix}`, () => ({
    get: (key) => namespace.get(prefix + key),
    put: (key, value, { ttlSeconds }) => namespace.put(prefix + key, value, { expirationTtl: ttlSeconds }),
    delete: (key) => namespace.delete?.(prefix + key),
  }));
}

/**
 * The Cache API (`caches.default` in Workers, `await caches.open("tokens")` in browsers and
 * workers). Entries are stored under `<baseUrl><key>` with `Cache-Control: max-age=<ttlSeconds>`;
 * the Cache API is per data centre in Workers (free, no write limits, not global).
 */
export function cacheStore(cache, options) {
  storeArgument(cache, ["match", "put"], "cacheStore(cache)");
  let base;
  try {
    base = new URL(options?.baseUrl ?? "https://registry-token.invalid/tokens/");
  } catch {
    throw invalid("cacheStore: option baseUrl must be an absolute http(s) URL");
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw invalid("cacheStore: option baseUrl must be an absolute http(s) URL");
  }
  const url = (key) => new URL(key, base).href;
  return adapter(cache, `cache:${base.href}`, () => ({
    async get(key) {
      const response = await cache.match(url(key));
      return response ? response.text() : null;
    },
    put: (key, value, { ttlSeconds }) =>
      cache.put(
        url(key),
        new Response(value, { headers: { "content-type": "application/json", "cache-control": `max-age=${ttlSeconds}` } }),
      ),
    delete: (key) => cache.delete?.(url(key)),
  }));
}

/**
 * Web Storage (`sessionStorage`, `localStorage`): tokens survive a page reload. Anything stored
 * there is readable by every script on the origin (and `localStorage` outlives the tab), so use it
 * only where the page's scripts are trusted. Expired entries of this store are removed whenever
 * it writes.
 */
export function webStorageStore(storage, options) {
  storeArgument(storage, ["getItem", "setItem", "removeItem"], "webStorageStore(storage)");
  const prefix = prefixOf(options, "webStorageStore");
  const sweep = () => {
    const now = Date.now();
    for (let i = storage.length - 1; i >= 0; i--) {
      const k = storage.key(i);
      if (k === null || !k.startsWith(prefix)) continue;
      let expiresAt;
      try {
        expiresAt = JSON.parse(storage.getItem(k))?.expiresAt;
      } catch {}
      if (!(typeof expiresAt === "number" && expiresAt > now)) storage.removeItem(k);
    }
  };
  return adapter(storage, `web:${prefix}`, () => ({
    get: (key) => storage.getItem(prefix + key),
    put(key, value) {
      if (typeof storage.key === "function" && typeof storage.length === "number") sweep();
      storage.setItem(prefix + key, value);
    },
    delete: (key) => storage.removeItem(prefix + key),
  }));
}

// ---------------------------------------------------------------------------------------------
// The registry calls (fetch, listTags, tagPages, catalog, getManifest, headManifest,
// getImageConfig, deleteManifest). Every decision is the wasm's (`Session` in src/js/registry.rs:
// URLs, actions, what a 401 or a redirect means, the next page, digests, the platform, every
// error's wording and scrubbing); this driver awaits between them: fetch, body streams under
// their caps, the caller's timeout and signal. Awaiting here rather than in Rust keeps the
// module small (docs/design.md, "Where the bytes go").

const MAX_PAGE = 16 * 1024 * 1024; // a page of 100,000 tags is ~2 MB
const MAX_MANIFEST = 4 * 1024 * 1024;
const MAX_ERROR_BODY = 128 * 1024; // error bodies, like token bodies, are read only this far

/**
 * Set once a `redirect: "manual"` request came back opaque: this runtime (a browser) hides
 * redirects from code, so later requests let fetch follow them (the Fetch standard drops
 * `Authorization` on a cross-origin hop) instead of paying a round trip to learn it again.
 */
let hidesRedirects = false;

const isRegistryError = (e) => e !== null && Object(e) === e && e.name === "RegistryAuthError";

function checkObject(value, what) {
  if (value !== undefined && value !== null && typeof value !== "object") throw invalid(`${what} must be an object`);
}

function statusOf(res) {
  const s = res.status;
  return typeof s === "number" && s >= 0 && s <= 999 ? Math.trunc(s) : 0;
}
const ok = (res) => {
  const s = statusOf(res);
  return s >= 200 && s <= 299;
};

function header(res, name) {
  try {
    const v = res.headers.get(name);
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Frees the connection (undici keeps a socket busy until the body is consumed or cancelled). */
function discard(res) {
  try {
    const body = res.body;
    if (body !== null && typeof body === "object" && typeof body.cancel === "function") Promise.resolve(body.cancel()).catch(() => {});
  } catch {}
}

/**
 * The body as one buffer, at most `cap` bytes, and whether the server sent more (the rest is not
 * read): the one reader of every body, the registry calls' and the token flow's.
 */
async function readCapped(res, cap) {
  const body = res.body;
  if (body === null || typeof body !== "object" || typeof body.getReader !== "function") {
    // A Response-like from a custom fetch without streams: take the buffer and cut it.
    const bytes = new Uint8Array(await res.arrayBuffer());
    return [bytes.subarray(0, Math.min(bytes.length, cap)), bytes.length > cap];
  }
  const reader = body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const chunk = await reader.read();
    if (Object(chunk) !== chunk || chunk.done) break;
    const value = chunk.value;
    if (!(value instanceof Uint8Array)) throw new TypeError("the response body stream yielded something other than bytes");
    if (value.length > cap - total) {
      chunks.push(value.subarray(0, cap - total));
      try {
        Promise.resolve(reader.cancel()).catch(() => {});
      } catch {}
      return [join(chunks, cap), true];
    }
    chunks.push(value);
    total += value.length;
  }
  return [join(chunks, total), false];
}

/** The chunks as one buffer, allocated once at its final size. */
function join(chunks, total) {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * `p` raced against one caller's timeout and signal: the guard of every call, so one caller
 * giving up never cancels work others share (the wasm aborts shared work when its last caller
 * has left). Resolves `[settled, value, fired]` and never rejects: whether `p` fulfilled, its
 * value or reason (or the TIMEOUT / ABORTED error), and whether this caller's own timer or signal
 * fired. The timer and the listener are gone once it settles, so nothing keeps Node's event loop
 * alive.
 */
async function guard(p, signal, ms) {
  let timer, onAbort, fired = false;
  const cancel = new Promise((_, reject) => {
    if (ms !== undefined) {
      timer = setTimeout(() => {
        fired = true;
        reject(failure("TIMEOUT", `no answer within timeoutMs (${Math.trunc(ms)} ms)`));
      }, ms);
    }
    if (signal) {
      const listener = () => {
        fired = true;
        const e = failure("ABORTED", "the call was aborted by its AbortSignal");
        if (signal.reason !== undefined) e.cause = signal.reason;
        reject(e);
      };
      try {
        signal.addEventListener("abort", listener);
        onAbort = listener;
      } catch {}
    }
  });
  try {
    return [true, await Promise.race([p, cancel]), false];
  } catch (e) {
    return [false, e, fired];
  } finally {
    clearTimeout(timer);
    if (onAbort) {
      try {
        signal.removeEventListener("abort", onAbort);
      } catch {}
    }
  }
}

/** `p` under the call's guard; when the guard fires first, `controller` aborts the request itself. */
async function guarded(s, p, controller) {
  const [, signal, ms] = s.io();
  const [settled, value, fired] = await guard(p, signal, ms);
  if (fired) controller?.abort();
  if (!settled) throw value;
  return value;
}

async function send(s, headers, body, accept) {
  const merged = new Headers(headers);
  if (accept !== undefined && !merged.has("accept")) merged.set("accept", accept);
  const authorization = s.authorization();
  if (typeof authorization === "string") merged.set("authorization", authorization);
  else if (authorization === null) merged.delete("authorization"); // never to another origin
  let controller;
  try {
    controller = new AbortController();
  } catch {}
  const method = s.method();
  const init = { method, headers: merged };
  if (body !== undefined && body !== null && method !== "GET" && method !== "HEAD") init.body = body;
  init.redirect = hidesRedirects ? "follow" : "manual";
  init.credentials = "omit";
  if (controller) init.signal = controller.signal;
  const url = s.url();
  const [fetchFn] = s.io();
  let pending;
  try {
    pending = fetchFn ? fetchFn.call(undefined, url, init) : fetch(url, init);
  } catch (e) {
    throw s.networkError(url, e);
  }
  let res;
  try {
    res = await guarded(s, Promise.resolve(pending), controller);
  } catch (e) {
    throw isRegistryError(e) ? e : s.networkError(url, e);
  }
  if (res === null || typeof res !== "object") throw s.networkError(url, new TypeError("fetch resolved to something that is not a Response"));
  return res;
}

/** One authorized request with the core's re-challenge and redirect rules; the final response is the caller's. */
async function exchange(s, method, path, headers, body, accept) {
  s.begin(method, path);
  for (;;) {
    const res = await send(s, headers, body, accept);
    const next = s.step(res.status, header(res, "www-authenticate"), header(res, "location"));
    if (next === 0) return res;
    discard(res);
    if (next === 2) body = undefined;
    else if (next === 3) hidesRedirects = true;
    else if (next !== 1) s.grant(await next);
  }
}

/** The body of a successful answer, at most `cap` bytes, under the caller's timeout. */
async function bodyOf(s, res, cap, what) {
  let read;
  try {
    read = await guarded(s, readCapped(res, cap));
  } catch (e) {
    throw isRegistryError(e) ? e : s.networkError(undefined, e);
  }
  if (read[1]) throw failure("BAD_REGISTRY_RESPONSE", `${what} is larger than ${cap} bytes`);
  return read[0];
}

/** The error for a non-2xx answer: the body is read (capped) only to quote it. */
async function statusError(s, res, method, catalog = false) {
  const status = res.status;
  const retryAfter = header(res, "retry-after");
  let bytes;
  try {
    [bytes] = await readCapped(res, MAX_ERROR_BODY);
  } catch {
    bytes = new Uint8Array(0);
  }
  return s.statusError(status, bytes, retryAfter, method, catalog);
}

function parseJson(bytes, what) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw failure("BAD_REGISTRY_RESPONSE", `${what} is not JSON`);
  }
}

/** The sha384/sha512 digest of `bytes` by WebCrypto, when `expected` uses one of those. */
async function otherDigest(expected, bytes) {
  const algorithm = expected?.split(":")[0];
  const name = { sha512: "SHA-512", sha384: "SHA-384" }[algorithm];
  if (!name) return undefined;
  try {
    const sum = new Uint8Array(await crypto.subtle.digest(name, bytes));
    return `${algorithm}:${Array.from(sum, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  } catch {
    return undefined;
  }
}

/**
 * A new session of `client`, its credentials bound and its first authorization taken: a
 * credentials function's promise is awaited under the call's guard first.
 */
async function openSession(client, target, options, method, catalog, path) {
  const s = client.__session(target, options, method, catalog, path);
  try {
    const p = s.pending();
    let settled = true, value;
    if (p !== undefined) {
      const [, signal, ms] = s.io();
      let fired;
      [settled, value, fired] = await guard(p, signal, ms);
      if (fired) throw value;
    }
    s.grant(await s.open(settled, value));
    return s;
  } catch (e) {
    s.free();
    throw e;
  }
}

/** Runs `work(session)` on a new session of `client`, freeing the session's wasm memory after. */
async function withSession(client, target, options, method, work, catalog = false, path = undefined) {
  const s = await openSession(client, target, options, method, catalog, path);
  try {
    return await work(s);
  } finally {
    s.free();
  }
}

// ---- paging --------------------------------------------------------------------------------

function pager(client, target, options, catalog) {
  checkObject(options, "options");
  const count = (key) => {
    const v = options?.[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return v;
    throw invalid(`option ${key} must be a whole number`);
  };
  let n = count("pageSize") ?? 1000;
  if (n < 1 || n > 100000) throw invalid("option pageSize must be between 1 and 100000");
  let remaining = count("limit");
  let session, next;
  let first = true;
  let done = remaining === 0;
  const what = catalog ? "the catalog" : "the tags list";
  const field = catalog ? "repositories" : "tags";

  async function pageWith(s) {
    if (!first) s.grant(await s.renew());
    let res;
    for (;;) {
      const path = next ?? `${catalog ? "/v2/_catalog" : "tags/list"}${n === undefined ? "" : `?n=${n}`}`;
      res = await exchange(s, "GET", path, undefined, undefined, "application/json");
      if (ok(res)) break;
      const fallback = first ? s.fallback(res.status, n) : undefined;
      if (fallback === undefined) throw await statusError(s, res, "GET", catalog);
      discard(res);
      n = fallback ?? undefined;
    }
    first = false;
    const json = parseJson(await bodyOf(s, res, MAX_PAGE, what), what);
    const list = json?.[field];
    let page;
    if (json !== null && typeof json === "object" && !Array.isArray(json) && (list === null || list === undefined)) page = [];
    else if (Array.isArray(list) && list.every((t) => typeof t === "string")) page = Array.from(list);
    else throw failure("BAD_REGISTRY_RESPONSE", `${what} has no "${field}" array of strings`);
    if (remaining !== undefined) {
      if (page.length > remaining) page = page.slice(0, remaining);
      remaining -= page.length;
      if (remaining === 0) {
        done = true;
        return page;
      }
    }
    next = s.nextPage(header(res, "link"));
    if (next === undefined) done = true;
    return page;
  }

  return {
    /** The next page as an array of strings, or undefined when there is none. */
    async page() {
      if (done) return undefined;
      session ??= await openSession(client, target, options, "GET", catalog, undefined);
      try {
        return await pageWith(session);
      } catch (e) {
        done = true;
        throw e;
      } finally {
        if (done) this.close();
      }
    },
    close() {
      done = true;
      session?.free();
      session = undefined;
    },
  };
}

async function collect(p) {
  const all = [];
  for (let page; (page = await p.page()) !== undefined; ) for (const t of page) all.push(t);
  return all;
}

/**
 * `tagPages`: an async iterable of pages. Pages are fetched on demand (none ahead), so a consumer
 * that stops iterating stops the requests.
 */
class TagPages {
  #pager;
  #busy = false;
  /** Set by `return()`, even while a page is loading: nothing is fetched after it. */
  #stopped = false;

  constructor(p) {
    this.#pager = p;
  }

  /** Resolves `{ value: string[], done: false }` per page, then `{ value: undefined, done: true }`. */
  async next() {
    if (this.#stopped) return { value: undefined, done: true };
    if (this.#busy) throw invalid("tagPages: next() called before the previous page arrived");
    this.#busy = true;
    try {
      const page = await this.#pager.page();
      return page === undefined ? { value: undefined, done: true } : { value: page, done: false };
    } finally {
      this.#busy = false;
      if (this.#stopped) this.#pager.close();
    }
  }

  /** Ends the iteration (a `for await` that breaks calls it): no further page is fetched. */
  return() {
    this.#stopped = true;
    if (!this.#busy) this.#pager.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

// ---- manifests -----------------------------------------------------------------------------

/** GET one manifest, checked: [what the core says, the bytes]. */
async function fetchManifest(s, reference, digest, accept) {
  const res = await exchange(s, "GET", `manifests/${reference}`, undefined, undefined, accept);
  if (!ok(res)) throw await statusError(s, res, "GET");
  const bytes = await bodyOf(s, res, MAX_MANIFEST, "the manifest");
  const announced = header(res, "docker-content-digest");
  const other = await otherDigest(s.expected(announced, digest), bytes);
  return [s.describe(bytes, header(res, "content-type"), announced, digest, other), bytes];
}

/** The manifest the caller meant: with `platform`, an index resolves to its matching entry. */
async function resolveManifest(s, imageRef, options) {
  const [reference, digest, accept, platform] = manifestArgs(imageRef, options, true);
  const [top, bytes] = await fetchManifest(s, reference, digest, accept);
  const chosen = platform === undefined ? undefined : s.choose(platform);
  if (chosen === undefined) return [top, bytes];
  const [child, childBytes] = await fetchManifest(s, chosen, chosen, accept);
  return [child, childBytes, { digest: top.digest, mediaType: top.mediaType, size: top.size }];
}

/**
 * HEAD, which Docker Hub does not count as a pull; a registry that leaves out
 * `Docker-Content-Digest` (or sends a generic type) costs a GET, whose bytes are then hashed.
 */
async function headDescriptor(s, imageRef, options) {
  const [reference, digest, accept] = manifestArgs(imageRef, options, false);
  const res = await exchange(s, "HEAD", `manifests/${reference}`, undefined, undefined, accept);
  discard(res);
  if (!ok(res)) throw await statusError(s, res, "HEAD");
  const d = s.head(header(res, "docker-content-digest"), header(res, "content-type"), header(res, "content-length"), digest);
  if (d !== undefined) return d;
  const [full] = await fetchManifest(s, reference, digest, accept);
  return { digest: full.digest, mediaType: full.mediaType, size: full.size };
}

let manifestArgs;

/**
 * Adds the registry calls to the wasm-bindgen `RegistryClient` class (`args` is the glue's
 * `manifestArgs`), so the module-wide client and every entry's client have them.
 */
export function addRegistryCalls(Client, args) {
  manifestArgs = args;
  const calls = {
    /** One authorized request to the image's repository; resolves with the final `Response`. */
    async fetch(imageRef, path, init) {
      checkObject(init, "init");
      const method = init?.method;
      if (method !== undefined && method !== null && typeof method !== "string") throw invalid("option method must be a string");
      const upper = (method ?? "GET").replace(/[a-z]+/g, (m) => m.toUpperCase());
      if (typeof path !== "string") throw invalid("the path must be a string");
      return withSession(this, imageRef, init, upper, (s) => exchange(s, upper, path, init?.headers, init?.body, undefined), false, path);
    },
    listTags(imageRef, options) {
      return Promise.resolve().then(() => collect(pager(this, imageRef, options, false)));
    },
    tagPages(imageRef, options) {
      return new TagPages(pager(this, imageRef, options, false));
    },
    catalog(registry, options) {
      return Promise.resolve().then(() => collect(pager(this, registry, options, true)));
    },
    getManifest(imageRef, options) {
      return withSession(this, imageRef, options, "GET", async (s) => {
        const [d, bytes, index] = await resolveManifest(s, imageRef, options);
        const out = { digest: d.digest, mediaType: d.mediaType, size: d.size, manifest: parseJson(bytes, "the manifest") };
        if (index) out.index = index;
        if (d.platforms) out.platforms = d.platforms;
        return out;
      });
    },
    headManifest(imageRef, options) {
      return withSession(this, imageRef, options, "GET", (s) => headDescriptor(s, imageRef, options));
    },
    getImageConfig(imageRef, options) {
      return withSession(this, imageRef, options, "GET", async (s) => {
        await resolveManifest(s, imageRef, options);
        const digest = s.config();
        const res = await exchange(s, "GET", `blobs/${digest}`, undefined, undefined, undefined);
        if (!ok(res)) throw await statusError(s, res, "GET");
        const bytes = await bodyOf(s, res, MAX_MANIFEST, "the image config");
        s.verify(digest, bytes, "the image config", await otherDigest(digest, bytes));
        return { digest, config: parseJson(bytes, "the image config") };
      });
    },
    async deleteManifest(imageRef, options) {
      let [, digest] = manifestArgs(imageRef, undefined, false);
      digest ??= (await withSession(this, imageRef, options, "GET", (s) => headDescriptor(s, imageRef, undefined))).digest;
      return withSession(this, imageRef, options, "DELETE", async (s) => {
        const res = await exchange(s, "DELETE", `manifests/${digest}`, undefined, undefined, undefined);
        if (!ok(res)) throw await statusError(s, res, "DELETE");
        discard(res);
      });
    },
  };
  // Non-enumerable, like the class's own methods.
  for (const [key, value] of Object.entries(calls)) Object.defineProperty(Client.prototype, key, { value, writable: true, configurable: true });
}
