// Headless Debian Chromium for the browser suites, driven by playwright-core (no downloaded
// browser: `executablePath` is the distribution's /usr/bin/chromium), plus a loopback static file
// server to load pages from. Flags and quirks: ../../../../shared/toolchain.md §9.
//
//   const why = chromiumUnavailable();          // null, or why not (throws under CI=true)
//   describe("…", { skip: why ?? false }, () => { … });
//   const browser = await launchBrowser();      // fresh temp profile, removed by close()
//   const site = await startStaticServer(dir);  // → site.url, site.close()
//   const { page, logs } = await browser.open(`${site.url}/index.html`);
//   const result = await waitForResult(page);   // { state: "ok"|"error", text, ...data-* }
//   await screenshot(page, "plain-page");       // → build/screenshots/plain-page.png
//   await browser.close();
//
// The page protocol: an element `#result` whose `data-state` goes from "pending" to "ok" or
// "error"; its text is what the test reads, other `data-*` attributes (e.g. `data-code`) come
// back in the result too.

import { accessSync, constants as fsConstants, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { chromium } from "playwright-core";
import { root } from "./package.mjs";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** toolchain.md §9: what a root, sandbox-less, offline headless run needs. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export const SCREENSHOT_DIR = join(root, "build", "screenshots");

/**
 * Null when Chromium can run here; otherwise the reason, for `{ skip: reason }`. Under CI=true a
 * missing browser is a failure, not a skip: this throws instead.
 */
export function chromiumUnavailable(env = process.env) {
  try {
    accessSync(CHROMIUM_PATH, fsConstants.X_OK);
    return null;
  } catch {
    const msg =
      `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH to override). ` +
      "Install the Debian packages: sudo apt-get install -y chromium chromium-driver";
    if (env.CI === "true") throw new Error(`${msg} (CI=true: this is a failure, not a skip; .ci/run installs them)`);
    return msg;
  }
}

/**
 * Launches Chromium with a fresh profile in a temp folder (HOME-side config and cache redirected
 * there too, so nothing lands in ~/.config/chromium). Returns
 * { context, open(url, opts), newPage(), close() }.
 */
export async function launchBrowser({ timeoutMs = 30_000 } = {}) {
  const why = chromiumUnavailable();
  if (why) throw new Error(why);
  const profile = mkdtempSync(join(tmpdir(), "registry-token-chromium-"));
  const env = { ...process.env, XDG_CONFIG_HOME: join(profile, "config"), XDG_CACHE_HOME: join(profile, "cache") };
  let context;
  try {
    // Playwright refuses --user-data-dir in args: the profile is the first argument instead.
    context = await chromium.launchPersistentContext(join(profile, "user-data"), {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      env,
      timeout: timeoutMs,
      viewport: { width: 800, height: 600 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  context.setDefaultTimeout(timeoutMs);
  let closed = false;

  const handle = {
    context,
    /** A blank page with console and page errors collected into `logs` (for failure messages). */
    async newPage() {
      const page = await context.newPage();
      const logs = [];
      page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
      page.on("requestfailed", (r) => logs.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
      page.on("worker", (w) => w.on("console", (m) => logs.push(`worker console.${m.type()}: ${m.text()}`)));
      return { page, logs };
    },
    /** Opens `url` in a new page; resolves once it has loaded. */
    async open(url, { waitUntil = "load" } = {}) {
      const { page, logs } = await handle.newPage();
      await page.goto(url, { waitUntil });
      return { page, logs };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
  return handle;
}

/**
 * Waits until `selector`'s `data-state` is neither missing nor "pending" and returns
 * { state, text, ...data-* }. On timeout the error includes the page's logs when given.
 */
export async function waitForResult(page, { selector = "#result", timeoutMs = 20_000, logs } = {}) {
  try {
    await page.waitForFunction(
      (sel) => {
        const el = document.querySelector(sel);
        return !!el && !!el.dataset.state && el.dataset.state !== "pending";
      },
      selector,
      { timeout: timeoutMs },
    );
  } catch (err) {
    const seen = await page
      .evaluate((sel) => document.querySelector(sel)?.outerHTML ?? "(no element)", selector)
      .catch(() => "(page gone)");
    const extra = logs?.length ? `\npage logs:\n  ${logs.join("\n  ")}` : "";
    throw new Error(`${selector} did not settle within ${timeoutMs} ms: ${seen}${extra}`, { cause: err });
  }
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return { ...el.dataset, text: el.textContent };
  }, selector);
}

/** Saves a PNG of the page under build/screenshots/ and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  // Without application/wasm, wasm-bindgen's loader falls back to the slower ArrayBuffer path.
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ts": "text/plain; charset=utf-8",
};

/**
 * Serves `dir` on 127.0.0.1 (ephemeral port). `mounts` maps URL prefixes to other folders, e.g.
 * `{ "/node_modules/": join(consumer, "node_modules") }`. Directory URLs serve index.html.
 * Every request is logged in `requests` ({ method, path, status }). Returns
 * { url, host, requests, close() }.
 */
export async function startStaticServer(dir, { mounts = {} } = {}) {
  const roots = Object.entries({ "/": dir, ...mounts })
    .map(([prefix, folder]) => [prefix.endsWith("/") ? prefix : `${prefix}/`, resolve(folder)])
    .sort((a, b) => b[0].length - a[0].length);
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://static.invalid").pathname);
    const entry = { method: req.method, path, status: 0 };
    requests.push(entry);
    const finish = (status, headers, body) => {
      entry.status = status;
      res.writeHead(status, { "Cache-Control": "no-store", ...headers });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return finish(405, { Allow: "GET, HEAD" }, "");
    const [prefix, folder] = roots.find(([p]) => path.startsWith(p));
    let file = normalize(join(folder, path.slice(prefix.length)));
    if (file !== folder && !file.startsWith(folder + sep)) return finish(403, {}, "forbidden");
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      const size = statSync(file).size;
      entry.status = 200;
      res.writeHead(200, {
        "Content-Type": MIME[extname(file)] ?? "application/octet-stream",
        "Content-Length": size,
        "Cache-Control": "no-store",
      });
      if (req.method === "HEAD") return res.end();
      createReadStream(file).pipe(res);
    } catch {
      finish(404, { "Content-Type": "text/plain" }, `not found: ${path}`);
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
