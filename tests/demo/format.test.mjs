// The dashboard's pure helpers (www/format.js), in Node.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeJwt, displayClaims, displayHeader, formatRemaining, proxyBase, recordingFetch, registryErrorText, requestKind, splitHint, truncateToken,
} from "../../www/format.js";

const b64url = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");

test("truncateToken keeps the head and tail of long tokens only", () => {
  assert.equal(truncateToken("short"), "short");
  assert.equal(truncateToken("a".repeat(24) + "b".repeat(20) + "c".repeat(8)), `${"a".repeat(24)}…${"c".repeat(8)}`);
  assert.equal(truncateToken(null), "");
});

test("decodeJwt decodes header and claims (UTF-8, no padding) and says null for opaque tokens", () => {
  const jwt = `${b64url({ alg: "ES256", typ: "JWT" })}.${b64url({ sub: "zoë", exp: 1 })}.sig`;
  assert.deepEqual(decodeJwt(jwt), { header: { alg: "ES256", typ: "JWT" }, claims: { sub: "zoë", exp: 1 } });
  for (const t of ["", "opaque-token", "a.b", "a.b.c.d", `${b64url({})}.!!.x`, "e30.bm90IGpzb24.x", `${b64url(1)}.${b64url(2)}.x`, undefined]) {
    assert.equal(decodeJwt(t), null, String(t));
  }
});

test("displayHeader shortens x5c; displayClaims adds ISO times", () => {
  assert.deepEqual(displayHeader({ alg: "ES256", x5c: ["M".repeat(600)] }), { alg: "ES256", x5c: [`${"M".repeat(16)}… (600 chars)`] });
  assert.deepEqual(displayHeader({ alg: "RS256" }), { alg: "RS256" });
  assert.deepEqual(displayClaims({ exp: 0, sub: "x" }), { exp: "0 (1970-01-01T00:00:00.000Z)", sub: "x" });
});

test("formatRemaining", () => {
  assert.equal(formatRemaining(299_500), "4:59");
  assert.equal(formatRemaining(3_723_000), "1:02:03");
  assert.equal(formatRemaining(999), "0:00");
  assert.equal(formatRemaining(0), "expired");
  assert.equal(formatRemaining(-5), "expired");
  assert.equal(formatRemaining(NaN), "expired");
});

test("splitHint separates the library's browser/CORS advice from what happened", () => {
  const network = "could not reach the registry at http://r.example/v2/: Failed to fetch. In a browser this is also how a missing CORS header shows: the server must …";
  assert.deepEqual(splitHint(network), {
    message: "could not reach the registry at http://r.example/v2/: Failed to fetch.",
    hint: "In a browser this is also how a missing CORS header shows: the server must …",
  });
  assert.deepEqual(splitHint("bad name"), { message: "bad name", hint: null });
  assert.equal(splitHint("x. In a browser the header is hidden unless …").hint, "In a browser the header is hidden unless …");
});

test("requestKind: the /v2/ ping is the challenge, anything else the token request", () => {
  assert.equal(requestKind("http://127.0.0.1:5000/v2/"), "challenge");
  assert.equal(requestKind("http://127.0.0.1:8080/proxy/ghcr.io/v2/"), "challenge");
  assert.equal(requestKind("https://auth.docker.io/token?scope=x"), "token");
  assert.equal(requestKind("not a url"), "token");
});

test("recordingFetch logs kind, method, status and timing, and passes failures through", async () => {
  const log = [];
  let now = 100;
  const fake = async (url, init) => {
    now += 7;
    if (url.includes("down")) throw new TypeError("Failed to fetch");
    return { status: init.method === "POST" ? 200 : 401 };
  };
  const f = recordingFetch(log, fake, () => now);
  assert.equal((await f("http://r/v2/", {})).status, 401);
  assert.equal((await f("http://auth/token", { method: "POST" })).status, 200);
  await assert.rejects(f("http://down/v2/", {}), TypeError);
  assert.deepEqual(log, [
    { kind: "challenge", method: "GET", url: "http://r/v2/", status: 401, start: 0, ms: 7, error: null },
    { kind: "token", method: "POST", url: "http://auth/token", status: 200, start: 7, ms: 7, error: null },
    { kind: "challenge", method: "GET", url: "http://down/v2/", status: 0, start: 14, ms: 7, error: "Failed to fetch" },
  ]);
});

test("registryErrorText and proxyBase", () => {
  assert.equal(registryErrorText('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'), "UNAUTHORIZED: authentication required");
  assert.equal(registryErrorText("plain"), "plain");
  assert.equal(proxyBase("http://127.0.0.1:8080", "https://registry-1.docker.io"), "http://127.0.0.1:8080/proxy/registry-1.docker.io");
  assert.equal(proxyBase("http://127.0.0.1:8080", "http://localhost:5000"), "http://127.0.0.1:8080/proxy/localhost:5000");
});
