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

/**
 * The wasm-bindgen class with what every entry's `RegistryClient` promises: `free()` harmless to
 * call twice (wasm-bindgen's throws on the second call) and `[Symbol.dispose]`.
 */
export function disposable(Base) {
  class RegistryClient extends Base {
    #freed = false;

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
