// Cloudflare Workers (workerd). workerd refuses to compile wasm from bytes at run time and has
// no usable import.meta.url, so the .wasm is imported as a module (wrangler and miniflare turn
// it into a WebAssembly.Module) and instantiated synchronously at import.
import wasmModule from "./registry_token_bg.wasm";
import { addRegistryCalls, disposable, FastTokens, fastGetToken, moduleCalls, RegistryAuthError, io } from "./common.js";
import { __setErrorClass, __setIo, getToken as wasmGetToken, initSync, manifestArgs, RegistryClient as WasmRegistryClient, sharedClient } from "./web.js";

initSync({ module: wasmModule });
__setErrorClass(RegistryAuthError);
__setIo(io);
addRegistryCalls(WasmRegistryClient, manifestArgs);

export { parseChallenges, parseReference } from "./web.js";
export { RegistryAuthError };
export { cacheStore, kvStore, webStorageStore } from "./common.js";
export const RegistryClient = disposable(WasmRegistryClient);

// The registry calls on the module-wide client, like getToken.
const shared = sharedClient();
export const getToken = fastGetToken(() => shared, new FastTokens(), wasmGetToken);
export const { registryFetch, listTags, tagPages, catalog, getManifest, headManifest, getImageConfig, deleteManifest } = moduleCalls(() => shared);

/** Already loaded at import; kept so code shared with browsers can call it. */
export function init() {
  return Promise.resolve();
}
