// Cloudflare workerd for the package suites: bundle a Worker script that imports "registry-token"
// by name — the way wrangler does it (esbuild with conditions workerd/worker/browser, the .wasm
// kept as a separate CompiledWasm module) — and run the bundle in workerd through miniflare's JS
// API. Facts behind each choice: ../../../../shared/toolchain.md §8.
//
//   const worker = await startWorker({ script: `
//     import { getToken } from "registry-token";
//     export default { async fetch(req) { … return new Response(await getToken(ref)); } };` });
//   const res = await worker.dispatchFetch("http://worker/?ref=…");
//   await worker.dispose();
//
// The script is written into the consumer folder that has the packed tarball installed
// (support/package.mjs), so "registry-token" resolves exactly as in a user's project.
// `bundler: "wrangler"` runs `wrangler deploy --dry-run` instead of esbuild (about 2 s slower).

import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { installPackedPackage, root } from "./package.mjs";

const execFileAsync = promisify(execFile);

export const COMPATIBILITY_DATE = "2026-04-26";
/** What wrangler 4 passes to esbuild (overridable there with WRANGLER_BUILD_CONDITIONS). */
export const WORKER_CONDITIONS = ["workerd", "worker", "browser"];

/** wrangler's default module rule: any imported .wasm becomes a WebAssembly.Module. */
const MODULES_RULES = [
  { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
  { type: "CompiledWasm", include: ["**/*.wasm", "**/*.wasm?module"] },
];

/** Keeps wrangler and miniflare off the network and out of $HOME. */
export function quietEnv(extra = {}) {
  const home = join(root, "build", "wrangler-home");
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join(home, "logs"),
    XDG_CONFIG_HOME: join(home, "config"),
    NO_UPDATE_NOTIFIER: "1",
    ...extra,
  };
}

let seq = 0;

/**
 * Bundles `script` (source text) as a Worker. Returns { dir, main, files: [{ name, bytes }],
 * ms }. `bundler`: "esbuild" (default) or "wrangler". `name` names the folder.
 */
export async function bundleWorker({ script, name = `worker-${process.pid}-${++seq}`, bundler = "esbuild", consumer } = {}) {
  if (typeof script !== "string") throw new TypeError("bundleWorker: `script` (the Worker's source text) is required");
  const started = Date.now();
  const project = join(consumer ?? installPackedPackage().consumer, "workers", name);
  rmSync(project, { recursive: true, force: true });
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "index.js"), script);
  const dist = join(project, "dist");

  if (bundler === "esbuild") {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [join(project, "src", "index.js")],
      outdir: dist,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: WORKER_CONDITIONS,
      mainFields: ["module", "main"],
      // esbuild keeps the import and emits the file; miniflare's CompiledWasm rule then hands the
      // Worker a WebAssembly.Module, as wrangler's bundle does.
      loader: { ".wasm": "copy" },
      assetNames: "[name]-[hash]",
      logLevel: "silent",
    });
  } else if (bundler === "wrangler") {
    writeFileSync(
      join(project, "wrangler.jsonc"),
      JSON.stringify({ name: "registry-token-test", main: "src/index.js", compatibility_date: COMPATIBILITY_DATE }, null, 2),
    );
    const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
    try {
      await execFileAsync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", "dist"], {
        cwd: project,
        env: quietEnv(),
        timeout: 60_000,
      });
    } catch (err) {
      throw new Error(`wrangler deploy --dry-run failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`, { cause: err });
    }
  } else {
    throw new Error(`unknown bundler ${bundler}: "esbuild" or "wrangler"`);
  }

  const files = readdirSync(dist)
    .filter((f) => !f.endsWith(".map") && statSync(join(dist, f)).isFile())
    .map((f) => ({ name: f, bytes: statSync(join(dist, f)).size }));
  return { dir: dist, main: join(dist, "index.js"), files, ms: Date.now() - started };
}

/**
 * Bundles `script` (see bundleWorker) and starts it in workerd. Returns
 * { dispatchFetch(url, init), dispose(), bundle, miniflare }. `bindings` become `env` vars.
 * `bundle`: an earlier startWorker's or bundleWorker's result, started again without bundling
 * (a fresh isolate of the same Worker). `options`: more Miniflare options, such as
 * `kvNamespaces`, `kvPersist` or `cachePersist`.
 */
export async function startWorker({
  script, bundler, name, consumer, bindings = {}, compatibilityDate = COMPATIBILITY_DATE, bundle: prebuilt, options = {},
} = {}) {
  const bundle = prebuilt ?? (await bundleWorker({ script, bundler, name, consumer }));
  const { Miniflare, Log, LogLevel } = await import("miniflare");
  const mf = new Miniflare({
    ...options,
    modules: true,
    scriptPath: bundle.main,
    modulesRoot: bundle.dir,
    modulesRules: MODULES_RULES,
    compatibilityDate,
    bindings,
    cf: false, // do not fetch Request.cf from Cloudflare
    host: "127.0.0.1",
    log: new Log(LogLevel.WARN),
  });
  try {
    await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  let disposed = false;
  return {
    bundle,
    miniflare: mf,
    /** miniflare's dispatchFetch: the Worker's `fetch` handler answers; returns a Response. */
    dispatchFetch: (url, init) => mf.dispatchFetch(url, init),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await mf.dispose();
    },
  };
}
