// A user's CommonJS script: `require("registry-token")` by name, then one getToken; also
// import()s the package to show whether both share one instance.
// Usage: <runtime> cjs.cjs <imageRef>; prints one JSON line.
"use strict";
const { getToken, parseReference } = require("registry-token");

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
