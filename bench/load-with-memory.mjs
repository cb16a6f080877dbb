// Imports the packed package from a consumer folder and captures its wasm instance's `memory`
// export, which the package does not expose: the glue builds the instance with
// `new WebAssembly.Instance`, so that constructor is wrapped for the duration of the import.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** → { pkg, memory } where memory is the instance's WebAssembly.Memory, or null. */
export async function loadWithMemory(consumer) {
  let exportsSeen = null;
  const Instance = WebAssembly.Instance;
  WebAssembly.Instance = class extends Instance {
    constructor(module, imports) {
      super(module, imports);
      exportsSeen ??= this.exports;
    }
  };
  try {
    const pkg = await import(pathToFileURL(join(consumer, "load.mjs")).href);
    return { pkg, memory: exportsSeen?.memory instanceof WebAssembly.Memory ? exportsSeen.memory : null };
  } finally {
    WebAssembly.Instance = Instance;
  }
}
