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
  | "ABORTED";

/** What every rejection and throw is: `err instanceof Error && err.name === "RegistryAuthError"`. */
export interface RegistryAuthError extends Error {
  name: "RegistryAuthError";
  code: RegistryAuthErrorCode;
  /** The HTTP status that caused the error, when one did. */
  status?: number;
  /** The server's Retry-After header, verbatim, on 429/503 answers. */
  retryAfter?: string;
  /** The original JavaScript failure (e.g. fetch's TypeError), when there was one. */
  cause?: unknown;
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
}

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
  /** Forgets tokens, challenges and per-realm facts. */
  clearCache(): void;
  stats(): CacheStats;
}
