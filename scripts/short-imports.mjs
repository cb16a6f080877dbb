// Shortens the names the .wasm and its glue link by. wasm-bindgen names each import
// `__wbg_<function>_<16 hex digits of hash>` and its closure adapters' exports after their full
// Rust types with crate hashes (200 characters each), and writes every name at least twice, in
// the .wasm and in the glue; the hashes do not compress, and the names cost about 3 KB of gzip in
// the browser payload. binaryen's --minify-imports only renames Emscripten's "env" imports, so
// the build does it here: the import and export sections are re-encoded with names `a`, `b`, …,
// and the glues renamed to match. The glue's shape is checked, not assumed: an import that is not
// exactly one key of each glue fails the build; exports are renamed only where the glue reads
// them as `wasm.<name>` (and `memory` keeps its name), and the glue's wrappers of the closure
// adapters get short names too.
import { readFileSync, writeFileSync } from "node:fs";

function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** `a` … `z`, `A` … `Z`, then two letters: never starts with `__`, so never an original name. */
function shortName(i) {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let s = "";
  do {
    s = letters[i % letters.length] + s;
    i = Math.floor(i / letters.length) - 1;
  } while (i >= 0);
  return s;
}

/** Rewrites `wasmPath` in place and renames the same imports in each of `gluePaths`; returns the mapping. */
export function shortenImports(wasmPath, gluePaths) {
  const buf = readFileSync(wasmPath);
  let p = 8;
  const u = () => {
    let r = 0, s = 0, b;
    do {
      b = buf[p++];
      r |= (b & 0x7f) << s;
      s += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  const str = () => {
    const n = u();
    const s = buf.toString("utf8", p, p + n);
    p += n;
    return s;
  };
  const limits = () => {
    const flags = buf[p++];
    u();
    if (flags & 1) u();
  };
  const sections = [];
  const exports = [];
  let imports = null;
  while (p < buf.length) {
    const start = p;
    const id = buf[p++];
    const len = u();
    const body = p;
    const end = p + len;
    if (id === 2) {
      imports = [];
      const count = u();
      for (let i = 0; i < count; i++) {
        const module = str();
        const field = str();
        const descStart = p;
        const kind = buf[p++];
        if (kind === 0) u();
        else if (kind === 1) {
          p++;
          limits();
        } else if (kind === 2) limits();
        else if (kind === 3) p += 2;
        else if (kind === 4) {
          p++;
          u();
        } else throw new Error(`short-imports: unknown import kind ${kind}`);
        imports.push({ module, field, desc: buf.subarray(descStart, p) });
      }
    } else if (id === 7) {
      const count = u();
      for (let i = 0; i < count; i++) {
        const name = str();
        const descStart = p;
        p++;
        u();
        exports.push({ name, desc: buf.subarray(descStart, p) });
      }
    }
    if (p !== end && (id === 2 || id === 7)) throw new Error(`short-imports: section ${id} did not parse to its end`);
    sections.push({ id, raw: buf.subarray(start, end), body: buf.subarray(body, end) });
    p = end;
  }
  if (!imports) return new Map();

  const glues = gluePaths.map((path) => ({ path, text: readFileSync(path, "utf8") }));
  const exported = new Set(exports.map((e) => e.name));
  const mapping = new Map();
  for (const imp of imports) {
    // An import named like an export would also rename the export's uses in the glue.
    if (exported.has(imp.field) || mapping.has(imp.field)) continue;
    mapping.set(imp.field, shortName(mapping.size));
  }
  const exportNames = new Map();
  for (const e of exports) if (e.name !== "memory") exportNames.set(e.name, shortName(exportNames.size));
  const ident = /__wb[A-Za-z0-9_$]*/g;
  const member = /\bwasm\.([A-Za-z0-9_$]+)/g;
  for (const g of glues) {
    const seen = new Map();
    for (const m of g.text.matchAll(ident)) if (mapping.has(m[0])) seen.set(m[0], (seen.get(m[0]) ?? 0) + 1);
    for (const name of mapping.keys()) {
      if (seen.get(name) !== 1) throw new Error(`short-imports: ${g.path} names the import ${name} ${seen.get(name) ?? 0} times, not once`);
    }
    g.text = g.text.replace(ident, (name) => mapping.get(name) ?? name);
    g.text = g.text.replace(member, (all, name) => (exportNames.has(name) ? `wasm.${exportNames.get(name)}` : all));
    // The glue's own wrappers of those adapters carry the same 200-character names. Minifying
    // renames them in the ESM glue; the CommonJS glue keeps its top-level names, so there they
    // are shortened here.
    if (!g.path.endsWith(".cjs")) continue;
    const wrappers = new Map();
    g.text = g.text.replace(/\bwasm_bindgen_[0-9a-f]{16}___convert__closures_\w+/g, (name) => {
      if (!wrappers.has(name)) wrappers.set(name, `wbgClosure${wrappers.size}`);
      return wrappers.get(name);
    });
  }

  const section = (id, entries, write) => {
    const bytes = [...leb(entries.length)];
    const vec = (s) => {
      const b = Buffer.from(s, "utf8");
      bytes.push(...leb(b.length), ...b);
    };
    for (const e of entries) write(e, vec, bytes);
    return Buffer.from([id, ...leb(bytes.length), ...bytes]);
  };
  const importSection = section(2, imports, (imp, vec, bytes) => {
    vec(imp.module);
    vec(mapping.get(imp.field) ?? imp.field);
    bytes.push(...imp.desc);
  });
  const exportSection = section(7, exports, (e, vec, bytes) => {
    vec(exportNames.get(e.name) ?? e.name);
    bytes.push(...e.desc);
  });
  const parts = [buf.subarray(0, 8)];
  for (const s of sections) parts.push(s.id === 2 ? importSection : s.id === 7 ? exportSection : s.raw);
  writeFileSync(wasmPath, Buffer.concat(parts));
  for (const g of glues) writeFileSync(g.path, g.text);
  return mapping;
}
