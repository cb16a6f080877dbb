// A Cloudflare Worker that is a dashboard's backend for registries without CORS: it makes the
// registry calls the browser cannot make (Docker Hub, GHCR and most registries send no CORS
// headers), with the registry credentials kept here, never in the page.
//
//   GET /token?image=alpine:3.19                → {"token", "expiresAt", "scope"}
//   GET /tags?image=ghcr.io/o/r[&limit&pageSize] → {"name", "tags", "pages", "truncated"}  (every page)
//   GET /manifest?image=…[&platform=linux/arm64] → {"digest", "mediaType", "size", "manifest", "platforms"?, "index"?}
//   GET /config?image=…[&platform=…]            → {"digest", "config"}  (the OCI image config)
//   GET /catalog?registry=ghcr.io[&limit&pageSize] → {"registry", "repositories", "truncated"}
//
// Errors are {"code", "message", "status"?, "retryAfter"?}: 400 bad input (INVALID_REFERENCE,
// INVALID_PARAMETER), 401/403 refused by the registry (403 when this Worker's own credentials were
// refused), 403 REGISTRY_NOT_ALLOWED (nothing sent anywhere), 404 NOT_FOUND, 429 RATE_LIMITED with
// Retry-After, 500 CONFIGURATION, 504 on a timeout, else 502. See README.md next to this file.
//
// Configuration (wrangler.jsonc `vars`; `wrangler secret put` for REGISTRY_CREDENTIALS):
//   ALLOWED_ORIGIN        the dashboard's origin(s), comma-separated; "*" allows any page (default "*")
//   ALLOWED_REGISTRIES    required: the registries this Worker may contact, separated by commas, as
//                         parseReference(image).domain names them ("docker.io,ghcr.io,127.0.0.1:5000").
//                         Unset or empty: every registry endpoint answers 500 CONFIGURATION.
//   REGISTRY_CREDENTIALS  optional secret: a JSON object from registry name to {"username","password"}
//                         or {"refreshToken"}, e.g. {"ghcr.io": {"username": "me", "password": "ghp_…"}}.
//                         Each entry is used for its own registry only (the library's `credentials`).
//   TOKENS                optional KV namespace binding (wrangler.jsonc `kv_namespaces`): tokens shared
//                         by every isolate of this Worker (the library's `kvStore`). Without it each
//                         isolate asks the registry for its own tokens.
import { kvStore, parseReference, RegistryClient } from "registry-token";

/** One registry call (token included); the library's `timeoutMs`. */
const CALL_TIMEOUT_MS = 15_000;
/** A whole listing, every page of it. */
const LIST_TIMEOUT_MS = 60_000;
/** The most tags or repositories one answer holds (`limit`'s default and maximum). */
const MAX_LIST = 50_000;
/** The most a page may ask for (`pageSize`; the library's default is 1000 too). */
const MAX_PAGE_SIZE = 1000;
/** Longer than any valid reference (255-character name, 128-character tag, sha512 digest). */
const MAX_IMAGE_LENGTH = 1024;

/** Docker Hub's other names: parseReference keeps index.docker.io as docker.io already. */
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** Path → the query parameters it takes and what answers it. `target` names the registry's source. */
const ROUTES = new Map([
  ["/token", { params: ["image"], target: "image", answer: token }],
  ["/tags", { params: ["image", "limit", "pageSize"], target: "image", answer: tags }],
  ["/manifest", { params: ["image", "platform"], target: "image", answer: manifest }],
  ["/config", { params: ["image", "platform"], target: "image", answer: imageConfig }],
  ["/catalog", { params: ["registry", "limit", "pageSize"], target: "registry", answer: catalog }],
]);

export default {
  async fetch(request, env, ctx) {
    const cors = corsHeaders(request, env);
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: cors });
    if (request.method !== "GET") return json({ code: "METHOD_NOT_ALLOWED", message: "GET only" }, 405, { ...cors, Allow: "GET, OPTIONS" });

    const url = new URL(request.url);
    const route = ROUTES.get(url.pathname);
    if (!route) return json({ code: "NOT_FOUND", message: `no such endpoint: use GET ${[...ROUTES.keys()].join(", ")}` }, 404, cors);

    const config = configFor(env);
    if (config.error) return json({ code: "CONFIGURATION", message: config.error }, 500, cors);

    let registry = null;
    try {
      const query = readQuery(url.searchParams, route);
      // Decided before anything is sent: a registry that is not allowed gets no request at all.
      registry = query.registry ?? registryOf(parseReference(query.image).domain);
      if (!config.allowed.has(registry)) {
        const message = `registry ${JSON.stringify(registry)} is not in this Worker's ALLOWED_REGISTRIES`;
        return json({ code: "REGISTRY_NOT_ALLOWED", message }, 403, cors);
      }
      // The store write after a token request outlives the response only through waitUntil.
      const call = ctx ? { waitUntil: (p) => ctx.waitUntil(p) } : {};
      return json(await route.answer(config.client, query, call), 200, cors);
    } catch (err) {
      return errorResponse(err, cors, registry !== null && config.credentialed.has(registry));
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Endpoints: each gets the isolate's client, the validated query and the request's own call
// options (`waitUntil`), and returns the JSON body.
// Pull only, everywhere: these answers go to browsers, and no endpoint pushes or deletes.

async function token(client, { image }, call) {
  const auth = await client.authorize(image, { ...call, actions: ["pull"] });
  return { token: auth.token, expiresAt: auth.expiresAt, scope: auth.scope };
}

/** Every page of tags/list (the registry's `Link` paging), up to `limit`. */
async function tags(client, { image, limit = MAX_LIST, pageSize }, call) {
  const all = [];
  let pages = 0;
  // One more than asked for: tells a complete list from a cut one.
  for await (const page of client.tagPages(image, { ...call, limit: limit + 1, pageSize, signal: AbortSignal.timeout(LIST_TIMEOUT_MS) })) {
    pages += 1;
    all.push(...page);
  }
  return { name: parseReference(image).path, tags: all.slice(0, limit), pages, truncated: all.length > limit };
}

/** The manifest (index or image), digest checked; `platforms` lists an index's runnable entries. */
async function manifest(client, { image, platform }, call) {
  const m = await client.getManifest(image, { ...call, platform });
  return { digest: m.digest, mediaType: m.mediaType, size: m.size, manifest: m.manifest, platforms: m.platforms, index: m.index };
}

async function imageConfig(client, { image, platform }, call) {
  const { digest, config } = await client.getImageConfig(image, { ...call, platform });
  return { digest, config };
}

async function catalog(client, { registry, limit = MAX_LIST, pageSize }, call) {
  const all = await client.catalog(registry, { ...call, limit: limit + 1, pageSize, signal: AbortSignal.timeout(LIST_TIMEOUT_MS) });
  return { registry, repositories: all.slice(0, limit), truncated: all.length > limit };
}

// ---------------------------------------------------------------------------------------------
// Query parameters

/** A request the Worker refuses before sending anything: 4xx with its own code. */
class RequestError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const badParameter = (message) => new RequestError(400, "INVALID_PARAMETER", message);

/** The route's parameters, checked: unknown or repeated ones, ranges, shapes. */
function readQuery(params, route) {
  const query = {};
  for (const name of new Set(params.keys())) {
    if (!route.params.includes(name)) {
      throw badParameter(`unknown query parameter ${JSON.stringify(name.slice(0, 40))}: this endpoint takes ${route.params.join(", ")}`);
    }
    if (params.getAll(name).length > 1) throw badParameter(`the ${name} query parameter is given more than once`);
  }
  const target = params.get(route.target);
  if (!target) throw new RequestError(400, "INVALID_REFERENCE", `the ${route.target} query parameter is required`);
  if (route.target === "image") {
    if (target.length > MAX_IMAGE_LENGTH) throw new RequestError(400, "INVALID_REFERENCE", `image is longer than ${MAX_IMAGE_LENGTH} characters`);
    query.image = target;
  } else {
    query.registry = registryName(target);
    if (!query.registry) {
      throw new RequestError(400, "INVALID_REFERENCE", 'registry must be a registry name such as "docker.io", "ghcr.io" or "127.0.0.1:5000"');
    }
  }
  if (params.has("limit")) query.limit = integerParam(params, "limit", 1, MAX_LIST);
  if (params.has("pageSize")) query.pageSize = integerParam(params, "pageSize", 1, MAX_PAGE_SIZE);
  if (params.has("platform")) {
    const platform = params.get("platform");
    // os/architecture[/variant], as the library reads it ("linux/arm64", "linux/arm/v7").
    if (!/^[a-z0-9._-]{1,40}\/[a-z0-9._-]{1,40}(\/[a-z0-9._-]{1,40})?$/i.test(platform)) {
      throw badParameter('platform must be os/architecture[/variant], such as "linux/amd64" or "linux/arm/v7"');
    }
    query.platform = platform;
  }
  return query;
}

function integerParam(params, name, min, max) {
  const text = params.get(name);
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw badParameter(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Configuration, parsed once per isolate

let cached = null; // { allowedText, credentialsText, hasStore, config }

/**
 * { allowed: Set<registry>, credentialed: Set<registry>, client } or { error: message }. One
 * RegistryClient per isolate: its token cache, challenge cache and in-flight sharing then serve
 * every request this isolate handles, until Cloudflare recycles it (workerd has no
 * FinalizationRegistry, so a client per request would never be freed). Parsed again only if the
 * configuration text changes.
 */
function configFor(env) {
  const allowedText = env.ALLOWED_REGISTRIES ?? "";
  const credentialsText = env.REGISTRY_CREDENTIALS ?? "";
  const hasStore = Boolean(env.TOKENS);
  if (cached?.allowedText === allowedText && cached.credentialsText === credentialsText && cached.hasStore === hasStore) return cached.config;
  let config;
  try {
    const allowed = parseAllowedRegistries(allowedText);
    const table = parseCredentials(credentialsText);
    config = {
      allowed,
      // Registries whose credentials this Worker holds: a refusal there is 403, else 401.
      credentialed: new Set([...table.keys()].filter((name) => allowed.has(name))),
      client: makeClient(allowed, table, hasStore ? kvStore(env.TOKENS) : undefined),
    };
  } catch (err) {
    // A ConfigError never quotes a secret; neither does a RegistryAuthError (the library scrubs).
    if (!(err instanceof ConfigError) && err?.name !== "RegistryAuthError") throw err;
    const message = err instanceof ConfigError ? err.message : `the library refused the configuration: ${err.message}`;
    console.error(`registry-token worker: ${message}`);
    config = { error: message };
  }
  cached = { allowedText, credentialsText, hasStore, config };
  return config;
}

/**
 * The isolate's client. Its options are the one place for what every call shares, such as the
 * token store shared between isolates: `tokenStore: kvStore(env.TOKENS)` when the Worker has the
 * TOKENS binding, so a new isolate finds the tokens the others fetched instead of asking the
 * registry again (keys are opaque hashes, values hold no credential). Its per-request half,
 * `waitUntil: (p) => ctx.waitUntil(p)`, goes with each call, as `ctx` is the request's.
 */
function makeClient(allowed, table, tokenStore) {
  return new RegistryClient({
    timeoutMs: CALL_TIMEOUT_MS,
    tokenStore,
    // The function form: the library asks with the image's own registry, and only an allowed
    // registry's entry is ever handed out.
    credentials: (registry) => {
      if (typeof registry !== "string") return null;
      const name = registryOf(registry);
      return allowed.has(name) ? table.get(name) ?? null : null;
    },
  });
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

/** HTTP status for each library error code; any other code is 502 (the registry's fault). */
const STATUS_OF_CODE = { INVALID_REFERENCE: 400, NOT_FOUND: 404, RATE_LIMITED: 429, TIMEOUT: 504, ABORTED: 504 };

/**
 * An error → {code, message, status?, retryAfter?}. The library's messages are scrubbed of
 * secrets; anything else is this Worker's own bug and is answered without its text.
 * `credentialed`: this Worker holds credentials for the registry, so UNAUTHORIZED means they were
 * refused (403); without any, the registry wants some (401).
 */
function errorResponse(err, cors, credentialed) {
  if (err instanceof RequestError) return json({ code: err.code, message: err.message }, err.status, cors);
  if (err?.name !== "RegistryAuthError") {
    console.error("registry-token worker: unexpected error", err);
    return json({ code: "INTERNAL", message: "the Worker failed unexpectedly (see its logs)" }, 500, cors);
  }
  let status = STATUS_OF_CODE[err.code] ?? 502;
  if (err.code === "UNAUTHORIZED") status = credentialed ? 403 : 401;
  // The token server's own rate limit is one too.
  if (err.code === "TOKEN_ENDPOINT" && err.status === 429) status = 429;
  const body = { code: err.code, message: err.message };
  if (typeof err.status === "number") body.status = err.status;
  const headers = { ...cors };
  if (typeof err.retryAfter === "string" && err.retryAfter) {
    body.retryAfter = err.retryAfter;
    if (status === 429) headers["Retry-After"] = err.retryAfter;
  }
  return json(body, status, headers);
}

/**
 * CORS for ALLOWED_ORIGIN. A listed origin is echoed, with Allow-Credentials so the dashboard can
 * send its own cookies or Authorization (Cloudflare Access); any other origin gets no
 * Access-Control-Allow-Origin. "*" answers every origin with "*" and never with Allow-Credentials
 * (browsers refuse that pair). Retry-After is exposed so a page can read it on a 429.
 */
function corsHeaders(request, env) {
  const allowed = (env.ALLOWED_ORIGIN || "*").split(",").map((s) => s.trim().replace(/\/$/, "")).filter(Boolean);
  const headers = {
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Expose-Headers": "Retry-After",
    "Access-Control-Max-Age": "600",
  };
  if (allowed.includes("*")) {
    headers["Access-Control-Allow-Origin"] = "*";
    return headers;
  }
  headers.Vary = "Origin";
  const origin = request.headers.get("Origin");
  if (origin && allowed.includes(origin)) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Access-Control-Allow-Credentials"] = "true";
  }
  return headers;
}

function json(value, status, headers) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}
