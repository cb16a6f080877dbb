// Vercel Edge (the `edge-light` condition: Edge Functions, Next.js middleware and edge routes).
// Compiling wasm from bytes at run time is forbidden there, as in workerd; Vercel's bundler turns
// `import m from "./x.wasm?module"` into a WebAssembly.Module compiled by the host, and the
// module is instantiated synchronously at import, so every export (the synchronous parsers too)
// works as soon as the import does.
//
// Under `next dev`, `vercel dev` and the `edge-runtime` package the code runs in a Node vm context
// and that module comes from Node's realm: `instanceof WebAssembly.Module` is false inside, so
// wasm-bindgen's initSync would take it for bytes and try to compile it (and fail). WebAssembly's
// own brand check accepts a Module of any realm, so such a module is given this realm's prototype
// first and then instantiated like any other.
import wasmModule from "./registry_token_bg.wasm?module";
import { addRegistryCalls, disposable, FastTokens, fastGetToken, moduleCalls, RegistryAuthError, io } from "./common.js";
import {
  __setErrorClass,
  __setIo,
  initSync,
  getToken as wasmGetToken,
  manifestArgs,
  parseChallenges as wasmParseChallenges,
  parseReference as wasmParseReference,
  RegistryClient as WasmRegistryClient,
  sharedClient,
} from "./web.js";

initSync({ module: thisRealmModule(wasmModule) });
__setErrorClass(RegistryAuthError);
__setIo(io);
addRegistryCalls(WasmRegistryClient, manifestArgs);

/** `module`, usable by this realm's WebAssembly.Instance; a clear error when it is no module. */
function thisRealmModule(module) {
  if (module instanceof WebAssembly.Module) return module;
  try {
    WebAssembly.Module.exports(module); // throws unless `module` is a compiled module of any realm
  } catch (cause) {
    throw new RegistryAuthError(
      'registry-token: "./registry_token_bg.wasm?module" did not import as a WebAssembly.Module; bundle with Vercel\'s edge bundler (or one that compiles `.wasm?module` imports)',
      { code: "NOT_INITIALIZED", cause },
    );
  }
  Object.setPrototypeOf(module, WebAssembly.Module.prototype);
  return module;
}

export { RegistryAuthError };
export { cacheStore, kvStore, webStorageStore } from "./common.js";
export const RegistryClient = disposable(WasmRegistryClient);

// Defined here rather than re-exported from web.js, so that with `"sideEffects": false` a bundler
// that keeps only what is used still keeps this module, and the initSync above, for any import.
const shared = sharedClient();
export const getToken = fastGetToken(() => shared, new FastTokens(), (imageRef, options) => wasmGetToken(imageRef, options));
export const parseReference = (imageRef) => wasmParseReference(imageRef);
export const parseChallenges = (headerValue) => wasmParseChallenges(headerValue);

// The registry calls on the module-wide client, like getToken.
export const { registryFetch, listTags, tagPages, catalog, getManifest, headManifest, getImageConfig, deleteManifest } = moduleCalls(() => shared);

/** Already loaded at import; kept so code shared with browsers can call it. */
export function init() {
  return Promise.resolve();
}
