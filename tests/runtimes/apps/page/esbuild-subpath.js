// Entry for the esbuild build that loads the .wasm from the subpath export (see use-bundled-wasm.js).
import "./use-bundled-wasm.js";
import "./main.js";
