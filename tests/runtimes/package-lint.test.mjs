// Issue 14, package metadata: what npm users and their tools read of the packed tarball. publint
// (package.json against the packed files) reports nothing, not even a warning; arethetypeswrong
// finds no problem for the code entry point in any TypeScript resolution mode (the .wasm asset
// subpath is excluded: it has no types by nature); the tarball holds exactly the files that the
// exports, main and types reach, plus package.json and README.md; and the fields npm shows are set.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";

import { installPackedPackage, pkgDir, root } from "../js/support/package.mjs";

const execFileAsync = promisify(execFile);
const manifest = () => JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

/** Every string target of an `exports` value, however deeply nested in conditions. */
function targets(value) {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(targets);
  return [];
}

/** The package files a JS or .d.ts file refers to by a relative specifier (imports, requires, the .wasm). */
function references(file) {
  // Comment lines left out: they may show a specifier as an example.
  const text = readFileSync(join(pkgDir, file), "utf8")
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/?\*)/.test(line))
    .join("\n");
  const found = new Set();
  const patterns = [
    /\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g, // import … from "./x", export … from "./x"
    /\bimport\s*["'](\.{1,2}\/[^"']+)["']/g, // import "./x"
    /\brequire\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g, // require("./x")
    /\$\{__dirname\}\/([\w.-]+\.wasm)/g, // wasm-bindgen's nodejs glue
    /new URL\(\s*["'](\.?\/?[\w.-]+\.wasm)["']\s*,\s*import\.meta\.url/g, // the web glue and the browser entry
  ];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) found.add(normalize(join(dirname(file), m[1].replace(/\?.*$/, ""))));
  }
  return [...found];
}

describe("package metadata (the packed tarball)", () => {
  it("npm pack lists exactly the files the entries reach, with package.json and README.md", async () => {
    const { stdout } = await execFileAsync("npm", ["pack", "--dry-run", "--json", pkgDir], { cwd: root });
    const packed = JSON.parse(stdout)[0].files.map((f) => f.path).sort();
    const pkg = manifest();
    const queue = [...targets(pkg.exports), pkg.main, pkg.types].map((p) => normalize(p));
    const needed = new Set(["package.json", "README.md"]);
    while (queue.length) {
      const file = queue.shift();
      if (needed.has(file)) continue;
      needed.add(file);
      if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file)) queue.push(...references(file));
    }
    assert.deepEqual(packed, [...needed].sort());
  });

  it("the .wasm links by short names (scripts/short-imports.mjs): no wasm-bindgen hash or Rust type left in an import or export name", () => {
    const module = new WebAssembly.Module(readFileSync(join(pkgDir, "registry_token_bg.wasm")));
    const imports = WebAssembly.Module.imports(module);
    const exports = WebAssembly.Module.exports(module);
    assert.ok(imports.length > 50 && exports.length > 20, `${imports.length} imports, ${exports.length} exports`);
    const long = [...imports.map((i) => i.name), ...exports.map((e) => e.name)].filter((n) => n !== "memory" && !/^[A-Za-z]{1,2}$/.test(n));
    assert.deepEqual(long, [], "every name is one or two letters");
    // The glue names each import once, as a key of its import object; nothing in it still says __wbg_….
    for (const glue of ["web.js", "node.cjs"]) {
      const text = readFileSync(join(pkgDir, glue), "utf8");
      assert.doesNotMatch(text, /__wbg_\w+_[0-9a-f]{16}|closures_____invoke/, `${glue} still holds a hashed name`);
    }
  });

  it("the fields npm shows: description, keywords, license, sideEffects, engines", () => {
    const pkg = manifest();
    assert.ok(pkg.description.length > 40, pkg.description);
    assert.ok(pkg.keywords.length >= 5 && pkg.keywords.includes("oci") && pkg.keywords.includes("docker"), String(pkg.keywords));
    assert.equal(pkg.license, "MIT OR Apache-2.0");
    assert.equal(pkg.sideEffects, false);
    assert.equal(pkg.engines.node, ">=20");
  });

  it("publint: no error and no warning", async (t) => {
    const { publint } = await import("publint");
    const { formatMessage } = await import("publint/utils");
    const { tarball } = installPackedPackage();
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: "suggestion" });
    const text = (m) => `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`;
    for (const m of messages) t.diagnostic(text(m));
    assert.deepEqual(messages.filter((m) => m.type !== "suggestion").map(text), []);
  });

  it("arethetypeswrong: no problem for the code entry point in node10, node16 (CJS and ESM) and bundler", async () => {
    const { tarball } = installPackedPackage();
    const cli = join(root, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js");
    const args = [cli, tarball, "--format", "json", "--exclude-entrypoints", "./registry_token_bg.wasm"];
    const { stdout } = await execFileAsync(process.execPath, args, { cwd: root, maxBuffer: 64 << 20 }).catch((err) => err);
    const { analysis } = JSON.parse(stdout);
    assert.deepEqual(analysis.problems, []);
    const resolved = Object.fromEntries(Object.entries(analysis.entrypoints["."].resolutions).map(([mode, r]) => [mode, r.resolution?.fileName?.replace(/^.*\/registry-token\//, "")]));
    assert.deepEqual(resolved, { node10: "index.d.ts", "node16-cjs": "index.d.cts", "node16-esm": "index.d.ts", bundler: "index.d.ts" });
  });
});
