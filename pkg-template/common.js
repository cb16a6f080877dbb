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
 * The store I/O the wasm calls (src/js/store.rs): never throws or rejects. A failure (a throw, a
 * rejection, no answer in time) counts in `storeErrors`; an answer that is no string, in
 * `storeMisses`. Writes and deletes go to `waitUntil` when the call gave one: workerd drops
 * unawaited work once the response is sent (a Cache API `put` then stores an empty body).
 */
export const storeIo = {
  async read(store, key, waitMs, counts) {
    try {
      const value = await within(Promise.resolve(store.get(key)), waitMs);
      if (typeof value === "string") return value;
      counts.storeMisses++;
    } catch {
      counts.storeErrors++;
    }
    return undefined;
  },
  write(store, key, value, expiresAt, ttlSeconds, waitUntil, counts) {
    background(() => store.put(key, value, { expiresAt, ttlSeconds }), waitUntil, counts);
  },
  remove(store, key, waitUntil, counts) {
    if (typeof store.delete === "function") background(() => store.delete(key), waitUntil, counts);
  },
};

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
    throw new RegistryAuthError(`${what} must be an object with ${methods.join(", ")} functions`, { code: "INVALID_REFERENCE" });
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
  if (typeof prefix !== "string") throw new RegistryAuthError(`${what}: option prefix must be a string`, { code: "INVALID_REFERENCE" });
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
    throw new RegistryAuthError("cacheStore: option baseUrl must be an absolute http(s) URL", { code: "INVALID_REFERENCE" });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new RegistryAuthError("cacheStore: option baseUrl must be an absolute http(s) URL", { code: "INVALID_REFERENCE" });
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
