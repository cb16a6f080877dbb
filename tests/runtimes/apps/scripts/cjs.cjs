// A user's CommonJS script: `require("registry-token")` by name, then one getToken; also
// import()s the package to show whether both share one instance.
// Usage: <runtime> cjs.cjs <imageRef>; prints one JSON line.
"use strict";
const { getToken, parseReference, RegistryAuthError, RegistryClient } = require("registry-token");

async function main() {
  const out = { runtime: runtime(), entry: require.resolve("registry-token") };
  const esm = await import("registry-token");
  out.sameInstance = esm.getToken === getToken;
  out.parsed = parseReference("nginx").name;
  try {
    out.token = await getToken(process.argv[2]);
    out.again = await esm.getToken(process.argv[2]);
  } catch (err) {
    out.error = { name: err.name, code: err.code, message: err.message };
  }
  out.invalid = await getToken("Not/Valid").catch((e) => ({ isError: e instanceof Error, name: e.name, code: e.code }));
  // One error class, whichever module system loaded the package; every throw and rejection is one.
  out.sameErrorClass = esm.RegistryAuthError === RegistryAuthError;
  const sync = (f) => {
    try {
      f();
    } catch (e) {
      return e;
    }
  };
  const instances = [
    await getToken("Not/Valid").catch((e) => e),
    await esm.getToken("Not/Valid").catch((e) => e),
    sync(() => parseReference("Not/Valid")),
    sync(() => new RegistryClient({ password: "p" })),
  ];
  out.instanceOf = instances.map((e) => e instanceof RegistryAuthError && RegistryAuthError.is(e));
  const client = new RegistryClient();
  client.free();
  client.free(); // harmless twice
  out.disposable = typeof client[Symbol.dispose] === "function" || typeof Symbol.dispose !== "symbol";
  console.log(JSON.stringify(out));
}

function runtime() {
  if (typeof Deno !== "undefined") return `deno ${Deno.version.deno}`;
  if (process.versions.bun) return `bun ${process.versions.bun}`;
  return `node ${process.version}`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
