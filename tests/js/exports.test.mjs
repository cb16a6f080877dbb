// Issue 2, "The JavaScript contract": the package's surface, as ESM and as CommonJS, installed
// from the packed tarball and imported by name.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { startEmulator } from "./support/emulator.mjs";
import { ERROR_CODES, assertRegistryError, throwsWith } from "./support/expect.mjs";
import { importPackage, installPackedPackage, requirePackage } from "./support/package.mjs";

const esm = await importPackage();
const cjs = requirePackage();

let noAuth;
let ghcr;
before(async () => {
  noAuth = await startEmulator("noAuth");
  ghcr = await startEmulator("ghcr");
});
after(async () => {
  await noAuth.close();
  await ghcr.close();
});

for (const [kind, pkg] of [
  ["ESM", esm],
  ["CJS", cjs],
]) {
  describe(`exports (${kind})`, () => {
    it("getToken, parseReference, parseChallenges are functions; RegistryClient is a class", () => {
      assert.equal(typeof pkg.getToken, "function");
      assert.equal(typeof pkg.parseReference, "function");
      assert.equal(typeof pkg.parseChallenges, "function");
      assert.equal(typeof pkg.RegistryClient, "function");
      assert.throws(() => pkg.RegistryClient(), TypeError, "RegistryClient needs `new`");
    });

    it("RegistryClient instances have getToken, authorize and clearCache", () => {
      const client = new pkg.RegistryClient();
      assert.equal(typeof client.getToken, "function");
      assert.equal(typeof client.authorize, "function");
      assert.equal(typeof client.clearCache, "function");
      assert.equal(client.clearCache(), undefined);
      assert.ok(new pkg.RegistryClient({ actions: ["pull"] }) instanceof pkg.RegistryClient);
    });

    it("parseReference and parseChallenges work synchronously", () => {
      assert.equal(pkg.parseReference("nginx").name, "docker.io/library/nginx");
      assert.equal(pkg.parseChallenges('Bearer realm="https://a/token"')[0].scheme, "bearer");
    });

    it("getToken returns a Promise of a string; authorize a Promise of an Authorization", async () => {
      const p = pkg.getToken(`${ghcr.host}/owner/app`);
      assert.ok(p instanceof Promise);
      const token = await p;
      assert.equal(typeof token, "string");
      assert.match(token, /^ghcr-token-\d+$/);
      const auth = await new pkg.RegistryClient().authorize(`${noAuth.host}/owner/app`);
      assert.equal(auth.authorization, null);
    });

    it("errors are Error instances named RegistryAuthError with a code", async () => {
      throwsWith(() => pkg.parseReference("UPPER"), "INVALID_REFERENCE");
      throwsWith(() => pkg.parseChallenges('Bearer realm="open'), "INVALID_CHALLENGE");
      // Promise-returning functions reject; they do not throw synchronously.
      const p = pkg.getToken("Not/Valid");
      assert.ok(p instanceof Promise, "getToken returns a Promise even for a bad reference");
      assertRegistryError(await p.catch((e) => e), "INVALID_REFERENCE");
      const q = new pkg.RegistryClient().authorize("Not/Valid");
      assert.ok(q instanceof Promise, "authorize returns a Promise even for a bad reference");
      assertRegistryError(await q.catch((e) => e), "INVALID_REFERENCE");
    });
  });
}

describe("package files", () => {
  const { consumer } = installPackedPackage();
  const dir = join(consumer, "node_modules", "registry-token");
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

  it("package.json has `exports` and types", () => {
    assert.equal(manifest.name, "registry-token");
    assert.ok(manifest.exports, "exports map");
    assert.ok(manifest.types || manifest.typings || JSON.stringify(manifest.exports).includes(".d.ts"), "types entry");
  });

  it("the curated types declare the API and every error code, without `any`", () => {
    const typesPath = manifest.types ?? manifest.typings ?? "index.d.ts";
    const dts = readFileSync(join(dir, typesPath), "utf8");
    for (const name of ["getToken", "parseReference", "parseChallenges", "RegistryClient", "GetTokenOptions", "Authorization", "ImageReference", "Challenge"]) {
      assert.match(dts, new RegExp(`\\b${name}\\b`), `${name} declared`);
    }
    for (const code of ERROR_CODES) assert.ok(dts.includes(`"${code}"`), `error code ${code} in the types`);
    const withoutComments = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(withoutComments, /:\s*any\b|<any>|\bany\[\]/, "no `any` in the types");
  });
});
