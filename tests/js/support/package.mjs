// Installs the packed npm package (what users get from `npm pack`) into a scratch consumer folder
// once per process, and hands tests the package imported *by name*, exactly as a user would.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const pkgDir = join(root, "pkg");
const buildDir = join(root, "build");

let installed = null;

/** Packs `pkg/` and installs the tarball into `build/consumer-<pid>`; returns that folder. */
export function installPackedPackage() {
  if (installed) return installed;
  if (!existsSync(join(pkgDir, "package.json"))) {
    throw new Error("pkg/ is not built: run `npm run build` (npm test does it first)");
  }
  mkdirSync(buildDir, { recursive: true });
  const packDir = join(buildDir, `pack-${process.pid}`);
  rmSync(packDir, { recursive: true, force: true });
  mkdirSync(packDir, { recursive: true });
  execFileSync("npm", ["pack", pkgDir, "--pack-destination", packDir, "--silent"], { stdio: "pipe" });
  const tgz = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
  const consumer = join(buildDir, `consumer-${process.pid}`);
  rmSync(consumer, { recursive: true, force: true });
  mkdirSync(consumer, { recursive: true });
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", dependencies: { "registry-token": `file:${join(packDir, tgz)}` } }, null, 2),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--silent"], { cwd: consumer, stdio: "pipe" });
  writeFileSync(join(consumer, "load.mjs"), 'export * from "registry-token";\n');
  process.on("exit", () => {
    rmSync(consumer, { recursive: true, force: true });
    rmSync(packDir, { recursive: true, force: true });
  });
  installed = { consumer, tarball: join(packDir, tgz) };
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
