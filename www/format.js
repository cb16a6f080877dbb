// Pure helpers of the demo page (no DOM), also imported by tests/demo/format.test.mjs.

/** "eyJhbGciOi…Xk3Q" — enough to recognise a token without putting all of it on screen. */
export function truncateToken(token, head = 24, tail = 8) {
  if (typeof token !== "string") return "";
  return token.length <= head + tail + 1 ? token : `${token.slice(0, head)}…${token.slice(-tail)}`;
}

function base64UrlToText(part) {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/**
 * The header and claims of a JWS compact token (RFC 7515 §7.1), without checking the signature:
 * only the registry can do that. null when `token` is not a JWT (opaque tokens are common).
 */
export function decodeJwt(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return null;
  try {
    const header = JSON.parse(base64UrlToText(parts[0]));
    const claims = JSON.parse(base64UrlToText(parts[1]));
    if (!header || typeof header !== "object" || !claims || typeof claims !== "object") return null;
    return { header, claims };
  } catch {
    return null;
  }
}

/**
 * A JWT header for display: `x5c` certificate chains are thousands of characters of base64, so
 * each entry is shortened.
 */
export function displayHeader(header) {
  if (!Array.isArray(header?.x5c)) return header;
  return { ...header, x5c: header.x5c.map((c) => (typeof c === "string" ? `${c.slice(0, 16)}… (${c.length} chars)` : c)) };
}

/** Claims for display, with the NumericDate claims (RFC 7519 §4.1.4–6) also shown as ISO times. */
export function displayClaims(claims) {
  const out = { ...claims };
  for (const k of ["exp", "nbf", "iat"]) {
    if (typeof claims[k] === "number") out[k] = `${claims[k]} (${new Date(claims[k] * 1000).toISOString()})`;
  }
  return out;
}

/** Remaining time as "4:59" or "1:02:03"; "expired" at or below zero. */
export function formatRemaining(ms) {
  if (!(ms > 0)) return "expired";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * Splits a library error message into what happened and the browser/CORS advice the library
 * appends (". In a browser this is also how a missing CORS header shows: …").
 */
export function splitHint(message) {
  const text = String(message ?? "");
  const at = text.search(/In a browser|\bCORS\b|Access-Control-/);
  if (at < 0) return { message: text, hint: null };
  const cut = text.lastIndexOf(". ", at);
  if (cut < 0) return { message: text, hint: null };
  return { message: text.slice(0, cut + 1), hint: text.slice(cut + 2) };
}

/** What a request made by the library is for: the `/v2/` ping is the challenge, the rest go to the realm. */
export function requestKind(url) {
  try {
    return new URL(url).pathname.endsWith("/v2/") ? "challenge" : "token";
  } catch {
    return "token";
  }
}

/**
 * A `fetch` to pass as `options.fetch`: calls the real one and records each request's kind,
 * method, URL, status (0 when it failed) and start/duration in ms into `log`.
 */
export function recordingFetch(log, realFetch = globalThis.fetch, clock = () => performance.now()) {
  const t0 = clock();
  return async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const entry = { kind: requestKind(url), method: init.method ?? "GET", url, status: null, start: clock() - t0, ms: null, error: null };
    log.push(entry);
    try {
      const res = await realFetch(input, init);
      entry.status = res.status;
      return res;
    } catch (err) {
      entry.status = 0;
      entry.error = err?.message ?? String(err);
      throw err;
    } finally {
      entry.ms = clock() - t0 - entry.start;
    }
  };
}

/** The registry's own words from a distribution error body `{"errors":[{code,message,detail}]}`. */
export function registryErrorText(body) {
  try {
    const errors = JSON.parse(body)?.errors;
    if (Array.isArray(errors) && errors.length) return errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
  } catch { /* not JSON */ }
  return String(body ?? "").slice(0, 200);
}

/** The dev proxy base URL for a registry base URL, e.g. https://registry-1.docker.io → <origin>/proxy/registry-1.docker.io. */
export function proxyBase(origin, registryUrl) {
  return `${origin}/proxy/${new URL(registryUrl).host}`;
}
