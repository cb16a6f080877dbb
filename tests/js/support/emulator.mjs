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
//
// Resources (issue 10), on when the config has `repos` (null by default, so every other path on a
// registry without repositories stays a plain 404 counted as "other"):
//   GET  /v2/<name>/tags/list        n/last paging, `Link: <…>; rel="next"` (see `tagsPage`)
//   GET  /v2/_catalog                the same paging over repository names (see `catalogPage`, `catalog`)
//   GET|HEAD /v2/<name>/manifests/<tag|digest>   Content-Type, Docker-Content-Digest, Accept checked
//   DELETE /v2/<name>/manifests/<digest>          202; 405 when deletion is off; 404 unknown
//   GET|HEAD /v2/<name>/blobs/<digest>            served, or redirected to the STORAGE origin
//   POST|PATCH|PUT /v2/<name>/blobs/uploads/…, PUT /v2/<name>/manifests/<ref>   a minimal push
// Every resource request must carry credentials that cover its scope (`resources.auth`): the
// emulator keeps every token it issues with the scopes it granted (`token.grant`) and its expiry,
// and answers 401 with a resource challenge (`scope="repository:<name>:<actions>"`, and
// `error="insufficient_scope"` or `error="invalid_token"` where that applies). A third listener,
// the storage origin (`storageUrl`), serves redirected blobs and records a violation (and answers
// 400, as S3 does for a second auth mechanism) whenever a request reaches it with Authorization.
// Build repository contents with `makeImage`, `makeIndex`, `multiArch`, `dockerList`,
// `rawManifest`, `blobOf`, `served` and `tagNames`. The protocol pieces it shares with the built-in
// registry of `npm start` (paths and scopes, Accept, paging, error bodies) are in
// tests/fixtures/registry-protocol.mjs.

import { createHash } from "node:crypto";
import { createServer } from "node:http";
import {
  accepts, authDetail, digestOf, errorsBody, isResourcePath, MEDIA_TYPES, notAcceptedMessage, resourceTarget, scopeText,
  startAfter,
} from "../../fixtures/registry-protocol.mjs";

export { digestOf, MEDIA_TYPES } from "../../fixtures/registry-protocol.mjs";

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
    // Which of the requested scopes a token gets: "policy" (pull of public or unknown repositories
    // to anyone; pull of private ones, push, delete and * only with credentials; registry:catalog:*
    // to anyone when resources.catalog is "offered"), "requested" (all of them, to anyone), "none",
    // or (scope {type, name, actions}, { user }) => granted actions.
    grant: "policy",
  },
  /** Repositories: null (resources off) or { "<name>": Repo } — see `repoState`. */
  repos: null,
  resources: {
    auth: "auto", // "auto" (none when /v2/ answers 200, basic when it offers Basic only, else bearer) | "bearer" | "basic" | "none"
    challenge: null, // resource challenge template with {scope} and {error} (",error=\"…\"" or ""); null: from /v2/'s Bearer realm/service
    insufficientScope: true, // false: a valid token that does not cover → a challenge without error
    strictAccept: true, // a manifest whose media type the Accept header does not name → 404 MANIFEST_UNKNOWN
    digestHeader: { GET: true, HEAD: true }, // send Docker-Content-Digest on manifest GET / HEAD
    deletion: true, // false: DELETE → 405 UNSUPPORTED
    catalog: "offered", // "offered" | "missing" (404, distribution body) | "denied" (scope never granted → 401) | "unsupported" (405)
    tagsPage: {
      max: null, // the server's cap on n (Docker Hub and GHCR: 100)
      default: null, // page size when n is absent (null: everything left)
      reject: null, // { above, status, code, message }: n over `above` → that error
      link: "relative", // "absolute" | "relative" (/v2/…) | "query" (?…) | "path-relative" (list?…) | (ctx) => value | null
      order: "last-n", // query order in the link: "last-n" (distribution) | "n-last"
      cursor: "last", // "last" | "opaque" (Quay's next_page=…)
      rel: "quoted", // rel="next" | rel=next ("bare")
      style: "single", // "single" | "params" (rel after other params) | "several" (a rel="first" link too, one line) | "lines" (two header lines)
      target: null, // null | "loop" (every page after the first links to itself) | "cross-origin" (the next page on the storage origin)
    },
    catalogPage: {
      max: null,
      default: null,
      reject: null,
      link: "relative",
      order: "last-n",
      cursor: "last",
      rel: "quoted",
      style: "single",
      target: null,
    },
    blobRedirect: null, // null | { status: 307, hops: 1 }: blob GET/HEAD → hops redirects ending on the storage origin
    rateLimit: null, // null | { limit, window, retryAfter, remaining, on: "manifests" | "all" }: RateLimit-* headers, 429 when used up
    beforeResource: null, // (entry, api) => void, before a resource request is answered (e.g. api.expireTokens())
    respond: null, // (entry, api) => null | { status, headers, body }: answers an authorized resource request instead
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
    /* Resources: 100 tags a page with an absolute Link, no catalog (404), pull rate limit
     * (RateLimit-Limit "100;w=21600", 429 TOOMANYREQUESTS with Retry-After). */
    resources: {
      catalog: "missing",
      tagsPage: { max: 100, default: 100, link: "absolute" },
      rateLimit: { limit: 100, window: 21600, retryAfter: 60, on: "manifests" },
    },
  },
  /** GHCR: /v2/ challenge names some other repository in `scope`; body is {"token"} only with
   *  no expires_in; OAuth2 POST not supported (405). */
  ghcr: {
    name: "ghcr",
    ping: { challenge: 'Bearer realm="{origin}/token",service="ghcr.io",scope="repository:user/image:pull"' },
    token: { fields: ["token"], expiresIn: null, methods: { GET: { status: 200 }, POST: { status: 405 } } },
    /* Resources: 100 per page with an absolute Link; a token that does not cover → 401
     * error="insufficient_scope" naming the scope wanted. */
    resources: {
      insufficientScope: true,
      tagsPage: { max: 100, default: 100, link: "absolute" },
      catalogPage: { max: 100, default: 100, link: "absolute" },
    },
  },
  /** Quay: realm /v2/auth, service quay.io, {"token"}. */
  quay: {
    name: "quay",
    ping: { challenge: 'Bearer realm="{origin}/v2/auth",service="quay.io"' },
    token: { path: "/v2/auth", fields: ["token"], expiresIn: null, methods: { GET: { status: 200 }, POST: { status: 405 } } },
    /* Resources: n over 100 → 413; 50 a page by default; an opaque next_page cursor, n first. */
    resources: {
      tagsPage: {
        default: 50,
        reject: { above: 100, status: 413, code: "PAGINATION_NUMBER_INVALID", message: "page size too large" },
        cursor: "opaque",
        order: "n-last",
      },
      catalogPage: {
        default: 50,
        reject: { above: 100, status: 413, code: "PAGINATION_NUMBER_INVALID", message: "page size too large" },
        cursor: "opaque",
        order: "n-last",
      },
    },
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
    /* Resources: the catalog is admin-only — registry:catalog:* is never granted. */
    resources: { catalog: "denied" },
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
    /* Resources: relative Link (`</v2/…?last=…&n=…>`), catalog n over 1000 → 400
     * PAGINATION_NUMBER_INVALID. */
    resources: {
      tagsPage: { link: "relative" },
      catalogPage: {
        link: "relative",
        reject: { above: 1000, status: 400, code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results requested" },
      },
    },
  },
  /** Amazon ECR: Basic only (`Basic realm="https://<account>.dkr.ecr.<region>.amazonaws.com/",
   *  service="ecr.amazonaws.com"`), no token endpoint; n over 1000 → 405, 100 a page by default. */
  ecr: {
    name: "ecr",
    ping: { challenge: 'Basic realm="{origin}/",service="ecr.amazonaws.com"' },
    token: { methods: { GET: null, POST: null } },
    resources: {
      tagsPage: {
        default: 100,
        max: 1000,
        reject: { above: 1000, status: 405, code: "UNSUPPORTED", message: "The operation is unsupported." },
      },
      catalogPage: {
        default: 100,
        max: 1000,
        reject: { above: 1000, status: 405, code: "UNSUPPORTED", message: "The operation is unsupported." },
      },
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

// ---------------------------------------------------------------------------------------------
// Repository contents. A `Content` is a manifest as the registry stores it: exact bytes, digest,
// media type, the blobs and child manifests it references. Class instances, so merge() replaces
// them whole.

const MT = MEDIA_TYPES;

export class Content {
  constructor(fields) {
    Object.assign(this, fields);
  }
}

function toBytes(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data);
  return Buffer.from(typeof data === "string" ? data : JSON.stringify(data, null, 2));
}

/** A blob: { mediaType, bytes, digest, size }. */
export function blobOf(data, mediaType = MT.ociLayer) {
  const bytes = toBytes(data);
  return { mediaType, bytes, digest: digestOf(bytes), size: bytes.length };
}

const descriptor = (b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });

/** Tag names that sort lexically in numeric order: tagNames(3) → ["t0001", "t0002", "t0003"]. */
export function tagNames(n, prefix = "t", width = Math.max(4, String(n).length)) {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
}

/** Repository names for a catalog: repoNames(3, "team/r") → ["team/r0001", …]. */
export const repoNames = (n, prefix = "team/r") => tagNames(n, prefix);

/**
 * An image manifest (OCI, or Docker v2 with `format: "docker"`) with a config blob (created, os,
 * architecture, variant, config.Labels, history) and `layers` layer blobs.
 */
export function makeImage({
  os = "linux",
  architecture = "amd64",
  variant,
  osVersion,
  format = "oci",
  created = "2024-01-02T03:04:05Z",
  labels,
  history,
  layers = 1,
  name = "app",
  annotations,
} = {}) {
  const docker = format === "docker";
  const plat = [os, architecture, variant].filter(Boolean).join("/");
  const layerBlobs = Array.from({ length: layers }, (_, i) => blobOf(`layer ${i} of ${name} for ${plat}\n`, docker ? MT.dockerLayer : MT.ociLayer));
  const config = {
    created,
    architecture,
    os,
    ...(variant ? { variant } : {}),
    ...(osVersion ? { "os.version": osVersion } : {}),
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/sh"],
      Labels: labels ?? { "org.opencontainers.image.title": name, "org.opencontainers.image.description": `${name} for ${plat}` },
    },
    rootfs: { type: "layers", diff_ids: layerBlobs.map((b) => digestOf(b.bytes)) },
    history: history ?? [
      { created, created_by: `/bin/sh -c #(nop) ADD file:${name}-${plat.replaceAll("/", "-")} in / ` },
      { created, created_by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty_layer: true },
    ],
  };
  const configBlob = blobOf(config, docker ? MT.dockerConfig : MT.ociConfig);
  const json = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: descriptor(configBlob),
    layers: layerBlobs.map(descriptor),
    ...(annotations ? { annotations } : {}),
  };
  const bytes = toBytes(json);
  return new Content({
    mediaType: json.mediaType,
    bytes,
    digest: digestOf(bytes),
    size: bytes.length,
    json,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
    config: { digest: configBlob.digest, size: configBlob.size, json: config, bytes: configBlob.bytes },
    blobs: [configBlob, ...layerBlobs],
    children: [],
  });
}

/** A BuildKit attestation manifest for `image` (its own platform is unknown/unknown). */
export function makeAttestation(image) {
  const statement = blobOf(
    { _type: "https://in-toto.io/Statement/v0.1", predicateType: "https://spdx.dev/Document", subject: [{ digest: { sha256: image.digest.slice(7) } }] },
    MT.inToto,
  );
  const config = blobOf({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [statement.digest] } }, MT.ociConfig);
  const json = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: descriptor(config),
    layers: [{ ...descriptor(statement), annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" } }],
  };
  const bytes = toBytes(json);
  return new Content({
    mediaType: MT.ociManifest,
    bytes,
    digest: digestOf(bytes),
    size: bytes.length,
    json,
    platform: { os: "unknown", architecture: "unknown" },
    attestationOf: image.digest,
    config: { digest: config.digest, size: config.size, json: JSON.parse(config.bytes), bytes: config.bytes },
    blobs: [config, statement],
    children: [],
  });
}

/**
 * An OCI index (or, with `format: "docker"`, a Docker manifest list) over `items`: Content, or
 * { content, platform?, annotations? } to override an entry. `attestations: true` (the default
 * for OCI) appends one attestation manifest per image, as BuildKit does: platform
 * unknown/unknown, annotations vnd.docker.reference.type = "attestation-manifest" and
 * vnd.docker.reference.digest.
 */
export function makeIndex(items, { format = "oci", attestations = format === "oci", annotations } = {}) {
  const docker = format === "docker";
  const entries = [];
  const children = [];
  for (const item of items) {
    const content = item instanceof Content ? item : item.content;
    const platform = item instanceof Content ? content.platform : (item.platform ?? content.platform);
    const ann = item instanceof Content ? undefined : item.annotations;
    entries.push({
      mediaType: content.mediaType,
      digest: content.digest,
      size: content.size,
      ...(ann ? { annotations: ann } : {}),
      ...(platform ? { platform: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) } } : {}),
    });
    children.push(content);
  }
  if (attestations) {
    for (const content of [...children]) {
      if (content.attestationOf || content.platform?.os === "unknown") continue;
      const att = makeAttestation(content);
      entries.push({
        mediaType: att.mediaType,
        digest: att.digest,
        size: att.size,
        annotations: { "vnd.docker.reference.digest": content.digest, "vnd.docker.reference.type": "attestation-manifest" },
        platform: { architecture: "unknown", os: "unknown" },
      });
      children.push(att);
    }
  }
  const json = { schemaVersion: 2, mediaType: docker ? MT.dockerList : MT.ociIndex, manifests: entries, ...(annotations ? { annotations } : {}) };
  const bytes = toBytes(json);
  return new Content({ mediaType: json.mediaType, bytes, digest: digestOf(bytes), size: bytes.length, json, blobs: [], children });
}

/** The usual multi-arch OCI index: linux/amd64, linux/arm64/v8, linux/arm/v7 + attestations. */
export function multiArch({ name = "app", format = "oci", attestations, created } = {}) {
  const images = [
    makeImage({ name, format, architecture: "amd64", created }),
    makeImage({ name, format, architecture: "arm64", variant: "v8", created }),
    makeImage({ name, format, architecture: "arm", variant: "v7", created }),
  ];
  return makeIndex(images, { format, attestations: attestations ?? format === "oci" });
}

/** A Docker manifest list (v2 images) for linux/amd64, linux/arm64/v8, linux/arm/v7. */
export const dockerList = (opts = {}) => multiArch({ ...opts, format: "docker", attestations: false });

/** Arbitrary manifest bytes (string, Buffer or an object to serialize) served as `mediaType`. */
export function rawManifest(body, mediaType = MT.ociManifest) {
  const bytes = toBytes(body);
  let json = null;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {}
  return new Content({ mediaType, bytes, digest: digestOf(bytes), size: bytes.length, json, blobs: [], children: [] });
}

/**
 * The same content served differently: `contentType` (a string, or null for none), `corrupt`
 * (bytes that do not hash to the digest: a newline appended), `digestHeader` ({ GET, HEAD }
 * booleans: send Docker-Content-Digest or not).
 */
export function served(content, { contentType, corrupt, digestHeader } = {}) {
  return new Content({ ...content, contentType, corrupt: corrupt ?? content.corrupt, digestHeader: digestHeader ?? content.digestHeader });
}

// ----- Resource helpers ------------------------------------------------------------------------

/** "repository:a/b:pull,push registry:catalog:*" (or several values) → [{ type, name, actions }]. */
export function parseScopes(values) {
  const out = [];
  for (const value of [values].flat()) {
    for (const s of String(value ?? "").split(" ")) {
      const first = s.indexOf(":");
      const last = s.lastIndexOf(":");
      if (first < 0 || last === first) continue;
      out.push({ type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(",").filter(Boolean) });
    }
  }
  return out;
}

/** Granted scopes as sorted "type:name:a,b" strings. */
function grantsText(grants) {
  return [...grants].map(([key, set]) => `${key}:${[...set].sort().join(",")}`).sort();
}

function covers(grants, required) {
  const set = grants.get(`${required.type}:${required.name}`);
  return Boolean(set) && (set.has("*") || required.actions.every((a) => set.has(a)));
}

/** Quay-style opaque next_page cursor. */
const encodeCursor = (offset) => Buffer.from(JSON.stringify({ offset, v: 1 })).toString("base64url");
function decodeCursor(text) {
  try {
    const { offset } = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    return Number.isInteger(offset) && offset >= 0 ? offset : null;
  } catch {
    return null;
  }
}

/**
 * One repository's state. A Repo config:
 *   { private?: true            pull needs credentials (token.grant "policy")
 *     manifests?: { tag: Content }   what tags point to; children and blobs are stored too
 *     extra?: Content[]          stored, reachable by digest only
 *     blobs?: blobOf(…)[]        extra blobs
 *     tags?: string[] | number | null   the tag list served (default: the manifests' tags, sorted;
 *                                a number N: tagNames(N); null: "tags": null)
 *     deletion?: false           DELETE → 405 for this repository
 *     catalog?: false }          left out of /v2/_catalog
 */
export function repoState(name, spec = {}) {
  const repo = {
    name,
    private: Boolean(spec.private),
    deletion: spec.deletion,
    catalog: spec.catalog !== false,
    byTag: new Map(),
    byDigest: new Map(),
    blobs: new Map(),
    tags: null,
  };
  const addBlob = (b) => {
    repo.blobs.set(b.digest, b.bytes);
    repo.blobs.set(digestOf(b.bytes, "sha512"), b.bytes);
  };
  const addContent = (c, own) => {
    for (const child of c.children ?? []) addContent(child, false);
    for (const b of c.blobs ?? []) addBlob(b);
    for (const d of [c.digest, digestOf(c.bytes, "sha512")]) if (own || !repo.byDigest.has(d)) repo.byDigest.set(d, c);
  };
  for (const [tag, c] of Object.entries(spec.manifests ?? {})) {
    addContent(c, true);
    repo.byTag.set(tag, c);
  }
  for (const c of spec.extra ?? []) addContent(c, false);
  for (const b of spec.blobs ?? []) addBlob(b);
  if (spec.tags === undefined) repo.tags = [...repo.byTag.keys()].sort();
  else if (spec.tags === null) repo.tags = null;
  else if (typeof spec.tags === "number") repo.tags = tagNames(spec.tags);
  else repo.tags = [...spec.tags];
  return repo;
}

function buildStore(repos) {
  if (!repos) return null;
  const out = new Map();
  for (const [name, spec] of Object.entries(repos)) out.set(name, repoState(name, spec ?? {}));
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
 * Returns { name, url, host, authUrl, authHost, storageUrl, storageHost, log, counts(),
 * entries(kind), resources(filter), reset(), restore(), set(partial), config, close(),
 * expireTokens(), tokens(), grantsOf(token), repo(name), violations, deleted }.
 */
export async function startEmulator(presetOrConfig = {}) {
  const initial = resolveConfig(presetOrConfig);
  let config = initial;
  const log = [];
  const timers = new Set();
  const servers = [];
  let serial = 0; // never reset, so every token the emulator issues is unique
  let closed = false;

  const origins = { registry: null, auth: null, storage: null };

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

  function successBody(spec, entry, rawForm, granted = []) {
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
    } else if (spec.scope === "granted") out.scope = granted.join(" ");
    else if (typeof spec.scope === "string") out.scope = spec.scope;
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
        const grants = grantScopes(entry, auth, rawForm);
        const granted = grantsText(grants);
        const { type, body, token } = successBody(spec, entry, rawForm, granted);
        entry.issued = token;
        entry.granted = granted;
        tokens.set(token, { grants, expiresAt: Date.now() + (spec.expiresIn ?? 60) * 1000, expired: false });
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

  // ----- Resources ------------------------------------------------------------------------------

  let store = buildStore(config.repos);
  /** Every token issued: token → { grants: Map "type:name" → Set(actions), expiresAt, expired }. */
  const tokens = new Map();
  /** Requests that reached the storage origin with an Authorization header. */
  const violations = [];
  /** Manifests deleted: { repository, digest }. */
  const deleted = [];
  const uploads = new Map();
  let pulls = 0;
  let uploadSerial = 0;

  /** The user a token request authenticates as (checked by checkCredentials), or null. */
  function tokenUser(auth, rawForm) {
    const grant = rawForm?.get("grant_type");
    if (grant === "password") return rawForm.get("username");
    if (grant === "refresh_token") return "(refresh token)";
    return auth.raw ? auth.raw.user : null;
  }

  function grantActions(sc, who) {
    const g = config.token.grant;
    if (typeof g === "function") return g(sc, who) ?? [];
    if (g === "requested") return sc.actions;
    if (g === "none") return [];
    if (sc.type === "registry" && sc.name === "catalog") return config.resources.catalog === "offered" ? sc.actions : [];
    if (sc.type !== "repository") return [];
    const repo = store?.get(sc.name);
    const authed = who.user !== null;
    return sc.actions.filter((a) => (a === "pull" ? !repo?.private || authed : authed));
  }

  /** The scopes a token request asks for (GET: every `scope` parameter; POST: the form's) → grants. */
  function grantScopes(entry, auth, rawForm) {
    const asked = rawForm?.has("scope") ? rawForm.getAll("scope") : new URLSearchParams(entry.rawQuery).getAll("scope");
    const who = { user: tokenUser(auth, rawForm) };
    const grants = new Map();
    for (const sc of parseScopes(asked)) {
      const acts = grantActions(sc, who);
      if (!acts.length) continue;
      const key = `${sc.type}:${sc.name}`;
      const set = grants.get(key) ?? new Set();
      for (const a of acts) set.add(a);
      grants.set(key, set);
    }
    return grants;
  }

  function resourceAuthMode() {
    const mode = config.resources.auth;
    if (mode !== "auto") return mode;
    if (config.ping.status === 200) return "none";
    const lines = challengeLines();
    if (lines.some((l) => /^\s*bearer(\s|$)/i.test(l))) return "bearer";
    if (lines.some((l) => /^\s*basic(\s|$)/i.test(l))) return "basic";
    return "bearer";
  }

  /** The WWW-Authenticate a resource 401 carries: the /v2/ Bearer realm and service + scope (+ error). */
  function resourceChallenge(scope, error) {
    const errPart = error ? `,error="${error}"` : "";
    const tpl = config.resources.challenge;
    if (typeof tpl === "function") return tpl({ scope, error }, api);
    if (typeof tpl === "string") return expand(tpl).replaceAll("{scope}", scope).replaceAll("{error}", errPart);
    const lines = challengeLines();
    if (resourceAuthMode() === "basic") return lines.length ? lines : null;
    const line = lines.find((l) => /^\s*bearer(\s|$)/i.test(l));
    if (!line) return null;
    const realm = /realm="([^"]*)"/i.exec(line)?.[1] ?? "";
    const service = /service="([^"]*)"/i.exec(line)?.[1];
    const parts = [`realm="${realm}"`];
    if (service !== undefined) parts.push(`service="${service}"`);
    parts.push(`scope="${scope}"`);
    return `Bearer ${parts.join(",")}${errPart}`;
  }

  function checkResourceAuth(req, required, entry) {
    const mode = resourceAuthMode();
    if (mode === "none") return { ok: true, state: "open" };
    const header = req.headers.authorization ?? "";
    const sp = header.indexOf(" ");
    const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
    const param = sp < 0 ? "" : header.slice(sp + 1).trim();
    if (mode === "basic") {
      if (scheme !== "basic") return { ok: false, state: header ? "wrong-scheme" : "none", error: null };
      const { raw } = describeAuthorization(header);
      const users = config.token.users;
      if (users && !(Object.hasOwn(users, raw.user) && users[raw.user] === raw.pass)) return { ok: false, state: "bad-credentials", error: null };
      return { ok: true, state: "basic" };
    }
    if (scheme !== "bearer") return { ok: false, state: header ? "wrong-scheme" : "none", error: null };
    const t = tokens.get(param);
    if (!t) return { ok: false, state: "unknown", error: "invalid_token" };
    entry.granted = grantsText(t.grants);
    if (t.expired || Date.now() >= t.expiresAt) return { ok: false, state: "expired", error: "invalid_token" };
    if (!covers(t.grants, required)) return { ok: false, state: "insufficient", error: config.resources.insufficientScope ? "insufficient_scope" : null };
    return { ok: true, state: "ok" };
  }

  const EXPOSE = [
    "WWW-Authenticate",
    "Link",
    "Docker-Content-Digest",
    "Content-Type",
    "Content-Length",
    "Location",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "Docker-Distribution-Api-Version",
  ].join(", ");

  function sendResource(req, res, entry, status, body, headers = {}) {
    const h = { "Docker-Distribution-Api-Version": "registry/2.0", ...headers };
    if (config.cors) h["Access-Control-Expose-Headers"] = EXPOSE;
    const buf = body === undefined || body === null ? Buffer.alloc(0) : toBytes(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === "content-length")) h["Content-Length"] = String(buf.length);
    send(res, entry, status, req.method === "HEAD" ? "" : buf, h);
  }

  function sendErrors(req, res, entry, status, code, message, detail, headers = {}) {
    sendResource(req, res, entry, status, errorsBody({ code, message, detail }), { "Content-Type": "application/json; charset=utf-8", ...headers });
  }

  function handleResource(req, res, entry, bodyBuf) {
    const target = resourceTarget(req.method, entry.path);
    const { required } = target;
    Object.assign(entry, {
      kind: "resource",
      resource: target.resource,
      repository: target.name,
      reference: target.reference,
      accept: req.headers.accept ?? null,
      required: scopeText(required),
      tokenState: null,
      granted: null,
    });
    log.push(entry);
    config.resources.beforeResource?.(entry, api);
    const r = config.resources;
    if (target.resource === "catalog" && r.catalog === "missing") return sendErrors(req, res, entry, 404, "NOT_FOUND", "404 page not found", null);
    if (target.resource === "catalog" && r.catalog === "unsupported") {
      return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "" });
    }
    const verdict = checkResourceAuth(req, required, entry);
    entry.tokenState = verdict.state;
    if (!verdict.ok) {
      const challenge = resourceChallenge(entry.required, verdict.error);
      return sendErrors(req, res, entry, 401, "UNAUTHORIZED", "authentication required", authDetail(required), challenge ? { "WWW-Authenticate": challenge } : {});
    }
    const custom = r.respond?.(entry, api);
    if (custom) {
      const body = custom.body === undefined || custom.body === null ? "" : typeof custom.body === "string" || Buffer.isBuffer(custom.body) ? custom.body : JSON.stringify(custom.body);
      const type = typeof custom.body === "object" && custom.body !== null && !Buffer.isBuffer(custom.body) ? { "Content-Type": "application/json" } : {};
      return sendResource(req, res, entry, custom.status ?? 200, body, { ...type, ...expandHeaders(custom.headers) });
    }
    if (target.resource === "catalog") {
      if (req.method !== "GET") return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET" });
      const names = [...store.values()].filter((repo) => repo.catalog).map((repo) => repo.name).sort();
      return handleList(req, res, entry, names, r.catalogPage, "/v2/_catalog", (items) => ({ repositories: items }));
    }
    let repo = store.get(target.name);
    if (!repo && (target.resource === "upload" || (target.resource === "manifest" && req.method === "PUT"))) {
      repo = repoState(target.name, {});
      store.set(target.name, repo);
    }
    if (!repo) return sendErrors(req, res, entry, 404, "NAME_UNKNOWN", "repository name not known to registry", { name: target.name });
    switch (target.resource) {
      case "tags":
        if (req.method !== "GET") return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET" });
        return handleList(req, res, entry, repo.tags, r.tagsPage, `/v2/${repo.name}/tags/list`, (items) => ({ name: repo.name, tags: items }));
      case "manifest":
        return handleManifest(req, res, entry, repo, target.reference, bodyBuf);
      case "blob":
        return handleBlob(req, res, entry, repo, target.reference);
      default:
        return handleUpload(req, res, entry, repo, target.reference, bodyBuf);
    }
  }

  function handleList(req, res, entry, all, pcfg, path, bodyOf) {
    const q = new URLSearchParams(entry.rawQuery);
    const nRaw = q.get("n");
    let n = null;
    if (nRaw !== null) {
      if (!/^\d+$/.test(nRaw)) return sendErrors(req, res, entry, 400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", { n: nRaw });
      n = Number(nRaw);
    }
    const rej = pcfg.reject;
    if (rej && n !== null && n > rej.above) {
      const status = rej.status ?? 400;
      return sendErrors(req, res, entry, status, rej.code ?? "PAGINATION_NUMBER_INVALID", rej.message ?? "invalid number of results requested", { n }, status === 405 ? { Allow: "GET" } : {});
    }
    const json = { "Content-Type": "application/json; charset=utf-8" };
    if (all === null) return sendResource(req, res, entry, 200, JSON.stringify(bodyOf(null)), json);
    let size = n ?? pcfg.default ?? Number.POSITIVE_INFINITY;
    if (pcfg.max !== null && pcfg.max !== undefined) size = Math.min(size, pcfg.max);
    let start = 0;
    const cursor = q.get("next_page");
    if (pcfg.cursor === "opaque" && cursor !== null) {
      start = decodeCursor(cursor);
      if (start === null) return sendErrors(req, res, entry, 400, "PAGINATION_NUMBER_INVALID", "invalid next_page", null);
    } else {
      start = startAfter(all, q.get("last"));
    }
    const items = all.slice(start, start + size);
    const next = start + items.length;
    const more = items.length > 0 && next < all.length;
    entry.page = { start, count: items.length, more };
    const headers = { ...json };
    if (more) {
      const link = linkHeader(pcfg, { path, next, last: items.at(-1), size: Number.isFinite(size) ? size : items.length, entry });
      if (link !== null && link !== undefined) headers.Link = link;
    }
    return sendResource(req, res, entry, 200, JSON.stringify(bodyOf(items)), headers);
  }

  function linkHeader(pcfg, ctx) {
    if (typeof pcfg.link === "function") return pcfg.link({ ...ctx, origin: origins.registry.url, storage: origins.storage.url }, api);
    const nParam = `n=${ctx.size}`;
    const cParam = pcfg.cursor === "opaque" ? `next_page=${encodeCursor(ctx.next)}` : `last=${encodeURIComponent(ctx.last)}`;
    let path = ctx.path;
    let query = pcfg.order === "n-last" ? `${nParam}&${cParam}` : `${cParam}&${nParam}`;
    if (pcfg.target === "loop" && ctx.entry.rawQuery && ctx.entry.page.start > 0) {
      path = ctx.entry.path; // this very page: a link already visited
      query = ctx.entry.rawQuery;
    }
    let uri;
    if (pcfg.target === "cross-origin") uri = `${origins.storage.url}${path}?${query}`;
    else if (pcfg.link === "absolute") uri = `${origins.registry.url}${path}?${query}`;
    else if (pcfg.link === "query") uri = `?${query}`;
    else if (pcfg.link === "path-relative") uri = `${path.slice(path.lastIndexOf("/") + 1)}?${query}`;
    else uri = `${path}?${query}`;
    const rel = pcfg.rel === "bare" ? "rel=next" : 'rel="next"';
    const first = `<${ctx.path}?n=${ctx.size}>; rel="first"`;
    switch (pcfg.style) {
      case "params":
        return `<${uri}>; title="next page"; type="application/json"; ${rel}`;
      case "several":
        return `${first}, <${uri}>; ${rel}`;
      case "lines":
        return [first, `<${uri}>; ${rel}`];
      default:
        return `<${uri}>; ${rel}`;
    }
  }

  function handleManifest(req, res, entry, repo, ref, bodyBuf) {
    const isDigest = ref.includes(":");
    const r = config.resources;
    if (req.method === "PUT") return putManifest(req, res, entry, repo, ref, isDigest, bodyBuf);
    if (req.method === "DELETE") {
      if (!r.deletion || repo.deletion === false) return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET, HEAD, PUT" });
      if (!isDigest) return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET, HEAD, PUT" });
      const content = repo.byDigest.get(ref);
      if (!content) return sendErrors(req, res, entry, 404, "MANIFEST_UNKNOWN", "manifest unknown", { Digest: ref });
      for (const [d, c] of [...repo.byDigest]) if (c.digest === content.digest) repo.byDigest.delete(d);
      for (const [t, c] of [...repo.byTag]) {
        if (c.digest !== content.digest) continue;
        repo.byTag.delete(t);
        if (repo.tags) repo.tags = repo.tags.filter((x) => x !== t);
      }
      deleted.push({ repository: repo.name, digest: ref });
      return sendResource(req, res, entry, 202, "", {});
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET, HEAD, PUT, DELETE" });
    }
    const content = isDigest ? repo.byDigest.get(ref) : repo.byTag.get(ref);
    if (!content) return sendErrors(req, res, entry, 404, "MANIFEST_UNKNOWN", "manifest unknown", isDigest ? { Digest: ref } : { Tag: ref });
    if (r.strictAccept && !accepts(req.headers.accept, content.mediaType)) {
      return sendErrors(req, res, entry, 404, "MANIFEST_UNKNOWN", notAcceptedMessage(content.mediaType), isDigest ? { Digest: ref } : { Tag: ref });
    }
    const limited = rateLimit(req, "manifest");
    if (limited.limited) return sendTooMany(req, res, entry, limited.headers);
    const digest = isDigest ? ref : content.digest;
    const bytes = content.corrupt ? Buffer.concat([content.bytes, Buffer.from("\n")]) : content.bytes;
    const headers = { ...limited.headers, ETag: `"${digest}"` };
    const type = content.contentType === undefined ? content.mediaType : content.contentType;
    if (type !== null) headers["Content-Type"] = type;
    const dh = { ...r.digestHeader, ...(content.digestHeader ?? {}) };
    if (dh[req.method] !== false) headers["Docker-Content-Digest"] = digest;
    entry.served = digest;
    return sendResource(req, res, entry, 200, bytes, headers);
  }

  function putManifest(req, res, entry, repo, ref, isDigest, bodyBuf) {
    const type = req.headers["content-type"] ?? undefined;
    const content = rawManifest(bodyBuf, type);
    if (isDigest && ![content.digest, digestOf(bodyBuf, "sha512")].includes(ref)) {
      return sendErrors(req, res, entry, 400, "DIGEST_INVALID", "provided digest did not match uploaded content", null);
    }
    repo.byDigest.set(content.digest, content);
    repo.byDigest.set(digestOf(bodyBuf, "sha512"), content);
    if (!isDigest) {
      repo.byTag.set(ref, content);
      if (repo.tags && !repo.tags.includes(ref)) repo.tags = [...repo.tags, ref].sort();
      if (repo.tags === null) repo.tags = [ref];
    }
    return sendResource(req, res, entry, 201, "", { Location: `/v2/${repo.name}/manifests/${content.digest}`, "Docker-Content-Digest": content.digest });
  }

  function handleBlob(req, res, entry, repo, digest) {
    if (req.method !== "GET" && req.method !== "HEAD") return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null, { Allow: "GET, HEAD" });
    const bytes = repo.blobs.get(digest);
    if (!bytes) return sendErrors(req, res, entry, 404, "BLOB_UNKNOWN", "blob unknown to registry", digest);
    const limited = rateLimit(req, "blob");
    if (limited.limited) return sendTooMany(req, res, entry, limited.headers);
    const br = config.resources.blobRedirect;
    if (br) {
      const hops = br.hops ?? 1;
      const location = `${origins.storage.url}/hop/1/${digest}?hops=${hops}&X-Amz-Signature=emulated`;
      return sendResource(req, res, entry, br.status ?? 307, "", { ...limited.headers, Location: location });
    }
    return sendResource(req, res, entry, 200, bytes, {
      ...limited.headers,
      "Content-Type": "application/octet-stream",
      "Docker-Content-Digest": digest,
      ETag: `"${digest}"`,
    });
  }

  function handleUpload(req, res, entry, repo, uuid, bodyBuf) {
    const q = new URLSearchParams(entry.rawQuery);
    const finish = (bytes, digest) => {
      const algorithm = digest?.split(":")[0];
      if (!digest || !["sha256", "sha512"].includes(algorithm) || digestOf(bytes, algorithm) !== digest) {
        return sendErrors(req, res, entry, 400, "DIGEST_INVALID", "provided digest did not match uploaded content", null);
      }
      repo.blobs.set(digest, bytes);
      return sendResource(req, res, entry, 201, "", { Location: `/v2/${repo.name}/blobs/${digest}`, "Docker-Content-Digest": digest });
    };
    if (req.method === "POST" && !uuid) {
      if (q.get("digest")) return finish(bodyBuf, q.get("digest"));
      uploadSerial += 1;
      const id = `upload-${uploadSerial}`;
      uploads.set(id, { name: repo.name, chunks: bodyBuf.length ? [bodyBuf] : [] });
      return sendResource(req, res, entry, 202, "", { Location: `/v2/${repo.name}/blobs/uploads/${id}`, "Docker-Upload-UUID": id, Range: "0-0" });
    }
    const up = uploads.get(uuid);
    if (!up || up.name !== repo.name) return sendErrors(req, res, entry, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", null);
    const size = () => up.chunks.reduce((a, c) => a + c.length, 0);
    switch (req.method) {
      case "PATCH":
        up.chunks.push(bodyBuf);
        return sendResource(req, res, entry, 202, "", { Location: `/v2/${repo.name}/blobs/uploads/${uuid}`, "Docker-Upload-UUID": uuid, Range: `0-${Math.max(0, size() - 1)}` });
      case "PUT":
        if (bodyBuf.length) up.chunks.push(bodyBuf);
        uploads.delete(uuid);
        return finish(Buffer.concat(up.chunks), q.get("digest"));
      case "GET":
        return sendResource(req, res, entry, 204, "", { "Docker-Upload-UUID": uuid, Range: `0-${Math.max(0, size() - 1)}` });
      case "DELETE":
        uploads.delete(uuid);
        return sendResource(req, res, entry, 204, "", {});
      default:
        return sendErrors(req, res, entry, 405, "UNSUPPORTED", "The operation is unsupported.", null);
    }
  }

  /** RateLimit-* headers; `limited` when a counted GET finds the budget used up. */
  function rateLimit(req, kind) {
    const rl = config.resources.rateLimit;
    if (!rl || (rl.on !== "all" && kind !== "manifest")) return { limited: false, headers: {} };
    const limit = rl.limit ?? 100;
    const w = rl.window ?? 21600;
    const left = (rl.remaining ?? limit) - pulls;
    const headers = { "RateLimit-Limit": `${limit};w=${w}`, "docker-ratelimit-source": "127.0.0.1" };
    if (req.method === "GET" && left <= 0) {
      return { limited: true, headers: { ...headers, "RateLimit-Remaining": `0;w=${w}`, "Retry-After": String(rl.retryAfter ?? 60) } };
    }
    if (req.method === "GET") pulls += 1;
    headers["RateLimit-Remaining"] = `${Math.max(0, left - (req.method === "GET" ? 1 : 0))};w=${w}`;
    return { limited: false, headers };
  }

  function sendTooMany(req, res, entry, headers) {
    const message = config.resources.rateLimit?.message ??
      "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";
    return sendErrors(req, res, entry, 429, "TOOMANYREQUESTS", message, undefined, headers);
  }

  function findBlob(digest) {
    for (const repo of store?.values() ?? []) {
      const b = repo.blobs.get(digest);
      if (b) return b;
    }
    return null;
  }

  /** The storage origin: blob hops and bytes; Authorization here is a violation (400, as S3). */
  function handleStorage(req, res, entry) {
    entry.kind = "storage";
    log.push(entry);
    if (req.headers.authorization) {
      violations.push({ method: entry.method, path: entry.path, query: entry.query, authorization: entry.authorization });
      return send(
        res,
        entry,
        400,
        "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>",
        { "Content-Type": "application/xml" },
      );
    }
    const m = /^\/hop\/(\d+)\/(.+)$/.exec(entry.path);
    if (m && (req.method === "GET" || req.method === "HEAD")) {
      const i = Number(m[1]);
      const hops = Number(new URLSearchParams(entry.rawQuery).get("hops") ?? "1");
      if (i < hops) return send(res, entry, 302, "", { Location: `${origins.storage.url}/hop/${i + 1}/${m[2]}?${entry.rawQuery}` });
      const bytes = findBlob(m[2]);
      if (bytes) {
        return send(res, entry, 200, req.method === "HEAD" ? "" : bytes, {
          "Content-Type": "application/octet-stream",
          "Content-Length": String(bytes.length),
          ETag: `"${m[2]}"`,
        });
      }
    }
    return send(res, entry, 404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>", { "Content-Type": "application/xml" });
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
          "Access-Control-Allow-Methods": store ? "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS" : "GET, POST, OPTIONS",
          "Access-Control-Allow-Headers": store ? "Authorization, Content-Type, Accept" : "Authorization, Content-Type",
          "Access-Control-Max-Age": "600",
        });
      }
      // distribution answers preflights 401 (distribution#4458).
      return send(res, entry, 401, "", {});
    }
    if (originName === "storage") return handleStorage(req, res, entry);
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
    if (originName === "registry" && store && isResourcePath(u.pathname)) return handleResource(req, res, entry, bodyBuf);
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
  origins.storage = await listen("storage");

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
    /** The storage origin (redirected blobs; never to see Authorization). */
    storageUrl: origins.storage.url,
    storageHost: origins.storage.host,
    /** Requests by kind: { ping, token, redirect, preflight, other, total }, plus `resource` and
     *  `storage` when there were any (so logs without resources keep the old shape). */
    counts() {
      const c = { ping: 0, token: 0, redirect: 0, preflight: 0, other: 0, total: log.length };
      for (const e of log) c[e.kind] = (c[e.kind] ?? 0) + 1;
      return c;
    },
    /** The log entries of one kind, in arrival order. */
    entries: (kind) => log.filter((e) => e.kind === kind),
    /** Resource requests, optionally only those matching { resource, method, status, repository, … }. */
    resources(filter = {}) {
      return log.filter((e) => e.kind === "resource" && Object.entries(filter).every(([k, v]) => e[k] === v));
    },
    /** Requests that reached the storage origin with Authorization (must stay empty). */
    violations,
    /** Manifests deleted since the last restore(): { repository, digest }. */
    deleted,
    /** Marks every token issued so far as expired: resources answer 401 error="invalid_token". */
    expireTokens() {
      for (const t of tokens.values()) t.expired = true;
      return api;
    },
    /** Every token issued: { token, granted, expiresAt, expired }. */
    tokens: () => [...tokens].map(([token, t]) => ({ token, granted: grantsText(t.grants), expiresAt: t.expiresAt, expired: t.expired })),
    /** The scopes granted to a token ("type:name:actions", sorted), or null for one never issued. */
    grantsOf: (token) => (tokens.has(token) ? grantsText(tokens.get(token).grants) : null),
    /** One repository's live state: { name, tags, byTag, byDigest, blobs, … } (or undefined). */
    repo: (name) => store?.get(name),
    /** Empties the log (and so the counters). */
    reset() {
      log.length = 0;
    },
    /** Undoes every set() (repositories, deletions, rate-limit budget too) and empties the log. */
    restore() {
      config = initial;
      log.length = 0;
      store = buildStore(config.repos);
      violations.length = 0;
      deleted.length = 0;
      uploads.clear();
      pulls = 0;
    },
    /** Deep-merges a partial config over the one in force (arrays and functions replace). */
    set(partial) {
      if (partial.separateAuth !== undefined && partial.separateAuth !== initial.separateAuth) {
        throw new Error("separateAuth is fixed when the emulator starts");
      }
      config = merge(config, partial);
      if (partial.repos !== undefined) store = buildStore(config.repos);
      if (partial.resources?.rateLimit !== undefined) pulls = 0;
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
