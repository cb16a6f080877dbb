// A user's ESM script: `import … from "registry-token"` by name, then one getToken. Also loads
// the package with require() to show whether both share one instance (one token cache).
// Usage: <runtime> esm.mjs <imageRef>; prints one JSON line.
import { createRequire } from "node:module";
import process from "node:process";
import { getToken, parseReference } from "registry-token";

const require = createRequire(import.meta.url);
const out = { runtime: runtime(), entry: import.meta.resolve?.("registry-token") ?? null };
const cjs = require("registry-token");
out.sameInstance = cjs.getToken === getToken;
out.parsed = parseReference("nginx").name;
try {
  out.token = await getToken(process.argv[2]);
  out.again = await cjs.getToken(process.argv[2]); // from the cache when the instance is shared
} catch (err) {
  out.error = { name: err.name, code: err.code, message: err.message };
}
out.invalid = await getToken("Not/Valid").catch((e) => ({ isError: e instanceof Error, name: e.name, code: e.code }));
console.log(JSON.stringify(out));

function runtime() {
  if (typeof Deno !== "undefined") return `deno ${Deno.version.deno}`;
  if (process.versions.bun) return `bun ${process.versions.bun}`;
  return `node ${process.version}`;
}
