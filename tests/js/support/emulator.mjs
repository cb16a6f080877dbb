// An emulated Docker/OCI registry and token server on 127.0.0.1, for the package tests.
//
// `startEmulator(preset | config)` listens on an ephemeral port (and, for presets whose realm lives
// on another origin such as Docker Hub's auth.docker.io, on a second one) and answers:
//   GET /v2/          200, or 401 with zero, one or several `WWW-Authenticate` header lines
//   <token path>      the token endpoint: per-method status, body shapes, redirects, delay
//   OPTIONS *         CORS preflight (with `cors: true`), else 401 as distribution does
// and keeps a request log whose entries never hold a secret in clear: passwords, refresh tokens
// and Authorization credentials are replaced by `secretDigest(value)`, so a failing
// `assert.deepEqual` on a log entry cannot print one.
//
// The presets encode the team's registry-facts.md (section 2, "Per-registry facts"): each says
// which facts it emulates. Placeholders in challenges and redirect targets: {origin} (registry base URL),
// {host} ("127.0.0.1:PORT"), {auth} / {authHost} (the token origin; same as the registry unless
// `separateAuth`).

import { createHash } from "node:crypto";
import { createServer } from "node:http";

/** What the log shows in place of a secret: a short SHA-256, comparable but not reversible. */
export function secretDigest(value) {
  return `sha256:${createHash("sha256").update(String(value)).digest("hex").slice(0, 16)}`;
}

/** The `Authorization` value HTTP Basic gives for these credentials. */
export function basicAuth(username, password) {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** A loopback port on which nothing listens (bound, then closed): "connection refused". */
export async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const DISTRIBUTION_ERRORS = {
  400: ["UNSUPPORTED", "The operation is unsupported."],
  401: ["UNAUTHORIZED", "authentication required"],
  403: ["DENIED", "requested access to the resource is denied"],
  404: ["NOT_FOUND", "404 page not found"],
  405: ["UNSUPPORTED", "The operation is unsupported."],
  429: ["TOOMANYREQUESTS", "too many requests"],
  500: ["UNKNOWN", "unknown error"],
  503: ["UNAVAILABLE", "service unavailable"],
};

/** Form and query keys whose values are secrets: the log keeps only their digest. */
const SECRET_KEYS = new Set(["password", "refresh_token", "client_secret", "access_token", "token"]);

/**
 * The base every config is merged over: a generic distribution-style registry with a Bearer
 * challenge on its own origin and a token server that speaks both GET and OAuth2 POST.
 */
const BASE = {
  name: "emulator",
  cors: false,
  separateAuth: false,
  headers: {},
  ping: {
    status: 401,
    challenge: 'Bearer realm="{auth}/token",service="emulator"',
    delayMs: 0,
  },
  token: {
    origin: "registry", // "registry" | "auth": which listener serves the endpoint
    path: "/token",
    delayMs: 0,
    redirect: null, // { status: 307, to: "/elsewhere" | "http://other/token" }
    users: null, // { name: password }: creds checked when set; wrong ones → 401
    anonymous: true, // false: requests without credentials → 401
    methods: { GET: { status: 200 }, POST: { status: 200 } }, // a null or absent method → 405
    // Success shape, shared by every method; a `methods[METHOD]` entry may override any key.
    fields: ["token"], // which of "token" / "access_token" carry the token
    expiresIn: 300, // null: omitted
    issuedAt: null, // "now" | an RFC 3339 string | null
    refreshToken: null, // "offline": issued when access_type=offline; a string: always that
    scope: null, // "echo": the requested scope, space-joined; a string: that
    body: undefined, // overrides the shape: object | string | Buffer | (entry, { token }) => …
    contentType: "application/json",
    errorBody: "distribution", // "distribution" | "details" | "text" | "html" | object | string | fn
    errorMessage: undefined, // the server's words in the error body
    headers: {}, // extra headers on token responses, e.g. a WWW-Authenticate with RFC 6750 error
  },
};

const NOT_FOUND_HTML =
  '<!DOCTYPE html>\n<html lang=en><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins></html>\n';

/**
 * Registries named in issue 2, as registry-facts.md describes them. Each is a partial config
 * merged over BASE.
 */
export const presets = {
  /** Docker Hub: realm on auth.docker.io (a separate origin), no scope on /v2/, token +
   *  access_token + expires_in 300 + issued_at on GET; bad credentials → 401 {"details":…}.
   *  POST answers as distribution's oauth.md shows for auth.docker.io (access_token, scope,
   *  expires_in 900, refresh_token with access_type=offline). */
  dockerhub: {
    name: "dockerhub",
    separateAuth: true,
    ping: { challenge: 'Bearer realm="{auth}/token",service="registry.docker.io"' },
    token: {
      origin: "auth",
      fields: ["token", "access_token"],
      expiresIn: 300,
      issuedAt: "now",
      errorBody: "details",
      errorMessage: "incorrect username or password",
      methods: {
        GET: { status: 200 },
        POST: { status: 200, fields: ["access_token"], expiresIn: 900, scope: "echo", refreshToken: "offline", issuedAt: null },
      },
    },
  },
  /** GHCR: /v2/ challenge names some other repository in `scope`; body is {"token"} only with
   *  no expires_in; OAuth2 POST not supported (405). */
  ghcr: {
    name: "ghcr",
    ping: { challenge: 'Bearer realm="{origin}/token",service="ghcr.io",scope="repository:user/image:pull"' },
    token: { fields: ["token"], expiresIn: null, methods: { GET: { status: 200 }, POST: { status: 405 } } },
  },
  /** Quay: realm /v2/auth, service quay.io, {"token"}. */
  quay: {
    name: "quay",
    ping: { challenge: 'Bearer realm="{origin}/v2/auth",service="quay.io"' },
    token: { path: "/v2/auth", fields: ["token"], expiresIn: null, methods: { GET: { status: 200 }, POST: { status: 405 } } },
  },
  /** ACR: realm /oauth2/token, scope with a comma inside quotes, `access_token` only; POST with
   *  an ACR refresh token works, a password-grant POST answers 400 (containerd, Jan 2022). */
  acr: {
    name: "acr",
    ping: {
      challenge: 'Bearer realm="{origin}/oauth2/token",service="emulated.azurecr.io",scope="repository:samples/hello-world:pull,push"',
    },
    token: {
      path: "/oauth2/token",
      fields: ["access_token"],
      expiresIn: null,
      methods: {
        GET: { status: 200 },
        POST: { status: (entry) => (entry.form?.grant_type === "refresh_token" ? 200 : 400) },
      },
    },
  },
  /** Legacy GCR: `service` before `realm` (auth.gcr.io/v36/tokenz); POST → 404 with an HTML page
   *  (Sep 2017). */
  gcr: {
    name: "gcr",
    ping: { challenge: 'Bearer service="gcr.io",realm="{origin}/v36/tokenz"' },
    token: {
      path: "/v36/tokenz",
      fields: ["token"],
      expiresIn: null,
      methods: { GET: { status: 200 }, POST: { status: 404, errorBody: "html" } },
    },
  },
  /** Artifact Registry (*-docker.pkg.dev): /v2/ challenge has no `service`. */
  artifactRegistry: {
    name: "artifactRegistry",
    ping: { challenge: 'Bearer realm="{origin}/v2/token"' },
    token: { path: "/v2/token", fields: ["token"], expiresIn: 3600, methods: { GET: { status: 200 }, POST: { status: 405 } } },
  },
  /** JFrog Artifactory: realm under /artifactory/api/docker/<repo>/v2/token, service = host;
   *  POST → 401 (Feb 2018); `x-jfrog-version` header. */
  artifactory: {
    name: "artifactory",
    headers: { "x-jfrog-version": "Artifactory/7.77.5 77705900" },
    ping: { challenge: 'Bearer realm="{origin}/artifactory/api/docker/docker-remote/v2/token",service="{host}"' },
    token: {
      path: "/artifactory/api/docker/docker-remote/v2/token",
      fields: ["token"],
      expiresIn: 3600,
      methods: { GET: { status: 200 }, POST: { status: 401 } },
    },
  },
  /** GitLab: realm /jwt/auth, service container_registry; POST unsupported (HTML 404). */
  gitlab: {
    name: "gitlab",
    ping: { challenge: 'Bearer realm="{origin}/jwt/auth",service="container_registry"' },
    token: {
      path: "/jwt/auth",
      fields: ["token"],
      expiresIn: null,
      methods: { GET: { status: 200 }, POST: { status: 404, errorBody: "html" } },
    },
  },
  /** Harbor: realm /service/token, service harbor-registry; POST → 403 (v1.9.2); Set-Cookie sid. */
  harbor: {
    name: "harbor",
    headers: { "set-cookie": "sid=emulated; Path=/; HttpOnly" },
    ping: { challenge: 'Bearer realm="{origin}/service/token",service="harbor-registry"' },
    token: {
      path: "/service/token",
      fields: ["token"],
      expiresIn: 1800,
      issuedAt: "now",
      methods: { GET: { status: 200 }, POST: { status: 403 } },
    },
  },
  /** Gitea / Forgejo / Codeberg: Bearer and Basic in ONE header line, both with scope="*". */
  gitea: {
    name: "gitea",
    ping: {
      challenge:
        'Bearer realm="{origin}/v2/token",service="container_registry",scope="*",Basic realm="{origin}/v2",service="container_registry",scope="*"',
    },
    token: { path: "/v2/token", fields: ["token"], expiresIn: null, methods: { GET: { status: 200 }, POST: { status: 405 } } },
  },
  /** Sonatype Nexus 3 default: upper-case `BASIC` scheme, Basic only, no token endpoint. */
  nexus: {
    name: "nexus",
    ping: { challenge: 'BASIC realm="Sonatype Nexus Repository Manager"' },
    token: { methods: { GET: null, POST: null } },
  },
  /** A self-hosted distribution behind cesanta/docker_auth: service "Docker registry" (a space),
   *  token server speaking GET and OAuth2 POST (refresh tokens with access_type=offline). */
  distribution: {
    name: "distribution",
    ping: { challenge: 'Bearer realm="{origin}/auth",service="Docker registry"' },
    token: {
      path: "/auth",
      fields: ["token", "access_token"],
      expiresIn: 900,
      methods: { GET: { status: 200 }, POST: { status: 200, fields: ["access_token"], scope: "echo", refreshToken: "offline" } },
    },
  },
  /** A realm given as a path: resolves against the registry. */
  relativeRealm: {
    name: "relativeRealm",
    ping: { challenge: 'Bearer realm="/token",service="relative.example"' },
    token: { path: "/token", fields: ["token"], expiresIn: 300 },
  },
  /** distribution with htpasswd: `Basic realm="…"` only. */
  basicOnly: {
    name: "basicOnly",
    ping: { challenge: 'Basic realm="Registry Realm"' },
    token: { methods: { GET: null, POST: null } },
  },
  /** No authentication: /v2/ answers 200. */
  noAuth: {
    name: "noAuth",
    ping: { status: 200, challenge: null },
    token: { methods: { GET: null, POST: null } },
  },
  /** 401 without any WWW-Authenticate (Quay once did this on /v2/). */
  noChallenge: {
    name: "noChallenge",
    ping: { status: 401, challenge: null },
    token: { methods: { GET: null, POST: null } },
  },
};

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Deep merge for plain objects; arrays, functions and scalars replace; `undefined` is skipped. */
export function merge(base, over) {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(base[k]) ? merge(base[k], v) : v;
  }
  return out;
}

function resolveConfig(presetOrConfig) {
  if (typeof presetOrConfig === "string") {
    const preset = presets[presetOrConfig];
    if (!preset) throw new Error(`unknown emulator preset ${presetOrConfig}; known: ${Object.keys(presets).join(", ")}`);
    return merge(BASE, preset);
  }
  const { preset, ...rest } = presetOrConfig ?? {};
  const start = preset ? resolveConfig(preset) : BASE;
  return merge(start, rest);
}

/** Parses `a=1&b=2&b=3` into { a: "1", b: ["2", "3"] }, secrets replaced by their digest. */
function paramsToObject(params) {
  const out = {};
  for (const [k, raw] of params) {
    const v = SECRET_KEYS.has(k) ? secretDigest(raw) : raw;
    if (!(k in out)) out[k] = v;
    else out[k] = Array.isArray(out[k]) ? [...out[k], v] : [out[k], v];
  }
  return out;
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(Buffer.concat(chunks)));
  });
}

/** The repository named by the first requested scope (for distribution's 401 detail). */
function requestedRepository(entry) {
  const scope = [entry.form?.scope, entry.query?.scope].flat().find((s) => typeof s === "string") ?? "";
  const m = /^repository:(.+):[^:]*$/.exec(scope.split(" ")[0]);
  return m ? m[1] : "";
}

/** Reads Authorization without keeping the secret: scheme, Basic user name, digests. */
function describeAuthorization(header) {
  if (!header) return { authorization: null, basicUser: null, credential: null, raw: null };
  const sp = header.indexOf(" ");
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const param = sp < 0 ? "" : header.slice(sp + 1).trim();
  if (scheme === "basic") {
    const decoded = Buffer.from(param, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const pass = colon < 0 ? "" : decoded.slice(colon + 1);
    return { authorization: "basic", basicUser: user, credential: secretDigest(pass), raw: { user, pass } };
  }
  return { authorization: scheme, basicUser: null, credential: secretDigest(param), raw: null };
}

/**
 * Starts an emulator. `presetOrConfig` is a preset name, a config (merged over the generic base),
 * or `{ preset: "ghcr", ...overrides }`.
 * Returns { name, url, host, authUrl, authHost, log, counts(), entries(kind), reset(), restore(),
 * set(partial), config, close() }.
 */
export async function startEmulator(presetOrConfig = {}) {
  const initial = resolveConfig(presetOrConfig);
  let config = initial;
  const log = [];
  const timers = new Set();
  const servers = [];
  let serial = 0; // never reset, so every token the emulator issues is unique
  let closed = false;

  const origins = { registry: null, auth: null };

  function expand(text) {
    return text
      .replaceAll("{origin}", origins.registry.url)
      .replaceAll("{host}", origins.registry.host)
      .replaceAll("{authHost}", (origins.auth ?? origins.registry).host)
      .replaceAll("{auth}", (origins.auth ?? origins.registry).url);
  }

  function expandHeaders(headers) {
    const out = {};
    for (const [k, v] of Object.entries(headers ?? {})) out[k] = Array.isArray(v) ? v.map(expand) : expand(String(v));
    return out;
  }

  function challengeLines() {
    let c = config.ping.challenge;
    if (typeof c === "function") c = c(api);
    if (c === null || c === undefined) return [];
    return (Array.isArray(c) ? c : [c]).map(expand);
  }

  function tokenOrigin() {
    return config.separateAuth && config.token.origin === "auth" ? "auth" : "registry";
  }

  function tokenPaths() {
    const paths = [config.token.path];
    const r = config.token.redirect;
    if (r && typeof r.to === "string" && r.to.startsWith("/")) paths.push(r.to.split("?")[0]);
    return paths;
  }

  function baseHeaders(res) {
    for (const [k, v] of Object.entries(config.headers ?? {})) res.setHeader(k, v);
    if (config.cors) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Expose-Headers", "WWW-Authenticate");
    }
  }

  function send(res, entry, status, body, headers = {}) {
    entry.status = status;
    if (res.destroyed || res.writableEnded || closed) return;
    baseHeaders(res);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.statusCode = status;
    res.on("error", () => {});
    res.end(body ?? "");
  }

  function later(ms, fn) {
    if (!ms) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function errorBody(spec, status, entry) {
    const shape = spec.errorBody;
    if (typeof shape === "function") return shape(entry, status);
    const [code, defaultMessage] = DISTRIBUTION_ERRORS[status] ?? ["UNKNOWN", `status ${status}`];
    const message = spec.errorMessage ?? defaultMessage;
    switch (shape) {
      case "distribution": {
        const detail = status === 401 ? [{ Type: "repository", Class: "", Name: requestedRepository(entry), Action: "pull" }] : null;
        return { type: "application/json", body: JSON.stringify({ errors: [{ code, message, detail }] }) };
      }
      case "details":
        return { type: "application/json", body: JSON.stringify({ details: message }) };
      case "text":
        return { type: "text/plain; charset=utf-8", body: `${message}\n` };
      case "html":
        return { type: "text/html; charset=UTF-8", body: NOT_FOUND_HTML };
      default:
        if (typeof shape === "string" || Buffer.isBuffer(shape)) return { type: "application/json", body: shape };
        return { type: "application/json", body: JSON.stringify(shape) };
    }
  }

  function successBody(spec, entry, rawForm) {
    serial += 1;
    const token = `${config.name}-token-${serial}`;
    if (spec.body !== undefined) {
      const b = typeof spec.body === "function" ? spec.body(entry, { token, serial }) : spec.body;
      if (typeof b === "string" || Buffer.isBuffer(b)) return { type: spec.contentType, body: b, token };
      return { type: spec.contentType, body: JSON.stringify(b), token };
    }
    const out = {};
    for (const f of spec.fields ?? ["token"]) out[f] = token;
    if (spec.expiresIn !== null && spec.expiresIn !== undefined) out.expires_in = spec.expiresIn;
    if (spec.issuedAt) out.issued_at = spec.issuedAt === "now" ? new Date().toISOString() : spec.issuedAt;
    if (spec.scope === "echo") {
      const s = rawForm?.get("scope") ?? new URLSearchParams(entry.rawQuery).getAll("scope").join(" ");
      out.scope = s;
    } else if (typeof spec.scope === "string") out.scope = spec.scope;
    if (spec.refreshToken === "offline") {
      if (rawForm?.get("access_type") === "offline") {
        // The refresh grant returns the same refresh token (oauth.md).
        out.refresh_token = rawForm.get("grant_type") === "refresh_token" ? rawForm.get("refresh_token") : `${config.name}-refresh-${serial}`;
      }
    } else if (typeof spec.refreshToken === "string") out.refresh_token = spec.refreshToken;
    return { type: spec.contentType, body: JSON.stringify(out), token };
  }

  /** Credentials check when `users` is set: "ok" | "bad" | "none". */
  function checkCredentials(entry, auth, rawForm) {
    const t = config.token;
    let user = null;
    let pass = null;
    if (rawForm?.get("grant_type") === "password") {
      user = rawForm.get("username");
      pass = rawForm.get("password");
    } else if (rawForm?.get("grant_type") === "refresh_token") {
      return "ok";
    } else if (auth.raw) {
      ({ user, pass } = auth.raw);
    }
    if (user === null) return t.anonymous === false ? "bad" : "none";
    if (!t.users) return "ok";
    return Object.hasOwn(t.users, user) && t.users[user] === pass ? "ok" : "bad";
  }

  function handleToken(req, res, entry, auth, rawForm) {
    const t = config.token;
    if (t.redirect && entry.path === t.path) {
      entry.kind = "redirect";
      const to = expand(t.redirect.to);
      const location = entry.rawQuery && t.redirect.keepQuery !== false ? `${to}${to.includes("?") ? "&" : "?"}${entry.rawQuery}` : to;
      return later(t.delayMs, () => send(res, entry, t.redirect.status ?? 307, "", { Location: location }));
    }
    const methodSpec = t.methods?.[req.method];
    const spec = { ...t, ...(methodSpec ?? {}) };
    let status = methodSpec ? (typeof spec.status === "function" ? spec.status(entry) : spec.status ?? 200) : 405;
    if (status >= 200 && status < 300) {
      const verdict = checkCredentials(entry, auth, rawForm);
      if (verdict === "bad") status = 401;
    }
    later(t.delayMs, () => {
      if (status >= 200 && status < 300) {
        const { type, body, token } = successBody(spec, entry, rawForm);
        entry.issued = token;
        send(res, entry, status, body, { "Content-Type": type, ...expandHeaders(spec.headers) });
      } else {
        const { type, body } = errorBody(spec, status, entry);
        const allowed = Object.entries(t.methods ?? {}).filter(([, v]) => v).map(([k]) => k);
        const extra = status === 405 ? { Allow: allowed.join(", ") } : {};
        send(res, entry, status, body, { "Content-Type": type, ...extra, ...expandHeaders(spec.headers) });
      }
    });
  }

  function handlePing(req, res, entry) {
    const p = config.ping;
    later(p.delayMs, () => {
      const headers = { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" };
      if (p.status === 401 || p.challenge) {
        const lines = challengeLines();
        if (lines.length) headers["WWW-Authenticate"] = lines.length === 1 ? lines[0] : lines;
      }
      const body = p.body ?? (p.status === 200 ? "{}" : JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] }));
      send(res, entry, p.status, body, headers);
    });
  }

  async function handle(originName, req, res) {
    const u = new URL(req.url, "http://emulator.invalid");
    const bodyBuf = req.method === "GET" || req.method === "HEAD" ? Buffer.alloc(0) : await readBody(req);
    const contentType = req.headers["content-type"] ?? null;
    const rawForm = contentType?.startsWith("application/x-www-form-urlencoded") ? new URLSearchParams(bodyBuf.toString("utf8")) : null;
    const auth = describeAuthorization(req.headers.authorization);
    const entry = {
      seq: log.length + 1,
      kind: "other",
      origin: originName,
      method: req.method,
      path: u.pathname,
      query: paramsToObject(u.searchParams),
      rawQuery: u.search.slice(1),
      form: rawForm ? paramsToObject(rawForm) : null,
      contentType,
      authorization: auth.authorization,
      basicUser: auth.basicUser,
      credential: auth.credential,
      status: null,
      issued: null,
      at: Date.now(),
    };
    if (req.method === "OPTIONS") {
      entry.kind = "preflight";
      log.push(entry);
      if (config.cors) {
        return send(res, entry, 204, "", {
          "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
          "Access-Control-Allow-Headers": "Authorization, Content-Type",
          "Access-Control-Max-Age": "600",
        });
      }
      // distribution answers preflights 401 (distribution#4458).
      return send(res, entry, 401, "", {});
    }
    const isPing = originName === "registry" && (u.pathname === "/v2/" || u.pathname === "/v2");
    const isToken = originName === tokenOrigin() && tokenPaths().includes(u.pathname);
    // A registry whose token endpoint is /v2/token still pings on /v2/: the exact match wins.
    if (isPing) {
      entry.kind = "ping";
      log.push(entry);
      return handlePing(req, res, entry);
    }
    if (isToken) {
      entry.kind = "token";
      log.push(entry);
      return handleToken(req, res, entry, auth, rawForm);
    }
    log.push(entry);
    return send(res, entry, 404, JSON.stringify({ errors: [{ code: "NOT_FOUND", message: "404 page not found", detail: null }] }), {
      "Content-Type": "application/json",
    });
  }

  async function listen(originName) {
    const server = createServer((req, res) => {
      handle(originName, req, res).catch((err) => {
        if (!res.headersSent && !res.destroyed) {
          res.statusCode = 500;
          res.end(String(err?.message ?? err));
        }
      });
    });
    server.keepAliveTimeout = 1000;
    server.on("clientError", (_err, socket) => socket.destroy());
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    servers.push(server);
    const { port } = server.address();
    return { server, url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
  }

  origins.registry = await listen("registry");
  if (initial.separateAuth) origins.auth = await listen("auth");

  const api = {
    get name() {
      return config.name;
    },
    url: origins.registry.url,
    host: origins.registry.host,
    authUrl: (origins.auth ?? origins.registry).url,
    authHost: (origins.auth ?? origins.registry).host,
    /** Live array of request entries (see `handle`); emptied in place by reset(). */
    log,
    /** The merged config now in force (read-only view; change it with set()). */
    get config() {
      return config;
    },
    /** The WWW-Authenticate lines /v2/ sends now, placeholders expanded. */
    challenges: () => challengeLines(),
    /** Requests by kind: { ping, token, redirect, preflight, other, total }. */
    counts() {
      const c = { ping: 0, token: 0, redirect: 0, preflight: 0, other: 0, total: log.length };
      for (const e of log) c[e.kind] += 1;
      return c;
    },
    /** The log entries of one kind, in arrival order. */
    entries: (kind) => log.filter((e) => e.kind === kind),
    /** Empties the log (and so the counters). */
    reset() {
      log.length = 0;
    },
    /** Undoes every set() and empties the log. */
    restore() {
      config = initial;
      log.length = 0;
    },
    /** Deep-merges a partial config over the one in force (arrays and functions replace). */
    set(partial) {
      if (partial.separateAuth !== undefined && partial.separateAuth !== initial.separateAuth) {
        throw new Error("separateAuth is fixed when the emulator starts");
      }
      config = merge(config, partial);
      return api;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  return api;
}
