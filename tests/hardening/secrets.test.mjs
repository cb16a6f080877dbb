// Issue 7, "Secrets": a recognisable password and refresh token go through every error path and
// never appear in a message, a stack, a `cause` chain or its rendering, or console output; they
// are never sent to a plain-http realm that is not loopback, never in the /v2/ ping, never across
// a redirect to another origin.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";

import { closedPort, startEmulator } from "../js/support/emulator.mjs";
import { PASSWORD, REFRESH_TOKEN, assertRegistryError } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";
import { challenge, json, startHostile, TOKEN_PATH } from "./hostile.mjs";

const { RegistryClient } = await importPackage();

const USER = "alice";
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
const SECRETS = [PASSWORD, REFRESH_TOKEN, BASIC];
const ECHO = `password=${PASSWORD} refresh_token=${REFRESH_TOKEN} authorization=Basic ${BASIC}`;

/** Credential sets every error path is run with. */
const CREDENTIALS = {
  password: { username: USER, password: PASSWORD },
  "refresh token": { refreshToken: REFRESH_TOKEN },
  both: { username: USER, password: PASSWORD, refreshToken: REFRESH_TOKEN },
};

// Everything the package might print goes here instead of the terminal.
const consoleOutput = [];
const METHODS = ["log", "info", "warn", "error", "debug", "trace", "dir"];
const saved = {};

/** The secrets a call with these options holds (a server cannot echo one it was never sent). */
function secretsOf(opts = {}) {
  const out = [];
  if (opts.password) out.push(PASSWORD, BASIC);
  if (opts.refreshToken) out.push(REFRESH_TOKEN);
  return out.length ? out : SECRETS;
}

/** No secret in the error's message, stack, String(), cause chain, or util.inspect rendering. */
function assertClean(err, code, secrets = SECRETS) {
  assertRegistryError(err, code, { secrets });
  const rendered = [inspect(err, { depth: 6 }), JSON.stringify(err, Object.getOwnPropertyNames(err))];
  secrets.forEach((s, i) => assert.ok(!rendered.some((r) => r.includes(s)), `secret #${i} in the rendering of the ${code} error`));
  return err;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

let h; // raw, swappable registry
before(async () => {
  h = await startHostile();
  for (const m of METHODS) {
    saved[m] = console[m];
    console[m] = (...args) => consoleOutput.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 6 }))).join(" "));
  }
});
after(async () => {
  for (const m of METHODS) console[m] = saved[m];
  await h.close();
});
beforeEach(() => h.good());

const image = () => `${h.host}/team/app`;

/** [name, code, setup(h) → extra options] — every way a call can fail, servers echoing secrets. */
const ERROR_PATHS = [
  ["token 401, distribution body echoing the secrets", "UNAUTHORIZED", () => (h.token = json({ errors: [{ code: "UNAUTHORIZED", message: ECHO, detail: ECHO }] }, 401))],
  ["token 403, Docker Hub {details} echoing", "UNAUTHORIZED", () => (h.token = json({ details: ECHO }, 403))],
  ["token 400, OAuth2 error_description echoing", "TOKEN_ENDPOINT", () => (h.token = json({ error: "invalid_grant", error_description: ECHO }, 400))],
  [
    "token 401 with an RFC 6750 challenge echoing in error_description",
    "UNAUTHORIZED",
    () => (h.token = json("{}", 401, { "WWW-Authenticate": `Bearer error="invalid_token",error_description="${ECHO}"` })),
  ],
  ["token 500, plain text echoing", "TOKEN_ENDPOINT", () => (h.token = json(`internal error: ${ECHO}\n`, 500))],
  ["token 200, HTML login page echoing", "BAD_TOKEN_RESPONSE", () => (h.token = json(`<html><body>${ECHO}</body></html>`))],
  ["token 200, JSON without a token, echoing", "BAD_TOKEN_RESPONSE", () => (h.token = json({ message: ECHO, token: 5 }))],
  ["token 200, over 1 MiB", "BAD_TOKEN_RESPONSE", () => (h.token = json(`{"token":"${"x".repeat(1100 * 1024)}","note":"${ECHO}"}`))],
  ["token 404, JSON echoing (challenge forgotten)", "TOKEN_ENDPOINT", () => (h.token = json({ errors: [{ code: "NOT_FOUND", message: ECHO }] }, 404))],
  ["/v2/ 404 echoing", "NO_CHALLENGE", () => (h.ping = json({ errors: [{ code: "NOT_FOUND", message: ECHO }] }, 404))],
  ["/v2/ 401 without WWW-Authenticate", "NO_CHALLENGE", () => (h.ping = json({ details: ECHO }, 401))],
  ["/v2/ 401 with a malformed challenge", "INVALID_CHALLENGE", () => (h.ping = challenge('Bearer realm="unterminated'))],
  ["/v2/ 401 Bearer without realm", "INVALID_CHALLENGE", () => (h.ping = challenge('Bearer service="x"'))],
  ["/v2/ Basic only (getToken)", "UNSUPPORTED_CHALLENGE", () => (h.ping = challenge('Basic realm="r"'))],
  ["/v2/ Negotiate only", "UNSUPPORTED_CHALLENGE", () => (h.ping = challenge("Negotiate"))],
  ["a plain-http realm that is not loopback", "INSECURE_REALM", () => (h.ping = challenge('Bearer realm="http://auth.example.test/token"'))],
  ["a javascript: realm", "INSECURE_REALM", () => (h.ping = challenge('Bearer realm="javascript:alert(1)"'))],
  [
    "the token server stalls",
    "TIMEOUT",
    () => {
      h.token = () => {};
      return { timeoutMs: 300 };
    },
  ],
  [
    "the caller aborts",
    "ABORTED",
    () => {
      h.token = () => {};
      const c = new AbortController();
      setTimeout(() => c.abort(new Error("user went away")), 100);
      return { signal: c.signal };
    },
  ],
  [
    "connection dropped at the token endpoint",
    "NETWORK",
    () => (h.token = (req) => req.socket.destroy()),
  ],
  [
    "connection refused everywhere",
    "NETWORK",
    async () => ({ registryUrl: `http://127.0.0.1:${await closedPort()}` }),
  ],
];

describe("no secret in any error, its cause chain, or the console", () => {
  for (const [credName, creds] of Object.entries(CREDENTIALS)) {
    for (const [name, code, setup] of ERROR_PATHS) {
      it(`${credName}: ${name} → ${code}`, async () => {
        // A setup returns extra options, or (an arrow's assignment) the handler it installed.
        const extra = await setup();
        const opts = typeof extra === "object" && extra !== null ? extra : {};
        const err = await rejection(new RegistryClient().getToken(image(), { timeoutMs: 5000, ...creds, ...opts }));
        assertClean(err, code, secretsOf(creds));
      });
    }
  }

  it("bad arguments alongside secrets → INVALID_REFERENCE, secrets not echoed", async () => {
    const client = new RegistryClient();
    for (const [ref, opts] of [
      ["Not A Reference", { username: USER, password: PASSWORD }],
      [image(), { password: PASSWORD }], // password without username
      [image(), { username: USER, password: `${PASSWORD}\n` }],
      [image(), { refreshToken: `${REFRESH_TOKEN}\u0000` }],
      [image(), { username: `${USER}:x`, password: PASSWORD }],
      [image(), { username: USER, password: PASSWORD, registryUrl: `ftp://${PASSWORD}@127.0.0.1/` }],
    ]) {
      const err = await rejection(client.getToken(ref, opts));
      if (ref === image() && opts.registryUrl) {
        // The caller put the password in the URL; quoting the option back is their own text.
        assert.equal(err.code, "INVALID_REFERENCE");
        continue;
      }
      assertClean(err, "INVALID_REFERENCE");
    }
  });

  it("the Basic header authorize() returns is the only place the password goes", async () => {
    h.ping = challenge('Basic realm="r"');
    const auth = await new RegistryClient().authorize(image(), CREDENTIALS.password);
    assert.equal(auth.authorization, `Basic ${BASIC}`);
    assert.equal(auth.token, null);
  });

  it("nothing reached the console", () => {
    const leaked = consoleOutput.filter((line) => SECRETS.some((s) => line.includes(s)));
    assert.equal(leaked.length, 0, `${leaked.length} console lines carry a secret`);
  });
});

describe("secrets echoed where redaction once missed them (found here; fixed in a77b9bf)", () => {
  it(
    "a secret echoed in the /v2/ WWW-Authenticate is not quoted back",
    async () => {
      h.ping = challenge(`Bearer realm="x" ${PASSWORD}`);
      assertClean(await rejection(new RegistryClient().getToken(image(), CREDENTIALS.password)), "INVALID_CHALLENGE");
    },
  );

  it(
    "a secret in the realm path is not quoted back by a token-endpoint error",
    async () => {
      // (This registry answers 404 at any path but /token.)
      h.ping = challenge(`Bearer realm="${h.url}/${PASSWORD}${TOKEN_PATH}"`);
      assertClean(await rejection(new RegistryClient().getToken(image(), CREDENTIALS.password)), "TOKEN_ENDPOINT", [PASSWORD]);
    },
  );

  it(
    "a secret echoed in Retry-After is not quoted back",
    async () => {
      h.token = json("{}", 429, { "Retry-After": PASSWORD });
      assertClean(await rejection(new RegistryClient().getToken(image(), CREDENTIALS.password)), "TOKEN_ENDPOINT");
    },
  );

  it(
    "a password echoed percent-encoded (as the form body carried it) is not quoted back",
    async () => {
      const odd = "p@ss w0rd&=LEAK/+";
      const encoded = encodeURIComponent(odd);
      h.token = (req, res) => {
        res.writeHead(400, { "Content-Type": "text/plain" });
        res.end(`cannot parse form: grant_type=password&username=${USER}&password=${encoded}`);
      };
      const err = await rejection(new RegistryClient().getToken(image(), { username: USER, password: odd }));
      assert.ok(!err.message.includes(encoded) && !err.message.includes(odd), "the password, percent-encoded, is in the message");
    },
  );

  it(
    "a secret straddling the 300-character quote limit does not leak its first half",
    async () => {
      h.token = json({ details: `${"x".repeat(285)} ${PASSWORD}` }, 401);
      const err = await rejection(new RegistryClient().getToken(image(), CREDENTIALS.password));
      const head = PASSWORD.slice(0, 12);
      assert.ok(!err.message.includes(head), "the first 12 characters of the password are in the message");
    },
  );
});

describe("where credentials are sent", () => {
  /** A fetch that lets loopback through and records (and refuses) everything else. */
  function guardedFetch() {
    const elsewhere = [];
    const all = [];
    const fn = async (url, init = {}) => {
      const u = new URL(url);
      all.push({ url, method: init.method ?? "GET", headers: { ...(init.headers ?? {}) }, body: init.body ?? null, credentials: init.credentials, redirect: init.redirect });
      if (u.hostname !== "127.0.0.1") {
        elsewhere.push({ url, headers: init.headers ?? {}, body: init.body ?? null });
        throw new TypeError(`test guard: no request may leave loopback (${u.host})`);
      }
      return fetch(url, init);
    };
    return Object.assign(fn, { elsewhere, all });
  }

  for (const realm of ["http://auth.example.test/token", "http://localhost.example.test/token", "http://127.0.0.1.nip.io/token", "http://[::2]/token", "http://10.0.0.1/token"]) {
    for (const [credName, creds] of Object.entries(CREDENTIALS)) {
      it(`${credName}: a plain-http realm ${new URL(realm).host} → INSECURE_REALM, nothing sent there`, async () => {
        h.ping = challenge(`Bearer realm="${realm}",service="s"`);
        const f = guardedFetch();
        const err = await rejection(new RegistryClient().getToken(image(), { ...creds, fetch: f }));
        assertClean(err, "INSECURE_REALM");
        assert.deepEqual(f.elsewhere, [], "a request went to the realm");
        assert.deepEqual(
          f.all.map((r) => new URL(r.url).pathname),
          ["/v2/"],
        );
      });
    }
  }

  it("anonymous calls may use a plain-http realm (no secret to protect)", async () => {
    h.ping = challenge('Bearer realm="http://auth.example.test/token"');
    const f = guardedFetch();
    await rejection(new RegistryClient().getToken(image(), { fetch: f }));
    assert.equal(f.elsewhere.length, 1, "the anonymous token request was attempted");
    assert.deepEqual(f.elsewhere[0].headers, {});
  });

  it("a loopback plain-http realm gets the credentials (the positive control)", async () => {
    const f = guardedFetch();
    await new RegistryClient().getToken(image(), { ...CREDENTIALS.password, fetch: f });
    const get = h.log.find((e) => e.method === "GET" && e.path !== "/v2/");
    assert.match(get?.authorization ?? "", /^Basic /, "the GET with Basic reached the loopback realm");
    assert.equal(h.log.filter((e) => e.method === "POST").length, 0, "no OAuth2 POST without offline");
  });

  it("the /v2/ ping never carries a credential, a body or browser credentials", async () => {
    for (const creds of Object.values(CREDENTIALS)) {
      const f = guardedFetch();
      await new RegistryClient().authorize(image(), { ...creds, fetch: f });
      const ping = f.all.find((r) => new URL(r.url).pathname === "/v2/");
      assert.deepEqual(ping.headers, {}, "ping headers");
      assert.equal(ping.body, null);
      assert.equal(ping.credentials, "omit");
    }
    const pings = h.log.filter((e) => e.path === "/v2/");
    assert.equal(pings.length, 3);
    for (const p of pings) {
      assert.equal(p.authorization, null);
      assert.equal(p.body, "");
      SECRETS.forEach((s) => assert.ok(!p.url.includes(s)));
    }
  });

  describe("redirects to another origin", () => {
    let a; // the realm, which redirects
    let b; // the other origin
    before(async () => {
      b = await startEmulator({ name: "other-origin" });
      a = await startEmulator({ name: "redirecting" });
    });
    after(async () => {
      await Promise.all([a.close(), b.close()]);
    });
    afterEach(() => [a, b].forEach((e) => e.restore()));

    for (const status of [301, 302, 303, 307, 308]) {
      for (const [credName, creds] of Object.entries(CREDENTIALS)) {
        it(`${status}, ${credName}: the other origin never sees a credential`, async () => {
          a.set({ token: { redirect: { status, to: `${b.url}/token` } } });
          const err = await new RegistryClient().getToken(`${a.host}/team/app`, { ...creds, timeoutMs: 5000 }).then(
            () => null,
            (e) => e,
          );
          if (err) assertClean(err, err.code);
          for (const e of b.log) {
            assert.equal(e.authorization, null, `${e.method} ${e.path} at the other origin carried Authorization`);
            assert.equal(e.form, null, `${e.method} ${e.path} at the other origin carried a form body`);
            assert.equal(e.credential, null);
          }
          // The password went (once, as a POST or Basic) only to the realm's own origin.
          assert.ok(a.log.every((e) => e.kind !== "ping" || e.authorization === null));
        });
      }
    }

    it("a same-origin redirect keeps Basic (the positive control)", async () => {
      a.set({ token: { redirect: { status: 307, to: "/token-moved" } } });
      await new RegistryClient().getToken(`${a.host}/team/app`, { ...CREDENTIALS.password, timeoutMs: 5000 });
      const moved = a.log.filter((e) => e.path === "/token-moved");
      assert.ok(moved.some((e) => e.authorization === "basic"), "Basic reached the same-origin target");
    });
  });
});
