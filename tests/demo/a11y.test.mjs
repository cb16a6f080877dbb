// The dashboard without a mouse, on a phone, and in the dark (headless Debian Chromium): the main
// path by keyboard alone (focus order, Enter/Escape, focus return from the dialogs), accessible
// names and live regions, a 390×844 screen with nothing wider than it, and both colour schemes.
// Runs on the first back end there is here (builtin, else distribution).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chromiumUnavailable } from "../js/support/browser.mjs";
import { MULTIARCH_PLATFORMS, REPOSITORIES } from "../fixtures/seed.mjs";
import {
  availableBackends, openDashboard, rowTags, saveScreenshot, unexpectedConsoleErrors, waitForListing, waitForRepos, waitForRow,
} from "./support/dashboard.mjs";

const [backend] = await availableBackends();

describe(`dashboard by keyboard, on a phone, light and dark (${backend})`, { skip: chromiumUnavailable() ?? false }, () => {
  let d;
  let page;

  before(async () => {
    d = await openDashboard({ backend });
    page = d.page;
    await waitForRepos(page, Object.keys(REPOSITORIES).length);
  });
  after(async () => {
    await d?.close();
  });

  /** What has the focus, in words a test can compare. */
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return "body";
    return a.id ? `#${a.id}` : a.getAttribute("aria-label") ?? a.dataset.repo ?? `${a.tagName.toLowerCase()}:${a.textContent.trim().slice(0, 30)}`;
  });

  /** Presses Tab until `want` has the focus (at most `max` times); returns the stops on the way. */
  async function tabTo(want, max = 40) {
    const stops = [];
    for (let i = 0; i < max; i++) {
      await page.keyboard.press("Tab");
      const now = await focused();
      stops.push(now);
      if (now === want) return stops;
    }
    assert.fail(`Tab never reached ${want}; stops: ${stops.join(" → ")}`);
  }

  test("the main path by keyboard alone: skip link, filter, open, tag filter, details, delete dialog", async () => {
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "a:Skip to the tags");
    // The registry bar comes first, then the repositories, in reading order.
    const stops = await tabTo("#repo-filter");
    assert.deepEqual(stops, ["#registry", "#use-proxy", "#open-registry", "#worker-url", "summary:Credentials anonymous", "#repo-filter"]);
    await page.keyboard.type("many");
    const next = await tabTo(REPOSITORIES.many, 1);
    assert.deepEqual(next, [REPOSITORIES.many], "the only match is the next stop");
    await page.keyboard.press("Enter");
    const listing = await waitForListing(page);
    assert.equal(listing.state, "done");
    assert.equal(listing.count, 1500);

    // Across the repository form to the tag filter: no hidden control on the way.
    const toFilter = await tabTo("#tag-filter");
    assert.deepEqual(toFilter, ["#repo-name", "#open-repo", "#tag-filter"]);
    await page.keyboard.type("5.19.1");
    await page.waitForFunction(() => document.getElementById("tag-list").dataset.count === "6");
    assert.deepEqual(await rowTags(page), ["5.19.14", "5.19.13", "5.19.12", "5.19.11", "5.19.10", "5.19.1"]);
    await waitForRow(page, "5.19.14");

    // Details: Enter opens the dialog with the focus inside, Escape closes it and gives the focus back.
    await tabTo("Details of 5.19.14");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#details[open] #details-created");
    assert.equal(await page.evaluate(() => document.activeElement.closest("dialog")?.id), "details");
    assert.match(await page.textContent("#details-created"), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("details").open);
    assert.equal(await focused(), "Details of 5.19.14");

    // Delete asks first; the safe answer has the focus; Escape cancels and deletes nothing.
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "Delete 5.19.14");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#confirm[open]");
    assert.equal(await focused(), "#confirm-cancel");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("confirm").open);
    assert.equal(await focused(), "Delete 5.19.14");
    assert.ok((await rowTags(page)).includes("5.19.14"));

    // The skip link (the first stop of a fresh page) jumps to the tags.
    await page.reload();
    await waitForRepos(page, Object.keys(REPOSITORIES).length);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "a:Skip to the tags");
    await page.keyboard.press("Enter");
    assert.equal(await focused(), "#tags-title");
  });

  test("every control has an accessible name; progress, status and errors are live regions", async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll("input, button, select, textarea, summary")]
        .filter((el) => el.type !== "hidden" && !el.closest("[hidden]") && !el.closest("dialog:not([open])"))
        .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.textContent.trim()))
        .map((el) => el.outerHTML));
    assert.deepEqual(unnamed, []);
    for (const name of ["Registry", "Username", "Password or access token", "Filter repositories", "Open by name", "Filter tags", "Sort"]) {
      assert.equal(await page.getByLabel(name, { exact: true }).count(), 1, name);
    }
    const live = await page.evaluate(() => Object.fromEntries(["tags-progress", "status", "error"].map((id) => {
      const e = document.getElementById(id);
      return [id, `${e.getAttribute("role")}/${e.getAttribute("aria-live") ?? ""}`];
    })));
    assert.deepEqual(live, { "tags-progress": "status/polite", status: "status/polite", error: "alert/" });
    assert.equal(await page.getByRole("list", { name: /^Tags/ }).count(), 1);
    assert.equal(await page.getByRole("list", { name: /^Repositories/ }).count(), 1);
  });

  test("phone width (390×844): the main views fit, nothing scrolls sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.fill("#tag-filter", "");
    await page.fill("#repo-filter", "");
    await page.getByRole("button", { name: REPOSITORIES.multiarch, exact: true }).click();
    await waitForListing(page);
    const row = await waitForRow(page, "1.0");
    assert.deepEqual(row.platforms, [...MULTIARCH_PLATFORMS]);
    const overflow = () => page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      view: window.innerWidth,
      wide: [...document.querySelectorAll("body *")]
        .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest("dialog:not([open])"))
        .map((e) => e.id || e.className || e.tagName).slice(0, 8),
    }));
    let o = await overflow();
    assert.ok(o.doc <= o.view && o.wide.length === 0, JSON.stringify(o));
    await saveScreenshot(page, "dashboard-phone", { at: "#tags" });
    await page.getByRole("button", { name: "Details of 1.0" }).click();
    await page.waitForSelector("#details[open] #details-created");
    o = await overflow();
    assert.ok(o.doc <= o.view && o.wide.length === 0, `details: ${JSON.stringify(o)}`);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("details").open);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test("light and dark colour schemes follow prefers-color-scheme", async () => {
    const colours = () => page.evaluate(() => {
      const lum = (c) => {
        const [r, g, b] = c.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      };
      const s = getComputedStyle(document.body);
      return { bg: lum(s.backgroundColor), fg: lum(s.color) };
    });
    const light = await colours();
    assert.ok(light.bg > 0.9 && light.fg < 0.2, JSON.stringify(light));
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await colours();
    assert.ok(dark.bg < 0.1 && dark.fg > 0.8, JSON.stringify(dark));
    await saveScreenshot(page, "dashboard-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  test("zero console errors", () => {
    assert.deepEqual(unexpectedConsoleErrors(d.consoleErrors, `http://${d.config.registry}`), []);
  });
});
