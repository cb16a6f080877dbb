// Issue 4, browsers: headless Debian Chromium loads the packed package's browser entry — in a
// plain page (import map, no bundler), a module Web Worker, a Vite build and two esbuild builds —
// and each obtains a token from a CORS-enabled registry on 127.0.0.1 and shows it; the test reads
// it back from the page. Then the CORS diagnosis: what a page sees from a registry that is not set
// up for browsers, and that the error says what to configure.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { startDistribution } from "../fixtures/distribution.mjs";
import { chromiumUnavailable, launchBrowser, screenshot, startStaticServer, waitForResult } from "../js/support/browser.mjs";
import { makeImage, startEmulator } from "../js/support/emulator.mjs";
import { installPackedPackage, root } from "../js/support/package.mjs";

const APP = fileURLToPath(new URL("./apps/page/", import.meta.url));
const OUT = join(root, "build", "runtimes", "chromium");
const skip = chromiumUnavailable(); // throws under CI=true when Chromium is missing

describe("Chromium", { skip: skip ?? false }, () => {
  let browser;
  let site;
  let hub; // Docker Hub emulation with CORS: token realm on a second origin
  let consumer;
  const dists = {};

  before(async () => {
    ({ consumer } = installPackedPackage());
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    // The bundled apps live inside the consumer project so "registry-token" resolves from its
    // node_modules, as in a user's project.
    const appCopy = join(consumer, "apps", "page");
    cpSync(APP, appCopy, { recursive: true });
    dists.vite = await viteBuild(appCopy, join(OUT, "vite"));
    dists.esbuildCopy = await esbuildBuild(appCopy, join(OUT, "esbuild-copy"), "copy");
    dists.esbuildSubpath = await esbuildBuild(appCopy, join(OUT, "esbuild-subpath"), "subpath");
    site = await startStaticServer(APP, {
      mounts: {
        "/plain/": APP,
        "/node_modules/": join(consumer, "node_modules"),
        "/vite/": dists.vite.dir,
        "/esbuild-copy/": dists.esbuildCopy.dir,
        "/esbuild-subpath/": dists.esbuildSubpath.dir,
      },
    });
    hub = await startEmulator({ preset: "dockerhub", cors: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await site?.close();
    await hub?.close();
  });

  /** Opens `path?query` on the static site, waits for the listed result elements, screenshots. */
  async function visit(name, path, query, selectors = ["#result"]) {
    const started = Date.now();
    const { page, logs } = await browser.open(`${site.url}${path}?${new URLSearchParams(query)}`);
    try {
      const results = [];
      for (const selector of selectors) results.push(await waitForResult(page, { selector, logs }));
      const shot = await screenshot(page, `chromium-${name}`);
      return { results, logs, shot, ms: Date.now() - started };
    } finally {
      await page.close();
    }
  }

  const ref = () => `${hub.host}/library/nginx:1.25`;

  describe("the browser entry obtains a token", () => {
    it("in a plain page: <script type=module> + import map, no bundler; and in a module Web Worker", async (t) => {
      hub.reset();
      const { results, logs, ms } = await visit("plain-page", "/plain/plain.html", { ref: ref(), worker: "/plain/plain-worker.js" }, ["#result", "#worker-result"]);
      const [pageResult, workerResult] = results;
      assert.equal(pageResult.state, "ok", `page: ${pageResult.text}\n${logs.join("\n")}`);
      assert.match(pageResult.text, /^dockerhub-token-\d+$/);
      assert.equal(workerResult.state, "ok", `worker: ${workerResult.text}\n${logs.join("\n")}`);
      assert.match(workerResult.text, /^dockerhub-token-\d+$/);
      assert.equal(workerResult.window, "undefined", "the worker has no window");
      // The page's and the worker's calls each did the whole dance once, without any preflight:
      // the challenge and the anonymous token request are CORS "simple" requests.
      assert.deepEqual(
        { ping: hub.counts().ping, token: hub.counts().token, preflight: hub.counts().preflight },
        { ping: 2, token: 2, preflight: 0 },
      );
      const wasm = site.requests.filter((r) => r.path === "/node_modules/registry-token/registry_token_bg.wasm");
      assert.ok(wasm.length >= 1 && wasm.every((r) => r.status === 200), "the .wasm next to the entry was loaded");
      t.diagnostic(`plain page + worker: ${ms} ms`);
    });

    it("in a Vite build (no plugin, no config beyond base), page and bundled worker", async (t) => {
      hub.reset();
      const wasmAssets = dists.vite.files.filter((f) => f.endsWith(".wasm"));
      assert.equal(wasmAssets.length, 1, `Vite emitted one .wasm asset: ${dists.vite.files.join(", ")}`);
      const { results, logs, ms } = await visit("vite", "/vite/index.html", { ref: ref(), worker: "bundled" }, ["#result", "#worker-result"]);
      for (const r of results) {
        assert.equal(r.state, "ok", `${r.text}\n${logs.join("\n")}`);
        assert.match(r.text, /^dockerhub-token-\d+$/);
      }
      assert.equal(hub.counts().preflight, 0);
      t.diagnostic(`vite build ${dists.vite.ms} ms, page + worker ${ms} ms`);
    });

    it("under the Vite dev server (dependency pre-bundling on, no optimizeDeps.exclude)", async (t) => {
      const started = Date.now();
      const { createServer } = await import("vite");
      const server = await createServer({
        root: join(consumer, "apps", "page"),
        configFile: false,
        cacheDir: join(OUT, "vite-dev-cache"),
        logLevel: "error",
        server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
      });
      try {
        await server.listen();
        const { port } = server.httpServer.address();
        const { page, logs } = await browser.open(`http://127.0.0.1:${port}/index.html?${new URLSearchParams({ ref: ref(), worker: "bundled" })}`);
        try {
          for (const selector of ["#result", "#worker-result"]) {
            const r = await waitForResult(page, { selector, logs });
            assert.equal(r.state, "ok", `${selector}: ${r.text}\n${logs.join("\n")}`);
            assert.match(r.text, /^dockerhub-token-\d+$/);
          }
          await screenshot(page, "chromium-vite-dev");
        } finally {
          await page.close();
        }
      } finally {
        await server.close();
      }
      t.diagnostic(`vite dev server start + page + worker: ${Date.now() - started} ms`);
    });

    it("in an esbuild build with registry_token_bg.wasm copied next to the bundle", async (t) => {
      const { results, logs, ms } = await visit("esbuild-copy", "/esbuild-copy/index.html", { ref: ref() });
      assert.equal(results[0].state, "ok", `${results[0].text}\n${logs.join("\n")}`);
      assert.match(results[0].text, /^dockerhub-token-\d+$/);
      t.diagnostic(`esbuild ${dists.esbuildCopy.ms} ms, page ${ms} ms`);
    });

    it("in an esbuild build that imports registry-token/registry_token_bg.wasm (file loader) and passes it to init()", async (t) => {
      const before = site.requests.length;
      const { results, logs, ms } = await visit("esbuild-subpath", "/esbuild-subpath/index.html", { ref: ref() });
      assert.equal(results[0].state, "ok", `${results[0].text}\n${logs.join("\n")}`);
      assert.match(results[0].text, /^dockerhub-token-\d+$/);
      const fetched = site.requests.slice(before).filter((r) => r.path.endsWith(".wasm")).map((r) => `${r.path} ${r.status}`);
      assert.equal(fetched.length, 1, fetched.join(", "));
      assert.match(fetched[0], /^\/esbuild-subpath\/registry_token_bg-\w+\.wasm 200$/, "the hashed asset from the subpath import, not the default URL");
      t.diagnostic(`esbuild ${dists.esbuildSubpath.ms} ms, page ${ms} ms`);
    });

    it("from a real registry (distribution 2.8 behind a CORS proxy) with credentials, and the token reads a manifest", async (t) => {
      const registry = await startDistribution({ cors: true });
      try {
        const { username, password } = registry.users.reader;
        const { results, logs, ms } = await visit(
          "distribution",
          "/plain/plain.html",
          { ref: `${registry.corsHost}/team/secret:1.0`, username, password, manifest: "1.0" },
          ["#result", "#manifest"],
        );
        const [token, manifest] = results;
        assert.equal(token.state, "ok", `${token.text}\n${logs.join("\n")}`);
        assert.match(token.text, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
        assert.ok(!token.text.includes(password));
        assert.equal(manifest.state, "ok", `${manifest.text}\n${logs.join("\n")}`);
        assert.equal(manifest.text, registry.images["team/secret"].digest);
        t.diagnostic(`distribution start ${registry.startupMs.total} ms, page ${ms} ms`);
      } finally {
        await registry.stop();
      }
    });
  });

  describe("registry calls in the browser", () => {
    it("listTags and getImageConfig; the blob redirect to another origin carries no Authorization (Fetch standard)", async () => {
      const image = makeImage({ name: "browser", created: "2024-05-06T07:08:09Z" });
      const reg = await startEmulator({ cors: true, repos: { "team/app": { manifests: { "1.0": image } } }, resources: { blobRedirect: { status: 307 } } });
      try {
        const { results, logs } = await visit("registry-calls", "/plain/plain.html", { ref: `${reg.host}/team/app:1.0`, calls: "1" }, ["#registry"]);
        const r = results[0];
        assert.equal(r.state, "ok", `${r.text}\n${logs.join("\n")}`);
        const out = JSON.parse(r.text);
        assert.deepEqual(out.tags, ["1.0"]);
        assert.equal(out.created, "2024-05-06T07:08:09Z");
        assert.match(out.digest, /^sha256:[0-9a-f]{64}$/);
        const storage = reg.log.filter((e) => e.kind === "storage" && e.method === "GET");
        assert.ok(storage.length >= 1, "the config blob came from the storage origin");
        assert.deepEqual(reg.violations, [], "no request reached the storage origin with Authorization");
      } finally {
        await reg.close();
      }
    });
  });

  describe("the cached call's fast path in the browser entry", () => {
    it("repeats without options cost no request and share one promise; clearCache, options and free() keep their meaning", async () => {
      const reg = await startEmulator({ cors: true, repos: { "team/app": { manifests: { "1.0": makeImage({ name: "fast" }) } } } });
      try {
        // The page's own #result call (the module client) runs too: it is waited for first.
        const { results, logs } = await visit("fast-path", "/plain/plain.html", { ref: `${reg.host}/team/app:1.0`, fast: "1" }, ["#result", "#fast"]);
        const r = results[1];
        assert.equal(r.state, "ok", `${r.text}\n${logs.join("\n")}`);
        const out = JSON.parse(r.text);
        assert.ok(typeof out.first === "string" && out.first.length > 0, `a token: ${r.text}`);
        assert.deepEqual(out.repeated, [out.first, out.first]);
        assert.equal(out.samePromise, true, "a hit hands out the entry's settled promise");
        assert.equal(out.viaOptions, out.first, "the full path gives the cached token too");
        assert.ok(out.afterClear.length > 0 && out.afterClear !== out.first, `clearCache() made the next call ask again (a new token): ${r.text}`);
        assert.deepEqual(out.moduleAgain, [out.moduleFirst, out.moduleFirst]);
        assert.equal(out.freed, "true:INVALID_REFERENCE", "a freed client rejects, fast path or not");
        // Three token requests in all: the page's module call (#result), the client's first
        // call and its call after clearCache(); every repeat was answered without one.
        assert.equal(reg.counts().token, 3, JSON.stringify(reg.counts()));
      } finally {
        await reg.close();
      }
    });
  });

  describe("CORS diagnosis: a registry not set up for browsers", () => {
    it("no Access-Control-Allow-Origin: fetch rejects → NETWORK, saying what to configure", async () => {
      const bare = await startEmulator({ preset: "ghcr", cors: false });
      try {
        const { results } = await visit("cors-no-allow-origin", "/plain/plain.html", { ref: `${bare.host}/owner/app` });
        const r = results[0];
        assert.equal(r.state, "error");
        assert.deepEqual([r.name, r.code, r.isError], ["RegistryAuthError", "NETWORK", "true"]);
        assert.equal(r.registryAuthError, "true", "the rejection is an instance of the exported RegistryAuthError");
        assert.equal(r.preInit, "true:NOT_INITIALIZED", "a parser called before init() throws NOT_INITIALIZED");
        assert.ok(r.text.includes(`${bare.url}/v2/`), r.text);
        for (const hint of ["Access-Control-Allow-Origin", "OPTIONS", "Authorization", "registryUrl"]) {
          assert.ok(r.text.includes(hint), `message names ${hint}: ${r.text}`);
        }
        // The request did reach the registry; the browser hid the answer.
        assert.equal(bare.counts().ping, 1);
        assert.equal(bare.counts().preflight, 0, "the challenge request is a simple request");
      } finally {
        await bare.close();
      }
    });

    it("401 visible but WWW-Authenticate not exposed → NO_CHALLENGE with the Expose-Headers hint", async () => {
      const hidden = await startEmulator({ preset: "ghcr", cors: false, headers: { "Access-Control-Allow-Origin": "*" } });
      try {
        const { results } = await visit("cors-hidden-challenge", "/plain/plain.html", { ref: `${hidden.host}/owner/app` });
        const r = results[0];
        assert.equal(r.state, "error");
        assert.deepEqual([r.name, r.code, r.status], ["RegistryAuthError", "NO_CHALLENGE", "401"]);
        assert.ok(r.text.includes("Access-Control-Expose-Headers: WWW-Authenticate"), r.text);
        assert.ok(r.text.includes("registryUrl"), r.text);
        // Node sees the same server's challenge: only the browser hides it.
        const res = await fetch(`${hidden.url}/v2/`);
        assert.ok(res.headers.get("www-authenticate"));
      } finally {
        await hidden.close();
      }
    });

    it("credentials need a preflight (Authorization): answered → token; refused → NETWORK naming the token server and OPTIONS", async () => {
      const users = { alice: "alice-pw" };
      const withPreflight = await startEmulator({ preset: "ghcr", cors: true, token: { users } });
      // Allow-Origin and Expose-Headers on every answer, but OPTIONS → 401 (distribution#4458).
      const noPreflight = await startEmulator({
        preset: "ghcr",
        cors: false,
        token: { users },
        headers: { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "WWW-Authenticate" },
      });
      try {
        const ok = await visit("cors-preflight-ok", "/plain/plain.html", { ref: `${withPreflight.host}/owner/app`, username: "alice", password: users.alice });
        assert.equal(ok.results[0].state, "ok", ok.results[0].text);
        assert.match(ok.results[0].text, /^ghcr-token-\d+$/);
        // A username and password go by GET with Basic at once, which needs a preflight.
        assert.deepEqual(withPreflight.entries("token").map((e) => [e.method, e.status, e.basicUser]), [["GET", 200, "alice"]]);
        assert.equal(withPreflight.counts().preflight, 1, "only the GET with Authorization was preflighted");

        const refused = await visit("cors-preflight-refused", "/plain/plain.html", { ref: `${noPreflight.host}/owner/app`, username: "alice", password: users.alice });
        const r = refused.results[0];
        assert.equal(r.state, "error");
        assert.equal(r.code, "NETWORK");
        assert.ok(r.text.includes("token server"), r.text);
        assert.ok(r.text.includes("OPTIONS") && r.text.includes("Authorization"), r.text);
        assert.ok(!r.text.includes(users.alice), "no secret in the message");
        assert.equal(noPreflight.entries("preflight")[0]?.status, 401);
      } finally {
        await withPreflight.close();
        await noPreflight.close();
      }
    });

    it("the fix without touching the registry: registryUrl pointing at a CORS-enabled route", async () => {
      const proxy = await startEmulator({ preset: "ghcr", cors: true });
      try {
        const { results } = await visit("cors-registry-url", "/plain/plain.html", { ref: "registry.example.com/owner/app", registryUrl: proxy.url });
        assert.equal(results[0].state, "ok", results[0].text);
        assert.match(results[0].text, /^ghcr-token-\d+$/);
        assert.equal(proxy.entries("token")[0].query.scope, "repository:owner/app:pull");
      } finally {
        await proxy.close();
      }
    });
  });
});

/** `vite build` of the app through Vite's JS API; `base: "./"` so it can be served from a subfolder. */
async function viteBuild(appDir, outDir) {
  const started = Date.now();
  const { build } = await import("vite");
  await build({
    root: appDir,
    configFile: false,
    base: "./",
    logLevel: "error",
    build: { outDir, emptyOutDir: true },
  });
  return { dir: outDir, files: listFiles(outDir), ms: Date.now() - started };
}

/**
 * esbuild for the browser. "copy": the README's recipe 1 (copy the .wasm next to the bundle,
 * which `new URL("./registry_token_bg.wasm", import.meta.url)` then finds); "subpath": recipe 2
 * (import the .wasm subpath with the file loader and pass it to init()).
 */
async function esbuildBuild(appDir, outDir, recipe) {
  const started = Date.now();
  const esbuild = await import("esbuild");
  rmSync(outDir, { recursive: true, force: true });
  const entry = recipe === "copy" ? "main.js" : "esbuild-subpath.js";
  await esbuild.build({
    entryPoints: [join(appDir, entry)],
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    loader: { ".wasm": "file" },
    assetNames: "[name]-[hash]",
    logLevel: "silent",
  });
  if (recipe === "copy") {
    cpSync(join(appDir, "..", "..", "node_modules", "registry-token", "registry_token_bg.wasm"), join(outDir, "registry_token_bg.wasm"));
  }
  const html = readFileSync(join(appDir, "index.html"), "utf8").replace("./main.js", `./${entry}`);
  writeFileSync(join(outDir, "index.html"), html);
  return { dir: outDir, files: listFiles(outDir), ms: Date.now() - started };
}

function listFiles(dir, prefix = "") {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
  );
}
