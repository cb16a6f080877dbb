// A Cloudflare Worker that gets registry tokens for a dashboard, so the dashboard's browser never
// has to talk to registries (which send no CORS headers) or hold registry credentials.
//
//   GET /token?image=alpine:3.19   → {"token": "…", "expiresAt": 1767225600000, "scope": ["repository:library/alpine:pull"]}
//   GET /tags?image=ghcr.io/o/r    → {"name": "o/r", "tags": ["1.0", …]}  (the registry's tags/list, fetched with a token)
//
// Errors come back as {"error": {"code", "status", "message"}} with 400 for a bad reference,
// 403 for a registry that is not in ALLOWED_REGISTRIES (REGISTRY_NOT_ALLOWED: nothing is sent
// anywhere) or when the registry refuses the credentials, 500 when the Worker is misconfigured
// (CONFIGURATION), 504 on a timeout, else 502. Every answer carries CORS headers for
// ALLOWED_ORIGIN.
//
// Configuration (wrangler.jsonc `vars`; `wrangler secret put` for REGISTRY_CREDENTIALS):
//   ALLOWED_ORIGIN        the dashboard's origin; "*" allows any (default "*")
//   ALLOWED_REGISTRIES    required: the registries this Worker may contact, separated by commas, as
//                         parseReference(image).domain names them ("docker.io,ghcr.io,127.0.0.1:5000").
//                         Unset or empty: every /token and /tags answers 500 CONFIGURATION.
//   REGISTRY_CREDENTIALS  optional secret: a JSON object from registry name to {"username","password"}
//                         or {"refreshToken"}, e.g. {"ghcr.io": {"username": "me", "password": "ghp_…"}}.
//                         Each entry is used for its own registry only (the library's `credentials`).
import { parseReference, RegistryClient } from "registry-token";

/** How long the tags request may take; the token request has its own timeout (the client's). */
const TAGS_TIMEOUT_MS = 15_000;

/** Docker Hub's other names: parseReference keeps index.docker.io as docker.io already. */
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

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

    const config = configFor(env);
    if (config.error) return json({ error: { code: "CONFIGURATION", message: config.error } }, 500, cors);
    if (!image) return json({ error: { code: "INVALID_REFERENCE", message: "the image query parameter is required" } }, 400, cors);

    try {
      // Decided before anything is sent: a registry that is not allowed gets no request at all.
      const registry = registryOf(parseReference(image).domain);
      if (!config.allowed.has(registry)) {
        return json({ error: { code: "REGISTRY_NOT_ALLOWED", message: `registry ${JSON.stringify(registry)} is not in this Worker's ALLOWED_REGISTRIES` } }, 403, cors);
      }
      // Pull only: this endpoint hands tokens to browsers; never push rights.
      const auth = await config.client.authorize(image, { actions: ["pull"] });
      if (url.pathname === "/token") {
        return json({ token: auth.token, expiresAt: auth.expiresAt, scope: auth.scope }, 200, { ...cors, "Cache-Control": "no-store" });
      }
      return await tags(auth, cors);
    } catch (err) {
      return errorResponse(err, cors);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Configuration, parsed once per isolate

let cached = null; // { allowedText, credentialsText, config }

/**
 * { allowed: Set<registry>, client } or { error: message }. One RegistryClient per isolate: its
 * token cache, challenge cache and in-flight sharing then serve every request this isolate
 * handles, until Cloudflare recycles it. Parsed again only if the configuration text changes.
 */
function configFor(env) {
  const allowedText = env.ALLOWED_REGISTRIES ?? "";
  const credentialsText = env.REGISTRY_CREDENTIALS ?? "";
  if (cached?.allowedText === allowedText && cached.credentialsText === credentialsText) return cached.config;
  let config;
  try {
    const allowed = parseAllowedRegistries(allowedText);
    const table = parseCredentials(credentialsText);
    config = {
      allowed,
      // The function form: the library asks with the image's own registry, and only an allowed
      // registry's entry is ever handed out.
      client: new RegistryClient({
        timeoutMs: 15_000,
        credentials: (registry) => {
          if (typeof registry !== "string") return null;
          const name = registryOf(registry);
          return allowed.has(name) ? table.get(name) ?? null : null;
        },
      }),
    };
  } catch (err) {
    // A ConfigError never quotes a secret; neither does a RegistryAuthError (the library scrubs).
    if (!(err instanceof ConfigError) && err?.name !== "RegistryAuthError") throw err;
    const message = err instanceof ConfigError ? err.message : `the library refused the configuration: ${err.message}`;
    console.error(`registry-token worker: ${message}`);
    config = { error: message };
  }
  cached = { allowedText, credentialsText, config };
  return config;
}

class ConfigError extends Error {}

/** The name a registry goes by here: lower-case, Docker Hub's aliases as "docker.io". */
function registryOf(domain) {
  const name = domain.toLowerCase();
  return DOCKER_HUB_ALIASES.has(name) ? "docker.io" : name;
}

/** A registry name as configured ("ghcr.io", "127.0.0.1:5000") → its normal form, or null. */
function registryName(text) {
  const name = registryOf(text.trim());
  if (!name || /[/@\s]/.test(name)) return null;
  try {
    // A bare word ("foo") would name a Docker Hub repository, not a registry: refused.
    return registryOf(parseReference(`${name}/x`).domain) === name ? name : null;
  } catch {
    return null;
  }
}

function parseAllowedRegistries(text) {
  const entries = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (!entries.length) {
    throw new ConfigError('ALLOWED_REGISTRIES is not set: name the registries this Worker may contact, separated by commas (e.g. "docker.io,ghcr.io")');
  }
  const allowed = new Set();
  for (const entry of entries) {
    const name = registryName(entry);
    if (!name) throw new ConfigError(`ALLOWED_REGISTRIES: ${JSON.stringify(entry.slice(0, 100))} is not a registry name (e.g. "docker.io", "ghcr.io", "127.0.0.1:5000")`);
    allowed.add(name);
  }
  return allowed;
}

/**
 * REGISTRY_CREDENTIALS → Map<registry, {username, password} | {refreshToken}>. It is a secret:
 * no error quotes any of it except registry names that parsed as registry names.
 */
function parseCredentials(text) {
  const table = new Map();
  if (!text.trim()) return table;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text: never passed on.
    throw new ConfigError('REGISTRY_CREDENTIALS is not valid JSON (its text is not shown: it is a secret). Expected {"<registry>": {"username": "…", "password": "…"} | {"refreshToken": "…"}, …}');
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError('REGISTRY_CREDENTIALS must be a JSON object: {"<registry>": {"username": "…", "password": "…"} | {"refreshToken": "…"}, …}');
  }
  for (const [key, entry] of Object.entries(value)) {
    const name = registryName(key);
    if (!name) throw new ConfigError('REGISTRY_CREDENTIALS: a key is not a registry name (e.g. "docker.io", "ghcr.io", "127.0.0.1:5000"); the key is not shown');
    if (table.has(name)) throw new ConfigError(`REGISTRY_CREDENTIALS: two entries for ${JSON.stringify(name)}`);
    table.set(name, credentialOf(name, entry));
  }
  return table;
}

function credentialOf(name, entry) {
  const shape = `REGISTRY_CREDENTIALS[${JSON.stringify(name)}] must be {"username": "…", "password": "…"} or {"refreshToken": "…"} with non-empty strings and no other keys`;
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw new ConfigError(shape);
  const keys = Object.keys(entry).sort().join(",");
  const filled = (v) => typeof v === "string" && v.length > 0;
  if (keys === "password,username" && filled(entry.username) && filled(entry.password)) {
    return { username: entry.username, password: entry.password };
  }
  if (keys === "refreshToken" && filled(entry.refreshToken)) return { refreshToken: entry.refreshToken };
  throw new ConfigError(shape);
}

// ---------------------------------------------------------------------------------------------
// Answers

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
