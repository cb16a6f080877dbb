// Part 4: what the package ships, from pkg/, against the budget of 48 KiB gzip for the .wasm plus
// the JS glue one runtime loads. Sizes come from scripts/size.mjs (`sizes()`), so `npm run size`
// and the bench agree byte for byte.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The target for wasm + one runtime's glue. Not met yet: see docs/design.md, "Where the bytes go". */
export const BUDGET_GZIP = 48 * 1024;
/**
 * What `--ci` enforces: a ceiling just above today's measured size, so any growth fails CI
 * while the gap to BUDGET_GZIP stays visible in every full run. Lower it as cuts land.
 * Raised from 68 to 74 KiB by the credentials issue (+6.7 KiB gzip), to 102 KiB by the
 * registry calls (+28.7 KiB, of which the async orchestration in the shell is ~16 KiB) and to
 * 105 KiB by the error class and disposable client every entry shares (+2.4 KiB), and to
 * 110 KiB by the token store and the cached-call fast path (+5.5 KiB wasm, +2.3 KiB glue before
 * minifying; minifying the shipped glue then took 4.6 KiB back), all itemised in docs/design.md,
 * "Where the bytes go". Lowered to 96 KiB by the size-only build changes (the standard library
 * rebuilt for size on a pinned nightly, no reference types, the wasm-bindgen link names
 * shortened: -14.7 KiB), then to 91 KiB by moving the registry calls' awaiting to a JavaScript
 * driver (-3.2 KiB), the token path's guard and body reading to the same JavaScript (-1.4 KiB)
 * and two smaller cuts, then to 89 KiB by SHA-256's compact form, a wasm-opt pipeline that
 * rebuilds control flow, and a leaner number reader (-2.1 KiB), then to 85 KiB by the caches
 * as sorted vectors instead of a HashMap (-2.1 KiB), iterator chains written as loops (-1.3 KiB)
 * and smaller cuts, then to 80 KiB, the registry calls' own target, by moving the token
 * flight's awaiting to JavaScript, which took the future executor out of the wasm (-4.5 KiB).
 * See docs/design.md for what is left.
 */
export const CEILING_GZIP = 80 * 1024;
export const WASM = "registry_token_bg.wasm";
/** What each runtime loads: its entry plus the wasm-bindgen glue behind it. */
export const RUNTIMES = {
  browser: ["index.browser.js", "common.js", "web.js"],
  workerd: ["index.workerd.js", "common.js", "web.js"],
  node: ["index.node.mjs", "index.node.cjs", "common.cjs", "node.cjs"],
};

export async function measureSize(root) {
  const pkg = join(root, "pkg");
  const { sizes } = await import(pathToFileURL(join(root, "scripts", "size.mjs")).href);
  const files = {};
  for (const f of [WASM, ...new Set(Object.values(RUNTIMES).flat())]) files[f] = sizes(join(pkg, f));
  const runtimes = {};
  for (const [rt, glue] of Object.entries(RUNTIMES)) {
    const gzip = files[WASM].gzip + glue.reduce((n, f) => n + files[f].gzip, 0);
    const raw = files[WASM].raw + glue.reduce((n, f) => n + files[f].raw, 0);
    runtimes[rt] = { glue, raw, gzip, withinBudget: gzip <= BUDGET_GZIP };
  }
  const worst = Math.max(...Object.values(runtimes).map((r) => r.gzip));
  return { budgetGzip: BUDGET_GZIP, ceilingGzip: CEILING_GZIP, files, runtimes, worstGzip: worst, withinBudget: worst <= BUDGET_GZIP, withinCeiling: worst <= CEILING_GZIP };
}

/** twiggy's top items of the release .wasm (before wasm-bindgen and wasm-opt), if twiggy is here. */
export function twiggyTop(root, n = 15) {
  const wasm = join(root, "target", "wasm32-unknown-unknown", "release", "registry_token.wasm");
  const candidates = [join(homedir(), ".cargo", "bin", "twiggy"), "twiggy"];
  if (!existsSync(wasm)) return null;
  for (const bin of candidates) {
    const r = spawnSync(bin, ["top", "-n", String(n), wasm], { encoding: "utf8", timeout: 30_000 });
    if (r.status === 0) return r.stdout.trim();
  }
  return null;
}
