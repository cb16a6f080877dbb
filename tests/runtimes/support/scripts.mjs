// Runs the user scripts in apps/scripts/ (esm.mjs, cjs.cjs) with a given runtime from inside the
// consumer project that has the packed tarball installed, and parses their one-line JSON report.
// Asynchronous on purpose: the emulated registry lives in this process and must keep answering.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installPackedPackage, root } from "../../js/support/package.mjs";

const SCRIPTS = fileURLToPath(new URL("../apps/scripts/", import.meta.url));

/** Where runtime caches go (DENO_DIR, bun's): inside build/, never $HOME. */
export const cacheDir = (name) => {
  const dir = join(root, "build", "runtime-cache", name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Copies the user scripts into the consumer project; returns its folder. */
export function prepareConsumer() {
  const { consumer } = installPackedPackage();
  for (const f of ["esm.mjs", "cjs.cjs"]) copyFileSync(join(SCRIPTS, f), join(consumer, f));
  return consumer;
}

/**
 * Runs `command args…` in the consumer folder; resolves { report, ms, stdout, stderr } where
 * report is the last stdout line parsed as JSON. Rejects with both streams on failure.
 */
export function runScript(command, args, { cwd, env = {}, timeoutMs = 60_000 } = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const ms = Date.now() - started;
      if (err) {
        reject(new Error(`${command} ${args.join(" ")} failed (${err.code ?? err.signal}):\n${stdout}\n${stderr}`, { cause: err }));
        return;
      }
      const line = stdout.trim().split("\n").pop();
      try {
        resolve({ report: JSON.parse(line), ms, stdout, stderr });
      } catch {
        reject(new Error(`${command} printed no JSON report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/**
 * What every runtime must show for one script run against the GHCR emulator `ghcr` (reset just
 * before the run): a token, the same instance for import and require (so the second call came
 * from the cache: one token request), and RegistryAuthError instances for a bad reference.
 */
export function assertReport(assert, report, ghcr) {
  assert.equal(report.error, undefined, JSON.stringify(report.error));
  assert.match(report.token, /^ghcr-token-\d+$/);
  assert.equal(report.parsed, "docker.io/library/nginx");
  assert.equal(report.sameInstance, true, "import and require share one instance");
  assert.equal(report.again, report.token, "the second call (other module system) came from the shared cache");
  assert.equal(ghcr.counts().token, 1);
  assert.deepEqual(report.invalid, { isError: true, name: "RegistryAuthError", code: "INVALID_REFERENCE" });
  assert.equal(report.sameErrorClass, true, "import and require export one RegistryAuthError class");
  assert.deepEqual(report.instanceOf, [true, true, true, true], "every rejection and throw is an instance of RegistryAuthError");
  assert.equal(report.disposable, true, "RegistryClient has [Symbol.dispose] where the runtime has the symbol");
}

/**
 * `false` when the runtime binary (from its npm package) exists; else the reason to skip. Under
 * CI=true a missing binary is a failure: this throws instead.
 */
export function binaryMissing(path, npmPackage, env = process.env) {
  if (existsSync(path)) return false;
  const msg = `${path} is missing: the devDependency \`${npmPackage}\` is not installed (npm ci)`;
  if (env.CI === "true") throw new Error(`${msg} (CI=true: this is a failure, not a skip)`);
  return msg;
}
