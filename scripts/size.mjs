// Prints raw / gzip / brotli sizes of what the package ships.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { root } from "./lib.mjs";

const pkg = join(root, "pkg");
export function sizes(file) {
  const buf = readFileSync(file);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}
function main() {
  if (!existsSync(pkg)) {
    console.error("pkg/ is missing: run `npm run build` first");
    process.exit(1);
  }
  const rows = readdirSync(pkg)
    .filter((f) => /\.(wasm|js|cjs|mjs)$/.test(f))
    .map((f) => ({ file: f, ...sizes(join(pkg, f)) }));
  const pad = (s, n) => String(s).padStart(n);
  console.log(`${"file".padEnd(26)}${pad("raw", 10)}${pad("gzip", 10)}${pad("brotli", 10)}`);
  for (const r of rows) console.log(`${r.file.padEnd(26)}${pad(r.raw, 10)}${pad(r.gzip, 10)}${pad(r.brotli, 10)}`);
  const wasm = rows.find((r) => r.file === "registry_token_bg.wasm");
  const web = rows.find((r) => r.file === "web.js");
  if (wasm && web) console.log(`\nbrowser payload (wasm + web glue): ${wasm.raw + web.raw} B raw, ${wasm.gzip + web.gzip} B gzip`);
}

// Prints only when run as a script, so the bench can import sizes() quietly.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
