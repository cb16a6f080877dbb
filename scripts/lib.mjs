// Small helpers shared by the build, test and start scripts.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WASM_BINDGEN_VERSION = "0.2.130";
export const TARGET = "wasm32-unknown-unknown";
/**
 * The shipped .wasm is built by this pinned nightly with the standard library rebuilt for size
 * (`-Zbuild-std`, panics as a plain trap): 9 KB gzip less than stable's prebuilt std, the same
 * code. Pinned so that a build's size, and the CI ceiling on it, does not move with the channel.
 * Tests of the crate itself (`cargo test`, clippy, the in-wasm tests) stay on stable; the fuzz
 * targets use this toolchain too. See docs/design.md, "Where the bytes go".
 */
export const NIGHTLY = "nightly-2026-05-20";

export function log(msg) {
  process.stdout.write(`\x1b[1m[registry-token]\x1b[0m ${msg}\n`);
}

/** Runs a command with inherited stdio; exits the script with its status if it fails. */
export function run(cmd, args, opts = {}) {
  log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) {
    console.error(`failed to start ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`${cmd} exited with ${r.status ?? r.signal}`);
    process.exit(r.status || 1);
  }
  return r;
}

/** Runs a command and returns its stdout, or null if it cannot run. */
export function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: root, ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}
