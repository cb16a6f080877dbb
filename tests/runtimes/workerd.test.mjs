// Issue 4, Cloudflare workerd: a Worker that imports "registry-token" by name, bundled the way
// wrangler bundles (esbuild, conditions workerd/worker/browser; and wrangler's own dry run), runs
// in workerd through miniflare and gets a token from a registry on 127.0.0.1.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { closedPort, startEmulator } from "../js/support/emulator.mjs";
import { startWorker } from "../js/support/workerd.mjs";

/** The Worker: GET /?ref=…[&op=authorize|parse] → JSON { ok, value } or { ok: false, error }. */
const WORKER = `
import { getToken, parseReference, RegistryClient } from "registry-token";

const client = new RegistryClient();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const ref = url.searchParams.get("ref");
    try {
      let value;
      switch (url.searchParams.get("op")) {
        case "authorize": value = await client.authorize(ref); break;
        case "parse": value = parseReference(ref); break;
        case "stats": value = client.stats(); break;
        default: value = await getToken(ref);
      }
      return Response.json({ ok: true, value });
    } catch (err) {
      return Response.json({
        ok: false,
        error: { isError: err instanceof Error, name: err.name, code: err.code, status: err.status, message: err.message },
      });
    }
  },
};
`;

async function call(worker, query) {
  const res = await worker.dispatchFetch(`http://worker.test/?${new URLSearchParams(query)}`);
  assert.equal(res.status, 200);
  return res.json();
}

for (const bundler of ["esbuild", "wrangler"]) {
  describe(`workerd (miniflare), bundled with ${bundler}`, () => {
    let worker;
    let ghcr;
    before(async () => {
      ghcr = await startEmulator("ghcr");
      worker = await startWorker({ script: WORKER, bundler });
    });
    after(async () => {
      await worker?.dispose();
      await ghcr?.close();
    });

    it("the bundle took the workerd entry: the .wasm is a separate module, imported statically", () => {
      const wasm = worker.bundle.files.filter((f) => f.name.endsWith(".wasm"));
      assert.equal(wasm.length, 1, JSON.stringify(worker.bundle.files));
      const js = readFileSync(worker.bundle.main, "utf8");
      assert.match(js, new RegExp(`from\\s*"\\./${wasm[0].name.replace(/[.-]/g, "\\$&")}"`), "static import of the .wasm");
      assert.ok(js.includes("initSync"), "instantiated with initSync");
      assert.ok(!js.includes("could not load registry_token_bg.wasm"), "not the browser entry");
    });

    it("getToken returns a token; the module-level cache is shared across requests", async (t) => {
      const started = Date.now();
      const first = await call(worker, { ref: `${ghcr.host}/owner/app` });
      assert.equal(first.ok, true, JSON.stringify(first));
      assert.match(first.value, /^ghcr-token-\d+$/);
      const second = await call(worker, { ref: `${ghcr.host}/owner/app` });
      assert.equal(second.value, first.value);
      assert.equal(ghcr.counts().token, 1, "one token request for two calls");
      t.diagnostic(`bundle ${worker.bundle.ms} ms (${worker.bundle.files.map((f) => `${f.name} ${f.bytes} B`).join(", ")}); two calls ${Date.now() - started} ms`);
    });

    it("RegistryClient.authorize and the synchronous parseReference work (the module is ready at import)", async () => {
      const auth = await call(worker, { ref: `${ghcr.host}/owner/other`, op: "authorize" });
      assert.equal(auth.ok, true, JSON.stringify(auth));
      assert.match(auth.value.authorization, /^Bearer ghcr-token-\d+$/);
      assert.equal(auth.value.repository, "owner/other");
      const parsed = await call(worker, { ref: "nginx", op: "parse" });
      assert.equal(parsed.value.name, "docker.io/library/nginx");
    });

    it("errors are RegistryAuthError instances with a code: NETWORK for a closed port, INVALID_REFERENCE", async () => {
      const port = await closedPort();
      const net = await call(worker, { ref: `127.0.0.1:${port}/owner/app` });
      assert.equal(net.ok, false);
      assert.deepEqual([net.error.isError, net.error.name, net.error.code], [true, "RegistryAuthError", "NETWORK"]);
      assert.ok(net.error.message.includes(`http://127.0.0.1:${port}/v2/`), net.error.message);
      const bad = await call(worker, { ref: "Not/Valid" });
      assert.deepEqual([bad.error.name, bad.error.code], ["RegistryAuthError", "INVALID_REFERENCE"]);
    });

    // Issue 14: workerd enables FinalizationRegistry only behind a flag, so a client per request
    // would never be freed; the recipe keeps one per isolate. 10,000 requests through it leave
    // its wasm memory where the first 1,000 requests put it.
    it("10,000 requests through the isolate's one client do not grow its memory", { timeout: 300_000 }, async () => {
      const ref = `${ghcr.host}/owner/steady`;
      const requests = async (n) => {
        for (let done = 0; done < n; done += 50) {
          const batch = await Promise.all(Array.from({ length: Math.min(50, n - done) }, () => call(worker, { ref, op: "authorize" })));
          for (const r of batch) assert.equal(r.ok, true, JSON.stringify(r));
        }
      };
      await requests(1_000);
      const before = (await call(worker, { ref, op: "stats" })).value;
      await requests(10_000);
      const after = (await call(worker, { ref, op: "stats" })).value;
      assert.ok(before.memoryBytes > 0, JSON.stringify(before));
      assert.equal(after.memoryBytes, before.memoryBytes, `wasm memory grew from ${before.memoryBytes} to ${after.memoryBytes} bytes`);
      assert.equal(after.tokens, before.tokens, "one cached token served them all");
      assert.equal(after.inFlight, 0);
    });
  });
}
