// Issue 4, Node 20: a user's ESM script (`import`) and CommonJS script (`require`) run by `node`
// in a project that installed the packed tarball; both module systems get the one instance.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { startEmulator } from "../js/support/emulator.mjs";
import { assertReport, prepareConsumer, runScript } from "./support/scripts.mjs";

describe(`Node ${process.version}, packed tarball installed by name`, () => {
  let consumer;
  let ghcr;
  before(async () => {
    consumer = prepareConsumer();
    ghcr = await startEmulator("ghcr");
  });
  after(() => ghcr?.close());

  it("ESM: import { getToken } from \"registry-token\" → the node import entry", async (t) => {
    ghcr.reset();
    const { report, ms } = await runScript(process.execPath, ["esm.mjs", `${ghcr.host}/owner/app`], { cwd: consumer });
    assert.match(report.entry, /\/node_modules\/registry-token\/index\.node\.mjs$/);
    assertReport(assert, report, ghcr);
    t.diagnostic(`${report.runtime}: ${ms} ms (process start to exit)`);
  });

  it("CJS: require(\"registry-token\") → the node require entry", async (t) => {
    ghcr.reset();
    const { report, ms } = await runScript(process.execPath, ["cjs.cjs", `${ghcr.host}/owner/app`], { cwd: consumer });
    assert.match(report.entry, /\/node_modules\/registry-token\/index\.node\.cjs$/);
    assertReport(assert, report, ghcr);
    t.diagnostic(`${report.runtime}: ${ms} ms`);
  });

  it("package.json: exports conditions in the documented order, the .wasm subpath; no top-level await in any entry", async () => {
    const dir = join(consumer, "node_modules", "registry-token");
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "workerd", "edge-light", "node", "browser", "default"]);
    assert.deepEqual(Object.keys(manifest.exports["."].node), ["import", "require"]);
    assert.equal(manifest.exports["./registry_token_bg.wasm"], "./registry_token_bg.wasm");
    assert.equal(manifest.exports["./package.json"], "./package.json");
    // esbuild refuses top-level await in an iife bundle: that is what a classic-worker bundle of
    // the browser entry needs (require() of the node entry is shown by the CJS test above).
    const esbuild = await import("esbuild");
    for (const f of ["index.browser.js", "index.node.mjs"]) {
      await esbuild.build({ entryPoints: [join(dir, f)], bundle: true, format: "iife", platform: f.includes("node") ? "node" : "browser", write: false, logLevel: "silent" });
    }
  });
});
