// Issue 14, Vercel Edge: a handler that imports "registry-token" by name, bundled the way Vercel
// bundles edge code — the `edge-light` condition (with worker and browser, as Next.js sets them
// for the edge) and `import m from "./x.wasm?module"` turned into `globalThis["wasm_<sha1>"]`, a
// WebAssembly.Module that the host compiles and binds (Vercel's edge-wasm plugin and Next.js's
// middleware-wasm-loader do exactly this) — then run in the npm `edge-runtime` package, the
// runtime `vercel dev` and `next dev` run edge code in, with compiling wasm from bytes forbidden
// (edge-runtime allows it by default; production Vercel Edge does not, so the test forbids it).
// The handler gets a token and lists tags from a registry on 127.0.0.1.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { closedPort, makeImage, startEmulator } from "../js/support/emulator.mjs";
import { installPackedPackage } from "../js/support/package.mjs";

/** The conditions Next.js and Vercel resolve edge code with. */
const EDGE_CONDITIONS = ["edge-light", "worker", "browser"];

/** The handler: GET /?op=…&ref=… → JSON { ok, value } or { ok: false, error }. */
const HANDLER = `
import { getToken, listTags, parseReference, RegistryAuthError, RegistryClient } from "registry-token";

const client = new RegistryClient();

addEventListener("fetch", (event) => {
  event.respondWith((async () => {
    const url = new URL(event.request.url);
    const ref = url.searchParams.get("ref");
    try {
      let value;
      switch (url.searchParams.get("op")) {
        case "parse": value = parseReference(ref); break;
        case "tags": value = await listTags(ref); break;
        case "client-tags": value = await client.listTags(ref); break;
        case "authorize": value = await client.authorize(ref); break;
        default: value = await getToken(ref);
      }
      return Response.json({ ok: true, value });
    } catch (err) {
      return Response.json({
        ok: false,
        error: {
          isError: err instanceof Error,
          isRegistryAuthError: err instanceof RegistryAuthError,
          name: err.name,
          code: err.code,
          message: err.message,
        },
      });
    }
  })());
});
`;

/**
 * Vercel's wasm rule: `*.wasm?module` → a module whose default export is the global binding
 * `wasm_<sha1 of the bytes>`; the host compiles the file into `bindings[name]`.
 */
function vercelWasmPlugin(bindings) {
  return {
    name: "vercel-wasm",
    setup(build) {
      build.onResolve({ filter: /\.wasm\?module$/i }, async (args) => {
        const resolved = await build.resolve(args.path.replace(/\?module$/i, ""), { importer: args.importer, resolveDir: args.resolveDir, kind: "entry-point" });
        if (resolved.errors.length) return { errors: resolved.errors };
        const bytes = readFileSync(resolved.path);
        const name = `wasm_${createHash("sha1").update(bytes).digest("hex")}`;
        bindings[name] = { path: resolved.path, bytes };
        return { path: name, namespace: "vercel-wasm" };
      });
      build.onLoad({ filter: /.*/, namespace: "vercel-wasm" }, (args) => ({ loader: "js", contents: `export default globalThis[${JSON.stringify(args.path)}];` }));
    },
  };
}

/**
 * Bundles `source` (or `entry`, a file) like Vercel's edge bundler: one CommonJS script for the
 * platform "browser" (esbuild refuses top-level await there, as Vercel's bundle does). Returns
 * { code, bindings: { name: WebAssembly.Module compiled here, in Node } }.
 */
async function bundleEdge({ source, entry, dir }) {
  const esbuild = await import("esbuild");
  const found = {};
  const result = await esbuild.build({
    ...(source === undefined ? { entryPoints: [entry] } : { stdin: { contents: source, resolveDir: dir, sourcefile: "handler.js" } }),
    bundle: true,
    write: false,
    format: "cjs",
    platform: "browser",
    target: "es2022",
    conditions: EDGE_CONDITIONS,
    plugins: [vercelWasmPlugin(found)],
    logLevel: "silent",
  });
  const bindings = {};
  for (const [name, { bytes }] of Object.entries(found)) bindings[name] = await WebAssembly.compile(bytes);
  return { code: result.outputFiles[0].text, bindings, files: found };
}

/** An edge-runtime VM as Vercel runs edge code, with the wasm bindings; wasm from bytes forbidden. */
async function edgeRuntime(bindings) {
  const { EdgeRuntime } = await import("edge-runtime");
  return new EdgeRuntime({
    codeGeneration: { strings: false, wasm: false },
    extend: (context) => Object.assign(context, { module: {}, ...bindings }),
  });
}

describe("Vercel Edge (edge-runtime), bundled with the edge-light condition and .wasm?module", () => {
  let runtime;
  let bundle;
  let registry;
  let dir;

  before(async () => {
    const { consumer } = installPackedPackage();
    dir = join(consumer, `edge-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    registry = await startEmulator({ repos: { "team/app": { manifests: { "1.0": makeImage(), "2.0": makeImage({ created: "2026-01-02T00:00:00Z" }) } } } });
    bundle = await bundleEdge({ source: HANDLER, dir });
    runtime = await edgeRuntime(bundle.bindings);
    runtime.evaluate(bundle.code);
  });
  after(async () => {
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function call(query) {
    const res = await runtime.dispatchFetch(`http://edge.test/?${new URLSearchParams(query)}`);
    assert.equal(res.status, 200);
    return res.json();
  }

  it("the synchronous parseReference works on the first request: the module is ready at import", async () => {
    const parsed = await call({ op: "parse", ref: "nginx" });
    assert.equal(parsed.ok, true, JSON.stringify(parsed));
    assert.equal(parsed.value.name, "docker.io/library/nginx");
  });

  it("the bundle took the edge-light entry, and its .wasm is one host-compiled binding", () => {
    assert.match(bundle.code, /node_modules\/registry-token\/index\.edge\.js/);
    assert.doesNotMatch(bundle.code, /node_modules\/registry-token\/index\.(browser|workerd|node)\./);
    const names = Object.keys(bundle.bindings);
    assert.equal(names.length, 1, names.join(", "));
    assert.match(bundle.files[names[0]].path, /node_modules\/registry-token\/registry_token_bg\.wasm$/);
  });

  it("getToken returns a token; the module-level cache is shared across requests", async () => {
    registry.reset();
    const first = await call({ ref: `${registry.host}/team/app` });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.ok(typeof first.value === "string" && first.value.length > 0, JSON.stringify(first));
    const second = await call({ ref: `${registry.host}/team/app` });
    assert.equal(second.value, first.value);
    assert.equal(registry.counts().token, 1, "one token request for two calls");
  });

  it("listTags (module-level and on a RegistryClient) lists the repository's tags", async () => {
    const tags = await call({ op: "tags", ref: `${registry.host}/team/app` });
    assert.equal(tags.ok, true, JSON.stringify(tags));
    assert.deepEqual(tags.value, ["1.0", "2.0"]);
    const viaClient = await call({ op: "client-tags", ref: `${registry.host}/team/app` });
    assert.deepEqual(viaClient.value, ["1.0", "2.0"]);
    const auth = await call({ op: "authorize", ref: `${registry.host}/team/app` });
    assert.match(auth.value.authorization, /^Bearer /);
  });

  it("errors are RegistryAuthError instances with a code: INVALID_REFERENCE, NETWORK", async () => {
    const bad = await call({ ref: "Not/Valid" });
    assert.equal(bad.ok, false);
    assert.deepEqual([bad.error.isError, bad.error.isRegistryAuthError, bad.error.name, bad.error.code], [true, true, "RegistryAuthError", "INVALID_REFERENCE"]);
    const port = await closedPort();
    const net = await call({ ref: `127.0.0.1:${port}/team/app` });
    assert.deepEqual([net.error.isRegistryAuthError, net.error.code], [true, "NETWORK"]);
  });
});

describe("edge-runtime as Vercel Edge: why the edge entry adopts the host's module", () => {
  let bindings;
  let webJs;

  before(async () => {
    const { consumer } = installPackedPackage();
    webJs = join(consumer, "node_modules", "registry-token", "web.js");
    const bytes = readFileSync(join(consumer, "node_modules", "registry-token", "registry_token_bg.wasm"));
    bindings = { wasm_host: await WebAssembly.compile(bytes), wasm_bytes: new Uint8Array(bytes) };
  });

  it("inside, compiling from bytes is refused and the host's module is no `instanceof WebAssembly.Module`", async () => {
    const runtime = await edgeRuntime(bindings);
    assert.equal(runtime.evaluate("globalThis.wasm_host instanceof WebAssembly.Module"), false);
    assert.equal(runtime.evaluate("Object.prototype.toString.call(globalThis.wasm_host)"), "[object WebAssembly.Module]");
    assert.match(runtime.evaluate("(() => { try { new WebAssembly.Module(wasm_bytes); return 'compiled'; } catch (e) { return String(e); } })()"), /disallowed by embedder/);
    assert.match(await runtime.evaluate("WebAssembly.compile(wasm_bytes).then(() => 'compiled', String)"), /disallowed by embedder/);
    assert.match(await runtime.evaluate("WebAssembly.instantiate(wasm_bytes, {}).then(() => 'compiled', String)"), /disallowed by embedder/);
  });

  it("wasm-bindgen's initSync rejects the host's module as it is; its asynchronous init accepts it", async () => {
    const source = `
      import init, { initSync, parseReference } from ${JSON.stringify(webJs)};
      globalThis.trySync = () => { try { initSync({ module: globalThis.wasm_host }); return "ok"; } catch (e) { return String(e); } };
      globalThis.tryAsync = () => init({ module_or_path: globalThis.wasm_host }).then(() => parseReference("nginx").name, String);
    `;
    const { code } = await bundleEdge({ source, dir: process.cwd() });
    const runtime = await edgeRuntime(bindings);
    runtime.evaluate(code);
    assert.match(runtime.evaluate("trySync()"), /disallowed by embedder|ArrayBuffer|BufferSource|TypedArray/i);
    assert.equal(await runtime.evaluate("tryAsync()"), "docker.io/library/nginx");
  });
});
