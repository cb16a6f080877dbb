// Small helpers shared by the build, test and start scripts.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const WASM_BINDGEN_VERSION = "0.2.130";
export const TARGET = "wasm32-unknown-unknown";

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
