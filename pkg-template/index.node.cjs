// Node (require). The wasm-bindgen nodejs glue compiles the module synchronously at load.
"use strict";
const wasm = require("./node.cjs");
const { RegistryAuthError, addRegistryCalls, disposable, moduleCalls, FastTokens, fastGetToken, kvStore, cacheStore, webStorageStore, io } = require("./common.cjs");

wasm.__setErrorClass(RegistryAuthError);
wasm.__setIo(io);
addRegistryCalls(wasm.RegistryClient, wasm.manifestArgs);
const shared = wasm.sharedClient();

module.exports = {
  getToken: fastGetToken(() => shared, new FastTokens(), wasm.getToken),
  parseReference: wasm.parseReference,
  parseChallenges: wasm.parseChallenges,
  RegistryClient: disposable(wasm.RegistryClient),
  RegistryAuthError,
  kvStore,
  cacheStore,
  webStorageStore,
  ...moduleCalls(() => shared),
  /** Already loaded at require; kept so code shared with browsers can call it. */
  init: () => Promise.resolve(),
};
