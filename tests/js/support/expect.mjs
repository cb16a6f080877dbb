// Assertions shared by the package suites: the RegistryAuthError contract of issue 2, expiry
// windows, and a fetch wrapper that records where requests went (URLs only, never headers).
import assert from "node:assert/strict";

export const ERROR_CODES = [
  "INVALID_REFERENCE",
  "INVALID_CHALLENGE",
  "NETWORK",
  "NO_CHALLENGE",
  "UNSUPPORTED_CHALLENGE",
  "UNAUTHORIZED",
  "TOKEN_ENDPOINT",
  "BAD_TOKEN_RESPONSE",
  "INSECURE_REALM",
  "TIMEOUT",
  "ABORTED",
  // The registry calls (issue 10).
  "NOT_FOUND",
  "RATE_LIMITED",
  "DIGEST_MISMATCH",
  "UNSUPPORTED_OPERATION",
  "REGISTRY_ERROR",
  "BAD_REGISTRY_RESPONSE",
];

/** Recognisable secrets: if one shows up in an error, a test fails without printing it. */
export const PASSWORD = "hunter2-PASSWORD-must-not-leak";
export const REFRESH_TOKEN = "rt-REFRESH-TOKEN-must-not-leak";

/** Every text an error exposes: message, String(), stack, and the same for its causes. */
function errorTexts(err, depth = 0) {
  if (!err || typeof err !== "object" || depth > 3) return [String(err ?? "")];
  const own = [String(err.message ?? ""), String(err.stack ?? ""), safeString(err)];
  if (err.errors !== undefined) own.push(JSON.stringify(err.errors)); // the registry's entries, as handed over
  return err.cause === undefined ? own : [...own, ...errorTexts(err.cause, depth + 1)];
}

function safeString(v) {
  try {
    return String(v);
  } catch {
    return "";
  }
}

/** Fails (without echoing the secret) when any of `secrets` appears in the error's texts. */
export function assertNoSecrets(err, secrets = [PASSWORD, REFRESH_TOKEN]) {
  const texts = errorTexts(err);
  secrets.forEach((secret, i) => {
    assert.ok(!texts.some((t) => t.includes(secret)), `secret #${i} appears in the ${err?.code} error's message, stack, errors or cause`);
  });
}

/**
 * Checks the RegistryAuthError contract: an Error, name "RegistryAuthError", the expected code,
 * `status` when given (undefined: not checked), the message matching `message` when given, no
 * secret in any text. Returns the error for further checks.
 */
export function assertRegistryError(err, code, { status, message, secrets } = {}) {
  assert.ok(err instanceof Error, `expected an Error instance, got ${Object.prototype.toString.call(err)}`);
  assert.equal(err.name, "RegistryAuthError");
  assert.ok(ERROR_CODES.includes(err.code), `code ${String(err.code)} is not one of the contract's codes`);
  assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
  if (status !== undefined) assert.equal(err.status, status, `status of ${code}`);
  if (message !== undefined) assert.match(err.message, message);
  assertNoSecrets(err, secrets);
  return err;
}

/** Awaits a promise (or calls an async fn) that must reject with a RegistryAuthError `code`. */
export async function rejectsWith(promiseOrFn, code, opts) {
  let err;
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a rejection with ${code}, but it resolved`);
  return assertRegistryError(err, code, opts);
}

/** Calls a sync fn that must throw a RegistryAuthError `code`. */
export function throwsWith(fn, code, opts) {
  let err;
  let threw = false;
  try {
    fn();
  } catch (e) {
    err = e;
    threw = true;
  }
  assert.ok(threw, `expected a throw with ${code}`);
  return assertRegistryError(err, code, opts);
}

/**
 * `expiresAt` is about `seconds` after receipt: between t0 + 75 % of it (a client may report
 * its early-refresh point) and t1 + seconds (+1 s slack).
 */
export function assertExpiresIn(auth, seconds, t0, t1) {
  assert.equal(typeof auth.expiresAt, "number", "expiresAt is a number");
  const low = t0 + seconds * 1000 * 0.75;
  const high = t1 + seconds * 1000 + 1000;
  assert.ok(
    auth.expiresAt >= low && auth.expiresAt <= high,
    `expiresAt is ${((auth.expiresAt - t0) / 1000).toFixed(1)} s after the call; expected about ${seconds} s`,
  );
}

/** A fetch that records each URL it is asked for, then delegates to `inner` (the global fetch). */
export function recordingFetch(inner = globalThis.fetch) {
  const urls = [];
  const fn = (input, init) => {
    urls.push(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    return inner(input, init);
  };
  fn.urls = urls;
  return fn;
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
