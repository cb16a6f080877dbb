// The pure-JavaScript baseline: the token dance as a user would write it in an afternoon, with
// `fetch` and no library. Ping /v2/, read the Bearer challenge, GET the realm with service and
// scope, return the token. No challenge cache, no token cache, no single-flight — every call
// costs two round trips. `createCachedBaseline()` adds the obvious `Map` cache in front of it,
// which is what the cached-call throughput is compared against.
//
// It handles what the bench needs (anonymous pull from a Bearer registry, host:port references)
// and deliberately nothing more: no Basic, no OAuth2 POST, no refresh tokens, no quoted commas.

/** "127.0.0.1:5000/library/app:1" → { base, repository }; docker.io names normalised. */
export function parseImageRef(imageRef) {
  let rest = imageRef.split("@")[0];
  const slash = rest.indexOf("/");
  let domain = "docker.io";
  const first = slash < 0 ? "" : rest.slice(0, slash);
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    domain = first;
    rest = rest.slice(slash + 1);
  }
  const colon = rest.lastIndexOf(":");
  const repository0 = colon > rest.lastIndexOf("/") ? rest.slice(0, colon) : rest;
  const repository = domain === "docker.io" && !repository0.includes("/") ? `library/${repository0}` : repository0;
  const local = /^(localhost|127\.)/.test(domain);
  const base = domain === "docker.io" ? "https://registry-1.docker.io" : `${local ? "http" : "https"}://${domain}`;
  return { base, repository };
}

/** `Bearer realm="…",service="…"` → { scheme, realm, service } (one challenge, simple values). */
export function parseChallenge(header) {
  const m = /^\s*(\w+)\s+(.*)$/.exec(header ?? "");
  if (!m) return null;
  const params = {};
  for (const [, k, v] of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[k.toLowerCase()] = v;
  return { scheme: m[1].toLowerCase(), ...params };
}

/** Two round trips per call: GET /v2/, then GET realm?service=…&scope=…. */
export async function baselineGetToken(imageRef, { fetch: f = globalThis.fetch, actions = ["pull"] } = {}) {
  const { base, repository } = parseImageRef(imageRef);
  const ping = await f(`${base}/v2/`);
  await ping.arrayBuffer();
  if (ping.status === 200) return "";
  const challenge = parseChallenge(ping.headers.get("www-authenticate"));
  if (!challenge || challenge.scheme !== "bearer") throw new Error(`no Bearer challenge from ${base}`);
  const url = new URL(challenge.realm, base);
  if (challenge.service) url.searchParams.set("service", challenge.service);
  url.searchParams.set("scope", `repository:${repository}:${actions.join(",")}`);
  const res = await f(url);
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const body = await res.json();
  return body.token ?? body.access_token;
}

/** The baseline with a `Map` in front, keyed by the reference string; expiry honoured. */
export function createCachedBaseline(options) {
  const cache = new Map();
  return {
    async getToken(imageRef) {
      const hit = cache.get(imageRef);
      if (hit && hit.expiresAt > Date.now()) return hit.token;
      const token = await baselineGetToken(imageRef, options);
      cache.set(imageRef, { token, expiresAt: Date.now() + 60_000 });
      return token;
    },
  };
}
