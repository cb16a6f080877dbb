// Issue 4, Deno (the npm package `deno`): the same user scripts as for Node, run by `deno run`
// from the consumer project (package.json + node_modules, so Deno resolves "registry-token" from
// node_modules and takes its `node` condition). Caches under build/, no update check, and
// permissions limited to loopback and the project folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { root } from "../js/support/package.mjs";
import { startEmulator } from "../js/support/emulator.mjs";
import { assertReport, binaryMissing, cacheDir, prepareConsumer, runScript } from "./support/scripts.mjs";

const DENO = join(root, "node_modules", ".bin", "deno");

describe("Deno (npm package deno), packed tarball from node_modules", { skip: binaryMissing(DENO, "deno") }, () => {
  let consumer;
  let ghcr;
  let env;
  before(async () => {
    consumer = prepareConsumer();
    ghcr = await startEmulator("ghcr");
    env = { DENO_DIR: cacheDir("deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  });
  after(() => ghcr?.close());

  const deno = (script) => ["run", "--no-prompt", "--allow-net=127.0.0.1", `--allow-read=${consumer}`, script, `${ghcr.host}/owner/app`];

  for (const [script, entry] of [
    ["esm.mjs", /\/node_modules\/registry-token\/index\.node\.mjs$/],
    ["cjs.cjs", /\/node_modules\/registry-token\/index\.node\.cjs$/],
  ]) {
    it(`deno run ${script}: getToken through the node entry`, async (t) => {
      ghcr.reset();
      const { report, ms } = await runScript(DENO, deno(script), { cwd: consumer, env });
      assert.match(report.runtime, /^deno /);
      assert.match(report.entry, entry);
      assertReport(assert, report, ghcr);
      t.diagnostic(`${report.runtime}: ${ms} ms`);
    });
  }
});
