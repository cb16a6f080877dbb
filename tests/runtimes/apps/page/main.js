// A page that obtains a registry token with `registry-token` and shows it. The same source runs
// unbundled (plain.html maps "registry-token" with an import map) and through Vite and esbuild.
// Query: ref, and optionally registryUrl, username, password, actions (comma-separated),
// worker ("bundled" or a worker script URL), manifest (a tag to fetch with the token).
import { getToken, parseReference, RegistryAuthError, RegistryClient } from "registry-token";
import { fromWorker, show } from "./show.js";

// Before the module has loaded, a synchronous parser throws NOT_INITIALIZED, a RegistryAuthError.
const result = document.querySelector("#result");
try {
  parseReference("nginx");
  result.dataset.preInit = "no throw";
} catch (e) {
  result.dataset.preInit = `${e instanceof RegistryAuthError}:${e.code}`;
}

const params = new URLSearchParams(location.search);
const ref = params.get("ref") ?? "";
const options = {};
for (const key of ["registryUrl", "username", "password"]) if (params.has(key)) options[key] = params.get(key);
if (params.has("actions")) options.actions = params.get("actions").split(",");
document.querySelector("#ref").textContent = ref;

const token = getToken(ref, options);
// Attached before show()'s handlers, so it is set when the test sees the result.
token.catch((e) => {
  result.dataset.registryAuthError = String(e instanceof RegistryAuthError && RegistryAuthError.is(e));
});
show("#result", token);

// With the token, read a manifest from the registry (the real-registry test): its digest.
if (params.has("manifest")) {
  const [host, ...path] = ref.split("/");
  const repository = path.join("/").replace(/[:@].*$/, "");
  const manifest = token.then(async (t) => {
    const res = await fetch(`http://${host}/v2/${repository}/manifests/${params.get("manifest")}`, {
      headers: { Authorization: `Bearer ${t}`, Accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    if (!res.ok) throw new Error(`manifest: HTTP ${res.status}`);
    return res.headers.get("docker-content-digest");
  });
  show("#manifest", manifest);
}

// The registry calls through the package (query `calls`): every tag, then the image config,
// whose blob the registry redirects to another origin (Authorization must not follow it).
if (params.has("calls")) {
  const client = new RegistryClient();
  const calls = (async () => {
    const tags = await client.listTags(ref, options);
    const { digest, config } = await client.getImageConfig(ref, options);
    return JSON.stringify({ tags, digest, created: config.created });
  })();
  show("#registry", calls);
}

// The cached call's fast path (query `fast`), through the browser entry's own client class and
// module function: repeated calls without options share one settled promise and send nothing;
// clearCache() and a call with options still take the full path.
if (params.has("fast")) {
  const fast = (async () => {
    const client = new RegistryClient();
    const first = await client.getToken(ref);
    const [p1, p2] = [client.getToken(ref), client.getToken(ref)];
    const repeated = [await p1, await p2];
    const viaOptions = await client.getToken(ref, {});
    client.clearCache();
    const afterClear = await client.getToken(ref);
    const moduleFirst = await getToken(ref);
    const moduleAgain = await Promise.all([getToken(ref), getToken(ref)]);
    client.free();
    let freed;
    try {
      await client.getToken(ref);
      freed = "no error";
    } catch (e) {
      freed = `${e instanceof RegistryAuthError}:${e.code}`;
    }
    return JSON.stringify({ first, repeated, samePromise: p1 === p2, viaOptions, afterClear, moduleFirst, moduleAgain, freed });
  })();
  show("#fast", fast);
}

// The same call in a module Web Worker (no `window` there).
const kind = params.get("worker");
if (kind) {
  const worker =
    kind === "bundled"
      ? new Worker(new URL("./worker.js", import.meta.url), { type: "module" }) // bundlers follow this form
      : new Worker(new URL(kind, location.href), { type: "module" });
  const reply = new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      document.querySelector("#worker-result").dataset.window = e.data.window;
      resolve(fromWorker(e.data));
    };
    worker.onerror = (e) => reject(new Error(`worker failed to start: ${e.message ?? "error event"}`));
  });
  worker.postMessage({ ref, options });
  show("#worker-result", reply);
}
