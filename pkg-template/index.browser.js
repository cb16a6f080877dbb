// Browsers, Web Workers and bundlers. The .wasm is compiled asynchronously on first use
// (Chromium refuses synchronous compiles of large modules on the main thread) and there is no
// top-level await, so classic (iife) worker bundles work too. `getToken` and the client's async
// methods load it themselves; the synchronous parsers need `await init()` (or any awaited call)
// first.
import { addRegistryCalls, FastTokens, fastGetToken, invalid, io, moduleCalls, RegistryAuthError, withDispose } from "./common.js";
import initWasm, * as wasm from "./web.js";

export { RegistryAuthError };
export { cacheStore, kvStore, webStorageStore } from "./common.js";

const { getToken: wasmGetToken, parseChallenges: wasmParseChallenges, parseReference: wasmParseReference, RegistryClient: WasmRegistryClient } = wasm;
addRegistryCalls(WasmRegistryClient, wasm.manifestArgs);

let loading = null;
let loaded = false;

/** Compiles and instantiates the module once; safe to call many times and concurrently. */
export function init(moduleOrPath) {
  if (!loading) {
    const source = moduleOrPath ?? new URL("./registry_token_bg.wasm", import.meta.url);
    loading = initWasm({ module_or_path: source }).then(
      () => {
        wasm.__setErrorClass(RegistryAuthError);
        wasm.__setIo(io);
        loaded = true;
      },
      (cause) => {
        loading = null; // let a later call retry, e.g. after the network came back
        throw new RegistryAuthError(`could not load registry_token_bg.wasm: ${cause?.message ?? cause}`, { cause, code: "NETWORK" });
      },
    );
  }
  return loading;
}

let sharedInstance = null;
/** The module-wide client (the one `getToken` uses), once the module is loaded. */
function shared() {
  sharedInstance ??= wasm.sharedClient();
  return sharedInstance;
}

function requireLoaded(fn) {
  if (!loaded) {
    throw new RegistryAuthError(`registry-token: ${fn}() needs the WebAssembly module loaded; in browsers \`await init()\` (or any getToken call) first`, {
      code: "NOT_INITIALIZED",
    });
  }
}

const SECRETS = ["username", "password", "refreshToken"];

/**
 * What the wasm constructor checks, in JavaScript, for a client made before the module loaded:
 * the same refusals at the same moment (construction), not at some later call.
 */
function checkDefaults(defaults) {
  if (defaults === undefined || defaults === null) return;
  if (typeof defaults !== "object") throw invalid("RegistryClient defaults must be an object");
  for (const key of SECRETS) {
    if (defaults[key] !== undefined) {
      throw invalid(
        `RegistryClient defaults must not hold ${key}: a default secret would go to any registry a call names. Bind it to its registry with the credentials option, e.g. new RegistryClient({ credentials: { "ghcr.io": { username, password } } }), or pass username and password with the call`,
      );
    }
  }
  const store = defaults.tokenStore;
  if (store !== undefined && store !== null && (typeof store !== "object" || typeof store.get !== "function" || typeof store.put !== "function")) {
    throw invalid("option tokenStore must be an object with get(key) and put(key, value, options) functions, such as kvStore(env.TOKENS)");
  }
  if (defaults.waitUntil !== undefined && defaults.waitUntil !== null && typeof defaults.waitUntil !== "function") {
    throw invalid("option waitUntil must be a function");
  }
  const credentials = defaults.credentials;
  if (credentials === undefined || credentials === null || typeof credentials === "function") return;
  if (typeof credentials !== "object" || Array.isArray(credentials)) {
    throw invalid('option credentials must be an object keyed by registry ("ghcr.io", "docker.io", "localhost:5000") or a function of the registry name');
  }
  for (const [registry, c] of Object.entries(credentials)) {
    if (c === undefined || c === null) continue;
    const pair = typeof c === "object" && typeof c.username === "string" && typeof c.password === "string";
    if (!pair && !(typeof c === "object" && typeof c.refreshToken === "string")) {
      throw invalid(`credentials for ${registry} must be { username, password } or { refreshToken } (or null for none)`);
    }
  }
}

export const getToken = fastGetToken(
  () => (loaded ? shared() : undefined),
  new FastTokens(),
  async (imageRef, options) => {
    await init();
    return wasmGetToken(imageRef, options);
  },
);

// The registry calls on the module-wide client, like getToken; each loads the module first.
const calls = moduleCalls(shared);
const loadedFirst = (name) => async (...args) => {
  await init();
  return calls[name](...args);
};
export const registryFetch = loadedFirst("registryFetch");
export const listTags = loadedFirst("listTags");
export const catalog = loadedFirst("catalog");
export const getManifest = loadedFirst("getManifest");
export const headManifest = loadedFirst("headManifest");
export const getImageConfig = loadedFirst("getImageConfig");
export const deleteManifest = loadedFirst("deleteManifest");

/** Pages of tags as they arrive; the module loads on the first `next()`. */
export async function* tagPages(imageRef, options) {
  await init();
  yield* calls.tagPages(imageRef, options);
}

export function parseReference(imageRef) {
  requireLoaded("parseReference");
  return wasmParseReference(imageRef);
}

export function parseChallenges(headerValue) {
  requireLoaded("parseChallenges");
  return wasmParseChallenges(headerValue);
}

export class RegistryClient {
  #defaults;
  #inner = null;
  #freed = false;
  #memo;
  #currentInner = () => this.#inner ?? undefined;
  #slow = (imageRef, options) => this.#client().then((c) => c.getToken(imageRef, options));

  constructor(defaults) {
    checkDefaults(defaults);
    this.#defaults = defaults && typeof defaults === "object" ? { ...defaults } : defaults;
    if (loaded) this.#inner = new WasmRegistryClient(this.#defaults);
    this.#memo = new FastTokens(this.#defaults);
  }

  async #client() {
    if (this.#freed) throw invalid("this RegistryClient was freed");
    if (!this.#inner) {
      await init();
      this.#inner ??= new WasmRegistryClient(this.#defaults);
    }
    return this.#inner;
  }

  /** Frees the wasm memory of this client's caches now; later calls are no-ops. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    this.#inner?.free();
    this.#inner = null;
  }

  getToken(imageRef, options) {
    return this.#memo.call(imageRef, options, this.#currentInner, this.#slow);
  }

  async authorize(imageRef, options) {
    return (await this.#client()).authorize(imageRef, options);
  }

  async fetch(imageRef, path, init) {
    return (await this.#client()).fetch(imageRef, path, init);
  }

  async listTags(imageRef, options) {
    return (await this.#client()).listTags(imageRef, options);
  }

  async *tagPages(imageRef, options) {
    yield* (await this.#client()).tagPages(imageRef, options);
  }

  async catalog(registry, options) {
    return (await this.#client()).catalog(registry, options);
  }

  async getManifest(imageRef, options) {
    return (await this.#client()).getManifest(imageRef, options);
  }

  async headManifest(imageRef, options) {
    return (await this.#client()).headManifest(imageRef, options);
  }

  async getImageConfig(imageRef, options) {
    return (await this.#client()).getImageConfig(imageRef, options);
  }

  async deleteManifest(imageRef, options) {
    return (await this.#client()).deleteManifest(imageRef, options);
  }

  clearCache() {
    this.#inner?.clearCache();
  }

  /** Before the module loads nothing is cached yet; the capacity is the core's (flow.rs). */
  stats() {
    return this.#inner
      ? this.#inner.stats()
      : { tokens: 0, tokenCapacity: 1024, challenges: 0, inFlight: 0, memoryBytes: 0, storeHits: 0, storeMisses: 0, storeErrors: 0 };
  }
}

withDispose(RegistryClient);
