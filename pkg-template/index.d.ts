// Hand-written types for registry-token (the generated ones would say `any`).

/** Every way a call can fail; `error.code` is the API, the message is for people. */
export type RegistryAuthErrorCode =
  /** The image reference, or an option that shapes the request (registryUrl, actions, timeoutMs, …), is invalid. */
  | "INVALID_REFERENCE"
  /** A WWW-Authenticate value is malformed, or a Bearer challenge has no realm. */
  | "INVALID_CHALLENGE"
  /** No HTTP answer: DNS, refused connection, TLS, or (in browsers) missing CORS headers. */
  | "NETWORK"
  /** GET /v2/ answered neither 200 nor a 401 with a WWW-Authenticate header (or the header is hidden by CORS). */
  | "NO_CHALLENGE"
  /** The registry offers no scheme that yields a bearer token (Basic only: use `authorize`). */
  | "UNSUPPORTED_CHALLENGE"
  /** Credentials missing or refused (401/403 from the token server, or Basic without credentials). */
  | "UNAUTHORIZED"
  /** The token server answered another non-2xx status. */
  | "TOKEN_ENDPOINT"
  /** The token server answered 2xx with an unusable body (not JSON, no token, over 128 KiB). */
  | "BAD_TOKEN_RESPONSE"
  /** Credentials would go to a non-loopback plain-http realm or registry, the realm is not http(s), or https was redirected to http. Nothing was sent there. */
  | "INSECURE_REALM"
  /** `timeoutMs` elapsed. */
  | "TIMEOUT"
  /** The caller's `signal` fired. */
  | "ABORTED"
  /** 404 from the registry: unknown repository, tag, manifest or blob, or no index entry for the asked platform (the message lists those there are). */
  | "NOT_FOUND"
  /** 429 from the registry; `retryAfter` says when to try again. Never retried by the package. */
  | "RATE_LIMITED"
  /** The bytes do not hash to the digest asked for or announced. */
  | "DIGEST_MISMATCH"
  /** The registry refuses the operation itself: 405, no catalog (Docker Hub, GHCR), deletion disabled. */
  | "UNSUPPORTED_OPERATION"
  /** Any other non-2xx answer from the registry (`status` says which). */
  | "REGISTRY_ERROR"
  /** Malformed tags/catalog/manifest JSON, a manifest over 4 MiB, a page over 16 MiB, a bad or looping `Link`. */
  | "BAD_REGISTRY_RESPONSE"
  /** Browsers: a synchronous parser was called before the module loaded (`await init()` first). */
  | "NOT_INITIALIZED";

/** One entry of distribution's error body, `{"errors":[{code, message, detail}]}`, as sent. */
export interface RegistryErrorEntry {
  /** e.g. "NAME_UNKNOWN", "MANIFEST_UNKNOWN", "DENIED", "TOOMANYREQUESTS". */
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * What every rejection and throw of the package is: `err instanceof RegistryAuthError` (and
 * `instanceof Error`), the same class whether the package was loaded by `import` or `require`.
 */
export class RegistryAuthError extends Error {
  constructor(message?: string, options?: { cause?: unknown; code?: RegistryAuthErrorCode });
  /**
   * True for any object with `name` "RegistryAuthError" and a known `code`: for values that
   * crossed realms (another copy of the package, an object rebuilt from a worker message).
   */
  static is(value: unknown): value is RegistryAuthError;
  name: "RegistryAuthError";
  code: RegistryAuthErrorCode;
  /** The HTTP status that caused the error, when one did. */
  status?: number;
  /** The server's Retry-After header, verbatim, on 429/503 answers. */
  retryAfter?: string;
  /** The original JavaScript failure (e.g. fetch's TypeError), when there was one; a scrubbed copy where its text could hold a secret. */
  cause?: unknown;
  /** The registry's `errors` entries, when its error body had them (secrets removed). */
  errors?: RegistryErrorEntry[];
}

/** A secret for one registry: a user name and password (or token), or an OAuth2 refresh token. */
export type Credential = { username: string; password: string } | { refreshToken: string };

/**
 * Secrets bound to their registry, keyed by the registry as `parseReference(image).domain` names
 * it ("docker.io", "ghcr.io", "localhost:5000"; "index.docker.io" and "registry-1.docker.io" count
 * as "docker.io"). A call uses only its own image's entry; the function form is asked with that
 * one name. `null`/`undefined` means anonymous.
 */
export type Credentials =
  | Record<string, Credential>
  | ((registry: string) => Credential | null | undefined | Promise<Credential | null | undefined>);

/** What a `RegistryClient` may hold as defaults: anything but a bare secret. */
export interface ClientDefaults {
  /** Repository actions to ask for; default `["pull"]`. Merged, de-duplicated and sorted. */
  actions?: string[];
  /** Per-registry secrets; see {@link Credentials}. */
  credentials?: Credentials;
  /** Ask the token server for a refresh token (OAuth2 POST with `access_type=offline`). Without it a username and password go by GET with Basic, and no refresh token is minted. */
  offline?: boolean;
  /** Base URL to contact instead of the one derived from the reference, e.g. a CORS proxy route. */
  registryUrl?: string;
  /** Default: the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  signal?: AbortSignal;
  /** For the whole call, in milliseconds; default 30000; `Infinity` disables it. */
  timeoutMs?: number;
  /** Clock in milliseconds since the epoch, for tests of expiry; default `Date.now`. */
  now?: () => number;
  /**
   * A store shared across isolates and page loads (Workers KV, the Cache API, Web Storage; see
   * {@link kvStore}, {@link cacheStore}, {@link webStorageStore}): read after the memory cache and
   * before the network, written after a token request. It never fails a call. Not used with `offline`.
   */
  tokenStore?: TokenStore;
  /** Hands the store write to the platform so it outlives the response: `(p) => ctx.waitUntil(p)` in Workers. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** Not a default: a default secret would go to any registry a call names. Use `credentials`. */
  username?: never;
  /** Not a default: use `credentials`. */
  password?: never;
  /** Not a default: use `credentials`. */
  refreshToken?: never;
}

/** A call's options: the defaults' keys, plus a secret the caller names together with the image. */
export interface GetTokenOptions extends Omit<ClientDefaults, "username" | "password" | "refreshToken"> {
  /** With `password`: sent to this image's registry only (they win over `credentials`). */
  username?: string;
  password?: string;
  /** An OAuth2 refresh ("identity") token; sent with `grant_type=refresh_token`. */
  refreshToken?: string;
}

export interface Authorization {
  /** Header value, "Bearer …" or "Basic …"; null when the registry needs no authentication. */
  authorization: string | null;
  /** The bearer token; null for Basic or no auth. */
  token: string | null;
  /** When the token expires, in ms since the epoch (counted from receipt, at least 60 s). */
  expiresAt: number | null;
  /** The granted scope if the token server said so, else the requested one. */
  scope: string[];
  realm: string | null;
  service: string | null;
  /** Base URL contacted, e.g. "https://registry-1.docker.io". */
  registry: string;
  /** e.g. "library/nginx". */
  repository: string;
  /** When the token server issued one (OAuth2 `access_type=offline`). */
  refreshToken: string | null;
}

/** `RegistryClient#fetch` options: `fetch`'s own plus every `GetTokenOptions` key. */
export interface RegistryRequestInit extends GetTokenOptions {
  /** Default "GET". The token's actions follow it unless `actions` is given: GET/HEAD → pull; POST/PUT/PATCH → pull,push; DELETE → delete. */
  method?: string;
  headers?: HeadersInit;
  /** Sent again on a re-challenge or a 307/308: give a re-readable body (string, ArrayBuffer, Blob), not a stream. */
  body?: BodyInit | null;
}

export interface ListOptions extends GetTokenOptions {
  /** The `n` asked for per page; default 1000 (registries cap it; the package falls back to 100, then none). */
  pageSize?: number;
  /** Stop after this many entries; default: all. */
  limit?: number;
}

export interface ManifestOptions extends GetTokenOptions {
  /** Media types for `Accept`; default: OCI index, OCI manifest, Docker manifest list, Docker manifest v2. */
  accept?: string[];
  /** "linux/arm64", "linux/arm/v7", "windows/amd64": pick this platform out of an index. */
  platform?: string;
}

/** OCI image-spec `descriptor.md`. */
export interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
}

/** A runnable entry of an index (attestations and signatures left out). */
export interface Platform extends Descriptor {
  os: string;
  architecture: string;
  variant?: string;
}

/** OCI image-spec descriptor as it appears inside manifests and indexes. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { architecture: string; os: string; "os.version"?: string; "os.features"?: string[]; variant?: string; features?: string[] };
}

/** OCI image index, or Docker's manifest list (the same shape). */
export interface OciImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: OciDescriptor[];
  subject?: OciDescriptor;
  annotations?: Record<string, string>;
}

/** OCI image manifest, or Docker's manifest v2 schema 2 (the same shape). */
export interface OciImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  subject?: OciDescriptor;
  annotations?: Record<string, string>;
}

/** OCI image-spec `config.md` (what `docker inspect` shows of an image). */
export interface OciImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; author?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface Manifest extends Descriptor {
  /** The parsed JSON, as the registry sent it. */
  manifest: OciImageIndex | OciImageManifest;
  /** Set when `platform` picked this manifest out of an index: the index's descriptor. */
  index?: Descriptor;
  /** For an index or list: its runnable entries, in order. */
  platforms?: Platform[];
}

export interface ImageConfig {
  digest: string;
  config: OciImageConfig;
}

export interface ImageReference {
  /** "docker.io", "ghcr.io", "localhost:5000". */
  domain: string;
  /** "library/nginx". */
  path: string;
  /** domain + "/" + path. */
  name: string;
  tag: string | null;
  digest: string | null;
  /** The shortest form docker shows, e.g. "nginx:1.25". */
  familiar: string;
  /** e.g. "https://registry-1.docker.io", "http://localhost:5000". */
  registryUrl: string;
}

export interface Challenge {
  /** Lower-case, e.g. "bearer". */
  scheme: string;
  /** Keys lower-case, values unquoted. A token68 (`Negotiate abc==`) is under the key "". */
  params: Record<string, string>;
}

export interface CacheStats {
  tokens: number;
  tokenCapacity: number;
  challenges: number;
  inFlight: number;
  /** The WebAssembly instance's linear memory in bytes (shared by its clients; never shrinks). */
  memoryBytes: number;
  /** Tokens read from a `tokenStore` and used. */
  storeHits: number;
  /** Store reads that found nothing usable (absent, expired, another key's or malformed). */
  storeMisses: number;
  /** Store calls that threw, rejected or took over a second; the call went to the network. */
  storeErrors: number;
}

/**
 * Where tokens are shared across isolates and page loads. Keys are opaque (`rt1-` and 64 hex
 * digits: a SHA-256 over the registry, the sorted scope and a hash of the credential); values are
 * JSON holding the token, its expiry, granted scope, realm and service, never a credential.
 */
export interface TokenStore {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  put(key: string, value: string, options: { expiresAt: number; ttlSeconds: number }): Promise<void> | void;
  delete?(key: string): Promise<void> | void;
}

/** The part of a Workers KV namespace binding that {@link kvStore} uses. */
export interface KVNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>;
  delete?(key: string): Promise<unknown>;
}

/** The part of a Cache API `Cache` (`caches.default`, `await caches.open(name)`) that {@link cacheStore} uses. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<unknown>;
  delete?(request: string): Promise<boolean>;
}

/** The part of Web Storage (`sessionStorage`, `localStorage`) that {@link webStorageStore} uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key?(index: number): string | null;
  readonly length?: number;
}

/** Workers KV as a token store; entries expire by KV's `expirationTtl`. Default prefix "registry-token:". */
export function kvStore(namespace: KVNamespaceLike, options?: { prefix?: string }): TokenStore;
/** The Cache API as a token store; entries carry `Cache-Control: max-age` = their TTL. Default base URL "https://registry-token.invalid/tokens/". */
export function cacheStore(cache: CacheLike, options?: { baseUrl?: string }): TokenStore;
/** `sessionStorage` / `localStorage` as a token store. Readable by every script on the origin. Default prefix "registry-token:". */
export function webStorageStore(storage: StorageLike, options?: { prefix?: string }): TokenStore;

/** A bearer token for the image: "" when the registry needs no authentication. */
export function getToken(imageRef: string, options?: GetTokenOptions): Promise<string>;
/** Throws a RegistryAuthError with code INVALID_REFERENCE. */
export function parseReference(imageRef: string): ImageReference;
/** Throws a RegistryAuthError with code INVALID_CHALLENGE. */
export function parseChallenges(headerValue: string): Challenge[];
/**
 * Loads the WebAssembly module; needed before the synchronous parsers in browsers only (a no-op
 * in Node, Deno, Bun and workerd, where it loads at import). `wasm` overrides where the browser
 * entry gets `registry_token_bg.wasm` (e.g. a bundler's asset URL); it counts only on the first
 * call, so make that call before any `getToken`.
 */
export function init(wasm?: URL | string | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;

export class RegistryClient {
  /**
   * `defaults` are merged under each call's options, key by key. Throws RegistryAuthError
   * INVALID_REFERENCE if they hold `username`, `password` or `refreshToken`: bind secrets to their
   * registry with `credentials`.
   */
  constructor(defaults?: ClientDefaults);
  getToken(imageRef: string, options?: GetTokenOptions): Promise<string>;
  authorize(imageRef: string, options?: GetTokenOptions): Promise<Authorization>;
  /**
   * One authorized request to the image's repository. `path` is relative to
   * `<registry>/v2/<repository>/` ("tags/list?n=10", "manifests/1.0", "blobs/sha256:…"), an
   * absolute path ("/v2/_catalog"), or a URL on the registry's own origin. A 401 with a Bearer
   * challenge is answered once (a token for the scopes asked for, or a fresh one); redirects to
   * another origin go without `Authorization`. Resolves with the final Response, whatever its
   * status; rejects only when authorization fails.
   */
  fetch(imageRef: string, path: string, init?: RegistryRequestInit): Promise<Response>;
  /** Every tag, following `Link` pages. */
  listTags(imageRef: string, options?: ListOptions): Promise<string[]>;
  /** One array per page, as pages arrive; stops requesting when you stop iterating. */
  tagPages(imageRef: string, options?: ListOptions): AsyncIterable<string[]>;
  /** Every repository of a registry ("localhost:5000", "ghcr.io"); UNSUPPORTED_OPERATION where there is no catalog. */
  catalog(registry: string, options?: ListOptions): Promise<string[]>;
  getManifest(imageRef: string, options?: ManifestOptions): Promise<Manifest>;
  /** HEAD (not a pull on Docker Hub); falls back to GET when the registry omits Docker-Content-Digest. */
  headManifest(imageRef: string, options?: ManifestOptions): Promise<Descriptor>;
  /** The config blob of the (platform-resolved) manifest, verified and parsed. */
  getImageConfig(imageRef: string, options?: ManifestOptions): Promise<ImageConfig>;
  /** A tag is resolved to its digest (HEAD), then `DELETE …/manifests/<digest>` with a `delete` token. */
  deleteManifest(imageRef: string, options?: GetTokenOptions): Promise<void>;
  /** Forgets tokens, challenges and per-realm facts. */
  clearCache(): void;
  stats(): CacheStats;
  /**
   * Frees the wasm memory of this client's caches now; harmless to call twice. Where the runtime
   * has `FinalizationRegistry` enabled (Node, browsers, Deno, Bun) an unreachable client is
   * freed anyway; workerd enables it only behind a flag, so keep one client per isolate there.
   */
  free(): void;
  /** `using client = new RegistryClient()`: frees it at the end of the scope. */
  [Symbol.dispose](): void;
}

/** The registry calls on the module-wide client (the one `getToken` uses). */
export function registryFetch(imageRef: string, path: string, init?: RegistryRequestInit): Promise<Response>;
export function listTags(imageRef: string, options?: ListOptions): Promise<string[]>;
export function tagPages(imageRef: string, options?: ListOptions): AsyncIterable<string[]>;
export function catalog(registry: string, options?: ListOptions): Promise<string[]>;
export function getManifest(imageRef: string, options?: ManifestOptions): Promise<Manifest>;
export function headManifest(imageRef: string, options?: ManifestOptions): Promise<Descriptor>;
export function getImageConfig(imageRef: string, options?: ManifestOptions): Promise<ImageConfig>;
export function deleteManifest(imageRef: string, options?: GetTokenOptions): Promise<void>;
