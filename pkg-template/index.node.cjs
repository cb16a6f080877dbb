// Node (require). The wasm-bindgen nodejs glue compiles the module synchronously at load.
"use strict";
const wasm = require("./node.cjs");

module.exports = {
  getToken: wasm.getToken,
  parseReference: wasm.parseReference,
  parseChallenges: wasm.parseChallenges,
  RegistryClient: wasm.RegistryClient,
  /** Already loaded at require; kept so code shared with browsers can call it. */
  init: () => Promise.resolve(),
};
