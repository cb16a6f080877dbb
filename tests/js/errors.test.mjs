// Issue 2, "Errors": every code the flow can produce, with `status`, the server's own words in
// the message, `cause`, no secret anywhere; TIMEOUT / ABORTED without poisoning the cache.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { closedPort, startEmulator } from "./support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, rejectsWith, sleep } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { RegistryClient } = await importPackage();

let reg; // generic Bearer registry: GET and POST 200
let hub; // Docker Hub: {"details": …} errors
before(async () => {
  reg = await startEmulator({ name: "reg" });
  hub = await startEmulator("dockerhub");
});
after(async () => {
  await Promise.all([reg.close(), hub.close()]);
});
beforeEach(() => [reg, hub].forEach((e) => e.restore()));

const ref = (e, path = "team/app") => `${e.host}/${path}`;
const creds = { username: "alice", password: PASSWORD };

describe("token endpoint errors", () => {
  it("401 with distribution errors → UNAUTHORIZED, status 401, the server's message", async () => {
    reg.set({ token: { methods: { GET: { status: 401 } }, errorMessage: "authentication required for team/app" } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "UNAUTHORIZED", { status: 401, message: /authentication required for team\/app/ });
  });

  it('403 with Docker Hub {"details":…} → UNAUTHORIZED, status 403, the details', async () => {
    hub.set({ token: { methods: { GET: { status: 403 } }, errorMessage: "access to the resource is denied by policy" } });
    await rejectsWith(new RegistryClient().getToken(ref(hub)), "UNAUTHORIZED", { status: 403, message: /denied by policy/ });
  });

  it("401 with a non-JSON body is still UNAUTHORIZED", async () => {
    reg.set({ token: { methods: { GET: { status: 401 } }, errorBody: "text", errorMessage: "Your Authorization Token has expired." } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "UNAUTHORIZED", { status: 401 });
  });

  it("500 → TOKEN_ENDPOINT with status and the server's message", async () => {
    reg.set({ token: { methods: { GET: { status: 500 } }, errorMessage: "database on fire" } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "TOKEN_ENDPOINT", { status: 500, message: /database on fire/ });
  });

  it("502 with an HTML body → TOKEN_ENDPOINT, status 502", async () => {
    reg.set({ token: { methods: { GET: { status: 502 } }, errorBody: "<html><body>Bad Gateway</body></html>" } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "TOKEN_ENDPOINT", { status: 502 });
  });

  it("a 404 for the GET is TOKEN_ENDPOINT, not a fallback loop", async () => {
    reg.set({ token: { methods: { GET: { status: 404 } } } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "TOKEN_ENDPOINT", { status: 404 });
    assert.equal(reg.counts().token, 1);
  });

  it("200 with a non-JSON body → BAD_TOKEN_RESPONSE", async () => {
    reg.set({ token: { body: "<html>login page</html>", contentType: "text/html" } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "BAD_TOKEN_RESPONSE");
  });

  it("200 with JSON but no token → BAD_TOKEN_RESPONSE", async () => {
    reg.set({ token: { body: { expires_in: 300, issued_at: "2024-01-01T00:00:00Z" } } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "BAD_TOKEN_RESPONSE");
  });

  it("200 with JSON that is not an object → BAD_TOKEN_RESPONSE", async () => {
    reg.set({ token: { body: '["token"]' } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "BAD_TOKEN_RESPONSE");
  });

  it("a valid token response over 128 KiB → BAD_TOKEN_RESPONSE", async () => {
    reg.set({ token: { body: (_e, { token }) => ({ token, padding: "x".repeat(2 << 20) }) } });
    const t0 = Date.now();
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "BAD_TOKEN_RESPONSE");
    assert.ok(Date.now() - t0 < 5000);
  });

  it("a token body of exactly 128 KiB is read; one byte more is BAD_TOKEN_RESPONSE (the cap oras-go uses too)", async () => {
    const sized = (bytes) => (_e, { token }) => {
      const bare = JSON.stringify({ token, padding: "" }).length;
      return { token, padding: "x".repeat(bytes - bare) };
    };
    reg.set({ token: { body: sized(128 * 1024) } });
    const token = await new RegistryClient().getToken(ref(reg));
    assert.equal(token, reg.entries("token")[0].issued);
    reg.set({ token: { body: sized(128 * 1024 + 1) } });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "BAD_TOKEN_RESPONSE", { message: /larger than 131072 bytes/ });
  });

  it("a custom fetch's Response-like without a body stream (old polyfills): the token body is read through arrayBuffer() and capped the same way", async () => {
    // Each real response is handed on as a plain object with status, headers and arrayBuffer().
    const bare = (r) => ({ status: r.status, headers: r.headers, url: r.url, arrayBuffer: () => r.arrayBuffer() });
    const fetchBare = async (url, init) => bare(await fetch(url, init));
    const token = await new RegistryClient().getToken(ref(reg), { fetch: fetchBare });
    assert.equal(token, reg.entries("token")[0].issued);
    reg.set({ token: { body: (_e, { token: t }) => ({ token: t, padding: "x".repeat(200 * 1024) }) } });
    await rejectsWith(new RegistryClient().getToken(ref(reg), { fetch: fetchBare }), "BAD_TOKEN_RESPONSE", { message: /larger than 131072 bytes/ });
  });
});

describe("challenge errors", () => {
  it("a malformed WWW-Authenticate on /v2/ → INVALID_CHALLENGE", async () => {
    const e = await startEmulator({ ping: { challenge: 'Bearer realm="http://127.0.0.1/unterminated' } });
    try {
      await rejectsWith(new RegistryClient().getToken(ref(e)), "INVALID_CHALLENGE");
    } finally {
      await e.close();
    }
  });

  it("a Bearer challenge without realm on /v2/ → INVALID_CHALLENGE", async () => {
    const e = await startEmulator({ ping: { challenge: 'Bearer service="x",error="invalid_request"' } });
    try {
      await rejectsWith(new RegistryClient().getToken(ref(e)), "INVALID_CHALLENGE");
    } finally {
      await e.close();
    }
  });

  it("RFC 6750 error / error_description in the token server's challenge go into the message", async () => {
    reg.set({
      token: {
        methods: { GET: { status: 401 } },
        errorBody: "text",
        errorMessage: "nope",
        headers: { "WWW-Authenticate": 'Bearer realm="{origin}/token",error="invalid_token",error_description="The access token expired"' },
      },
    });
    await rejectsWith(new RegistryClient().getToken(ref(reg)), "UNAUTHORIZED", { status: 401, message: /The access token expired/ });
  });
});

describe("network errors", () => {
  it("connection refused on /v2/ → NETWORK with the original failure as cause", async () => {
    const port = await closedPort();
    const err = await rejectsWith(new RegistryClient().getToken(`127.0.0.1:${port}/team/app`), "NETWORK");
    assert.ok(err.cause !== undefined && err.cause !== null, "cause is set");
    assert.ok(err.status === undefined || err.status === null, "no HTTP status for a refused connection");
  });

  it("connection refused at the realm → NETWORK", async () => {
    const port = await closedPort();
    reg.set({ ping: { challenge: `Bearer realm="http://127.0.0.1:${port}/token",service="x"` } });
    const err = await rejectsWith(new RegistryClient().getToken(ref(reg), creds), "NETWORK");
    assert.ok(err.cause, "cause is set");
  });

  it("a registryUrl pointing at a closed port → NETWORK", async () => {
    const port = await closedPort();
    await rejectsWith(new RegistryClient().getToken("ghcr.io/owner/app", { registryUrl: `http://127.0.0.1:${port}` }), "NETWORK");
  });

  it("a custom fetch that resolves to something other than an object → NETWORK with a TypeError cause; the next call goes on", async () => {
    const client = new RegistryClient();
    for (const odd of [42, null, "response", () => {}]) {
      const err = await rejectsWith(client.getToken(ref(reg), { fetch: async () => odd }), "NETWORK", { message: /not a Response/ });
      assert.ok(err.cause instanceof TypeError, "the cause is the TypeError");
    }
    assert.equal(await client.getToken(ref(reg)), reg.entries("token").at(-1).issued);
  });

  it("a custom fetch that throws synchronously → NETWORK with what it threw as cause", async () => {
    const thrown = new Error("no sockets here");
    const err = await rejectsWith(new RegistryClient().getToken(ref(reg), { fetch: () => { throw thrown; } }), "NETWORK", { message: /no sockets here/ });
    assert.equal(err.cause, thrown);
  });

  it("a Response-like whose headers are a plain object with get(): the challenge and the token are read through it", async () => {
    const asked = [];
    const plain = (r) => ({
      status: r.status,
      headers: {
        get(name) {
          asked.push(name);
          return r.headers.get(name);
        },
      },
      arrayBuffer: () => r.arrayBuffer(),
    });
    const token = await new RegistryClient().getToken(ref(reg), { fetch: async (url, init) => plain(await fetch(url, init)) });
    assert.equal(token, reg.entries("token")[0].issued);
    assert.ok(asked.includes("www-authenticate"), `headers read: ${asked.join(", ")}`);
  });
});

describe("timeoutMs and signal", () => {
  it("timeoutMs while the token server stalls → TIMEOUT, fast; then the same client succeeds", async () => {
    reg.set({ token: { delayMs: 30_000 } });
    const client = new RegistryClient();
    const t0 = Date.now();
    await rejectsWith(client.getToken(ref(reg), { timeoutMs: 200 }), "TIMEOUT");
    assert.ok(Date.now() - t0 < 3000, "rejected near timeoutMs");
    reg.set({ token: { delayMs: 0 } });
    reg.reset();
    const token = await client.getToken(ref(reg));
    assert.equal(reg.counts().token, 1, "a fresh token request, not a cached failure");
    assert.equal(token, reg.entries("token")[0].issued);
  });

  it("timeoutMs covers the /v2/ ping too", async () => {
    reg.set({ ping: { delayMs: 30_000 } });
    await rejectsWith(new RegistryClient().getToken(ref(reg), { timeoutMs: 150 }), "TIMEOUT");
  });

  it("timeoutMs is for the whole call, not per request", async () => {
    reg.set({ ping: { delayMs: 250 }, token: { delayMs: 250 } });
    await rejectsWith(new RegistryClient().getToken(ref(reg), { timeoutMs: 400 }), "TIMEOUT");
  });

  it("signal aborted mid-flight → ABORTED; then the same client succeeds", async () => {
    reg.set({ token: { delayMs: 30_000 } });
    const client = new RegistryClient();
    const controller = new AbortController();
    const pending = client.getToken(ref(reg), { signal: controller.signal });
    await sleep(100);
    controller.abort();
    await rejectsWith(pending, "ABORTED");
    reg.set({ token: { delayMs: 0 } });
    reg.reset();
    const token = await client.getToken(ref(reg));
    assert.equal(token, reg.entries("token")[0].issued);
  });

  it("an already-aborted signal → ABORTED, no request sent", async () => {
    await rejectsWith(new RegistryClient().getToken(ref(reg), { signal: AbortSignal.abort() }), "ABORTED");
    assert.equal(reg.counts().total, 0);
  });

  it("one caller's abort does not fail a concurrent identical call that shares the request", async () => {
    reg.set({ token: { delayMs: 300 } });
    const client = new RegistryClient();
    const controller = new AbortController();
    const aborted = client.getToken(ref(reg), { signal: controller.signal });
    const patient = client.getToken(ref(reg));
    await sleep(50);
    controller.abort();
    await rejectsWith(aborted, "ABORTED");
    const token = await patient;
    assert.match(token, /^reg-token-\d+$/);
  });
});

describe("secrets never appear in a message", () => {
  // Each scenario runs with a password and with a refresh token; the server's answer never
  // echoes them, so any occurrence comes from the client.
  const scenarios = [
    ["UNAUTHORIZED", (e) => e.set({ token: { methods: { GET: { status: 401 }, POST: { status: 401 } } } })],
    ["TOKEN_ENDPOINT", (e) => e.set({ token: { methods: { GET: { status: 500 }, POST: { status: 500 } } } })],
    ["BAD_TOKEN_RESPONSE", (e) => e.set({ token: { body: "not json" } })],
    ["TIMEOUT", (e) => e.set({ token: { delayMs: 30_000 } }), { timeoutMs: 150 }],
    ["INSECURE_REALM", (e) => e.set({ ping: { challenge: 'Bearer realm="http://example.invalid/token",service="x"' } })],
  ];
  for (const [code, arrange, extra = {}] of scenarios) {
    for (const [what, secretOptions] of [
      ["password", creds],
      ["refresh token", { refreshToken: REFRESH_TOKEN }],
    ]) {
      it(`${code} with a ${what}`, async () => {
        reg.restore();
        arrange(reg);
        await rejectsWith(new RegistryClient().getToken(ref(reg), { ...secretOptions, ...extra }), code);
      });
    }
  }

  it("NETWORK with a password", async () => {
    const port = await closedPort();
    await rejectsWith(new RegistryClient().getToken(`127.0.0.1:${port}/team/app`, creds), "NETWORK");
  });

  it("UNSUPPORTED_CHALLENGE and Basic UNAUTHORIZED", async () => {
    const basic = await startEmulator("basicOnly");
    try {
      await rejectsWith(new RegistryClient().getToken(ref(basic), creds), "UNSUPPORTED_CHALLENGE");
      await rejectsWith(new RegistryClient().getToken(ref(basic), { refreshToken: REFRESH_TOKEN }), "UNSUPPORTED_CHALLENGE");
    } finally {
      await basic.close();
    }
  });

  it("INVALID_REFERENCE echoing the input never contains the password", async () => {
    await rejectsWith(new RegistryClient().getToken("Bad/Ref", creds), "INVALID_REFERENCE");
  });
});
