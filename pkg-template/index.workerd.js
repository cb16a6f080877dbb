// Cloudflare Workers (workerd). workerd refuses to compile wasm from bytes at run time and has
// no usable import.meta.url, so the .wasm is imported as a module (wrangler and miniflare turn
// it into a WebAssembly.Module) and instantiated synchronously at import.
import wasmModule from "./registry_token_bg.wasm";
import { disposable, moduleCalls, RegistryAuthError } from "./common.js";
import { __setErrorClass, initSync, RegistryClient as WasmRegistryClient, sharedClient } from "./web.js";

initSync({ module: wasmModule });
__setErrorClass(RegistryAuthError);

export { getToken, parseChallenges, parseReference } from "./web.js";
export { RegistryAuthError };
export const RegistryClient = disposable(WasmRegistryClient);

// The registry calls on the module-wide client, like getToken.
const shared = sharedClient();
export const { registryFetch, listTags, tagPages, catalog, getManifest, headManifest, getImageConfig, deleteManifest } = moduleCalls(() => shared);

/** Already loaded at import; kept so code shared with browsers can call it. */
export function init() {
  return Promise.resolve();
}
