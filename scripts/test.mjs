// `npm test`: native core tests and lints, the wasm build, then every JavaScript suite against
// the packed package in the real runtimes. Stops at the first failing stage.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { log, root, run, TARGET } from "./lib.mjs";

log("stage 1/5: the sans-IO core, natively");
run("cargo", ["fmt", "--check"]);
run("cargo", ["test", "--locked"]);
run("cargo", ["clippy", "--locked", "--all-targets", "--", "-D", "warnings"]);
run("cargo", ["clippy", "--locked", "--lib", "--target", TARGET, "--", "-D", "warnings"]);
// The shell's in-wasm tests (src/js/tests.rs), through wasm-bindgen-test-runner: Node, then
// headless Chromium (chromedriver from Debian's chromium-driver).
run("cargo", ["test", "--locked", "--lib", "--target", TARGET]);
run("cargo", ["test", "--locked", "--lib", "--target", TARGET], { env: { ...process.env, WASM_BINDGEN_USE_BROWSER: "1" } });

log("stage 2/5: build pkg/");
run("node", [join(root, "scripts", "build.mjs")]);

log("stage 3/5: round-trip counts and the size ceiling (exact checks, no timings)");
run("node", [join(root, "bench", "run.mjs"), "--ci"]);

log("stage 4/5: fuzz each target with a fixed seed and budget (~15 s each; `npm run fuzz -- 600` explores further)");
run("bash", [join(root, "scripts", "fuzz.sh"), "--ci"]);

log("stage 5/5: JavaScript suites against the packed package");
function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "node_modules" || name === "support" ? [] : findTests(p);
    return name.endsWith(".test.mjs") ? [relative(root, p)] : [];
  });
}
const files = findTests(join(root, "tests")).sort();
run("node", ["--test", "--test-concurrency=1", ...files]);
