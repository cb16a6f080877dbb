// Issue 4, Bun (the npm package `bun`): the same user scripts as for Node, run by
// `bun --no-install` (never auto-install from the registry) from the consumer project.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { root } from "../js/support/package.mjs";
import { startEmulator } from "../js/support/emulator.mjs";
import { assertReport, binaryMissing, cacheDir, prepareConsumer, runScript } from "./support/scripts.mjs";

const BUN = join(root, "node_modules", ".bin", "bun");

describe("Bun (npm package bun), packed tarball from node_modules", { skip: binaryMissing(BUN, "bun") }, () => {
  let consumer;
  let ghcr;
  let env;
  before(async () => {
    consumer = prepareConsumer();
    ghcr = await startEmulator("ghcr");
    const cache = cacheDir("bun");
    // Keep Bun's install and transpiler caches out of $HOME; no telemetry.
    env = { BUN_INSTALL_CACHE_DIR: join(cache, "install"), BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0", DO_NOT_TRACK: "1", NO_COLOR: "1" };
  });
  after(() => ghcr?.close());

  for (const [script, entry] of [
    ["esm.mjs", /\/node_modules\/registry-token\/index\.node\.mjs$/],
    ["cjs.cjs", /\/node_modules\/registry-token\/index\.node\.cjs$/],
  ]) {
    it(`bun --no-install ${script}: getToken through the node entry`, async (t) => {
      ghcr.reset();
      const { report, ms } = await runScript(BUN, ["--no-install", script, `${ghcr.host}/owner/app`], { cwd: consumer, env });
      assert.match(report.runtime, /^bun /);
      assert.match(report.entry, entry);
      assertReport(assert, report, ghcr);
      t.diagnostic(`${report.runtime}: ${ms} ms`);
    });
  }
});
