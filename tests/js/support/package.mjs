// Installs the packed npm package (what users get from `npm pack`) into a scratch consumer folder,
// shared by every test process while pkg/ is unchanged, and hands tests the package imported *by
// name*, exactly as a user would.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const pkgDir = join(root, "pkg");
const buildDir = join(root, "build");

let installed = null;

/** A digest of pkg/'s files: the consumer install is reused for as long as it matches. */
function pkgDigest() {
  const h = createHash("sha256");
  for (const name of readdirSync(pkgDir).sort()) {
    h.update(name).update("\0").update(readFileSync(join(pkgDir, name))).update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * Packs `pkg/` and installs the tarball into `build/consumer-<digest of pkg/>`; returns that
 * folder. Every test process of one `npm test` run shares the install (packing and installing
 * cost ~3 s a file); a rebuilt pkg/ gets a fresh one, and stale ones are removed.
 */
export function installPackedPackage() {
  if (installed) return installed;
  if (!existsSync(join(pkgDir, "package.json"))) {
    throw new Error("pkg/ is not built: run `npm run build` (npm test does it first)");
  }
  mkdirSync(buildDir, { recursive: true });
  const digest = pkgDigest();
  const consumer = join(buildDir, `consumer-${digest}`);
  const tarball = join(buildDir, `registry-token-${digest}.tgz`);
  if (!existsSync(join(consumer, "load.mjs")) || !existsSync(tarball)) {
    for (const old of readdirSync(buildDir)) {
      if (/^(consumer-[0-9a-f]{16}|registry-token-[0-9a-f]{16}\.tgz)$/.test(old)) rmSync(join(buildDir, old), { recursive: true, force: true });
    }
    // Built under a private name and renamed, so a reader never sees a half-done install.
    const work = join(buildDir, `install-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(join(work, "pack"), { recursive: true });
    execFileSync("npm", ["pack", pkgDir, "--pack-destination", join(work, "pack"), "--silent"], { stdio: "pipe" });
    const tgz = readdirSync(join(work, "pack")).find((f) => f.endsWith(".tgz"));
    renameSync(join(work, "pack", tgz), tarball);
    const dir = join(work, "consumer");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { "registry-token": `file:${tarball}` } }, null, 2),
    );
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--silent"], { cwd: dir, stdio: "pipe" });
    writeFileSync(join(dir, "load.mjs"), 'export * from "registry-token";\n');
    renameSync(dir, consumer);
    rmSync(work, { recursive: true, force: true });
  }
  installed = { consumer, tarball };
  return installed;
}

/** The package as `import … from "registry-token"` sees it (ESM, `node` condition). */
export async function importPackage() {
  const { consumer } = installPackedPackage();
  return import(pathToFileURL(join(consumer, "load.mjs")).href);
}

/** The package as `require("registry-token")` sees it (CommonJS). */
export function requirePackage() {
  const { consumer } = installPackedPackage();
  return createRequire(join(consumer, "package.json"))("registry-token");
}
