// The `npm start` dashboard in headless Debian Chromium (playwright-core), on each local registry
// back end there is here (builtin always; distribution with Debian's docker-registry): the main path
// of issue 11 — repositories, every tag of the 1,500-tag repository with visible progress, filter,
// a multi-arch tag's platforms, details from the config, the private repository after credentials,
// delete, RATE_LIMITED, the token panel and the request log — and no console errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chromiumUnavailable } from "../js/support/browser.mjs";
import { MANY_TAG_COUNT, MULTIARCH_PLATFORMS, RATE_LIMIT, REPOSITORIES, seedContent } from "../fixtures/seed.mjs";
import { TEST_USERS } from "../fixtures/token-server.mjs";
import { compressedSize, formatBytes, formatCreated, selectTags } from "../../www/format.js";
import {
  availableBackends, openDashboard, requestLog, rowTags, saveScreenshot, shownError, unexpectedConsoleErrors, waitForListing, waitForRepos, waitForRow,
} from "./support/dashboard.mjs";

const backends = await availableBackends();
const SEED = seedContent();
const seedTags = (repo) => Object.keys(SEED[repo].tags);

for (const backend of backends) {
  describe(`dashboard on the ${backend} registry, in Chromium`, { skip: chromiumUnavailable() ?? false }, () => {
    let d;
    let page;
    let registryOrigin;
    // Screenshots come from the first back end's run only.
    const shots = backend === backends[0];

    before(async () => {
      d = await openDashboard({ backend });
      page = d.page;
      registryOrigin = `http://${d.config.registry}`;
    });
    after(async () => {
      await d?.close();
    });

    async function openRepo(name) {
      await page.click(`#repo-list button[data-repo="${name}"]`);
      return waitForListing(page);
    }

    async function signIn(user) {
      await page.evaluate(() => { document.getElementById("credentials").open = true; });
      await page.getByRole("button", { name: `Fill in the test user ${user.username}` }).click();
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForFunction((u) => document.getElementById("signed-in").textContent === `signed in as ${u}`, user.username);
    }

    test("the page says which back end runs, and the repositories appear without credentials", async () => {
      assert.equal(d.config.backend, backend);
      assert.equal(await page.textContent("#backend"), backend);
      const repos = await waitForRepos(page, Object.keys(SEED).length);
      assert.deepEqual([...repos].sort(), Object.keys(SEED).sort());
      assert.equal(await page.textContent("#signed-in"), "anonymous");
      assert.equal(await shownError(page), null);
      // The catalog went through the package: a challenge, a token, the catalog page(s).
      const kinds = await requestLog(page, '#request-groups > li[data-label^="Catalog"] li[data-kind]', (lis) => lis.map((li) => li.dataset.kind));
      assert.deepEqual(kinds.slice(0, 2), ["challenge", "token"]);
      assert.ok(kinds.includes("catalog"), kinds.join());
      // The filter box narrows the list.
      await page.fill("#repo-filter", "demo/");
      const filtered = await page.$$eval("#repo-list button[data-repo]", (bs) => bs.map((b) => b.dataset.repo));
      assert.deepEqual(filtered.sort(), Object.keys(SEED).filter((r) => r.includes("demo/")).sort());
      await page.fill("#repo-filter", "");
    });

    test(`the ${MANY_TAG_COUNT.toLocaleString("en-US")}-tag repository: every tag arrives with visible progress, in bounded chunks`, async () => {
      // Record every text the progress line shows while the pages arrive.
      await page.evaluate(() => {
        window.progressSeen = [];
        new MutationObserver(() => window.progressSeen.push(document.getElementById("tags-progress").textContent))
          .observe(document.getElementById("tags-progress"), { childList: true, characterData: true, subtree: true });
      });
      const t0 = Date.now();
      const done = await openRepo(REPOSITORIES.many);
      const ms = Date.now() - t0;
      assert.equal(done.state, "done", done.text);
      assert.equal(done.count, MANY_TAG_COUNT);
      const pages = backend === "builtin" ? Math.ceil(MANY_TAG_COUNT / 100) : 1; // distribution 2.8.2 ignores n
      assert.match(done.text, new RegExp(`^1,500 tags, ${pages} pages?, all loaded in (\\d+ ms|\\d+\\.\\d s)\\.$`));
      const seen = await page.evaluate(() => window.progressSeen);
      assert.ok(seen.includes("0 tags, 0 pages, loading…"), seen.join(" | "));
      if (backend === "builtin") {
        // Pages show as they arrive: 100, 200, … (each a progress line of its own).
        for (let p = 1; p < pages; p++) assert.ok(seen.includes(`${(p * 100).toLocaleString("en-US")} tags, ${p} page${p === 1 ? "" : "s"}, loading…`), `page ${p}: ${seen.join(" | ")}`);
      }
      // One request per page, recorded in the Tags group.
      const tagRequests = await requestLog(page, `#request-groups > li[data-label="Tags of ${REPOSITORIES.many}"] li[data-kind="tags"]`, (lis) => lis.length);
      assert.equal(tagRequests, pages);
      // Bounded rendering: 100 rows, not 1,500; a Show more button for the rest.
      assert.equal((await rowTags(page)).length, 100);
      assert.match(await page.textContent("#more"), /^Show 100 more \(1,400 not shown\)$/);
      // Default order: highest version first.
      const expected = selectTags(Object.keys(SEED[REPOSITORIES.many].tags), { sort: "version" });
      assert.deepEqual(await rowTags(page), expected.slice(0, 100));
      await page.$eval("#more", (b) => b.click()); // (scrolling to it would load the next chunk by itself)
      assert.equal((await rowTags(page)).length, 200);
      // The token panel: the pull token the listing used, from the client's cache.
      await page.waitForSelector("#auth:not([hidden])");
      assert.equal(await page.textContent("#scope"), `repository:${REPOSITORIES.many}:pull`);
      assert.match(await page.textContent("#countdown"), /^in \d+:\d\d$/);
      assert.equal(await page.textContent("#realm"), d.config.realm);
      const claims = JSON.parse(await page.textContent("#jwt-claims"));
      assert.deepEqual(claims.access, [{ type: "repository", name: REPOSITORIES.many, actions: ["pull"] }]);
      console.log(`# ${backend}: ${MANY_TAG_COUNT} tags in ${pages} page(s) listed in ${ms} ms`);
    });

    test("visible rows get their digest, type, size and date on demand (HEAD first), through a concurrency limit", async () => {
      const top = (await rowTags(page))[0];
      const row = await waitForRow(page, top);
      assert.equal(row.state, "ok", row.error);
      const image = SEED[REPOSITORIES.many].tags[top];
      assert.equal(row.type, "OCI image");
      assert.equal(row.digestTitle.length, "sha256:".length + 64);
      assert.equal(row.digest, row.digestTitle.slice(7, 19));
      const manifest = JSON.parse(image.manifest.toString());
      assert.equal(row.size, formatBytes(compressedSize(manifest)));
      assert.match(row.created, /^\d{4}-\d\d-\d\dT/);
      // The row's first request was a HEAD of the tag; the GETs went by digest.
      const urls = await requestLog(page, `#request-groups > li[data-label="Rows of ${REPOSITORIES.many}"] li[data-kind] .url`, (us) => us.map((u) => u.textContent));
      const ofTop = urls.filter((u) => u.endsWith(`/v2/${REPOSITORIES.many}/manifests/${top}`));
      assert.deepEqual(ofTop.map((u) => u.split(" ")[0]), ["HEAD"], urls.join("\n"));
      assert.ok(urls.some((u) => u.startsWith(`GET `) && u.endsWith(`/manifests/${row.digestTitle}`)), urls.join("\n"));
      if (shots) await saveScreenshot(page, "dashboard-tags");
      // Rows far below the screen were not asked for.
      const states = await page.$$eval("#tag-list li[data-tag]", (lis) => lis.map((li) => li.dataset.state));
      assert.ok(states.slice(-50).every((s) => s === "pending"), states.slice(-50).join());
    });

    test("filter and sort", async () => {
      await page.fill("#tag-filter", "5.19.");
      await page.waitForFunction(() => document.getElementById("tag-list").dataset.count === "15");
      const tags = await rowTags(page);
      assert.deepEqual(tags, Array.from({ length: 15 }, (_, i) => `5.19.${14 - i}`), "highest version first");
      assert.equal(await page.textContent("#tag-count"), "15 of 1,500 tags match; showing 15.");
      await page.selectOption("#tag-sort", "name");
      assert.deepEqual(await rowTags(page), Array.from({ length: 15 }, (_, i) => `5.19.${i}`), "numbers in order");
      await page.fill("#tag-filter", "1.*.14");
      assert.equal(await page.$eval("#tag-list", (l) => l.dataset.count), "20");
      await page.fill("#tag-filter", "");
      await page.selectOption("#tag-sort", "version");
    });

    if (backend === "builtin") {
      test("Stop ends the listing between pages (AbortController signal); the tags so far stay listed", async () => {
        // Pages after the first are held back 300 ms each, so the click lands between two pages.
        const held = (url) => url.pathname.endsWith(`/v2/${REPOSITORIES.many}/tags/list`) && url.searchParams.has("last");
        await page.route(held, (route) => setTimeout(() => route.continue().catch(() => {}), 300));
        try {
          await page.click(`#repo-list button[data-repo="${REPOSITORIES.many}"]`);
          await page.waitForFunction(() => /^[1-9][\d,]* tags?, [1-9]\d* pages?, loading…$/.test(document.getElementById("tags-progress").textContent));
          await page.getByRole("button", { name: "Stop" }).click();
          const stopped = await waitForListing(page);
          assert.equal(stopped.state, "stopped", stopped.text);
          assert.ok(stopped.count >= 100 && stopped.count < MANY_TAG_COUNT, String(stopped.count));
          assert.equal(stopped.count % 100, 0, "whole pages only");
          assert.equal(stopped.text, `${stopped.count.toLocaleString("en-US")} tags, ${stopped.count / 100} page${stopped.count === 100 ? "" : "s"}, stopped. Tags arrived so far are listed.`);
          assert.equal(await page.isHidden("#stop"), true);
          assert.equal((await rowTags(page)).length, 100);
          assert.equal(await shownError(page), null, "stopping is not an error");
        } finally {
          await page.unroute(held);
        }
      });
    }

    if (backend === "distribution") {
      test("a registry without CORS headers: the error carries the package's CORS hint; through the dev proxy it lists", async () => {
        await page.fill("#registry", d.config.registryNoCors);
        await page.setChecked("#use-proxy", false);
        await page.click("#open-registry");
        await page.waitForFunction(() => !document.getElementById("error").hidden);
        const err = await shownError(page);
        assert.equal(err.code, "NO_CHALLENGE");
        assert.equal(err.status, "HTTP 401");
        assert.match(err.hint, /Access-Control-Expose-Headers: WWW-Authenticate/);
        assert.match(err.hint, /registryUrl/);
        await page.setChecked("#use-proxy", true);
        await page.click("#open-registry");
        const repos = await waitForRepos(page, Object.keys(SEED).length);
        assert.deepEqual([...repos].sort(), Object.keys(SEED).sort());
        // The newest group (listed first) is the proxied attempt: every request went through /proxy/.
        const [urls] = await requestLog(page, `#request-groups > li[data-label="Catalog of ${d.config.registryNoCors}"]`, (gs) => gs.map((g) => [...g.querySelectorAll(".url")].map((u) => u.textContent)));
        assert.ok(urls.length >= 3 && urls.every((u) => u.includes(`${d.demo.url}proxy/`)), urls.join("\n"));
        // Back to the local registry with CORS.
        await page.fill("#registry", d.config.registry);
        await page.setChecked("#use-proxy", false);
        await page.click("#open-registry");
        await waitForRepos(page, Object.keys(SEED).length);
        assert.equal(await shownError(page), null);
      });
    }

    test("a multi-arch tag shows its three platforms and no attestation; details show the config's date, labels, history and the manifest", async () => {
      await openRepo(REPOSITORIES.multiarch);
      const row = await waitForRow(page, "1.0");
      assert.equal(row.state, "ok", row.error);
      assert.equal(row.type, "OCI index");
      assert.deepEqual(row.platforms, [...MULTIARCH_PLATFORMS]);
      assert.ok(!(await page.textContent('#tag-list li[data-tag="1.0"]')).includes("unknown"));
      const index = JSON.parse(SEED[REPOSITORIES.multiarch].tags["1.0"].manifest.toString());
      assert.equal(index.manifests.length, 6, "the seed has 3 attestation entries the page must hide");
      const amd64 = SEED[REPOSITORIES.multiarch].children.find((c) => c.configJson?.architecture === "amd64");
      assert.equal(row.size, formatBytes(compressedSize(amd64.manifestJson)));
      if (shots) await saveScreenshot(page, "dashboard-multiarch");

      await page.getByRole("button", { name: "Details of 1.0" }).click();
      await page.waitForSelector("#details[open] #details-created");
      const details = await page.evaluate(() => ({
        title: document.getElementById("details-title").textContent,
        created: document.getElementById("details-created").textContent,
        platforms: [...document.querySelectorAll("#details-platforms .badge")].map((b) => b.textContent),
        labels: Object.fromEntries([...document.querySelectorAll("#details-labels dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
        history: [...document.querySelectorAll("#details-history li code")].map((c) => c.textContent),
        manifest: JSON.parse(document.getElementById("details-manifest").textContent),
        focus: document.activeElement?.closest("dialog")?.id ?? null,
      }));
      assert.equal(details.title, `${REPOSITORIES.multiarch}:1.0`);
      assert.equal(details.created, formatCreated(amd64.configJson.created));
      assert.equal(details.created, "2024-05-01 10:00 UTC");
      assert.deepEqual(details.platforms, [...MULTIARCH_PLATFORMS]);
      assert.deepEqual(details.labels, amd64.configJson.config.Labels);
      assert.deepEqual(details.history, amd64.configJson.history.map((h) => h.created_by));
      assert.deepEqual(details.manifest, index);
      assert.equal(details.focus, "details", "focus moves into the dialog");
      if (shots) await saveScreenshot(page, "dashboard-details");
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => !document.getElementById("details").open);
    });

    test("a Docker v2 image: type, size (config + layers) and created date", async () => {
      await openRepo(REPOSITORIES.docker);
      for (const tag of seedTags(REPOSITORIES.docker)) {
        const row = await waitForRow(page, tag);
        const image = SEED[REPOSITORIES.docker].tags[tag];
        assert.equal(row.state, "ok", row.error);
        assert.equal(row.type, "Docker image");
        assert.equal(row.size, formatBytes(compressedSize(image.manifestJson)));
        assert.equal(row.created, image.configJson.created);
      }
      // Dates are known now: newest first is offered and works.
      assert.equal(await page.$eval('#tag-sort option[value="created"]', (o) => o.disabled), false);
      await page.selectOption("#tag-sort", "created");
      const byDate = Object.entries(SEED[REPOSITORIES.docker].tags).sort((a, b) => Date.parse(b[1].configJson.created) - Date.parse(a[1].configJson.created)).map(([t]) => t);
      assert.deepEqual(await rowTags(page), byDate);
      await page.selectOption("#tag-sort", "version");
    });

    test("the private repository asks for credentials, then lists", async () => {
      const denied = await openRepo(REPOSITORIES.secret);
      assert.equal(denied.state, "error");
      const err = await shownError(page);
      assert.equal(err.code, "UNAUTHORIZED", JSON.stringify(err));
      assert.match(err.context, /needs credentials/);
      assert.equal(await page.$eval("#credentials", (x) => x.open), true, "the credentials panel opens");
      assert.equal(await page.evaluate(() => document.activeElement.id), "username");
      await signIn(TEST_USERS.reader);
      const listed = await waitForListing(page);
      assert.equal(listed.state, "done", listed.text);
      assert.deepEqual((await rowTags(page)).sort(), seedTags(REPOSITORIES.secret).sort());
      assert.equal(await shownError(page), null);
      // The password left the input once stored (memory only), and never reached the DOM elsewhere.
      assert.equal(await page.inputValue("#password"), "");
      assert.ok(!(await page.content()).includes(TEST_USERS.reader.password));
    });

    test("delete a tag after a confirmation (Cancel keeps it); the list updates", async () => {
      await signIn(TEST_USERS.tester);
      await openRepo(REPOSITORIES.many);
      await page.fill("#tag-filter", "1.0.");
      await page.waitForFunction(() => document.getElementById("tag-list").dataset.count === "15");
      const victim = "1.0.3";
      await waitForRow(page, victim);
      await page.getByRole("button", { name: `Delete ${victim}` }).click();
      await page.waitForSelector("#confirm[open]");
      assert.equal(await page.textContent("#confirm-title"), `Delete ${REPOSITORIES.many}:${victim}?`);
      await page.click("#confirm-cancel");
      await page.waitForFunction(() => !document.getElementById("confirm").open);
      assert.ok((await rowTags(page)).includes(victim), "Cancel deletes nothing");

      await page.getByRole("button", { name: `Delete ${victim}` }).click();
      await page.click("#confirm-delete");
      await page.waitForFunction((t) => !document.querySelector(`#tag-list li[data-tag="${t}"]`) && document.body.dataset.state !== "busy", victim);
      assert.match(await page.textContent("#status"), new RegExp(`^Deleted ${victim.replace(/\./g, "\\.")} \\(sha256:[0-9a-f]{12}\\)\\.$`));
      assert.equal(await page.$eval("#tag-list", (l) => l.dataset.count), "14");
      const deleteRequests = await requestLog(page, `#request-groups > li[data-label="Delete ${victim}"] li[data-kind]`, (lis) => lis.map((li) => `${li.querySelector(".url").textContent.split(" ")[0]} ${li.dataset.status}`));
      assert.ok(deleteRequests.includes("DELETE 202"), deleteRequests.join());
      // The registry agrees: listing again gives 1,499 tags, without the deleted one.
      await page.fill("#tag-filter", "");
      const again = await openRepo(REPOSITORIES.many);
      assert.equal(again.count, MANY_TAG_COUNT - 1);
      await page.fill("#tag-filter", "1.0.");
      assert.ok(!(await rowTags(page)).includes(victim));
      await page.fill("#tag-filter", "");
    });

    test("RATE_LIMITED is shown readably: code, status, the registry's words, when to retry", async () => {
      await openRepo(RATE_LIMIT.repository);
      // Listing is request 1; each visible row asks HEAD, then GET: the 4th request gets the 429.
      const rows = await Promise.all(seedTags(RATE_LIMIT.repository).map((t) => waitForRow(page, t)));
      assert.ok(rows.some((r) => r.state === "error"), JSON.stringify(rows));
      await page.waitForFunction(() => document.getElementById("error-code").textContent === "RATE_LIMITED" && !document.getElementById("error").hidden, null, { timeout: 30_000 });
      const err = await shownError(page);
      assert.equal(err.status, "HTTP 429");
      assert.match(err.retry, /^Rate limited: retry in \d+ s \(at \d\d:\d\d:\d\d UTC\)\. The package never retries by itself\.$/);
      assert.match(err.context, new RegExp(`^Reading ${RATE_LIMIT.repository}:`));
      assert.ok(err.message.length > 0);
      const rowErrors = await page.$$eval("#tag-list .row-error", (es) => es.map((e) => e.textContent));
      assert.ok(rowErrors.some((t) => /^RATE_LIMITED — retry in \d+ s/.test(t)), rowErrors.join(" | "));
      if (shots) await saveScreenshot(page, "dashboard-rate-limited");
    });

    test("the request log holds every request, re-challenges and pages included, and the token can be copied", async () => {
      const kinds = await requestLog(page, "#request-groups li[data-kind]", (lis) => [...new Set(lis.map((li) => li.dataset.kind))]);
      for (const k of ["challenge", "token", "tags", "manifest", "blob"]) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
      const count = await page.textContent("#requests-count");
      assert.match(count, /^\(\d[\d,]* requests\)$/);
      await openRepo(REPOSITORIES.oci);
      await page.getByRole("button", { name: "Copy the token" }).click();
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.match(copied, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(await page.textContent("#copy-status"), "Copied.");
    });

    if (shots) {
      test("a registry without a catalog (Docker Hub, played here by the test: loopback only): the page says so and takes a typed repository", async () => {
        // Docker Hub through the dev proxy, answered inside the browser as Docker Hub answers: a
        // Bearer challenge, a token, 404 for /v2/_catalog; library/alpine from the local seed.
        const hub = `${d.demo.url}proxy/registry-1.docker.io`;
        const alpine = SEED[REPOSITORIES.alpine].tags["3.19"];
        const hubRequests = [];
        const standIn = (url) => url.href.startsWith(`${hub}/`) || url.href.startsWith(`${d.demo.url}proxy/auth.docker.io/`);
        await page.route(standIn, (route) => {
          const url = new URL(route.request().url());
          const path = url.pathname.slice(new URL(hub).pathname.length);
          hubRequests.push(`${route.request().method()} ${url.pathname}`);
          const json = (status, body, headers = {}) => route.fulfill({ status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
          if (url.pathname.endsWith("/token")) return json(200, { token: "stand-in-token", expires_in: 300 });
          if (path === "/v2/") return json(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, { "www-authenticate": `Bearer realm="${d.demo.url}proxy/auth.docker.io/token",service="registry.docker.io"` });
          if (path === "/v2/_catalog") return route.fulfill({ status: 404, headers: { "content-type": "text/plain" }, body: "404 page not found" });
          if (path === "/v2/library/alpine/tags/list") return json(200, { name: "library/alpine", tags: ["3.19", "latest"] });
          if (/^\/v2\/library\/alpine\/manifests\//.test(path)) {
            return route.fulfill({ status: 200, headers: { "content-type": alpine.mediaType, "docker-content-digest": alpine.digest }, body: alpine.manifest });
          }
          const blob = alpine.blobs.find((b) => path === `/v2/library/alpine/blobs/${b.digest}`);
          if (blob) return route.fulfill({ status: 200, headers: { "content-type": "application/octet-stream" }, body: blob.data });
          return json(404, { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry" }] });
        });
        try {
          await page.fill("#registry", "docker.io");
          await page.click("#open-registry");
          await page.waitForFunction(() => /has no catalog/.test(document.getElementById("repos-note").textContent));
          assert.equal(await page.textContent("#repos-note"), "docker.io has no catalog (Docker Hub and GHCR keep it private): type a repository below, e.g. library/alpine.");
          assert.equal(await page.$eval("#use-proxy", (c) => c.checked), true, "any host but the local one goes through the dev proxy");
          assert.equal(await shownError(page), null, "no catalog is not an error");
          assert.equal(await page.evaluate(() => document.activeElement.id), "repo-name");
          assert.deepEqual(hubRequests.slice(0, 3), ["GET /proxy/registry-1.docker.io/v2/", "GET /proxy/auth.docker.io/token", "GET /proxy/registry-1.docker.io/v2/_catalog"]);
          await page.keyboard.type("library/alpine");
          await page.keyboard.press("Enter");
          const listed = await waitForListing(page);
          assert.equal(listed.state, "done", listed.text);
          assert.deepEqual(await rowTags(page), ["3.19", "latest"]);
          const row = await waitForRow(page, "3.19");
          assert.equal(row.type, "Docker image");
          assert.equal(row.size, formatBytes(compressedSize(alpine.manifestJson)));
          assert.equal(row.created, alpine.configJson.created);
          assert.equal(await page.textContent("#tags-repo"), "docker.io/library/alpine");
        } finally {
          await page.unroute(standIn);
        }
        await page.fill("#registry", d.config.registry);
        await page.click("#open-registry");
        await waitForRepos(page, Object.keys(SEED).length);
      });
    }

    test("zero console errors (besides the browser's notes on the 401s and 429s the protocol is made of)", () => {
      // The Docker Hub stand-in's 404 for /v2/_catalog is how Docker Hub says "no catalog".
      const hubCatalog = (e) => /status of 404/.test(e.text) && e.url.startsWith(`${d.demo.url}proxy/registry-1.docker.io/v2/_catalog`);
      const bases = [registryOrigin, `http://${d.config.registryNoCors}`, `${d.demo.url}proxy/${d.config.registryNoCors}`, `${d.demo.url}proxy/registry-1.docker.io`];
      assert.deepEqual(unexpectedConsoleErrors(d.consoleErrors.filter((e) => !hubCatalog(e)), bases), []);
    });
  });
}
