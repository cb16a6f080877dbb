// `npm run bench`: the five measurements of issue 6 in one run, against a pure-JS baseline
// (bench/baseline.mjs) and, when it loads, @snyk/docker-registry-v2-client. Prints Markdown
// tables and writes the raw numbers to bench/results/ (git-ignored); a full run also writes the
// tables to docs/performance.md (committed: the documentation's latest numbers).
//
//   node bench/run.mjs                 full run (about a minute on 2 cores)
//   node bench/run.mjs --runs 9        more runs per median (default 5)
//   node bench/run.mjs --latency 50    injected delay per registry response, ms (default 20)
//   node bench/run.mjs --ci            seconds: round-trip counts and the size budget only;
//                                      exits 1 if a count differs from the expected number or
//                                      the budget is exceeded — never on a timing
//
// Needs pkg/ built (`npm run build`). Everything listens on 127.0.0.1 and stops before exit.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { nodeColdStart, workerdColdStart } from "./coldstart.mjs";
import { hostileMemory, memory } from "./memory.mjs";
import { registryWalk, REGISTRY_SCENARIOS, handWritten, startRegistryEmulator } from "./registry-roundtrips.mjs";
import { cachelessRequests, implementations, SCENARIOS, walk } from "./roundtrips.mjs";
import { measureSize, twiggyTop, WASM } from "./size.mjs";
import { fmtBytes, fmtInt, fmtMs, fmtPct, fmtRatio, median, summary, table } from "./stats.mjs";
import { throughput } from "./throughput.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    ci: { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
    latency: { type: "string" },
  },
});
const ci = args.ci;
const runs = ci ? 1 : Math.max(1, Number(args.runs) || 5);
const latency = Number(args.latency ?? (ci ? 5 : 20));

if (!existsSync(join(root, "pkg", "package.json"))) {
  console.error("pkg/ is missing: run `npm run build` first");
  process.exit(2);
}

const { importPackage, installPackedPackage } = await import("../tests/js/support/package.mjs");
const { startEmulator } = await import("../tests/js/support/emulator.mjs");

const out = [];
const print = (s = "") => {
  out.push(s);
  console.log(s);
};
const failures = [];
const results = { date: new Date().toISOString(), mode: ci ? "ci" : "full", runs, latencyMs: latency };

// ---- machine and noise --------------------------------------------------------------------
function calibrate() {
  const times = [];
  for (let r = 0; r < 10; r++) {
    const t = performance.now();
    let x = 0;
    for (let i = 0; i < 3e6; i++) x = (x + i * 7) % 1000003;
    if (x < 0) console.log(x);
    times.push(performance.now() - t);
  }
  return summary(times.slice(2));
}
results.machine = { cpu: cpus()[0]?.model ?? "?", cores: cpus().length, node: process.version, loadavg: loadavg() };
if (!ci) results.machine.calibration = calibrate();
const git = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
})();
results.commit = git;

print(`## registry-token bench — ${results.date.slice(0, 16).replace("T", " ")} UTC, commit ${git}${ci ? " (CI mode)" : ""}`);
print();
print(
  `Machine: ${results.machine.cpu}, ${results.machine.cores} cores, Node ${process.version}, load ${results.machine.loadavg.map((l) => l.toFixed(2)).join(" ")}.` +
    (ci ? "" : ` Noise: a fixed CPU loop varied ${fmtPct(results.machine.calibration.spread)} over 8 runs.`),
);
print(`Medians of ${runs} run(s); ± is half the min–max spread over the median. Injected latency: ${latency} ms per registry response.`);
print();

const pkg = await importPackage();
const { consumer } = installPackedPackage();

// ---- 1. round trips -------------------------------------------------------------------------
{
  const em = await startEmulator({ name: "bench", ping: { delayMs: latency }, token: { delayMs: latency } });
  try {
    const { impls: all, snykError } = await implementations(pkg);
    const impls = ci ? all.filter((i) => i.name === "registry-token") : all;
    results.snykError = snykError;
    const walks = Object.fromEntries(impls.map((i) => [i.name, []]));
    if (!ci) for (const impl of impls) await walk(impl, em, `warmup-${impl.name}`); // JIT, sockets
    for (let r = 0; r < runs; r++) for (const impl of impls) walks[impl.name].push(await walk(impl, em, `r${r}-${impl.name}`));
    results.roundTrips = {};
    const rows = [];
    for (const s of SCENARIOS) {
      const row = { scenario: s.label };
      for (const impl of impls) {
        const w = walks[impl.name].map((x) => x[s.id]);
        const counts = [...new Set(w.map((x) => x.requests))];
        const expected = s.expected[impl.name] ?? (impl.name === "registry-token" ? null : cachelessRequests(s));
        const bad = w.reduce((n, x) => n + x.badResults, 0);
        row[impl.name] = { requests: counts, expected, wall: summary(w.map((x) => x.ms)), ping: w[0].ping, token: w[0].token, badResults: bad };
        if (impl.name === "registry-token" && expected !== null && (counts.length !== 1 || counts[0] !== expected)) {
          failures.push(`round trips, "${s.label}": registry-token made ${counts.join("/")} requests, expected ${expected}`);
        }
        if (bad) failures.push(`round trips, "${s.label}": ${impl.name} returned ${bad} empty or non-string tokens`);
      }
      results.roundTrips[s.id] = row;
      const cell = (name) => {
        const c = row[name];
        if (!c) return ["–", "–"];
        const exp = c.expected === null ? (s.floor ? ` (floor ${s.floor})` : "") : c.requests.length === 1 && c.requests[0] === c.expected ? " ✓" : ` ✗ expected ${c.expected}`;
        return [`${c.requests.join("/")}${exp}`, `${fmtMs(c.wall.median)} ${fmtPct(c.wall.spread)}`];
      };
      const rt = row["registry-token"];
      const base = row.baseline;
      rows.push([s.label, ...cell("registry-token"), ...(ci ? [] : [...cell("baseline"), ...cell("snyk"), base ? fmtRatio(base.wall.median / rt.wall.median) : "–"])]);
    }
    print(`### 1. Round trips (requests counted by the emulated registry; ${latency} ms per response)`);
    print();
    const head = ci
      ? ["scenario", "registry-token requests", "wall"]
      : ["scenario", "registry-token requests", "wall", "baseline requests", "wall", "snyk requests", "wall", "baseline ÷ registry-token (wall)"];
    print(table(head, rows));
    if (!ci && snykError) print(`\n@snyk/docker-registry-v2-client did not load: ${snykError}`);
    print();
  } finally {
    await em.close();
  }
}

// ---- 1b. registry calls' round trips ------------------------------------------------------------
{
  const em = await startRegistryEmulator(latency);
  try {
    const impls = [{ name: "registry-token", fresh: () => new pkg.RegistryClient() }, ...(ci ? [] : [{ name: "hand-written", fresh: handWritten }])];
    const walks = Object.fromEntries(impls.map((i) => [i.name, []]));
    for (let r = 0; r < runs; r++) for (const impl of impls) walks[impl.name].push(await registryWalk(impl.fresh, em));
    results.registryRoundTrips = {};
    const rows = [];
    for (const s of REGISTRY_SCENARIOS) {
      const row = [s.label];
      for (const impl of impls) {
        const w = walks[impl.name].map((x) => x[s.id]);
        const counts = [...new Set(w.map((x) => x.requests))];
        const wall = summary(w.map((x) => x.ms));
        results.registryRoundTrips[`${s.id}/${impl.name}`] = { requests: counts, wall };
        const ok = impl.name !== "registry-token" ? "" : counts.length === 1 && counts[0] === s.expected ? " ✓" : ` ✗ expected ${s.expected}`;
        if (impl.name === "registry-token" && ok !== " ✓") failures.push(`registry round trips, "${s.label}": ${counts.join("/")} requests, expected ${s.expected}`);
        row.push(`${counts.join("/")}${ok}`, `${fmtMs(wall.median)} ${fmtPct(wall.spread)}`);
      }
      rows.push(row);
    }
    print(`### 1b. Registry calls: round trips (100 tags a page, absolute Link; ${latency} ms per token/ping response)`);
    print();
    print(table(["scenario", ...impls.flatMap((i) => [`${i.name} requests`, "wall"])], rows));
    print();
  } finally {
    await em.close();
  }
}

// ---- 2. cached-call throughput + crossing -----------------------------------------------------
if (!ci) {
  const em = await startEmulator({ name: "bench-tp" });
  try {
    const tp = await throughput(pkg, em, { runs, calls: 20_000 });
    results.throughput = tp;
    if (tp.requestsDuring !== 0) failures.push(`throughput: ${tp.requestsDuring} requests during cached calls, expected 0`);
    const baseRate = median(tp.rates["baseline + `Map` cache"]);
    print(`### 2. Cached-call throughput (sequential \`await\`, ${fmtInt(tp.calls)} calls per run, ${tp.requestsDuring} requests)`);
    print();
    print(
      table(
        ["variant", "calls/s", "per call", "vs baseline + Map"],
        Object.entries(tp.rates).map(([k, v]) => {
          const s = summary(v);
          return [k, `${fmtInt(s.median)} ${fmtPct(s.spread)}`, fmtMs(1000 / s.median), fmtRatio(s.median / baseRate)];
        }),
      ),
    );
    print();
    print(table(["one call, no await", "per call"], Object.entries(tp.crossing).map(([k, v]) => [k, `${fmtMs(median(v) / 1e6)} ${fmtPct(summary(v).spread)}`])));
    print();
  } finally {
    await em.close();
  }

  // ---- 3. cold start --------------------------------------------------------------------------
  const node = nodeColdStart(consumer, { runs });
  let workerd = null;
  try {
    workerd = await workerdColdStart(consumer, { runs });
  } catch (err) {
    results.workerdError = String(err?.stack ?? err);
  }
  results.coldStart = { node, workerd };
  const m = (list, key) => summary(list.map((x) => x[key]));
  const coldRow = (label, a, b) => [label, `${fmtMs(a.median)} ${fmtPct(a.spread)}`, `${fmtMs(b.median)} ${fmtPct(b.spread)}`, fmtRatio(a.median / b.median)];
  const coldRows = [
    coldRow("Node: `import`", m(node["registry-token"], "import"), m(node.baseline, "import")),
    coldRow("Node: first call (primed through a stub fetch)", m(node["registry-token"], "prime"), m(node.baseline, "prime")),
    coldRow("Node: first cached-path call", m(node["registry-token"], "cached"), m(node.baseline, "cached")),
    coldRow("Node: import → first cached result", m(node["registry-token"], "total"), m(node.baseline, "total")),
  ];
  if (workerd) {
    coldRows.push(
      coldRow("workerd: miniflare start → ready", m(workerd["registry-token"], "startup"), m(workerd.baseline, "startup")),
      coldRow("workerd: first request (prime + cached call)", m(workerd["registry-token"], "firstCall"), m(workerd.baseline, "firstCall")),
      coldRow("workerd: start → first cached result", m(workerd["registry-token"], "total"), m(workerd.baseline, "total")),
    );
  }
  print("### 3. Cold start (fresh process / fresh workerd each run)");
  print();
  print(table(["step", "registry-token", "baseline", "ratio"], coldRows));
  if (!workerd) print(`\nworkerd: not measured — ${results.workerdError.split("\n")[0]}`);
  print();
}

// ---- 4. size ----------------------------------------------------------------------------------
{
  const size = await measureSize(root);
  results.size = size;
  if (!size.withinCeiling) {
    failures.push(`size: ${fmtInt(size.worstGzip)} B gzip (wasm + glue) exceeds the enforced ceiling of ${fmtInt(size.ceilingGzip)} B`);
  } else if (!size.withinBudget) {
    print(`Size: ${fmtInt(size.worstGzip)} B gzip is under the enforced ceiling (${fmtInt(size.ceilingGzip)} B) but ${fmtBytes(size.worstGzip - size.budgetGzip)} over the 48 KiB target.`);
    print();
  }
  print(`### 4. Size (pkg/; gzip -9, brotli q11; budget ${fmtInt(size.budgetGzip)} B = 48 KiB gzip for wasm + one runtime's glue)`);
  print();
  print(table(["file", "raw", "gzip", "brotli"], Object.entries(size.files).map(([f, s]) => [`\`${f}\``, fmtInt(s.raw), fmtInt(s.gzip), fmtInt(s.brotli)])));
  print();
  print(
    table(
      ["runtime payload", "raw", "gzip", "budget"],
      Object.entries(size.runtimes).map(([rt, r]) => [
        `${rt}: \`${WASM}\` + ${r.glue.map((g) => `\`${g}\``).join(" + ")}`,
        fmtInt(r.raw),
        fmtInt(r.gzip),
        r.withinBudget ? `✓ ${fmtBytes(size.budgetGzip - r.gzip)} left` : `✗ ${fmtBytes(r.gzip - size.budgetGzip)} over`,
      ]),
    ),
  );
  print();
  if (!ci) {
    const top = twiggyTop(root);
    results.twiggy = top;
    if (top) {
      print("<details><summary>twiggy top, release .wasm before wasm-bindgen / wasm-opt</summary>\n\n```\n" + top + "\n```\n</details>");
      print();
    }
  }
}

// ---- 5. memory --------------------------------------------------------------------------------
if (!ci) {
  const mem = await memory(consumer);
  results.memory = mem;
  print(
    `### 5. Memory (one client, ${fmtInt(mem.calls)} calls over 10,000 images in ${fmtMs(mem.ms)}; ${mem.requests.ping} ping + ${fmtInt(mem.requests.token)} token requests)`,
  );
  print();
  print(
    table(
      ["after calls", "images seen", "tokens cached / capacity", "wasm memory", "JS heap used (after GC)", "RSS"],
      mem.samples.map((s) => [
        fmtInt(s.calls),
        fmtInt(s.images),
        `${fmtInt(s.tokens)} / ${fmtInt(s.tokenCapacity)}`,
        s.wasmMemory === null ? "not reachable" : fmtBytes(s.wasmMemory),
        fmtBytes(s.heapUsed),
        fmtBytes(s.rss),
      ]),
    ),
  );
  const last = mem.samples.at(-1);
  const quarter = mem.samples.find((s) => s.calls >= 25_000);
  if (last.tokens > last.tokenCapacity) failures.push(`memory: ${last.tokens} tokens cached, capacity ${last.tokenCapacity}`);
  if (mem.requests.token !== 10_000) failures.push(`memory: ${mem.requests.token} token requests for 10,000 images, expected 10,000`);
  print();
  if (quarter && last.wasmMemory !== null) {
    print(`wasm memory from 25,000 to 100,000 calls: ${fmtBytes(quarter.wasmMemory)} → ${fmtBytes(last.wasmMemory)}; JS heap ${fmtBytes(quarter.heapUsed)} → ${fmtBytes(last.heapUsed)}.`);
    print();
  }
}

// ---- 6. hostile bodies (CI too: a bound, not a timing) --------------------------------------------
{
  const LIMIT = 20 * 1024 * 1024;
  const h = await hostileMemory(consumer);
  results.hostileMemory = h;
  print(`### 6. Memory under hostile token bodies (${h.flights} concurrent flights, each answered with ${fmtBytes(h.bodyBytes)} of \`[[],[],…]\`)`);
  print();
  print(
    table(
      ["token requests", "outcomes", "wasm memory before", "after", "grown", "bound"],
      [[fmtInt(h.tokenRequests), Object.entries(h.codes).map(([k, v]) => `${v} × ${k}`).join(", "), fmtBytes(h.before), fmtBytes(h.after), fmtBytes(h.grown), fmtBytes(LIMIT)]],
    ),
  );
  print();
  if (h.grown === null) failures.push("hostile bodies: wasm memory not reachable");
  else if (h.grown > LIMIT) failures.push(`hostile bodies: wasm memory grew by ${fmtInt(h.grown)} B, over the ${fmtInt(LIMIT)} B bound`);
  if (h.codes.BAD_TOKEN_RESPONSE !== h.flights) failures.push(`hostile bodies: expected ${h.flights} BAD_TOKEN_RESPONSE, got ${JSON.stringify(h.codes)}`);
  if (h.tokenRequests !== h.flights) failures.push(`hostile bodies: ${h.tokenRequests} token requests, expected ${h.flights}`);
}

// ---- verdict ------------------------------------------------------------------------------------
results.failures = failures;
print(
  failures.length
    ? `**FAILED**\n${failures.map((f) => `- ${f}`).join("\n")}`
    : `All round-trip counts as expected; size ${results.size?.withinBudget ? "within the 48 KiB budget" : "under the enforced ceiling (not yet within the 48 KiB target)"}.`,
);
const dir = join(root, "bench", "results");
mkdirSync(dir, { recursive: true });
const stamp = results.date.replace(/[:.]/g, "-");
const json = JSON.stringify(results, null, 2);
writeFileSync(join(dir, ci ? "latest-ci.json" : "latest.json"), json);
if (!ci) {
  writeFileSync(join(dir, `bench-${stamp}.json`), json);
  writeFileSync(join(dir, "latest.md"), `${out.join("\n")}\n`);
  mkdirSync(join(root, "docs"), { recursive: true });
  writeFileSync(join(root, "docs", "performance.md"), performanceDoc());
}
console.log(`\n(results: ${join("bench", "results", ci ? "latest-ci.json" : `bench-${stamp}.json`)}${ci ? "" : ", docs/performance.md"})`);
process.exit(failures.length ? 1 : 0);

/** docs/performance.md: this run's tables under a header that says where they come from. */
function performanceDoc() {
  let dirty = false;
  try {
    dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim() !== "";
  } catch {}
  const when = `${results.date.slice(0, 16).replace("T", " ")} UTC`;
  const header = [
    "# Performance",
    "",
    "<!-- Generated by `npm run bench` (bench/run.mjs): edit the script, not this file. -->",
    "",
    `Generated by \`npm run bench\` on ${when} at commit ${git}${dirty ? " (with uncommitted changes)" : ""}, ` +
      `${runs} run(s) per median. How the bench works and how to read it: [bench/README.md](../bench/README.md).`,
    "",
    "```sh",
    "npm run bench              # every part below, a few minutes; rewrites this file and bench/results/",
    "node bench/run.mjs --ci    # seconds: the exact checks npm test runs (round-trip counts, size ceiling)",
    "```",
    "",
    "Ratios to the pure-JS baseline are the headline; the request counts are exact and are what CI",
    "checks. Absolute times depend on the machine and its load.",
    "",
  ];
  return `${[...header, ...out].join("\n")}\n`;
}
