// The `npm start` server without a browser: static files and config (scripts/demo.mjs), the dev
// proxy route against loopback targets only (the tests never use the internet), and the CLI
// (scripts/start.mjs): --help, port errors, PORT, the printed URL, Ctrl-C stopping everything.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isLoopbackHost, startDemo } from "../../scripts/demo.mjs";
import { root } from "../js/support/package.mjs";

const START = join(root, "scripts", "start.mjs");

/** A raw HTTP request, for the headers fetch will not let us set (Host, Origin). */
function raw(url, { method = "GET", headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { body += c; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("demo server", () => {
  let demo;
  let origin;
  let upstream; // a loopback "registry" that answers with a relative realm and a redirect
  const upstreamSeen = [];

  before(async () => {
    demo = await startDemo({ port: 0 });
    origin = demo.url.replace(/\/$/, "");
    upstream = createServer((req, res) => {
      upstreamSeen.push({ url: req.url, headers: req.headers });
      if (req.url === "/v2/") {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="/auth/token",service="up", Basic realm="not a url"', "Set-Cookie": "a=b" });
        return res.end();
      }
      if (req.url.startsWith("/moved")) {
        res.writeHead(307, { Location: `http://127.0.0.1:${upstream.address().port}/elsewhere?x=1` });
        return res.end();
      }
      res.writeHead(200, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    await demo?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  test("serves the page, its modules, the package (wasm as application/wasm) and config.json", async () => {
    const page = await fetch(demo.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /^text\/html/);
    assert.match(await page.text(), /<script type="module" src="app.js">/);
    for (const [path, type] of [["/app.js", /^text\/javascript/], ["/format.js", /^text\/javascript/], ["/style.css", /^text\/css/],
      ["/pkg/index.browser.js", /^text\/javascript/], ["/pkg/registry_token_bg.wasm", /^application\/wasm$/]]) {
      const res = await fetch(`${origin}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type"), type, path);
      await res.arrayBuffer();
    }
    const config = await (await fetch(`${origin}/config.json`)).json();
    assert.equal(config.registry, demo.registry.corsHost);
    assert.equal(config.registryNoCors, demo.registry.host);
    assert.deepEqual(Object.keys(config.images).sort(), ["library/alpine", "team/app", "team/secret"]);
    assert.equal(config.proxy, true);
  });

  test("no path escapes www/ or pkg/; only GET and HEAD", async () => {
    for (const path of ["/..%2fpackage.json", "/pkg/..%2f..%2fpackage.json", "/%2e%2e/scripts/demo.mjs", "/nope.html"]) {
      assert.equal((await raw(`${origin}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(demo.url, { method: "POST", body: "x" })).status, 405);
  });

  test("the seeded local registry is up behind the CORS proxy", async () => {
    const res = await fetch(`http://${demo.registry.corsHost}/v2/`, { headers: { Origin: origin } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), origin);
    assert.match(res.headers.get("www-authenticate"), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
  });

  test("dev proxy: /proxy/<host>/… forwards to a loopback registry and rewrites its realm; the whole token dance works through it", async () => {
    const base = `${origin}/proxy/${demo.registry.host}`;
    const ping = await fetch(`${base}/v2/`);
    assert.equal(ping.status, 401);
    const realm = /realm="([^"]+)"/.exec(ping.headers.get("www-authenticate"))[1];
    assert.equal(realm, `${origin}/proxy/${new URL(demo.registry.realm).host}/token`);
    const tokenRes = await fetch(`${realm}?service=${demo.registry.service}&scope=repository:library/alpine:pull`);
    assert.equal(tokenRes.status, 200);
    const { token } = await tokenRes.json();
    const tags = await fetch(`${base}/v2/library/alpine/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(tags.status, 200);
    assert.deepEqual((await tags.json()).tags.sort(), ["3.19", "latest"]);
  });

  test("dev proxy: relative realms and redirects come back through it; cookies and foreign CORS headers do not", async () => {
    const up = `127.0.0.1:${upstream.address().port}`;
    const ping = await raw(`${origin}/proxy/${up}/v2/`, { headers: { Cookie: "secret=1" } });
    assert.equal(ping.status, 401);
    assert.equal(ping.headers["www-authenticate"], `Bearer realm="${origin}/proxy/${up}/auth/token",service="up", Basic realm="not a url"`);
    assert.equal(ping.headers["set-cookie"], undefined);
    assert.equal(upstreamSeen.at(-1).headers.cookie, undefined);
    assert.equal(upstreamSeen.at(-1).headers.host, up);

    const moved = await raw(`${origin}/proxy/${up}/moved`);
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.location, `${origin}/proxy/${up}/elsewhere?x=1`);

    const ok = await raw(`${origin}/proxy/${up}/v2/x/tags/list?n=5`);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { path: "/v2/x/tags/list?n=5" });
    assert.equal(ok.headers["access-control-allow-origin"], undefined);
  });

  test("dev proxy refuses: other origins, other Host headers (DNS rebinding), PUT, bad hosts, itself; unreachable → 502", async () => {
    const up = `127.0.0.1:${upstream.address().port}`;
    const seen = upstreamSeen.length;
    assert.equal((await raw(`${origin}/proxy/${up}/v2/`, { headers: { Origin: "https://evil.example" } })).status, 403);
    assert.equal((await raw(`${origin}/proxy/${up}/v2/`, { headers: { Host: "evil.example" } })).status, 403);
    assert.equal((await raw(`${origin}/proxy/${up}/v2/`, { method: "PUT" })).status, 405);
    assert.equal((await raw(`${origin}/proxy/user@${up}/v2/`)).status, 400);
    assert.equal((await raw(`${origin}/proxy/${new URL(origin).host}/config.json`)).status, 400);
    assert.equal(upstreamSeen.length, seen, "nothing reached the upstream");
    // Same-origin POST (the token form) passes the Origin check.
    assert.equal((await raw(`${origin}/proxy/${up}/v2/`, { headers: { Origin: origin } })).status, 401);
    const down = await raw(`${origin}/proxy/127.0.0.1:9/v2/`);
    assert.equal(down.status, 502);
    assert.match(down.body, /^dev proxy: 127\.0\.0\.1:9: /);
  });

  test("plain http only for loopback hosts, as in the library", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1:1", "127.1.2.3", "[::1]:5000"]) assert.ok(isLoopbackHost(h), h);
    for (const h of ["registry-1.docker.io", "ghcr.io:443", "128.0.0.1", "localhost.example.com", "[::2]"]) assert.ok(!isLoopbackHost(h), h);
  });
});

describe("scripts/start.mjs (what npm start runs after the build)", () => {
  test("--help prints the usage and the proxy documentation", () => {
    const r = spawnSync(process.execPath, [START, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: npm start/);
    assert.match(r.stdout, /--port N/);
    assert.match(r.stdout, /\/proxy\/<host>/);
  });

  test("a bad port or option is refused with exit code 2", () => {
    const a = spawnSync(process.execPath, [START, "--port", "http"], { encoding: "utf8" });
    assert.equal(a.status, 2);
    assert.match(a.stderr, /not a port: "http" \(from --port\)/);
    const b = spawnSync(process.execPath, [START], { encoding: "utf8", env: { ...process.env, PORT: "99999" } });
    assert.equal(b.status, 2);
    assert.match(b.stderr, /from PORT/);
    const c = spawnSync(process.execPath, [START, "--nope"], { encoding: "utf8" });
    assert.equal(c.status, 2);
  });

  test("PORT=0 picks a port and prints it; --no-proxy turns the route off; Ctrl-C stops the registry processes too", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [START, "--no-proxy"], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stderr.on("data", (c) => { out += c; });
    const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
    let registries = [];
    try {
      const url = await new Promise((resolve, reject) => {
        child.stdout.on("data", (c) => {
          out += c;
          const m = /demo on (http:\/\/127\.0\.0\.1:\d+\/)[^]*Ctrl-C to stop/.exec(out);
          if (m) resolve(m[1]);
        });
        exited.then(() => reject(new Error(`start.mjs exited early:\n${out}`)));
      });
      assert.equal((await fetch(url)).status, 200);
      assert.equal((await fetch(`${url}config.json`).then((r) => r.json())).proxy, false);
      assert.equal((await fetch(`${url}proxy/127.0.0.1:9/v2/`)).status, 404);

      const children = childPids(child.pid);
      registries = children.filter((pid) => /docker-registry|registry/.test(cmdline(pid)));
      assert.ok(registries.length >= 1, `registry processes under start.mjs: ${children.map(cmdline).join(" | ")}`);

      child.kill("SIGINT");
      const { code, signal } = await exited;
      assert.ok(code === 0 || code === 130, `exit ${code} ${signal}\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
      for (const pid of registries) assert.ok(!existsSync(`/proc/${pid}`) || /zombie|\bZ\b/.test(procState(pid)), `registry ${pid} still running`);
      await assert.rejects(fetch(url), "the demo server is gone");
    } finally {
      // On a failed assertion: still stop it the way a user would, so the fixture cleans up.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        for (const pid of registries) {
          try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        }
      }
    }
  });
});

function childPids(pid) {
  const out = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function procState(pid) {
  try {
    return /^State:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "";
  } catch {
    return "";
  }
}
