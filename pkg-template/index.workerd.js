// Cloudflare Workers (workerd). workerd refuses to compile wasm from bytes at run time and has
// no usable import.meta.url, so the .wasm is imported as a module (wrangler and miniflare turn
// it into a WebAssembly.Module) and instantiated synchronously at import.
import wasmModule from "./registry_token_bg.wasm";
import { initSync } from "./web.js";

initSync({ module: wasmModule });

export { getToken, parseChallenges, parseReference, RegistryClient } from "./web.js";

/** Already loaded at import; kept so code shared with browsers can call it. */
export function init() {
  return Promise.resolve();
}
