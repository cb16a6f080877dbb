// Node (require). The wasm-bindgen nodejs glue compiles the module synchronously at load.
"use strict";
const wasm = require("./node.cjs");
const { RegistryAuthError, disposable, moduleCalls } = require("./common.cjs");

wasm.__setErrorClass(RegistryAuthError);
const shared = wasm.sharedClient();

module.exports = {
  getToken: wasm.getToken,
  parseReference: wasm.parseReference,
  parseChallenges: wasm.parseChallenges,
  RegistryClient: disposable(wasm.RegistryClient),
  RegistryAuthError,
  ...moduleCalls(() => shared),
  /** Already loaded at require; kept so code shared with browsers can call it. */
  init: () => Promise.resolve(),
};
