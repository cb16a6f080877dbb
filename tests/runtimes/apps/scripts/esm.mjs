// A user's ESM script: `import … from "registry-token"` by name, then one getToken. Also loads
// the package with require() to show whether both share one instance (one token cache).
// Usage: <runtime> esm.mjs <imageRef>; prints one JSON line.
import { createRequire } from "node:module";
import process from "node:process";
import { getToken, parseReference, RegistryAuthError, RegistryClient } from "registry-token";

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
// One error class, whichever module system loaded the package; every throw and rejection is one.
out.sameErrorClass = cjs.RegistryAuthError === RegistryAuthError;
const instances = [
  await getToken("Not/Valid").catch((e) => e),
  await cjs.getToken("Not/Valid").catch((e) => e),
  (() => { try { parseReference("Not/Valid"); } catch (e) { return e; } })(),
  (() => { try { new RegistryClient({ password: "p" }); } catch (e) { return e; } })(),
];
out.instanceOf = instances.map((e) => e instanceof RegistryAuthError && RegistryAuthError.is(e));
const client = new RegistryClient();
client.free();
client.free(); // harmless twice
out.disposable = typeof client[Symbol.dispose] === "function" || typeof Symbol.dispose !== "symbol";
console.log(JSON.stringify(out));

function runtime() {
  if (typeof Deno !== "undefined") return `deno ${Deno.version.deno}`;
  if (process.versions.bun) return `bun ${process.versions.bun}`;
  return `node ${process.version}`;
}
