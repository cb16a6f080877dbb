// Shared by the dashboard's Chromium suites (page.test.mjs, a11y.test.mjs): start the demo server on
// a chosen registry back end, open the page, wait for what it shows, and keep the console honest.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDemo } from "../../../scripts/demo.mjs";
import { launchBrowser } from "../../js/support/browser.mjs";
import { root } from "../../js/support/package.mjs";

/** The back ends the demo can run on here: builtin always (once demo.mjs offers it), distribution with its binary. */
export async function availableBackends() {
  let local;
  try {
    local = await import("../../fixtures/local-registry.mjs");
  } catch {
    return ["distribution"]; // before the built-in registry existed
  }
  const out = [];
  for (const b of local.BACKENDS) {
    try {
      local.chooseBackend(b);
      out.push(b);
    } catch { /* not installed here */ }
  }
  return out;
}

/** Starts the demo on `backend`, Chromium, and one page on it with console errors collected. */
export async function openDashboard({ backend, viewport = { width: 1280, height: 900 }, colorScheme = "light", query = "" } = {}) {
  const demo = await startDemo({ port: 0, registry: backend });
  let browser;
  try {
    browser = await launchBrowser();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: demo.url.replace(/\/$/, "") });
    const { page } = await browser.newPage();
    const consoleErrors = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") consoleErrors.push({ text: m.text(), url: m.location()?.url ?? "" });
    });
    page.on("pageerror", (e) => consoleErrors.push({ text: `pageerror: ${e.message}`, url: "" }));
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme });
    await page.goto(`${demo.url}${query}`);
    const config = await (await fetch(`${demo.url}config.json`)).json();
    const close = async () => {
      await browser?.close();
      await demo.stop();
    };
    return { demo, browser, page, consoleErrors, config, close };
  } catch (err) {
    await browser?.close();
    await demo.stop();
    throw err;
  }
}

/**
 * Console errors the protocol itself causes: Chromium logs every non-2xx fetch as "Failed to load
 * resource". The /v2/ challenge and a re-challenge are 401 by design; the private repository's 401
 * and the rate-limited repository's 429 are provoked on purpose. Anything else is a bug.
 * `registryBases`: the registry base URL(s) the page talked to ("http://127.0.0.1:5000", a proxy route).
 */
export function unexpectedConsoleErrors(errors, registryBases) {
  const expected = (e) => /^Failed to load resource: the server responded with a status of (401|429)\b/.test(e.text) && [registryBases].flat().some((b) => e.url.startsWith(`${b}/v2/`));
  return errors.filter((e) => !expected(e));
}

/** Waits for the repository list to show `count` repositories; returns their names. */
export async function waitForRepos(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll("#repo-list button[data-repo]").length >= n, count);
  return page.$$eval("#repo-list button[data-repo]", (bs) => bs.map((b) => b.dataset.repo));
}

/** Waits until the tag listing is no longer loading; returns { state, text, count }. */
export async function waitForListing(page) {
  await page.waitForFunction(() => {
    const p = document.getElementById("tags-progress");
    return p.dataset.state !== "loading" && p.dataset.state !== "idle";
  }, null, { timeout: 60_000 });
  return page.evaluate(() => ({
    state: document.getElementById("tags-progress").dataset.state,
    text: document.getElementById("tags-progress").textContent,
    count: Number(document.getElementById("tag-list").dataset.count),
  }));
}

/** Waits until the row of `tag` has its facts (state ok or error); returns what it shows. */
export async function waitForRow(page, tag) {
  const sel = `#tag-list li[data-tag="${tag}"]`;
  // Rows load when they are on screen; a row can be redrawn meanwhile, so look it up each time.
  await page.waitForFunction((s) => {
    const li = document.querySelector(s);
    if (!li) return false;
    const r = li.getBoundingClientRect();
    if (r.top < 0 || r.bottom > innerHeight) li.scrollIntoView({ block: "center" });
    return ["ok", "error"].includes(li.dataset.state);
  }, sel, { timeout: 30_000 });
  return page.$eval(sel, (li) => ({
    state: li.dataset.state,
    digest: li.querySelector(".digest code")?.textContent ?? "",
    digestTitle: li.querySelector(".digest code")?.title ?? "",
    type: li.querySelector(".type").textContent,
    platforms: [...li.querySelectorAll(".platforms .badge")].map((b) => b.textContent),
    size: li.querySelector(".size").textContent.replace(/^Size /, ""),
    created: li.querySelector(".created time")?.getAttribute("datetime") ?? "",
    error: li.querySelector(".row-error")?.textContent ?? "",
  }));
}

/** The error panel as shown, or null when hidden. */
export function shownError(page) {
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    if ($("error").hidden) return null;
    return {
      code: $("error-code").textContent,
      status: $("error-status").textContent,
      context: $("error-context").textContent,
      message: $("error-message").textContent,
      registry: $("error-registry").hidden ? null : $("error-registry-text").textContent,
      retry: $("error-retry").hidden ? null : $("error-retry").textContent,
      hint: $("error-hint").hidden ? null : $("error-hint").textContent,
    };
  });
}

/**
 * `fn` over the request log's elements matching `selector`, once the log shows every request
 * that has settled. The page renders the log on the next animation frame after a request
 * settles, while errors, listings and rows appear at once; animation-frame callbacks run in the
 * order they were asked for, so waiting for one frame lets a render already queued happen first.
 */
export async function requestLog(page, selector, fn) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  return page.$$eval(selector, fn);
}

/** Tags of the rows in the DOM, in order. */
export const rowTags = (page) => page.$$eval("#tag-list li[data-tag]", (lis) => lis.map((li) => li.dataset.tag));

/**
 * Saves a screenshot of the viewport to test-output/<name>.png; docs/img/<name>.png (committed, shown by the README
 * and docs/demo.md) is refreshed only with UPDATE_SCREENSHOTS=1 or when missing, so a test run
 * leaves the tree clean.
 */
export async function saveScreenshot(page, name, { at = null } = {}) {
  const out = join(root, "test-output", `${name}.png`);
  // From the top (or with the element `at` at the top), once the rows on screen have their facts.
  await page.evaluate((sel) => {
    if (document.querySelector("dialog[open]")) return;
    if (sel) document.querySelector(sel).scrollIntoView({ block: "start" });
    else window.scrollTo(0, 0);
  }, at);
  await page.waitForFunction(() => [...document.querySelectorAll("#tag-list li[data-tag]")]
    .filter((li) => li.getBoundingClientRect().top < innerHeight)
    .every((li) => li.dataset.state === "ok" || li.dataset.state === "error"), null, { timeout: 15_000 }).catch(() => {});
  mkdirSync(join(root, "test-output"), { recursive: true });
  // Playwright captures "beyond the viewport", which lays the page out at its full height for a
  // moment: every lazy row would load and the scroll position move. The plain CDP capture does not.
  const cdp = await page.context().newCDPSession(page);
  const { data } = await cdp.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: false });
  await cdp.detach();
  writeFileSync(out, Buffer.from(data, "base64"));
  const docs = join(root, "docs", "img", `${name}.png`);
  if (process.env.UPDATE_SCREENSHOTS === "1" || !existsSync(docs)) {
    mkdirSync(join(root, "docs", "img"), { recursive: true });
    copyFileSync(out, docs);
  }
  return out;
}
