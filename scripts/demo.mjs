// The demo server behind `npm start`, importable by the tests: `startDemo({ port, registry })` starts
// the local registry (tests/fixtures/local-registry.mjs: distribution 2.8.2 behind a CORS front when
// installed, else the built-in Node registry; token auth; the seed of tests/fixtures/seed.mjs pushed
// through the package) and one HTTP server on 127.0.0.1 that serves
//
//   /               www/ (the dashboard, plain ES modules)
//   /pkg/…          the built package (pkg/index.browser.js and its .wasm)
//   /config.json    what the page needs to know about the local registry
//   /proxy/<host>/… the optional dev proxy: forwards to https://<host>/… (http:// for loopback hosts,
//                   the same rule the library uses) so the page can reach registries that send no
//                   CORS headers, through the `registryUrl` option.
//
// The dev proxy is for a developer's own machine. It is same-origin only: it answers no preflight
// and adds no CORS header, refuses requests whose Origin is another site and whose Host is not the
// loopback address it listens on (DNS rebinding), forwards GET/HEAD/POST only and no cookies.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { extname, join, normalize, sep } from "node:path";
import { TEST_USERS } from "../tests/fixtures/distribution.mjs";
import { startLocalRegistry } from "../tests/fixtures/local-registry.mjs";
import { closeServer } from "../tests/fixtures/registry-protocol.mjs";
import { RATE_LIMIT, REPOSITORIES, seedDescription } from "../tests/fixtures/seed.mjs";
import { root } from "./lib.mjs";

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", // anything else makes wasm-bindgen fall back to the slow path
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ts": "text/plain; charset=utf-8",
};

/** Request headers the proxy passes upstream; everything else (cookies above all) stays here. */
const PROXY_REQUEST_HEADERS = ["accept", "accept-encoding", "authorization", "content-type", "content-length", "user-agent"];
/** Response headers the proxy drops: hop-by-hop ones, cookies, and CORS headers meant for others. */
const PROXY_DROP_RESPONSE = /^(connection|keep-alive|proxy-.*|te|trailer|upgrade|set-cookie|access-control-.*|strict-transport-security|alt-svc)$/i;
const PROXY_TIMEOUT_MS = 30_000;

/** `localhost`, 127.0.0.0/8 and [::1]: the hosts the library (and this proxy) talk plain http to. */
export function isLoopbackHost(host) {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return name === "localhost" || name === "[::1]" || /^127(\.\d{1,3}){3}$/.test(name);
}

/** `host` or `host:port`, a DNS name, IPv4 or bracketed IPv6 literal; nothing that could inject a path. */
const PROXY_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Starts the local registry and the demo server.
 * @param {object} [opts]
 * @param {number} [opts.port]   port on 127.0.0.1; 0 (default) picks a free one
 * @param {boolean} [opts.proxy] enable the /proxy/ route (default true)
 * @param {"auto"|"builtin"|"distribution"} [opts.registry] the back end (default "auto": distribution when installed)
 * @param {object} [opts.pkg]    the package module the seed is pushed with (default: the built pkg/index.node.mjs)
 * @returns {Promise<{url: string, port: number, backend: string, registry: object, stop: () => Promise<void>}>}
 */
export async function startDemo(opts = {}) {
  const { port = 0, proxy = true } = opts;
  if (!existsSync(join(root, "pkg", "index.browser.js"))) {
    throw new Error("pkg/ is not built: run `npm run build` (npm start does it first)");
  }
  const registry = await startLocalRegistry({ backend: opts.registry ?? "auto", pkg: opts.pkg });
  // Whatever fails from here on (the seed's description, the listen), the registry and its token
  // server (and distribution's process) stop before the error goes up: nothing is left running.
  try {
    return await serveDemo(registry, { port, proxy });
  } catch (err) {
    await registry.stop().catch(() => {});
    throw err;
  }
}

/** The demo server on `port` for the started `registry`; its `stop()` stops both. */
async function serveDemo(registry, { port, proxy }) {
  const seed = seedDescription();
  const examples = [REPOSITORIES.alpine, REPOSITORIES.app, REPOSITORIES.secret];
  const server = createServer();
  let origin = "";
  let hosts = new Set();

  server.on("request", (req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end(`internal error: ${err.message}`);
    });
  });

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    if (url.pathname.startsWith("/proxy/")) {
      if (!proxy) return text(res, 404, "the dev proxy is off (started with --no-proxy)");
      return forward(req, res, url);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return text(res, 405, "method not allowed", { allow: "GET, HEAD" });
    if (url.pathname === "/config.json") return json(res, config());
    const [base, rel] = url.pathname.startsWith("/pkg/")
      ? [join(root, "pkg"), url.pathname.slice("/pkg/".length)]
      : [join(root, "www"), url.pathname === "/" ? "index.html" : url.pathname.slice(1)];
    let file;
    try {
      file = normalize(join(base, decodeURIComponent(rel)));
    } catch {
      return text(res, 400, "bad path");
    }
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) return text(res, 404, "not found");
    res.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  }

  /** What the page needs to know. The passwords are the fixture's test-only ones. */
  function config() {
    return {
      registry: registry.corsHost, // with CORS (distribution: its CORS front; builtin: its CORS listener)
      registryNoCors: registry.host, // without CORS: a page cannot read its 401s (the package's CORS hint shows)
      realm: registry.realm,
      service: registry.service,
      images: Object.fromEntries(examples.map((name) => [name, [...seed.repositories.find((r) => r.name === name).tags]])),
      publicPrefix: "library/",
      users: Object.values(TEST_USERS).map((u) => ({ ...u })),
      proxy,
      backend: registry.backend, // "builtin" | "distribution"
      seed, // tests/fixtures/seed.mjs seedDescription(): repositories, tag counts, platforms, special repositories
      rateLimited: RATE_LIMIT.repository,
    };
  }

  /** The dev proxy: /proxy/<host>/<path>?<query> → <scheme>://<host>/<path>?<query>. */
  function forward(req, res, url) {
    if (!hosts.has(req.headers.host ?? "")) return text(res, 403, "dev proxy: wrong Host header");
    const self = `http://${req.headers.host}`;
    if (req.headers.origin && req.headers.origin !== self) return text(res, 403, "dev proxy: cross-origin requests are refused");
    if (!["GET", "HEAD", "POST"].includes(req.method)) return text(res, 405, "dev proxy: GET, HEAD and POST only", { allow: "GET, HEAD, POST" });
    const rest = url.pathname.slice("/proxy/".length);
    const slash = rest.indexOf("/");
    const host = slash < 0 ? rest : rest.slice(0, slash);
    const path = (slash < 0 ? "/" : rest.slice(slash)) + url.search;
    if (!PROXY_HOST.test(host)) return text(res, 400, `dev proxy: not a host: ${JSON.stringify(host)}`);
    if (hosts.has(host)) return text(res, 400, "dev proxy: refusing to proxy to itself");
    const secure = !isLoopbackHost(host);
    const headers = { host };
    for (const name of PROXY_REQUEST_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    const target = `${secure ? "https" : "http"}://${host}${path}`;
    const upstream = (secure ? httpsRequest : httpRequest)(target, { method: req.method, headers, timeout: PROXY_TIMEOUT_MS }, (up) => {
      const out = {};
      for (const [name, value] of Object.entries(up.headers)) {
        if (PROXY_DROP_RESPONSE.test(name)) continue;
        if (name === "www-authenticate") out[name] = [value].flat().map((v) => proxyRealm(v, target, self));
        else if (name === "location") out[name] = proxyUrl(value, target, self);
        else out[name] = value;
      }
      out["cache-control"] ??= "no-store";
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.on("timeout", () => upstream.destroy(new Error(`no answer within ${PROXY_TIMEOUT_MS / 1000} s`)));
    upstream.on("error", (err) => {
      if (!res.headersSent) text(res, 502, `dev proxy: ${host}: ${err.message}`);
      else res.destroy(err);
    });
    req.pipe(upstream);
  }

  /** A URL (absolute, or relative to the upstream `base`) → the same resource through the dev proxy at `self`. */
  function proxyUrl(href, base, self) {
    let u;
    try {
      u = new URL(href, base);
    } catch {
      return href;
    }
    return u.protocol === "http:" || u.protocol === "https:" ? `${self}/proxy/${u.host}${u.pathname}${u.search}` : href;
  }

  /** Rewrites every quoted `realm="…"` so the token request goes through the proxy as well. */
  function proxyRealm(header, base, self) {
    return header.replace(/(realm\s*=\s*")([^"]+)(")/gi, (whole, a, href, b) => (/^(https?:\/\/|\/)/i.test(href) ? a + proxyUrl(href, base, self) + b : whole));
  }

  try {
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    if (err.code === "EADDRINUSE") err.message = `port ${port} on 127.0.0.1 is in use; pick another with --port or PORT`;
    throw err;
  }
  const actualPort = server.address().port;
  origin = `http://127.0.0.1:${actualPort}`;
  hosts = new Set([`127.0.0.1:${actualPort}`, `localhost:${actualPort}`]);

  let stopped = null;
  const stop = () => {
    stopped ??= closeServer(server).then(() => registry.stop());
    return stopped;
  };
  return { url: `${origin}/`, port: actualPort, backend: registry.backend, registry, stop };
}

function text(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(body);
}

function json(res, value) {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(value));
}
