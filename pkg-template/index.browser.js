// Browsers, Web Workers and bundlers. The .wasm is compiled asynchronously on first use
// (Chromium refuses synchronous compiles of large modules on the main thread) and there is no
// top-level await, so classic (iife) worker bundles work too. `getToken` and the client's async
// methods load it themselves; the synchronous parsers need `await init()` (or any awaited call)
// first.
import initWasm, {
  getToken as wasmGetToken,
  parseChallenges as wasmParseChallenges,
  parseReference as wasmParseReference,
  RegistryClient as WasmRegistryClient,
} from "./web.js";

let loading = null;
let loaded = false;

/** Compiles and instantiates the module once; safe to call many times and concurrently. */
export function init(moduleOrPath) {
  if (!loading) {
    const source = moduleOrPath ?? new URL("./registry_token_bg.wasm", import.meta.url);
    loading = initWasm({ module_or_path: source }).then(
      () => {
        loaded = true;
      },
      (cause) => {
        loading = null; // let a later call retry, e.g. after the network came back
        const e = new Error(`could not load registry_token_bg.wasm: ${cause?.message ?? cause}`, { cause });
        e.name = "RegistryAuthError";
        e.code = "NETWORK";
        throw e;
      },
    );
  }
  return loading;
}

function requireLoaded(fn) {
  if (!loaded) {
    throw new Error(`registry-token: ${fn}() needs the WebAssembly module loaded; in browsers \`await init()\` (or any getToken call) first`);
  }
}

export async function getToken(imageRef, options) {
  await init();
  return wasmGetToken(imageRef, options);
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

  constructor(defaults) {
    this.#defaults = defaults && typeof defaults === "object" ? { ...defaults } : defaults;
    if (loaded) this.#inner = new WasmRegistryClient(this.#defaults);
  }

  async #client() {
    if (!this.#inner) {
      await init();
      this.#inner ??= new WasmRegistryClient(this.#defaults);
    }
    return this.#inner;
  }

  async getToken(imageRef, options) {
    return (await this.#client()).getToken(imageRef, options);
  }

  async authorize(imageRef, options) {
    return (await this.#client()).authorize(imageRef, options);
  }

  clearCache() {
    this.#inner?.clearCache();
  }

  stats() {
    return this.#inner ? this.#inner.stats() : { tokens: 0, tokenCapacity: 1024, challenges: 0, inFlight: 0 };
  }
}
