// Installs what building needs, printing each step, and does nothing when it is already there:
// the wasm32 target, the pinned nightly with the standard library's source (the release .wasm is
// built with it), the wasm-bindgen CLI pinned to the crate's version, and node_modules.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { capture, log, NIGHTLY, root, run, TARGET, WASM_BINDGEN_VERSION } from "./lib.mjs";

if (!capture("cargo", ["--version"])) {
  console.error("cargo is not on PATH: install Rust with rustup (https://rustup.rs) first.");
  process.exit(1);
}

const targets = capture("rustup", ["target", "list", "--installed"]) ?? "";
if (!targets.split("\n").includes(TARGET)) {
  log(`adding the ${TARGET} target`);
  run("rustup", ["target", "add", TARGET]);
}

// rust-src is what -Zbuild-std compiles; the minimal profile is rustc, cargo and the host's std.
const sysroot = capture("rustup", ["run", NIGHTLY, "rustc", "--print", "sysroot"]);
if (!sysroot || !existsSync(join(sysroot, "lib", "rustlib", "src", "rust", "library", "std"))) {
  log(`installing the ${NIGHTLY} toolchain with rust-src (it builds the shipped .wasm; ~15 s once)`);
  run("rustup", ["toolchain", "install", NIGHTLY, "--profile", "minimal", "--component", "rust-src"]);
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
