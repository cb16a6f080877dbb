// cargo (release, wasm32) → wasm-bindgen (web + nodejs glue) → wasm-opt → pkg/ assembled from
// pkg-template/. The _bg.wasm is byte-identical for every wasm-bindgen target, so one optimised
// copy serves all entries.
import { copyFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { log, NIGHTLY, root, run, TARGET } from "./lib.mjs";
import { shortenImports } from "./short-imports.mjs";

const started = Date.now();
// Assembled in a private folder, then swapped in, so a test reading pkg/ never sees it half-built.
const final = join(root, "pkg");
const out = join(root, "build", `pkg-${process.pid}`);
const gen = join(root, "build", `bindgen-${process.pid}`);

// Panic locations embed source paths; remapping keeps this machine's paths (and a few hundred
// bytes) out of the shipped .wasm.
const registrySrc = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "registry", "src");
// The standard library is rebuilt with the crate's profile (opt-level "z") and its
// size-optimised variants instead of linking the prebuilt one (built for speed); a panic is a bare
// trap, with no message formatting or source locations (wasm32-unknown-unknown has nowhere to
// print them anyway), and `{:?}` formats nothing (the crate never shows Debug output): -9 KB
// gzip. Without reference types, wasm-bindgen keeps JavaScript values in its glue's slab instead
// of an externref table and drops an adapter per export: -1.1 KB of wasm for +0.2 KB of glue.
// Measured in docs/design.md, "Where the bytes go".
const sizeFlags = ["-Zunstable-options", "-Cpanic=immediate-abort", "-Zfmt-debug=none", "-Zlocation-detail=none", "-Ctarget-feature=-reference-types"];
const rustflags = [process.env.RUSTFLAGS, `--remap-path-prefix=${registrySrc}=/crates`, `--remap-path-prefix=${root}=/registry-token`, ...sizeFlags].filter(Boolean).join(" ");
run("cargo", [`+${NIGHTLY}`, "build", "--release", "--target", TARGET, "--lib", "-Zbuild-std=std,panic_abort", "-Zbuild-std-features=optimize_for_size"], { env: { ...process.env, RUSTFLAGS: rustflags } });
const wasm = join(root, "target", TARGET, "release", "registry_token.wasm");

rmSync(gen, { recursive: true, force: true });
for (const target of ["web", "nodejs"]) {
  run("wasm-bindgen", ["--target", target, "--out-dir", join(gen, target), "--remove-name-section", "--remove-producers-section", wasm]);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, "pkg-template"), out, { recursive: true });

// Explicit features, never -all: binaryen 132 would then emit stringref, which Node 20 rejects.
const features = ["bulk-memory", "reference-types", "nontrapping-float-to-int", "sign-ext", "mutable-globals", "multivalue"].map((f) => `--enable-${f}`);
// The target_features section only tells tools what the code uses; nothing loads it.
// --flatten --rereloop first, then -Oz around a whole-program (gufa) pass: the control flow
// rebuilt from scratch folds rustc's nested blocks better than -Oz alone (-650 B of gzip,
// measured in docs/design.md, "Where the bytes go").
const passes = ["--flatten", "--rereloop", "-Oz", "--gufa-optimizing", "-Oz", "--converge"];
run(join(root, "node_modules", ".bin", "wasm-opt"), [...passes, "--strip-target-features", ...features, join(gen, "web", "registry_token_bg.wasm"), "-o", join(out, "registry_token_bg.wasm")]);

copyFileSync(join(gen, "web", "registry_token.js"), join(out, "web.js"));
// What the entries share (the error class, the disposable client), as ESM for the browser and
// workerd entries and as CommonJS for the Node entry; written from the one source.
run(join(root, "node_modules", ".bin", "esbuild"), [join(out, "common.js"), "--format=cjs", "--log-level=warning", `--outfile=${join(out, "common.cjs")}`]);
// The same declarations for CommonJS consumers: in a "type": "module" package TypeScript reads
// index.d.ts as ESM, and `require` users (moduleResolution node16/nodenext) need a .d.cts.
copyFileSync(join(out, "index.d.ts"), join(out, "index.d.cts"));
// The nodejs glue is CommonJS; .cjs keeps it CommonJS inside a "type": "module" package.
const node = readFileSync(join(gen, "nodejs", "registry_token.js"), "utf8");
writeFileSync(join(out, "node.cjs"), node);
// The imports' hashed names shortened in the .wasm and both glues (scripts/short-imports.mjs).
const renamed = shortenImports(join(out, "registry_token_bg.wasm"), [join(out, "web.js"), join(out, "node.cjs")]);
log(`shortened ${renamed.size} import names and the exports the glue reads`);

// The shipped JavaScript minified (whitespace, comments, local names; exported and class names
// kept): about a third of the glue's gzip bytes, which every browser and edge cold start
// downloads. The readable sources are pkg-template/ and wasm-bindgen's output.
const shipped = ["web.js", "common.js", "common.cjs", "node.cjs", "index.browser.js", "index.workerd.js", "index.edge.js", "index.node.cjs", "index.node.mjs"];
// --keep-names wraps every function to keep its `name`. The ESM files go without it (1.3 KB of
// gzip in every browser and workerd cold start): their public functions and classes are exported
// declarations, which keep their names anyway, and the one class made inside a function (the
// client `disposable()` returns) names itself. The CommonJS files keep it.
const plain = ["web.js", "common.js", "index.browser.js", "index.workerd.js", "index.edge.js"];
for (const file of shipped) {
  const path = join(out, file);
  const names = plain.includes(file) ? [] : ["--keep-names"];
  run(join(root, "node_modules", ".bin", "esbuild"), [path, "--minify", ...names, "--log-level=warning", "--allow-overwrite", `--outfile=${path}`]);
}

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
const manifest = JSON.parse(readFileSync(join(out, "package.json"), "utf8"));
manifest.version = version;
writeFileSync(join(out, "package.json"), JSON.stringify(manifest, null, 2) + "\n");

rmSync(final, { recursive: true, force: true });
renameSync(out, final);
rmSync(gen, { recursive: true, force: true });
log(`built pkg/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
