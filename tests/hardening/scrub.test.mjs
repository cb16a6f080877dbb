// Issue 13, "One exit for errors": every error path scrubs the caller's secrets, network failures
// included. A password that a hostile or unlucky setup puts in a realm's host name or path, in a
// fetch failure's message and cause, in a token server's body, Retry-After or WWW-Authenticate,
// never reaches the RegistryAuthError's message, retryAfter, or the text of its cause chain —
// not in clear, not percent-encoded, not as the Basic base64.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { after, before, beforeEach, describe, it } from "node:test";

import { closedPort, startEmulator } from "../js/support/emulator.mjs";
import { ERROR_CODES } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";

const { RegistryClient } = await importPackage();

const USER = "alice";
/** Lower-case letters, digits and hyphens: usable as a host label (URL parsing keeps it as is). */
const PW_LABEL = "hunter2-label-pw-must-not-leak";
/** Characters that percent-encoding and form encoding change. */
const PW_ODD = "p@ss w0rd&=LEAK/+:x";
/** Characters encodeURIComponent leaves as they are but a strict RFC 3986 encoder escapes. */
const PW_BANG = "p@ss!w0rd*(LEAK)'x";
/** A refresh token that percent-encoding changes too (no space: tokens are single words). */
const RT_ODD = "rt+REFRESH/TOKEN=&must-not-leak";

const b64 = (s) => Buffer.from(s).toString("base64");

/** [what, form] pairs: the secret and the shapes it could be echoed in. */
function formsOf(kind, secret) {
  const forms = [
    ["the secret", secret],
    ["its percent-encoding", encodeURIComponent(secret)],
  ];
  if (kind === "password") forms.push(["its Basic base64", b64(`${USER}:${secret}`)]);
  return forms;
}

/**
 * Ways to hand the library a secret: [label, kind, (secret, domain) → options]. The function
 * form is left out where the failure can happen before any credential is needed (the ping).
 */
const VARIANTS = [
  ["per-call username/password", "password", (secret) => ({ username: USER, password: secret })],
  ["credentials record", "password", (secret, domain) => ({ credentials: { [domain]: { username: USER, password: secret } } })],
  [
    "credentials function",
    "password",
    (secret, domain) => ({ credentials: async (r) => (r === domain ? { username: USER, password: secret } : null) }),
  ],
  ["refresh token in credentials", "refresh", (secret, domain) => ({ credentials: { [domain]: { refreshToken: secret } } })],
];

function safeString(v) {
  try {
    return String(v);
  } catch {
    return "";
  }
}

/** Replaces every form by a marker, so an assertion message can show the text safely. */
function redacted(text, forms) {
  let out = String(text ?? "");
  forms.forEach(([what, form]) => (out = out.split(form).join(`<${what}>`)));
  return out;
}

/**
 * The RegistryAuthError contract, then: no form of the secret in message, retryAfter, String(),
 * `errors`, the cause's String()/message/stack, the cause's cause, or util.inspect of it all.
 */
function assertScrubbed(err, code, forms, label) {
  assert.ok(err instanceof Error, `${label}: expected an Error, got ${redacted(safeString(err), forms)}`);
  assert.equal(err.name, "RegistryAuthError", `${label}: ${redacted(err.message, forms)}`);
  assert.ok(ERROR_CODES.includes(err.code), `${label}: code ${err.code}`);
  assert.equal(err.code, code, `${label}: expected ${code}, got ${err.code}: ${redacted(err.message, forms)}`);
  const fields = {
    message: err.message,
    retryAfter: err.retryAfter === undefined ? "" : safeString(err.retryAfter),
    "String(err)": safeString(err),
    errors: err.errors === undefined ? "" : inspect(err.errors, { depth: 6 }),
    "String(err.cause)": safeString(err.cause),
    "err.cause.message": err.cause?.message,
    "err.cause.cause?.message": err.cause?.cause?.message,
    "String(err.cause.cause)": err.cause?.cause === undefined ? "" : safeString(err.cause.cause),
    stack: err.stack,
    "err.cause.stack": err.cause?.stack,
    "util.inspect(err)": inspect(err, { depth: 8 }),
  };
  for (const [field, value] of Object.entries(fields)) {
    for (const [what, form] of forms) {
      assert.ok(!safeString(value ?? "").includes(form), `${label}: ${what} appears in ${field}: ${redacted(value, forms)}`);
    }
  }
  return err;
}

async function rejection(call) {
  const p = call();
  assert.ok(p instanceof Promise, "the call returns a promise");
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection, but the call resolved");
}

const urlOf = (input) => (typeof input === "string" ? input : input instanceof URL ? input.href : input.url);

/**
 * An in-process fetch: the /v2/ ping of https://registry.example answers `ping` (a function
 * returning a Response, or a failure), any other URL is the token request and answers `token`.
 * Records [method, host, path] per request.
 */
function scriptedFetch({ ping, token }) {
  const seen = [];
  const fn = (input, init = {}) => {
    const url = new URL(urlOf(input));
    seen.push([init.method ?? "GET", url.host, url.pathname]);
    const handler = url.host === "registry.example" && url.pathname === "/v2/" ? ping : token;
    return handler(url, init);
  };
  fn.seen = seen;
  return fn;
}

const challenge = (value) => async () =>
  new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
    status: 401,
    headers: { "content-type": "application/json", "www-authenticate": value },
  });

/** What undici and DNS failures look like, with the secret as the host label and as the cause. */
const dnsFailure = (secret) => () =>
  Promise.reject(new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${secret}.example`, { cause: new Error(secret) }));

const FAILURES = [
  ["rejects with a TypeError naming it, cause naming it", dnsFailure],
  [
    "rejects with a TypeError whose cause chain names it twice",
    (secret) => () =>
      Promise.reject(
        new TypeError("fetch failed", { cause: new Error(`connect ECONNREFUSED ${secret}`, { cause: new Error(`lookup ${secret}.example`) }) }),
      ),
  ],
  ["rejects with a plain string naming it", (secret) => () => Promise.reject(`getaddrinfo ENOTFOUND ${secret}.example`)],
  [
    "throws synchronously",
    (secret) => () => {
      throw new TypeError(`getaddrinfo ENOTFOUND ${secret}.example`, { cause: new Error(secret) });
    },
  ],
];

describe("network errors", () => {
  for (const [variant, kind, options] of VARIANTS) {
    if (variant === "credentials function") continue; // the ping may come before the function is asked
    for (const secret of kind === "refresh" ? [RT_ODD] : [PW_LABEL, PW_ODD]) {
      for (const [how, failure] of FAILURES) {
        it(`ping: fetch ${how}; ${variant}, ${secret === PW_LABEL ? "label-safe" : "odd"} secret → NETWORK, scrubbed`, async () => {
          const fetch = scriptedFetch({ ping: failure(secret), token: () => assert.fail("no token request after a failed ping") });
          const err = await rejection(() => new RegistryClient().getToken("registry.example/app", { ...options(secret, "registry.example"), fetch }));
          assertScrubbed(err, "NETWORK", formsOf(kind, secret), "getToken");
          assert.deepEqual(fetch.seen, [["GET", "registry.example", "/v2/"]]);
        });
      }
    }
  }

  for (const [variant, kind, options] of VARIANTS) {
    const secret = kind === "refresh" ? "rt-label-refresh-token-must-not-leak" : PW_LABEL;
    for (const mode of ["getToken", "authorize"]) {
      it(`token request: the realm's host label is the secret and fetch fails naming it; ${variant}, ${mode} → NETWORK, scrubbed`, async () => {
        const realm = `https://${secret}.example/token`;
        const fetch = scriptedFetch({ ping: challenge(`Bearer realm="${realm}",service="s"`), token: dnsFailure(secret) });
        const err = await rejection(() => new RegistryClient()[mode]("registry.example/app", { ...options(secret, "registry.example"), fetch }));
        assertScrubbed(err, "NETWORK", formsOf(kind, secret), mode);
        assert.equal(fetch.seen.length, 2, "the ping and the token request were made");
        assert.equal(fetch.seen[1][1], `${secret}.example`);
      });
    }

    const odd = kind === "refresh" ? RT_ODD : PW_ODD;
    it(`token request: the realm's path holds the percent-encoded secret and fetch fails naming it; ${variant} → NETWORK, scrubbed`, async () => {
      const realm = `https://auth.example/${encodeURIComponent(odd)}/token`;
      const fetch = scriptedFetch({ ping: challenge(`Bearer realm="${realm}",service="s"`), token: dnsFailure(odd) });
      const err = await rejection(() => new RegistryClient().getToken("registry.example/app", { ...options(odd, "registry.example"), fetch }));
      assertScrubbed(err, "NETWORK", formsOf(kind, odd), "getToken");
      assert.equal(fetch.seen.length, 2);
    });
  }

  describe("with the real fetch", () => {
    let reg;
    let closed;
    before(async () => {
      reg = await startEmulator({ name: "scrub-net" });
      closed = await closedPort();
    });
    after(() => reg.close());
    beforeEach(() => reg.restore());

    for (const [variant, kind, options] of VARIANTS) {
      for (const secret of kind === "refresh" ? [RT_ODD] : [PW_LABEL, PW_ODD]) {
        it(`connection refused at a loopback realm http://127.0.0.1:<closed>/<secret>; ${variant} → NETWORK, scrubbed`, async () => {
          reg.set({ ping: { challenge: `Bearer realm="http://127.0.0.1:${closed}/${encodeURIComponent(secret)}",service="emulator"` } });
          const err = await rejection(() => new RegistryClient().getToken(`${reg.host}/team/app`, { ...options(secret, reg.host), timeoutMs: 10_000 }));
          assertScrubbed(err, "NETWORK", formsOf(kind, secret), "getToken");
          assert.equal(reg.counts().ping, 1);
        });
      }
    }
  });

  for (const [variant, kind, options] of VARIANTS) {
    it(`a plain-http realm whose host label is the secret; ${variant} → INSECURE_REALM, scrubbed, nothing sent there`, async () => {
      const secret = kind === "refresh" ? "rt-label-refresh-token-must-not-leak" : PW_LABEL;
      const fetch = scriptedFetch({
        ping: challenge(`Bearer realm="http://${secret}.example/token",service="s"`),
        token: () => assert.fail("nothing may be sent to a plain-http realm with a credential"),
      });
      const err = await rejection(() => new RegistryClient().getToken("registry.example/app", { ...options(secret, "registry.example"), fetch }));
      assertScrubbed(err, "INSECURE_REALM", formsOf(kind, secret), "getToken");
      assert.deepEqual(fetch.seen, [["GET", "registry.example", "/v2/"]]);
    });
  }
});

describe("token server errors echoing the secret", () => {
  let reg;
  before(async () => {
    reg = await startEmulator({ name: "scrub-echo" });
  });
  after(() => reg.close());
  beforeEach(() => reg.restore());

  /** The secret in every shape, as a server might echo what it received. */
  const echoOf = (kind, secret) => formsOf(kind, secret).map(([, form]) => form).join(" | ");

  const BODIES = {
    distribution: (echo) => ({ type: "application/json", body: JSON.stringify({ errors: [{ code: "DENIED", message: `bad ${echo}`, detail: echo }] }) }),
    details: (echo) => ({ type: "application/json", body: JSON.stringify({ details: `bad ${echo}` }) }),
    oauth2: (echo) => ({ type: "application/json", body: JSON.stringify({ error: "invalid_grant", error_description: `bad ${echo}` }) }),
    text: (echo) => ({ type: "text/plain", body: `bad ${echo}\n` }),
  };
  const STATUSES = [
    [401, "UNAUTHORIZED"],
    [403, "UNAUTHORIZED"],
    [429, "TOKEN_ENDPOINT"],
    [500, "TOKEN_ENDPOINT"],
    [503, "TOKEN_ENDPOINT"],
  ];

  for (const [variant, kind, options] of VARIANTS) {
    const secret = kind === "refresh" ? RT_ODD : PW_ODD;
    for (const [status, code] of STATUSES) {
      for (const [bodyName, body] of Object.entries(BODIES)) {
        it(`${status} with a ${bodyName} body and Retry-After echoing the secret; ${variant} → ${code}, scrubbed`, async () => {
          const echo = echoOf(kind, secret);
          reg.set({
            token: {
              methods: { GET: { status }, POST: { status } },
              errorBody: () => body(echo),
              headers: { "Retry-After": echo },
            },
          });
          const err = await rejection(() => new RegistryClient().getToken(`${reg.host}/team/app`, options(secret, reg.host)));
          assertScrubbed(err, code, formsOf(kind, secret), `${status} ${bodyName}`);
          assert.equal(err.status, status);
          assert.ok(reg.counts().token >= 1);
        });
      }
    }

    it(`401 with WWW-Authenticate error_description echoing the secret; ${variant} → UNAUTHORIZED, scrubbed`, async () => {
      const echo = echoOf(kind, secret);
      reg.set({
        token: {
          methods: { GET: { status: 401 }, POST: { status: 401 } },
          errorBody: () => ({ type: "application/json", body: "{}" }),
          headers: { "WWW-Authenticate": `Bearer realm="x",error="invalid_token",error_description="rejected ${echo}"` },
        },
      });
      const err = await rejection(() => new RegistryClient().authorize(`${reg.host}/team/app`, options(secret, reg.host)));
      assertScrubbed(err, "UNAUTHORIZED", formsOf(kind, secret), "error_description");
      assert.equal(err.status, 401);
    });

    it(`the realm path holds the secret and the token endpoint answers 404 there; ${variant} → TOKEN_ENDPOINT, scrubbed`, async () => {
      reg.set({ ping: { challenge: `Bearer realm="{origin}/${encodeURIComponent(secret)}/token",service="emulator"` } });
      const err = await rejection(() => new RegistryClient().getToken(`${reg.host}/team/app`, options(secret, reg.host)));
      assertScrubbed(err, "TOKEN_ENDPOINT", formsOf(kind, secret), "404 at the realm");
      assert.equal(err.status, 404);
    });
  }
});

describe("the percent-encoding JavaScript writes (encodeURIComponent leaves ! * ( ) ' as they are)", () => {
  let reg;
  before(async () => {
    reg = await startEmulator({ name: "scrub-bang" });
  });
  after(() => reg.close());
  beforeEach(() => reg.restore());

  const options = (secret) => ({ username: USER, password: secret });
  it("a 401 text body echoing encodeURIComponent(password) → UNAUTHORIZED, scrubbed", async () => {
    assert.notEqual(encodeURIComponent(PW_BANG), PW_BANG);
    reg.set({
      token: {
        methods: { GET: { status: 401 }, POST: { status: 401 } },
        errorBody: () => ({ type: "text/plain", body: `bad password ${encodeURIComponent(PW_BANG)}\n` }),
      },
    });
    const err = await rejection(() => new RegistryClient().getToken(`${reg.host}/team/app`, options(PW_BANG)));
    assertScrubbed(err, "UNAUTHORIZED", formsOf("password", PW_BANG), "401 text");
  });

  it("a realm path holding encodeURIComponent(password), 404 there → TOKEN_ENDPOINT, scrubbed", async () => {
    reg.set({ ping: { challenge: `Bearer realm="{origin}/${encodeURIComponent(PW_BANG)}/token",service="emulator"` } });
    const err = await rejection(() => new RegistryClient().getToken(`${reg.host}/team/app`, options(PW_BANG)));
    assertScrubbed(err, "TOKEN_ENDPOINT", formsOf("password", PW_BANG), "404 at the realm");
  });
});
