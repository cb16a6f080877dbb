// Node (import). Re-exports the CommonJS entry, so `import` and `require` in one process share
// one wasm instance and one module-level token cache (no dual-package hazard).
import cjs from "./index.node.cjs";

export const {
  getToken,
  parseReference,
  parseChallenges,
  RegistryClient,
  RegistryAuthError,
  kvStore,
  cacheStore,
  webStorageStore,
  init,
  registryFetch,
  listTags,
  tagPages,
  catalog,
  getManifest,
  headManifest,
  getImageConfig,
  deleteManifest,
} = cjs;
