// The hand-written types, checked by the TypeScript compiler the way users consume them: an ESM
// and a CommonJS project (moduleResolution nodenext) against the installed tarball, with correct
// use compiling cleanly under `strict` and misuse rejected (so the types are not `any`).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { installPackedPackage, root } from "../js/support/package.mjs";

const TSC = join(root, "node_modules", ".bin", "tsc");

const USE = `
  const client = new RegistryClient({ timeoutMs: 5000, actions: ["pull"] });
  async function main(): Promise<void> {
    const token: string = await getToken("ghcr.io/o/a:1", { signal: AbortSignal.timeout(1000) });
    const auth: Authorization = await client.authorize("nginx", { username: "u", password: "p" });
    const header: string | null = auth.authorization;
    const expires: number | null = auth.expiresAt;
    const ref: ImageReference = parseReference("nginx:1.25");
    const scheme: string = parseChallenges('Bearer realm="x"')[0]!.scheme;
    client.clearCache();
    const inFlight: number = client.stats().inFlight;
    try {
      await getToken("x");
    } catch (e) {
      const err = e as RegistryAuthError;
      const code: RegistryAuthErrorCode = err.code;
      if (code === "TIMEOUT" || code === "INSECURE_REALM") console.log(err.status, err.retryAfter);
    }
    await init();
    console.log(token, header, expires, ref.familiar, scheme, inFlight);
  }
  void main();

  const bound = new RegistryClient({ credentials: { "ghcr.io": { username: "u", password: "p" }, "docker.io": { refreshToken: "r" } } });
  const viaFunction = new RegistryClient({ credentials: async (registry: string) => (registry === "ghcr.io" ? { username: "u", password: "p" } : null), offline: true });
  async function registryCalls(): Promise<void> {
    const res: Response = await bound.fetch("ghcr.io/o/a", "tags/list?n=10", { method: "GET", headers: { Accept: "application/json" } });
    const tags: string[] = await bound.listTags("ghcr.io/o/a", { pageSize: 100, limit: 500 });
    for await (const page of bound.tagPages("ghcr.io/o/a")) console.log(page.length);
    const repos: string[] = await viaFunction.catalog("localhost:5000");
    const m: Manifest = await getManifest("nginx", { platform: "linux/arm64" });
    if ("manifests" in m.manifest) console.log(m.manifest.manifests[0]!.platform?.architecture);
    else console.log(m.manifest.config.digest, m.manifest.layers.length);
    const platforms: Platform[] = m.platforms ?? [];
    const d: Descriptor = await headManifest("nginx");
    const cfg: ImageConfig = await getImageConfig("nginx", { platform: "linux/amd64" });
    const created: string | undefined = cfg.config.created;
    const labels = cfg.config.config?.Labels ?? {};
    await deleteManifest("localhost:5000/a/b:1", { actions: ["delete"] });
    const r2: Response = await registryFetch("nginx", "/v2/_catalog");
    const tags2: string[] = await listTags("nginx");
    const repos2: string[] = await catalog("localhost:5000");
    for await (const p of tagPages("nginx", { limit: 10 })) console.log(p);
    try {
      await getManifest("x");
    } catch (e) {
      const err = e as RegistryAuthError;
      if (err.code === "RATE_LIMITED" || err.code === "NOT_FOUND") console.log(err.errors?.[0]?.code, err.retryAfter);
    }
    console.log(res.status, tags, repos, platforms, d.digest, created, labels, r2, tags2, repos2);
  }
  void registryCalls();

  // Token stores (the token-store issue): the three adapters, a hand-written store, the stats.
  declare const kv: { get(key: string): Promise<string | null>; put(key: string, value: string, o?: { expirationTtl?: number }): Promise<void>; delete(key: string): Promise<void> };
  declare const ctx: { waitUntil(p: Promise<unknown>): void };
  const mine: TokenStore = {
    get: (key: string) => (key.startsWith("rt1-") ? null : undefined),
    put: async (_key: string, _value: string, o: { expiresAt: number; ttlSeconds: number }) => void (o.expiresAt + o.ttlSeconds),
  };
  const stored = new RegistryClient({ tokenStore: kvStore(kv, { prefix: "t:" }), waitUntil: (p) => ctx.waitUntil(p) });
  async function stores(): Promise<void> {
    await stored.getToken("nginx", { tokenStore: cacheStore(await caches.open("tokens"), { baseUrl: "https://tokens.invalid/" }) });
    await getToken("nginx", { tokenStore: webStorageStore(sessionStorage), waitUntil: (p: Promise<unknown>) => void p });
    await getToken("nginx", { tokenStore: mine });
    const s = stored.stats();
    const counts: number = s.storeHits + s.storeMisses + s.storeErrors;
    console.log(counts);
  }
  void stores();
`;

const MISUSE = `
  void getToken(42);
  void getToken("x", { actions: "pull" });
  const n: number = parseReference("x").tag;
  const c: RegistryAuthErrorCode = "NOT_A_CODE";
  new RegistryClient({ password: "p" });
  void new RegistryClient().listTags("x", { pageSize: "100" });
  void getManifest("x").then((m) => { const t: number = m.digest; });
  void getToken("x", { tokenStore: { get: (k: string) => k } });
  void getToken("x", { waitUntil: 5 });
  kvStore(sessionStorage);
`;

const NAMES =
  "getToken, parseReference, parseChallenges, init, RegistryClient, registryFetch, listTags, tagPages, catalog, getManifest, headManifest, getImageConfig, deleteManifest, kvStore, cacheStore, webStorageStore";
const TYPES = "Authorization, ImageReference, RegistryAuthError, RegistryAuthErrorCode, Manifest, Descriptor, Platform, ImageConfig, TokenStore";

function tsc(dir, files, resolution = "nodenext") {
  const module = resolution === "bundler" ? "esnext" : "nodenext";
  const config = {
    compilerOptions: { strict: true, noEmit: true, module, moduleResolution: resolution, target: "es2022", lib: ["es2022", "dom", "esnext.disposable"], skipLibCheck: false },
    files,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  return spawnSync(TSC, ["-p", dir], { encoding: "utf8" });
}

describe("TypeScript declarations (tsc, strict, nodenext)", () => {
  let dir;
  before(() => {
    const { consumer } = installPackedPackage();
    dir = join(consumer, `types-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    // package.json decides how .ts files are read; .mts and .cts are explicit either way.
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ESM (import) and CommonJS (require) projects compile against the package", () => {
    writeFileSync(join(dir, "esm.mts"), `import { ${NAMES} } from "registry-token";\nimport type { ${TYPES} } from "registry-token";\n${USE}`);
    const cjsHeader = [
      'import rt = require("registry-token");',
      `const { ${NAMES} } = rt;`,
      "type Authorization = rt.Authorization;",
      "type ImageReference = rt.ImageReference;",
      "type RegistryAuthError = rt.RegistryAuthError;",
      "type RegistryAuthErrorCode = rt.RegistryAuthErrorCode;",
      "type Manifest = rt.Manifest;",
      "type Descriptor = rt.Descriptor;",
      "type Platform = rt.Platform;",
      "type ImageConfig = rt.ImageConfig;",
      "type TokenStore = rt.TokenStore;",
    ].join("\n");
    writeFileSync(join(dir, "cjs.cts"), `${cjsHeader}\n${USE}`);
    const r = tsc(dir, ["esm.mts", "cjs.cts"]);
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });

  it("misuse does not compile (the types are precise, not any)", () => {
    writeFileSync(join(dir, "bad.mts"), `import { ${NAMES} } from "registry-token";\nimport type { ${TYPES} } from "registry-token";\n${MISUSE}`);
    const r = tsc(dir, ["bad.mts"]);
    assert.notEqual(r.status, 0);
    const out = r.stdout + r.stderr;
    // One diagnostic per line of MISUSE: wrong argument type, wrong option type, null vs number,
    // unknown code, a bare secret as a client default, a string page size, a digest as a number,
    // a store without put, a waitUntil that is no function, Web Storage given as a KV namespace.
    for (const code of ["TS2345", "TS2322"]) assert.match(out, new RegExp(code), out);
    assert.equal((out.match(/error TS/g) ?? []).length, 10, out);
  });

  it("a bundler-resolution project (Vite, esbuild, webpack users) compiles against the package", () => {
    writeFileSync(join(dir, "bundler.ts"), `import { ${NAMES} } from "registry-token";\nimport type { ${TYPES} } from "registry-token";\n${USE}`);
    const r = tsc(dir, ["bundler.ts"], "bundler");
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });
});
