// Installs what building needs, printing each step, and does nothing when it is already there:
// the wasm32 target, the wasm-bindgen CLI pinned to the crate's version, and node_modules.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { capture, log, root, run, TARGET, WASM_BINDGEN_VERSION } from "./lib.mjs";

if (!capture("cargo", ["--version"])) {
  console.error("cargo is not on PATH: install Rust with rustup (https://rustup.rs) first.");
  process.exit(1);
}

const targets = capture("rustup", ["target", "list", "--installed"]) ?? "";
if (!targets.split("\n").includes(TARGET)) {
  log(`adding the ${TARGET} target`);
  run("rustup", ["target", "add", TARGET]);
}

const cli = capture("wasm-bindgen", ["--version"]);
if (cli !== `wasm-bindgen ${WASM_BINDGEN_VERSION}`) {
  log(`installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION} (found: ${cli ?? "none"}); this takes ~4 minutes once`);
  // Not --locked: its lock file pins a crate version the registry no longer serves.
  run("cargo", ["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION]);
}

if (!existsSync(join(root, "node_modules", ".bin", "wasm-opt"))) {
  log("installing npm dev dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}
