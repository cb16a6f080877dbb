// Issue 7, "Hostile and broken servers": each case rejects with the right code before the call's
// timeout, and the same client then gets a token from the same registry (nothing poisoned, no
// flight left behind). Servers are on 127.0.0.1; raw-socket cases use tests/hardening/hostile.mjs.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { rejectsWith } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";
import { challenge, json, raw, rawResponse, startHostile, TOKEN_PATH } from "./hostile.mjs";

const { RegistryClient } = await importPackage();

/** Generous for loopback, short enough that a TIMEOUT case costs little. */
const TIMEOUT_MS = 1500;
const MiB = 1024 * 1024;

let h;
before(async () => {
  h = await startHostile();
});
after(async () => {
  await h.close();
});
beforeEach(() => h.good());

const image = () => `${h.host}/team/app`;

/**
 * Runs `getToken` with a short timeout against the hostile setup, expects `code` (and `status`),
 * then restores a good registry and checks the same client gets a token for the same image.
 */
async function expectThenRecover(code, { status, message, options = {}, client = new RegistryClient(), maxMessage = 2048 } = {}) {
  const err = await rejectsWith(client.getToken(image(), { timeoutMs: TIMEOUT_MS, ...options }), code, { status, message });
  assert.ok(err.message.length <= maxMessage, `the ${code} message is ${err.message.length} characters`);
  h.good();
  const token = await client.getToken(image(), { timeoutMs: 5000 });
  assert.match(token, /^good-token-/, "the client works for the next call");
  assert.equal(client.stats().inFlight, 0, "no flight left behind");
  return err;
}

describe("token bodies that are too large or never end", () => {
  it("a 50 MB token body → BAD_TOKEN_RESPONSE past the 128 KiB cap, without reading it all", async () => {
    h.token = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(50 * MiB) });
      const head = Buffer.from('{"token":"');
      res.write(head);
      return h.pump(res, Buffer.alloc(64 * 1024, "a"), 50 * MiB - head.length);
    };
    await expectThenRecover("BAD_TOKEN_RESPONSE", { status: 200, message: /larger than 131072 bytes/ });
    assert.ok(h.stream.written < 25 * MiB, `the server wrote ${(h.stream.written / MiB).toFixed(1)} MiB before the client hung up`);
  });

  it("a body that never ends, fast → BAD_TOKEN_RESPONSE at the cap, connection dropped", async () => {
    h.token = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" }); // chunked, no length
      return h.pump(res, Buffer.alloc(16 * 1024, " "));
    };
    await expectThenRecover("BAD_TOKEN_RESPONSE", { status: 200 });
    assert.ok(h.stream.clientGone, "the client closed the endless body");
  });

  it("a body that never ends, trickling → TIMEOUT", async () => {
    h.token = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"token":"');
      const t = h.every(50, () => (res.destroyed ? h.stop(t) : res.write("a")));
    };
    await expectThenRecover("TIMEOUT", { message: /timeoutMs \(1500 ms\)/ });
  });

  it("an endless body on a /v2/ 500 → NO_CHALLENGE with the status, read only up to the cap", async () => {
    h.ping = (_req, res) => {
      res.writeHead(500, { "Content-Type": "text/plain" });
      return h.pump(res, Buffer.alloc(16 * 1024, "e"));
    };
    await expectThenRecover("NO_CHALLENGE", { status: 500 });
    assert.ok(h.stream.clientGone);
  });

  it("an endless body on a /v2/ 200 is not read: the registry needs no auth → \"\"", async () => {
    h.ping = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      return h.pump(res, Buffer.alloc(16 * 1024, " "));
    };
    assert.equal(await new RegistryClient().getToken(image(), { timeoutMs: TIMEOUT_MS }), "");
  });

  it("the connection closes mid-body → NETWORK", async () => {
    h.token = (req) => {
      raw(req, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"token":"trunc');
      setTimeout(() => req.socket.destroy(), 20);
    };
    await expectThenRecover("NETWORK");
  });
});

describe("headers that never end or are huge", () => {
  it("headers that never end, trickling → TIMEOUT", async () => {
    h.token = (req) => {
      raw(req, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
      let n = 0;
      const t = h.every(50, () => (req.socket.destroyed ? h.stop(t) : raw(req, `X-Pad-${n++}: ${"x".repeat(20)}\r\n`)));
    };
    await expectThenRecover("TIMEOUT");
  });

  it("headers that never end, flooding → NETWORK (the runtime's header limit), not a hang", async () => {
    h.token = (req) => {
      raw(req, "HTTP/1.1 200 OK\r\n");
      const line = Buffer.from(`X-Pad: ${"x".repeat(1000)}\r\n`);
      const t = h.every(1, () => {
        if (req.socket.destroyed) return h.stop(t);
        for (let i = 0; i < 64; i++) raw(req, line);
      });
    };
    await expectThenRecover("NETWORK");
  });

  it("a 1 MB WWW-Authenticate on the wire → NETWORK (over Node's 16 KiB header limit)", async () => {
    h.ping = (req) => rawResponse(req, `HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer realm="${"r".repeat(MiB)}"\r\n\r\n`);
    await expectThenRecover("NETWORK");
  });

  it("a 1 MB WWW-Authenticate through a fetch that allows it → parsed, or INVALID_CHALLENGE with a short message", async () => {
    // Runtimes without Node's header limit (workerd, browsers behind proxies) can hand it over.
    const huge = (value) => async (url, init) => (new URL(url).pathname === "/v2/" ? new Response("", { status: 401, headers: { "WWW-Authenticate": value } }) : fetch(url, init));
    // Garbage: refused, quoting only a little of it.
    const err = await rejectsWith(new RegistryClient().getToken(image(), { fetch: huge(`Bearer ${"x ".repeat(MiB / 2)}`), timeoutMs: 5000 }), "INVALID_CHALLENGE");
    assert.ok(err.message.length < 1000, `message is ${err.message.length} characters`);
    // A usable challenge padded to 1 MB: works.
    const padded = `Bearer realm="${h.url}${TOKEN_PATH}",service="hostile",pad="${"p".repeat(MiB)}"`;
    assert.match(await new RegistryClient().getToken(image(), { fetch: huge(padded), timeoutMs: 5000 }), /^good-token-/);
    // 1 MB of unknown schemes.
    await rejectsWith(new RegistryClient().getToken(image(), { fetch: huge("A,".repeat(MiB / 2)), timeoutMs: 5000 }), "UNSUPPORTED_CHALLENGE");
  });

  it(
    "1 MB of unknown schemes → UNSUPPORTED_CHALLENGE with a bounded message",
    async () => {
      const huge = async (url, init) => (new URL(url).pathname === "/v2/" ? new Response("", { status: 401, headers: { "WWW-Authenticate": "A,".repeat(MiB / 2) } }) : fetch(url, init));
      const err = await rejectsWith(new RegistryClient().getToken(image(), { fetch: huge, timeoutMs: 5000 }), "UNSUPPORTED_CHALLENGE");
      assert.ok(err.message.length <= 2048, `message is ${err.message.length} characters`);
    },
  );
});

it(
  "a 1 MB realm → INSECURE_REALM / TOKEN_ENDPOINT messages stay short",
  async () => {
    const ping = (realm) => async (url, init) =>
      new URL(url).pathname === "/v2/" ? new Response("", { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${realm}"` } }) : new Response("", { status: 500 });
    const huge = "h".repeat(MiB);
    const insecure = await rejectsWith(
      new RegistryClient().getToken(image(), { fetch: ping(`http://${huge}.example/t`), username: "u", password: "p4ssword", timeoutMs: 5000 }),
      "INSECURE_REALM",
    );
    assert.ok(insecure.message.length <= 2048, `INSECURE_REALM message is ${insecure.message.length} characters`);
    const endpoint = await rejectsWith(new RegistryClient().getToken(image(), { fetch: ping(`https://auth.example/${huge}`), timeoutMs: 5000 }), "TOKEN_ENDPOINT");
    assert.ok(endpoint.message.length <= 2048, `TOKEN_ENDPOINT message is ${endpoint.message.length} characters`);
  },
);

describe("many challenges, odd bytes", () => {
  it("1,000 challenges in one header: the Bearer among them is used", async () => {
    const others = Array.from({ length: 999 }, (_, i) => `X${i} a=b`).join(", ");
    h.ping = challenge(`${others}, Bearer realm="${h.url}${TOKEN_PATH}",service="hostile"`);
    assert.match(await new RegistryClient().getToken(image(), { timeoutMs: TIMEOUT_MS }), /^good-token-/);
  });

  it("1,000 challenges and no Bearer or Basic → UNSUPPORTED_CHALLENGE, then recovers", async () => {
    h.ping = challenge(Array.from({ length: 1000 }, (_, i) => `X${i} a=b`).join(", "));
    await expectThenRecover("UNSUPPORTED_CHALLENGE");
  });

  it("500 challenge header lines (fetch joins them) → the Bearer is used", async () => {
    h.ping = challenge([...Array.from({ length: 499 }, (_, i) => `Y${i}`), `Bearer realm="${h.url}${TOKEN_PATH}"`]);
    assert.match(await new RegistryClient().getToken(image(), { timeoutMs: TIMEOUT_MS }), /^good-token-/);
  });

  it("non-UTF-8 bytes in WWW-Authenticate (a service of 0xFF 0xFE) → still a token", async () => {
    h.ping = (req) =>
      rawResponse(
        req,
        Buffer.concat([
          Buffer.from(`HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer realm="${h.url}${TOKEN_PATH}",service="`),
          Buffer.from([0xff, 0xfe, 0x80]),
          Buffer.from('"\r\n\r\n'),
        ]),
      );
    assert.match(await new RegistryClient().getToken(image(), { timeoutMs: TIMEOUT_MS }), /^good-token-/);
  });

  it("non-UTF-8 bytes in an unquoted challenge parameter → INVALID_CHALLENGE, then recovers", async () => {
    h.ping = (req) =>
      rawResponse(req, Buffer.concat([Buffer.from("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer realm="), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from("\r\n\r\n")]));
    await expectThenRecover("INVALID_CHALLENGE");
  });

  it("non-UTF-8 bytes in the token body → BAD_TOKEN_RESPONSE", async () => {
    h.token = json(Buffer.concat([Buffer.from('{"token":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]));
    await expectThenRecover("BAD_TOKEN_RESPONSE", { status: 200 });
  });

  it("non-UTF-8 bytes in an error body → TOKEN_ENDPOINT with the status", async () => {
    h.token = json(Buffer.from([0xff, 0xfe, 0x00, 0x80]), 500);
    await expectThenRecover("TOKEN_ENDPOINT", { status: 500 });
  });
});

describe("redirects and realms", () => {
  it("a redirect loop on the token endpoint → NETWORK, not a hang", async () => {
    h.token = (_req, res) => {
      res.writeHead(302, { Location: TOKEN_PATH + "?again" });
      res.end();
    };
    await expectThenRecover("NETWORK");
    assert.ok(h.log.length < 40);
  });

  it("a redirect loop on /v2/ → NETWORK", async () => {
    h.ping = (_req, res) => {
      res.writeHead(301, { Location: "/v2/" });
      res.end();
    };
    await expectThenRecover("NETWORK");
  });

  it("a password POST answered by a redirect loop falls back to GET once, then NETWORK", async () => {
    let posts = 0;
    h.token = (req, res) => {
      if (req.method === "POST") posts++;
      res.writeHead(307, { Location: TOKEN_PATH });
      res.end();
    };
    await expectThenRecover("NETWORK", { options: { username: "u", password: "hostile-pass", offline: true } });
    assert.equal(posts, 1, "the password form went out once");
  });

  it("a GET with Basic answered by a redirect loop: 1 + 10 hops, the 11th not requested, then NETWORK", async () => {
    let hops = 0;
    h.token = (req, res) => {
      hops++;
      assert.match(req.headers.authorization ?? "", /^Basic /, "same origin: the credential follows");
      res.writeHead(302, { Location: `${TOKEN_PATH}?hop=${hops}` });
      res.end();
    };
    await rejectsWith(new RegistryClient().getToken(image(), { username: "u", password: "hostile-pass", timeoutMs: TIMEOUT_MS }), "NETWORK", {
      message: /more than 10 times/,
    });
    assert.equal(hops, 11);
  });

  it("a token answer that came over http after an https realm → INSECURE_REALM", async () => {
    // What fetch reports when an https token endpoint redirected to plain http: the final
    // Response's url. Emulated with a fetch of our own, so no TLS setup and nothing leaves loopback.
    const seen = [];
    const fetchLike = async (url) => {
      seen.push(url);
      if (url.endsWith("/v2/")) return new Response("", { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="https://auth.example.test/token",service="s"' } });
      const r = new Response('{"token":"from-plain-http"}', { status: 200, headers: { "Content-Type": "application/json" } });
      return { status: r.status, headers: r.headers, url: "http://auth.example.test/token", body: r.body, arrayBuffer: () => r.arrayBuffer() };
    };
    await rejectsWith(new RegistryClient().getToken("registry.example.test/a/b", { fetch: fetchLike, timeoutMs: TIMEOUT_MS }), "INSECURE_REALM", {
      message: /redirected from https to plain http/,
    });
    assert.equal(seen.length, 2);
  });

  for (const realm of ["javascript:alert(1)", "file:///etc/passwd", "data:application/json,{\"token\":\"x\"}", "ftp://127.0.0.1/token", "JaVaScRiPt:alert(1)"]) {
    it(`a realm of ${realm.split(/[:,]/)[0]}: → INSECURE_REALM, nothing requested from it`, async () => {
      h.ping = challenge(`Bearer realm="${realm.replaceAll('"', '\\"')}",service="s"`);
      await expectThenRecover("INSECURE_REALM");
    });
  }
});

describe("token responses with the wrong types", () => {
  for (const [what, body] of [
    ["a number", { token: 12345 }],
    ["an object", { token: { value: "x" } }],
    ["an array", { access_token: ["x"] }],
    ["null and false", { token: null, access_token: false }],
    ["empty strings", { token: "", access_token: "" }],
    ["a control character", { token: "a\r\nInjected: 1" }],
  ]) {
    it(`a token that is ${what} → BAD_TOKEN_RESPONSE`, async () => {
      h.token = json(body);
      await expectThenRecover("BAD_TOKEN_RESPONSE", { status: 200 });
    });
  }

  for (const [what, expiresIn, seconds] of [
    ["negative", -300, 60],
    ["zero", 0, 60],
    ["huge", 1e308, 365 * 24 * 3600],
    ["past 2^64", 1e30, 365 * 24 * 3600],
    ["a numeric string", "300", 300],
    ["a word", "soon", 60],
    ["an object", { s: 300 }, 60],
  ]) {
    it(`expires_in ${what} → a token whose expiry is about ${seconds} s (never below 60 s, capped at a year)`, async () => {
      h.token = json(`{"token":"odd-expiry","expires_in":${typeof expiresIn === "number" ? String(expiresIn) : JSON.stringify(expiresIn)}}`);
      const t0 = Date.now();
      const auth = await new RegistryClient().authorize(image(), { timeoutMs: TIMEOUT_MS });
      const t1 = Date.now();
      assert.equal(auth.token, "odd-expiry");
      assert.ok(Number.isSafeInteger(auth.expiresAt), `expiresAt ${auth.expiresAt}`);
      assert.ok(auth.expiresAt >= t0 + seconds * 1000 - 1000 && auth.expiresAt <= t1 + seconds * 1000 + 1000, `expiresAt is ${(auth.expiresAt - t0) / 1000} s away`);
    });
  }
});

describe("rate limiting", () => {
  it("429 with Retry-After on the token endpoint → TOKEN_ENDPOINT, status 429, retryAfter, one request", async () => {
    h.token = json({ errors: [{ code: "TOOMANYREQUESTS", message: "too many requests" }] }, 429, { "Retry-After": "120" });
    const err = await expectThenRecover("TOKEN_ENDPOINT", { status: 429, message: /Retry-After: 120/ });
    assert.equal(err.retryAfter, "120");
  });

  it("429 is not retried: exactly one token request", async () => {
    h.token = json("slow down", 429, { "Retry-After": "3600" });
    await rejectsWith(new RegistryClient().getToken(image(), { timeoutMs: TIMEOUT_MS }), "TOKEN_ENDPOINT", { status: 429 });
    assert.equal(h.log.filter((e) => e.path === TOKEN_PATH).length, 1);
  });

  it("429 on /v2/ → NO_CHALLENGE with status and retryAfter (an HTTP date kept verbatim)", async () => {
    const date = "Wed, 21 Oct 2015 07:28:00 GMT";
    h.ping = json({ errors: [{ code: "TOOMANYREQUESTS", message: "too many requests" }] }, 429, { "Retry-After": date });
    const err = await expectThenRecover("NO_CHALLENGE", { status: 429 });
    assert.equal(err.retryAfter, date);
  });

  it("a 10 kB Retry-After is clipped in the error", async () => {
    h.token = json("{}", 429, { "Retry-After": "9".repeat(10_000) });
    const err = await expectThenRecover("TOKEN_ENDPOINT", { status: 429 });
    assert.ok(err.retryAfter.length <= 400, `retryAfter is ${err.retryAfter.length} characters`);
  });
});

describe("a real https → http redirect (TLS on loopback, a child process that trusts the test CA)", () => {
  it("the token answer arrives over plain http → INSECURE_REALM, and the Basic header was not carried over", async (t) => {
    const { execFileSync, spawn } = await import("node:child_process");
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createServer: createHttpsServer } = await import("node:https");
    const { createServer: createHttpServer } = await import("node:http");
    const { installPackedPackage } = await import("../js/support/package.mjs");

    const dir = mkdtempSync(join(tmpdir(), "rt-tls-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "pipe" });
    } catch (e) {
      // .ci/run installs openssl; under CI its absence is a failure, locally a reasoned skip.
      if (process.env.CI === "true") throw new Error(`openssl CLI unavailable (apt-get install openssl): ${e.message}`);
      t.skip(`openssl CLI unavailable (apt-get install openssl): ${e.message}`);
      return;
    }
    // Plain http: where the https token endpoint redirects to. Records what arrives.
    const plainLog = [];
    const plain = createHttpServer((req, res) => {
      plainLog.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"token":"delivered-over-plain-http"}');
    });
    await new Promise((r) => plain.listen(0, "127.0.0.1", r));
    const plainPort = plain.address().port;
    const tls = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
      if (req.url === "/v2/") {
        res.writeHead(401, { "WWW-Authenticate": `Bearer realm="https://127.0.0.1:${tls.address().port}/token",service="tls"` });
        return res.end();
      }
      res.writeHead(302, { Location: `http://127.0.0.1:${plainPort}/token` });
      res.end();
    });
    await new Promise((r) => tls.listen(0, "127.0.0.1", r));
    t.after(async () => {
      tls.closeAllConnections();
      plain.closeAllConnections();
      await Promise.all([new Promise((r) => tls.close(r)), new Promise((r) => plain.close(r))]);
    });

    const { consumer } = installPackedPackage();
    const base = `https://127.0.0.1:${tls.address().port}`;
    const script = `
      const { RegistryClient } = await import(${JSON.stringify(join(consumer, "load.mjs"))});
      const out = {};
      for (const [name, creds] of [["anonymous", {}], ["password", { username: "u", password: "tls-secret" }]]) {
        try { await new RegistryClient().getToken("127.0.0.1/team/app", { registryUrl: ${JSON.stringify(base)}, timeoutMs: 5000, ...creds }); out[name] = "resolved"; }
        catch (e) { out[name] = { code: e.code, message: e.message }; }
      }
      process.stdout.write(JSON.stringify(out));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, "cert.pem") }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    for (const name of ["anonymous", "password"]) {
      assert.equal(out[name].code, "INSECURE_REALM", `${name}: ${JSON.stringify(out[name])}`);
      assert.match(out[name].message, /redirected from https to plain http/);
    }
    assert.ok(plainLog.length >= 1, "the redirect was followed to plain http");
    assert.ok(plainLog.every((e) => e.authorization === null), "Basic credentials crossed from https to http");
  });
});
