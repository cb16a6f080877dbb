// The `npm start` server without a browser: static files and config (scripts/demo.mjs), the dev
// proxy route against loopback targets only (the tests never use the internet), and the CLI
// (scripts/start.mjs): --help, port errors, PORT, the printed URL, Ctrl-C stopping everything, the
// registry it chooses (distribution when installed, else the built-in one; --registry=…) and the
// one line that names it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants as fsConstants, existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, request } from "node:http";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isLoopbackHost, startDemo } from "../../scripts/demo.mjs";
import { findRegistryBinary } from "../fixtures/distribution.mjs";
import { MANY_TAG_COUNT, RATE_LIMIT, REPOSITORIES, seedDescription } from "../fixtures/seed.mjs";
import { root } from "../js/support/package.mjs";

const START = join(root, "scripts", "start.mjs");

/** The environment of a machine without distribution: PATH without any docker-registry, no REGISTRY_BIN. */
function envWithoutDistribution() {
  const { REGISTRY_BIN: _unset, ...env } = process.env;
  env.PATH = (process.env.PATH ?? "").split(delimiter).filter((dir) => {
    try {
      accessSync(join(dir, "docker-registry"), fsConstants.X_OK);
      return false;
    } catch {
      return true;
    }
  }).join(delimiter);
  assert.equal(findRegistryBinary(env), null, "the test environment hides distribution");
  return env;
}

/**
 * Spawns start.mjs and waits for "demo on <url> … Ctrl-C to stop". Returns { child, url, output(),
 * exited, stop() } (stop: SIGINT as a user would, then SIGKILL after 5 s).
 */
async function startCli(args, env = process.env) {
  const child = spawn(process.execPath, [START, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr.on("data", (c) => { out += c; });
  const exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (c) => {
      out += c;
      const m = /demo on (http:\/\/127\.0\.0\.1:\d+\/)[^]*Ctrl-C to stop/.exec(out);
      if (m) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`start.mjs exited early:\n${out}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return exited;
  };
  return { child, url, output: () => out, exited, stop };
}

/** The lines start.mjs printed that name a registry back end. */
const backendLines = (out) => out.split("\n").filter((l) => /registry: (builtin|distribution)\b/.test(l));

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
    assert.deepEqual(config.images["library/alpine"], ["3.19", "latest"]);
    assert.equal(config.proxy, true);
    assert.equal(config.backend, demo.backend);
    assert.equal(config.backend, findRegistryBinary() ? "distribution" : "builtin");
    assert.deepEqual(config.seed, JSON.parse(JSON.stringify(seedDescription())));
    assert.equal(config.seed.repositories.find((r) => r.name === REPOSITORIES.many).tagCount, MANY_TAG_COUNT);
    assert.equal(config.rateLimited, RATE_LIMIT.repository);
    assert.deepEqual(config.users.map((u) => u.username), ["tester", "reader"]);
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
  test("--help prints the usage, the registry choice and the proxy documentation", () => {
    const r = spawnSync(process.execPath, [START, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: npm start/);
    assert.match(r.stdout, /--port N/);
    assert.match(r.stdout, /--registry=builtin\|distribution/);
    assert.match(r.stdout, /builtin: the built-in registry written in Node/);
    assert.match(r.stdout, /Default: distribution when installed, else builtin/);
    assert.match(r.stdout, /\/proxy\/<host>/);
  });

  test("--registry=distribution without distribution installed → exit 2 naming the Debian package and --registry=builtin; an unknown name → exit 2", () => {
    const r = spawnSync(process.execPath, [START, "--registry=distribution", "--port", "0"], { encoding: "utf8", env: envWithoutDistribution() });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /docker-registry/);
    assert.match(r.stderr, /apt-get install -y docker-registry/);
    assert.match(r.stderr, /--registry=builtin/);
    const bad = spawnSync(process.execPath, [START, "--registry=nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown registry "nope": use builtin or distribution/);
  });

  for (const [what, args, env] of [
    ["without docker-registry on PATH (REGISTRY_BIN unset) the builtin runs", ["--port", "0"], envWithoutDistribution],
    ["--registry=builtin chooses it explicitly", ["--registry=builtin", "--port", "0"], () => process.env],
  ]) {
    test(`${what}: one line names it with its URL and how to get distribution; config.json and the seeded registry answer`, { timeout: 90_000 }, async () => {
      const cli = await startCli(args, env());
      try {
        const lines = backendLines(cli.output());
        assert.equal(lines.length, 1, cli.output());
        const m = /registry: builtin \(Node, in-process\) on (http:\/\/127\.0\.0\.1:\d+) — for the real distribution 2\.8\.2: sudo apt-get install docker-registry/.exec(lines[0]);
        assert.ok(m, lines[0]);
        const config = await (await fetch(`${cli.url}config.json`)).json();
        assert.equal(config.backend, "builtin");
        assert.equal(`http://${config.registry}`, m[1]);
        assert.notEqual(config.registryNoCors, config.registry);
        const noCors = await fetch(`http://${config.registryNoCors}/v2/`, { headers: { Origin: cli.url.replace(/\/$/, "") } });
        assert.equal(noCors.status, 401);
        assert.equal(noCors.headers.get("access-control-allow-origin"), null, "registryNoCors has no CORS, as with distribution");
        assert.equal(config.rateLimited, RATE_LIMIT.repository);
        const ping = await fetch(`${m[1]}/v2/`, { headers: { Origin: cli.url.replace(/\/$/, "") } });
        assert.equal(ping.status, 401);
        assert.equal(ping.headers.get("access-control-allow-origin"), cli.url.replace(/\/$/, ""));
        const realm = /realm="([^"]+)"/.exec(ping.headers.get("www-authenticate"))[1];
        assert.equal(realm, config.realm);
        const { token } = await (await fetch(`${realm}?service=${config.service}&scope=registry:catalog:*`)).json();
        const catalog = await (await fetch(`${m[1]}/v2/_catalog`, { headers: { Authorization: `Bearer ${token}` } })).json();
        assert.deepEqual(catalog.repositories, Object.values(REPOSITORIES).sort());
        const { code } = await cli.stop();
        assert.ok(code === 0 || code === 130, `exit ${code}\n${cli.output()}`);
        await assert.rejects(fetch(`${m[1]}/v2/`), "the registry is gone with it");
      } finally {
        await cli.stop();
      }
    });
  }

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

  test("with distribution installed: PORT=0 picks a port and prints it; one line names distribution; --no-proxy turns the route off; Ctrl-C stops the registry processes too", { timeout: 90_000 }, async () => {
    assert.ok(findRegistryBinary(), "distribution is installed here (Debian package docker-registry)");
    const cli = await startCli(["--no-proxy"], { ...process.env, PORT: "0" });
    const { child, url, exited } = cli;
    const out = cli.output();
    let registries = [];
    try {
      const lines = backendLines(out);
      assert.equal(lines.length, 1, out);
      assert.match(lines[0], /registry: distribution 2\.8\.2 \(\S*docker-registry\) on http:\/\/127\.0\.0\.1:\d+ — for the built-in Node registry instead: npm start -- --registry=builtin/);
      assert.equal((await fetch(url)).status, 200);
      assert.equal((await fetch(`${url}config.json`).then((r) => r.json())).proxy, false);
      assert.equal((await fetch(`${url}proxy/127.0.0.1:9/v2/`)).status, 404);

      const children = childPids(child.pid);
      registries = children.filter((pid) => /docker-registry|registry/.test(cmdline(pid)));
      assert.ok(registries.length >= 1, `registry processes under start.mjs: ${children.map(cmdline).join(" | ")}`);

      child.kill("SIGINT");
      const { code, signal } = await exited;
      assert.ok(code === 0 || code === 130, `exit ${code} ${signal}\n${cli.output()}`);
      await new Promise((r) => setTimeout(r, 200));
      for (const pid of registries) assert.ok(!existsSync(`/proc/${pid}`) || /zombie|\bZ\b/.test(procState(pid)), `registry ${pid} still running`);
      await assert.rejects(fetch(url), "the demo server is gone");
    } finally {
      // On a failed assertion: still stop it the way a user would, so the fixture cleans up.
      if (child.exitCode === null && child.signalCode === null) {
        await cli.stop();
        for (const pid of registries) {
          try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        }
      }
    }
  });
});

describe("startDemo stops everything it started when a later step fails", () => {
  const backends = ["builtin", ...(findRegistryBinary() ? ["distribution"] : [])];
  /** Ports this process listens on (the kernel's view) and its live children: what a leak would leave behind. */
  const running = () => ({
    ports: listeningPorts(),
    children: childPids(process.pid).filter((pid) => existsSync(`/proc/${pid}`) && !/zombie|\bZ\b/.test(procState(pid))),
  });
  /** A package whose client cannot be made: seeding fails once the registry and its token server run. */
  const cannotPush = { RegistryClient: class { constructor() { throw new Error("injected: this package cannot push"); } } };

  for (const backend of backends) {
    test(`${backend}: seeding fails → startDemo rejects with that error and no server or registry process is left`, { timeout: 60_000 }, async () => {
      const before = running();
      await assert.rejects(startDemo({ port: 0, registry: backend, pkg: cannotPush }), /injected: this package cannot push/);
      assert.deepEqual(running(), before);
    });

    test(`${backend}: the demo's port is taken (a failure after the registry is up and seeded) → rejects; the registry is stopped`, { timeout: 90_000 }, async () => {
      const taken = createServer();
      await new Promise((r) => taken.listen(0, "127.0.0.1", r));
      try {
        const before = running();
        await assert.rejects(startDemo({ port: taken.address().port, registry: backend }), /port \d+ on 127\.0\.0\.1 is in use/);
        assert.deepEqual(running(), before);
      } finally {
        await new Promise((r) => taken.close(r));
      }
    });
  }
});

/** TCP ports in LISTEN state whose socket is one of this process's open files (/proc/net/tcp{,6}). */
function listeningPorts() {
  const inodes = new Set();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch { /* closed meanwhile */ }
  }
  const ports = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && inodes.has(f[9])) ports.push(Number.parseInt(f[1].split(":").at(-1), 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

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
