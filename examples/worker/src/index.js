// A Cloudflare Worker that gets registry tokens for a dashboard, so the dashboard's browser never
// has to talk to registries (which send no CORS headers) or hold registry credentials.
//
//   GET /token?image=alpine:3.19   → {"token": "…", "expiresAt": 1767225600000, "scope": ["repository:library/alpine:pull"]}
//   GET /tags?image=ghcr.io/o/r    → {"name": "o/r", "tags": ["1.0", …]}  (the registry's tags/list, fetched with a token)
//
// Errors come back as {"error": {"code", "status", "message"}} with 400 for a bad reference,
// 403 when the registry refuses the credentials, 504 on a timeout, else 502. Every answer carries
// CORS headers for ALLOWED_ORIGIN.
//
// Configuration (wrangler.jsonc `vars`, or `wrangler secret put` for the password):
//   ALLOWED_ORIGIN       the dashboard's origin; "*" allows any (default "*")
//   REGISTRY_USERNAME    optional: sent to every registry this Worker contacts
//   REGISTRY_PASSWORD    optional (a secret)
import { RegistryClient } from "registry-token";

// One client per isolate: its token cache, challenge cache and in-flight sharing then serve every
// request this isolate handles, until Cloudflare recycles it.
const client = new RegistryClient({ timeoutMs: 15_000 });

/** How long the tags request may take; the token request has its own timeout above. */
const TAGS_TIMEOUT_MS = 15_000;

export default {
  async fetch(request, env) {
    const cors = corsHeaders(request, env);
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    if (request.method !== "GET") return json({ error: { code: "METHOD_NOT_ALLOWED", message: "GET only" } }, 405, { ...cors, Allow: "GET, OPTIONS" });

    const url = new URL(request.url);
    const image = url.searchParams.get("image");
    if (url.pathname !== "/token" && url.pathname !== "/tags") {
      return json({ error: { code: "NOT_FOUND", message: "use GET /token?image=… or GET /tags?image=…" } }, 404, cors);
    }
    if (!image) return json({ error: { code: "INVALID_REFERENCE", message: "the image query parameter is required" } }, 400, cors);

    const options = {};
    if (env.REGISTRY_USERNAME) {
      options.username = env.REGISTRY_USERNAME;
      options.password = env.REGISTRY_PASSWORD ?? "";
    }
    try {
      // Pull only: this endpoint hands tokens to browsers; never push rights.
      const auth = await client.authorize(image, { ...options, actions: ["pull"] });
      if (url.pathname === "/token") {
        return json({ token: auth.token, expiresAt: auth.expiresAt, scope: auth.scope }, 200, { ...cors, "Cache-Control": "no-store" });
      }
      return await tags(auth, cors);
    } catch (err) {
      return errorResponse(err, cors);
    }
  },
};

/** GET <registry>/v2/<repository>/tags/list with the token (distribution spec, "Listing Tags"). */
async function tags(auth, cors) {
  const headers = { Accept: "application/json" };
  if (auth.authorization) headers.Authorization = auth.authorization;
  const res = await fetch(`${auth.registry}/v2/${auth.repository}/tags/list`, { headers, signal: AbortSignal.timeout(TAGS_TIMEOUT_MS) });
  const body = await res.text();
  if (!res.ok) {
    return json({ error: { code: "REGISTRY", status: res.status, message: `tags/list answered ${res.status}: ${body.slice(0, 300)}` } }, 502, cors);
  }
  let list;
  try {
    list = JSON.parse(body);
  } catch {
    return json({ error: { code: "REGISTRY", status: res.status, message: "tags/list answered something that is not JSON" } }, 502, cors);
  }
  return json({ name: list.name ?? auth.repository, tags: list.tags ?? [] }, 200, { ...cors, "Cache-Control": "no-store" });
}

function errorResponse(err, cors) {
  if (err?.name !== "RegistryAuthError") {
    const timeout = err?.name === "TimeoutError";
    return json({ error: { code: timeout ? "TIMEOUT" : "NETWORK", message: String(err?.message ?? err) } }, timeout ? 504 : 502, cors);
  }
  const status = { INVALID_REFERENCE: 400, UNAUTHORIZED: 403, TIMEOUT: 504 }[err.code] ?? 502;
  const error = { code: err.code, message: err.message };
  if (err.status) error.status = err.status;
  return json({ error }, status, cors);
}

function corsHeaders(request, env) {
  const allowed = env.ALLOWED_ORIGIN || "*";
  const origin = request.headers.get("Origin");
  const headers = {
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
  };
  if (allowed === "*") headers["Access-Control-Allow-Origin"] = "*";
  else if (origin && allowed.split(",").map((s) => s.trim()).includes(origin)) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers.Vary = "Origin";
  } else headers.Vary = "Origin";
  return headers;
}

function json(value, status, headers) {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json; charset=utf-8", ...headers } });
}
