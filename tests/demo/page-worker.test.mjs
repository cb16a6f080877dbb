// The dashboard reading the local registry through examples/worker instead of calling the package
// in the browser (issue 11, "The edge example follows"): the Worker runs in workerd (miniflare,
// bundled as tests/js/support/workerd.mjs does) listening on a loopback port, with ALLOWED_ORIGIN the
// demo page's origin and ALLOWED_REGISTRIES the local registry (builtin back end); the page gets its
// URL typed into the registry bar, and lists repositories, tags, platforms and configs through it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromiumUnavailable } from "../js/support/browser.mjs";
import { root } from "../js/support/package.mjs";
import { startWorker } from "../js/support/workerd.mjs";
import { MANY_TAG_COUNT, MULTIARCH_PLATFORMS, RATE_LIMIT, REPOSITORIES, seedContent } from "../fixtures/seed.mjs";
import { compressedSize, formatBytes, formatCreated } from "../../www/format.js";
import {
  openDashboard, requestLog, rowTags, shownError, unexpectedConsoleErrors, waitForListing, waitForRepos, waitForRow,
} from "./support/dashboard.mjs";

const SEED = seedContent();
const script = readFileSync(join(root, "examples", "worker", "src", "index.js"), "utf8");

describe("dashboard through examples/worker (workerd on a loopback port), in Chromium", { skip: chromiumUnavailable() ?? false }, () => {
  let d;
  let page;
  let worker;
  let workerUrl;

  before(async () => {
    d = await openDashboard({ backend: "builtin" });
    page = d.page;
    worker = await startWorker({
      script,
      name: "dashboard-worker",
      bindings: { ALLOWED_ORIGIN: new URL(d.demo.url).origin, ALLOWED_REGISTRIES: d.config.registry },
      options: { port: 0 },
    });
    workerUrl = (await worker.miniflare.ready).href.replace(/\/$/, "");
    await waitForRepos(page, Object.keys(SEED).length); // the page opened the local registry by itself
  });
  after(async () => {
    await worker?.dispose();
    await d?.close();
  });

  /** The URLs of the newest request group named `label`. */
  const groupUrls = async (label) => {
    const groups = await requestLog(page, `#request-groups > li[data-label="${label}"]`, (gs) => gs.map((g) => [...g.querySelectorAll(".url")].map((u) => u.textContent)));
    assert.ok(groups.length > 0, `no request group "${label}"`);
    return groups[0]; // the newest: the log lists groups newest first
  };

  test("with the Worker URL typed, the repositories come from its /catalog; the credentials panel says it is not used", async () => {
    await page.fill("#worker-url", `${workerUrl}/`);
    await page.fill("#registry", d.config.registry);
    await page.click("#open-registry");
    await page.waitForFunction(() => document.getElementById("signed-in").textContent === "the Worker's");
    const repos = await waitForRepos(page, Object.keys(SEED).length);
    assert.deepEqual([...repos].sort(), Object.keys(SEED).sort());
    assert.equal(await shownError(page), null);
    // One request, to the Worker: the page made no registry call of its own.
    const urls = await groupUrls(`Catalog of ${d.config.registry}`);
    assert.deepEqual(urls, [`GET ${workerUrl}/catalog?registry=${encodeURIComponent(d.config.registry)}`]);
    assert.equal((await requestLog(page, '#request-groups > li[data-label^="Catalog"] li[data-kind]', (lis) => lis.map((li) => li.dataset.kind)))[0], "catalog");
    assert.equal(await page.isVisible("#cred-worker"), false, "inside the closed credentials panel");
    await page.evaluate(() => { document.getElementById("credentials").open = true; });
    assert.equal(await page.textContent("#cred-worker-url"), workerUrl);
    assert.match(await page.textContent("#cred-worker"), /^Not used for this registry: it is read through the Worker at .+, which holds the credentials/);
    assert.equal(await page.isDisabled("#sign-in"), true);
    await page.evaluate(() => { document.getElementById("credentials").open = false; });
  });

  test(`the ${MANY_TAG_COUNT.toLocaleString("en-US")}-tag repository: /tags answers every tag at once; the count is exact`, async () => {
    await page.click(`#repo-list button[data-repo="${REPOSITORIES.many}"]`);
    const done = await waitForListing(page);
    assert.equal(done.state, "done", done.text);
    assert.equal(done.count, MANY_TAG_COUNT);
    assert.match(done.text, /^1,500 tags, 1 page, all loaded in (\d+ ms|\d+\.\d s)\.$/);
    assert.deepEqual(await groupUrls(`Tags of ${REPOSITORIES.many}`), [`GET ${workerUrl}/tags?image=${encodeURIComponent(`${d.config.registry}/${REPOSITORIES.many}`)}`]);
    assert.equal((await rowTags(page)).length, 100, "rendering stays bounded");
    assert.equal(await page.isHidden("#auth"), true, "no token panel: the Worker keeps its tokens");
  });

  test("a multi-arch tag shows its three platforms (from /manifest); details show the created date (from /config); no Delete", async () => {
    await page.click(`#repo-list button[data-repo="${REPOSITORIES.multiarch}"]`);
    assert.equal((await waitForListing(page)).state, "done");
    const row = await waitForRow(page, "1.0");
    assert.equal(row.state, "ok", row.error);
    assert.equal(row.type, "OCI index");
    assert.deepEqual(row.platforms, [...MULTIARCH_PLATFORMS]);
    const amd64 = SEED[REPOSITORIES.multiarch].children.find((c) => c.configJson?.architecture === "amd64");
    assert.equal(row.size, formatBytes(compressedSize(amd64.manifestJson)));
    assert.equal(await page.$$eval('#tag-list button[aria-label^="Delete"]', (bs) => bs.length), 0, "the Worker is pull only");
    const urls = await groupUrls(`Rows of ${REPOSITORIES.multiarch}`);
    assert.ok(urls.length > 0 && urls.every((u) => u.startsWith(`GET ${workerUrl}/manifest?`) || u.startsWith(`GET ${workerUrl}/config?`)), urls.join("\n"));
    assert.ok(urls.some((u) => u.includes("/config?") && u.includes("platform=linux%2Famd64")), urls.join("\n"));

    await page.getByRole("button", { name: "Details of 1.0" }).click();
    await page.waitForSelector("#details[open] #details-created");
    assert.equal(await page.textContent("#details-created"), formatCreated(amd64.configJson.created));
    assert.deepEqual(await page.$$eval("#details-platforms .badge", (bs) => bs.map((b) => b.textContent)), [...MULTIARCH_PLATFORMS]);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("details").open);
  });

  test("RATE_LIMITED through the Worker: its 429 shows the code, status and when to retry", async () => {
    await page.click(`#repo-list button[data-repo="${RATE_LIMIT.repository}"]`);
    await waitForListing(page);
    await page.waitForFunction(() => document.getElementById("error-code").textContent === "RATE_LIMITED" && !document.getElementById("error").hidden, null, { timeout: 30_000 });
    const err = await shownError(page);
    assert.equal(err.status, "HTTP 429");
    assert.match(err.retry, /^Rate limited: retry in \d+ s \(at \d\d:\d\d:\d\d UTC\)\. The package never retries by itself\.$/);
    assert.match(err.message, /^The Worker says: /);
  });

  test("a registry the Worker does not allow: its 403 REGISTRY_NOT_ALLOWED is shown readably", async () => {
    await page.fill("#registry", "ghcr.io");
    await page.click("#open-registry");
    await page.waitForFunction(() => !document.getElementById("error").hidden);
    const err = await shownError(page);
    assert.equal(err.code, "REGISTRY_NOT_ALLOWED");
    assert.equal(err.status, "HTTP 403");
    assert.equal(err.context, "Listing the repositories of ghcr.io");
    assert.equal(err.message, `The Worker says: registry "ghcr.io" is not in this Worker's ALLOWED_REGISTRIES`);
    assert.deepEqual(await groupUrls("Catalog of ghcr.io"), [`GET ${workerUrl}/catalog?registry=ghcr.io`], "nothing but the Worker was asked");
    assert.equal(await page.textContent("#repos-note"), "Could not list the repositories; you can still type one below.");
  });

  test("an empty Worker URL goes back to the package in the browser", async () => {
    await page.fill("#worker-url", "");
    await page.fill("#registry", d.config.registry);
    await page.click("#open-registry");
    await waitForRepos(page, Object.keys(SEED).length);
    assert.equal(await page.textContent("#signed-in"), "anonymous");
    // The registry itself answered (the client's challenge and token from the first opening are cached).
    const urls = await groupUrls(`Catalog of ${d.config.registry}`);
    assert.ok(urls.length > 0 && urls.every((u) => u.startsWith(`GET http://${d.config.registry}/v2/`)), urls.join("\n"));
  });

  test("zero console errors (besides the browser's notes on the Worker's 403 and 429 provoked above and the registry's /v2/ challenge)", () => {
    const provoked = (e) => /^Failed to load resource: the server responded with a status of (403|429)\b/.test(e.text) && e.url.startsWith(`${workerUrl}/`);
    assert.deepEqual(unexpectedConsoleErrors(d.consoleErrors.filter((e) => !provoked(e)), `http://${d.config.registry}`), []);
  });
});
