// Issue 12 in a browser: headless Chromium loads a page (import map, no bundler) whose fresh
// RegistryClient keeps tokens in `webStorageStore(sessionStorage)`. The first load asks the
// registry (ping and token request); a reload finds the token in sessionStorage and makes no
// request at all. A new tab has its own sessionStorage, so it asks again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { chromiumUnavailable, launchBrowser, startStaticServer, waitForResult } from "../js/support/browser.mjs";
import { startEmulator } from "../js/support/emulator.mjs";
import { installPackedPackage } from "../js/support/package.mjs";

const APP = fileURLToPath(new URL("./apps/store/", import.meta.url));
const skip = chromiumUnavailable(); // throws under CI=true when Chromium is missing

describe("Chromium: webStorageStore(sessionStorage)", { skip: skip ?? false }, () => {
  let browser;
  let site;
  let reg; // a CORS-enabled registry on 127.0.0.1, realm on the same origin

  before(async () => {
    const { consumer } = installPackedPackage();
    site = await startStaticServer(APP, { mounts: { "/node_modules/": join(consumer, "node_modules") } });
    reg = await startEmulator({ name: "reg", cors: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await reg?.close();
  });

  it("a token survives a page reload: 2 requests on the first load, 0 after the reload", async (t) => {
    const url = `${site.url}/?${new URLSearchParams({ ref: `${reg.host}/team/app` })}`;
    const { page, logs } = await browser.open(url);
    try {
      const first = await waitForResult(page, { logs });
      assert.equal(first.state, "ok", `${first.text}\n${logs.join("\n")}`);
      assert.match(first.text, /^reg-token-\d+$/);
      assert.deepEqual(reg.counts(), { ping: 1, token: 1, redirect: 0, preflight: 0, other: 0, total: 2 });
      assert.deepEqual(JSON.parse(first.stats), { storeHits: 0, storeMisses: 1, storeErrors: 0 });
      const keys = JSON.parse(first.keys);
      assert.equal(keys.length, 1);
      assert.match(keys[0], /^registry-token:rt1-[0-9a-f]{64}$/);
      const value = JSON.parse(await page.evaluate((k) => sessionStorage.getItem(k), keys[0]));
      assert.equal(value.token, first.text);
      assert.deepEqual(Object.keys(value).sort(), ["expiresAt", "k", "realm", "scope", "service", "token", "v"]);

      reg.reset();
      await page.reload({ waitUntil: "load" });
      const second = await waitForResult(page, { logs });
      assert.equal(second.state, "ok", `${second.text}\n${logs.join("\n")}`);
      assert.equal(second.text, first.text, "the same token after the reload");
      assert.equal(reg.counts().total, 0, "no request after the reload");
      assert.deepEqual(JSON.parse(second.stats), { storeHits: 1, storeMisses: 0, storeErrors: 0 });
      t.diagnostic(`first load: 2 requests; after reload: ${reg.counts().total}`);
    } finally {
      await page.close();
    }

    // A new tab starts with an empty sessionStorage: it asks the registry again.
    const other = await browser.open(url);
    try {
      const third = await waitForResult(other.page, { logs: other.logs });
      assert.equal(third.state, "ok", third.text);
      assert.notEqual(third.text, "");
      assert.deepEqual([reg.counts().ping, reg.counts().token], [1, 1]);
      assert.deepEqual(JSON.parse(third.stats), { storeHits: 0, storeMisses: 1, storeErrors: 0 });
    } finally {
      await other.page.close();
    }
  });
});
