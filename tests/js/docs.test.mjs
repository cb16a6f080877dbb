// Issue 14, "A README for users, docs for the rest": every code sample in README.md, CHANGELOG.md
// and docs/*.md runs, every relative link in them names a file (and a #heading) that exists, and
// the README stays under 12 KiB.
//
// Which fences run (docs/testing.md, "Documentation samples", says the same to writers):
//   ```js / ```mjs   a complete ES module: run           ```cjs   a CommonJS script: run
//   ```ts, ```sh, ```html, ```text, …                      not run (signatures, commands, pages)
//   <!-- docs-test: skip (reason) --> on the line before a js/mjs/cjs fence: not run (code that
//   only a browser can run); the reason is required and shows as the test's skip message.
//
// How a sample runs: its text is written to build/docs-samples-<pid>/, next to a node_modules
// that is the packed package's consumer install (tests/js/support/package.mjs), so
// `import … from "registry-token"` resolves by name exactly as for a user; then `node` runs it in
// a fresh process (one module-level client per sample) and it must exit 0. A module whose
// default export has a `fetch` method (a Worker) is also called with one request, which must
// answer 2xx.
//
// Registries: the samples name real ones. For each sample the test starts one emulator
// (tests/js/support/emulator.mjs) per registry in REGISTRIES below, each with the repositories the
// samples use, and rewrites the sample's text: `https://<host>` → `http://127.0.0.1:<port>`, then
// every other `<host>` (not part of a longer host name) → `127.0.0.1:<port>`. The emulators are
// loopback, so plain http is allowed and credentials may go there. Every `process.env.NAME` a
// sample reads gets a dummy secret. A guard wraps the global `fetch` so that anything but
// 127.0.0.1 is refused: a sample naming a registry this table lacks fails instead of reaching
// the internet.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";

import { makeImage, multiArch, startEmulator } from "./support/emulator.mjs";
import { installPackedPackage, root } from "./support/package.mjs";

const README_LIMIT = 12 * 1024;

/** The registries the samples may name: host → emulator config (a preset plus repositories). */
const REGISTRIES = {
  "ghcr.io": () => ({
    preset: "ghcr",
    repos: { "me/app": { manifests: { "1.1": makeImage({ name: "app" }), "1.2": multiArch({ name: "app" }) } } },
  }),
  "docker.io": () => ({
    preset: "dockerhub",
    repos: {
      "library/nginx": { manifests: { "1.25": multiArch({ name: "nginx" }), latest: multiArch({ name: "nginx" }) }, tags: 300 },
      "library/alpine": { manifests: { "3.19": makeImage({ name: "alpine" }), latest: makeImage({ name: "alpine" }) } },
    },
  }),
  "localhost:5000": () => ({
    preset: "distribution",
    repos: { "me/app": { manifests: { "1.0": makeImage({ name: "app" }), old: makeImage({ name: "old" }) } } },
  }),
  "registry.example.com": () => ({
    repos: { "team/app": { manifests: { "1.0": makeImage({ name: "team-app" }) } } },
  }),
};

const docs = ["README.md", "CHANGELOG.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const RUNNABLE = { js: "mjs", mjs: "mjs", cjs: "cjs" };

/** The fenced code blocks of a Markdown text: { lang, line, body, skip }. */
function fences(text) {
  const lines = text.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, mark, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[1][0] === mark[0] && close[1].length >= mark.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const marker = k >= 0 ? /^\s*<!--\s*docs-test:\s*skip\b(.*?)-->\s*$/.exec(lines[k]) : null;
    out.push({ lang: lang.toLowerCase(), line: i + 1, body: `${body.join("\n")}\n`, skip: marker ? marker[1].trim() || true : null });
    i = j;
  }
  return out;
}

/** The lines of a Markdown text with fenced blocks blanked (so line numbers stay). */
function withoutFences(text) {
  let inFence = null;
  return text.split("\n").map((line) => {
    const m = /^\s*(`{3,}|~{3,})(.*)$/.exec(line);
    if (inFence) {
      if (m && m[1][0] === inFence[0] && m[1].length >= inFence.length && m[2].trim() === "") inFence = null;
      return "";
    }
    if (m) {
      inFence = m[1];
      return "";
    }
    return line;
  });
}

/** The prose of a Markdown text: no fenced blocks, no inline code spans (newlines kept). */
function prose(text) {
  return withoutFences(text)
    .join("\n")
    .replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, (span) => span.replace(/[^\n]/g, ""));
}

/** GitHub's heading anchors of a Markdown file (its slugs: lower case, punctuation dropped, spaces → "-"). */
function headingAnchors(file) {
  const seen = new Map();
  const out = new Set();
  for (const line of withoutFences(readFileSync(file, "utf8"))) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/<[^>]+>/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative link targets of a Markdown file: { target, line }. */
function relativeLinks(text) {
  const out = [];
  prose(text)
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
      for (const m of line.matchAll(/\b(?:src|href)="([^"]+)"/g)) out.push({ target: m[1], line: i + 1 });
    });
  return out.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The sample's text with every known registry host pointed at its emulator. */
function rewrite(body, emulators) {
  let text = body;
  for (const [host, em] of Object.entries(emulators)) {
    text = text.replace(new RegExp(`https://${escapeRe(host)}(?![\\w-])`, "g"), em.url);
    text = text.replace(new RegExp(`(?<![\\w.-])${escapeRe(host)}(?![\\w-])`, "g"), em.host);
  }
  return text;
}

const RUNNER = `// Written by tests/js/docs.test.mjs: runs one documentation sample behind a loopback-only fetch.
import { pathToFileURL } from "node:url";
const realFetch = globalThis.fetch;
globalThis.fetch = function guardedFetch(input, init) {
  const url = new URL(typeof input === "string" || input instanceof URL ? String(input) : input.url);
  if (url.hostname !== "127.0.0.1") {
    return Promise.reject(new TypeError(\`docs test: the sample tried to reach \${url.origin}, which is not an emulated registry\`));
  }
  return realFetch(input, init);
};
// A Worker's env (a Workers KV namespace bound as TOKENS, in memory) and ctx, for Worker
// modules and for fragments that name them; the work handed to waitUntil is awaited at the end.
const kv = new Map();
const env = { TOKENS: { get: async (k) => kv.get(k) ?? null, put: async (k, v) => void kv.set(k, v), delete: async (k) => void kv.delete(k) } };
const pending = [];
const ctx = { waitUntil: (p) => void pending.push(p), passThroughOnException() {} };
Object.assign(globalThis, { env, ctx });
const mod = await import(pathToFileURL(process.argv[2]).href);
const worker = mod.default;
if (worker && typeof worker.fetch === "function") {
  const res = await worker.fetch(new Request("http://127.0.0.1/"), env, ctx);
  const body = await res.text();
  if (!res.ok) {
    console.error(\`docs test: the Worker answered \${res.status}: \${body}\`);
    process.exit(1);
  }
  console.log(\`docs test: the Worker answered \${res.status}: \${body.slice(0, 200)}\`);
}
await Promise.all(pending);
if (pending.length) console.log(\`docs test: \${pending.length} waitUntil task(s) settled; \${kv.size} KV entr\${kv.size === 1 ? "y" : "ies"}\`);
`;

const samples = [];
for (const doc of docs) {
  for (const f of fences(readFileSync(join(root, doc), "utf8"))) {
    if (RUNNABLE[f.lang]) samples.push({ ...f, doc, ext: RUNNABLE[f.lang] });
  }
}

describe("documentation", () => {
  it("README.md is under 12 KiB (12,288 bytes)", () => {
    const size = statSync(join(root, "README.md")).size;
    assert.ok(size < README_LIMIT, `README.md is ${size} bytes; keep it under ${README_LIMIT} and move detail to docs/`);
  });

  it("finds the runnable samples (the extractor works)", () => {
    assert.ok(samples.filter((s) => s.doc === "README.md").length >= 4, "README.md should have at least 4 runnable samples");
    assert.ok(samples.length >= 8, `only ${samples.length} runnable samples found`);
    for (const s of samples) {
      if (s.skip) assert.notEqual(s.skip, true, `${s.doc}:${s.line}: a docs-test skip marker needs a reason in parentheses`);
    }
  });

  describe("relative links resolve", () => {
    it("finds the links (the extractor works)", () => {
      const count = (doc) => relativeLinks(readFileSync(join(root, doc), "utf8")).length;
      assert.ok(count("README.md") >= 10, `README.md: only ${count("README.md")} relative links found`);
      assert.ok(count("docs/api.md") >= 10, `docs/api.md: only ${count("docs/api.md")} relative links found`);
    });
    for (const doc of docs) {
      it(doc, (t) => {
        const file = join(root, doc);
        const broken = [];
        const links = relativeLinks(readFileSync(file, "utf8"));
        t.diagnostic(`${links.length} relative links`);
        for (const { target, line } of links) {
          const [pathPart, fragment] = target.split("#");
          const path = decodeURI(pathPart.split("?")[0]);
          const dest = path === "" ? file : resolve(dirname(file), path);
          if (!existsSync(dest)) {
            broken.push(`${doc}:${line}: ${target} (no such file: ${relative(root, dest)})`);
            continue;
          }
          if (fragment && dest.endsWith(".md") && !headingAnchors(dest).has(fragment)) {
            broken.push(`${doc}:${line}: ${target} (no heading #${fragment} in ${relative(root, dest)})`);
          }
        }
        assert.deepEqual(broken, []);
      });
    }
  });

  describe("samples run against the emulated registries", () => {
    let work;
    before(() => {
      const { consumer } = installPackedPackage();
      work = join(root, "build", `docs-samples-${process.pid}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      symlinkSync(join(consumer, "node_modules"), join(work, "node_modules"), "dir");
      writeFileSync(join(work, "run.mjs"), RUNNER);
    });
    after(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    for (const [n, s] of samples.entries()) {
      it(`${s.doc}:${s.line} (${s.lang})`, { skip: s.skip ? `docs-test skip marker: ${s.skip}` : false, timeout: 60_000 }, async (t) => {
        const emulators = {};
        try {
          for (const [host, config] of Object.entries(REGISTRIES)) {
            emulators[host] = await startEmulator({ name: `docs-${host}`, ...config() });
          }
          const text = rewrite(s.body, emulators);
          const file = join(work, `sample-${n}.${s.ext}`);
          writeFileSync(file, text);
          const env = { ...process.env };
          delete env.NODE_TEST_CONTEXT;
          delete env.NODE_OPTIONS;
          for (const m of text.matchAll(/process\.env\.([A-Za-z_][A-Za-z0-9_]*)/g)) env[m[1]] = `docs-test-secret-${m[1]}`;
          try {
            const { stdout } = await promisify(execFile)(process.execPath, [join(work, "run.mjs"), file], { cwd: work, env, timeout: 45_000, encoding: "utf8" });
            for (const line of stdout.trim().split("\n").slice(0, 20)) if (line) t.diagnostic(line.slice(0, 300));
          } catch (err) {
            assert.fail(
              `${s.doc}:${s.line} failed (exit ${err.code ?? err.signal}).\n--- sample as run ---\n${text}--- stdout ---\n${err.stdout}\n--- stderr ---\n${err.stderr}`,
            );
          }
        } finally {
          await Promise.all(Object.values(emulators).map((em) => em.close()));
        }
      });
    }
  });
});
