// The dashboard served by `npm start`: everything in this browser, through the package. One
// RegistryClient per registry + credentials (so each cache and token shows), and a recording
// `fetch` passed to every call so the Requests panel lists each request the package made.
import { init, parseReference, RegistryClient } from "/pkg/index.browser.js";
import {
  compressedSize, createLimiter, createWorkerClient, decodeJwt, defaultPlatform, displayClaims, displayHeader, errorView, formatBytes, formatCount,
  formatCreated, formatRemaining, mediaTypeInfo, platformText, plural, progressText, proxyBase, recordingFetch, registryHost,
  selectTags, shortDigest, truncateToken, workerBase,
} from "./format.js";

const $ = (id) => document.getElementById(id);
const CHUNK = 100; // tag rows rendered per chunk
const MAX_ROWS = 1000; // never more rows than this in the DOM: refine the filter beyond
const ROW_CONCURRENCY = 4; // manifest/config requests for rows at once
const MAX_GROUPS = 30; // request groups kept on screen
const MAX_GROUP_ROWS = 150; // requests shown per group (the latest)

const S = {
  config: null,
  host: null, // the registry's host as typed ("127.0.0.1:5000", "ghcr.io")
  domain: null, // as the package names it (credentials key)
  registryUrl: undefined, // the dev proxy base, when used
  worker: null, // the examples/worker base URL the registry is read through, when set (memory only)
  creds: new Map(), // domain → Credential (memory only)
  clients: new Map(), // `${domain}|${registryUrl}|${credId}` → RegistryClient
  credIds: new WeakMap(),
  repos: [],
  repo: null,
  tags: [],
  facts: new Map(), // tag → { state, digest, mediaType, size, platforms, created, ... }
  byDigest: new Map(), // digest → Promise<detail>
  listing: null, // { controller, pages, started }
  shown: 0, // rows rendered
  groups: [],
  requestCount: 0,
  limiter: createLimiter(ROW_CONCURRENCY),
  generation: 0, // bumps when the repository changes: late row answers are dropped
  rateLimitedUntil: 0,
};
let countdownTimer = null;
let currentToken = null;
let credSeq = 0;
let renderQueued = false;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "style") Object.assign(node.style, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function setState(state, status) {
  document.body.dataset.state = state;
  if (status !== undefined) $("status").textContent = status;
}

// ---------------------------------------------------------------------------------------------
// Clients, credentials and the request log

function client() {
  if (S.worker) {
    const key = `worker|${S.worker}`;
    if (!S.clients.has(key)) S.clients.set(key, createWorkerClient(S.worker));
    return S.clients.get(key);
  }
  const cred = S.creds.get(S.domain) ?? null;
  if (cred && !S.credIds.has(cred)) S.credIds.set(cred, ++credSeq);
  const key = `${S.domain}|${S.registryUrl ?? ""}|${cred ? S.credIds.get(cred) : 0}`;
  let c = S.clients.get(key);
  if (!c) {
    c = new RegistryClient({ credentials: cred ? { [S.domain]: cred } : undefined, registryUrl: S.registryUrl });
    S.clients.set(key, c);
  }
  return c;
}

/**
 * Options for one package call, its requests recorded into the group `label`: a new group, or with
 * `shared` the latest group of that name (the rows of one repository share one).
 */
function traced(label, extra = {}, { shared = false } = {}) {
  let group = shared ? S.groups.findLast((g) => g.label === label && g.generation === S.generation) : null;
  if (!group) {
    group = { label, requests: [], generation: S.generation };
    group.record = recordingFetch(group.requests);
    S.groups.push(group);
    if (S.groups.length > MAX_GROUPS * 4) S.groups.splice(0, S.groups.length - MAX_GROUPS * 2);
  }
  const fetch = async (input, init) => {
    S.requestCount++;
    try {
      return await group.record(input, init);
    } finally {
      queueRequestsRender();
    }
  };
  return { fetch, ...extra };
}

/** A waterfall bar: where the request started and how long it took, as parts of the group's span. */
function barStyle(r, end) {
  const left = Math.min(99.5, (r.start / end) * 100);
  return { left: `${left}%`, width: `${Math.min(100 - left, Math.max(0.5, ((r.ms ?? 0) / end) * 100))}%` };
}

function queueRequestsRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderRequests();
  });
}

function renderRequests() {
  const groups = S.groups.filter((g) => g.requests.length).slice(-MAX_GROUPS).reverse();
  $("requests-count").textContent = `(${plural(S.requestCount, "request")})`;
  $("request-groups").replaceChildren(...groups.map((g) => {
    const end = g.requests.reduce((max, r) => Math.max(max, r.start + (r.ms ?? 0)), 1);
    const hidden = Math.max(0, g.requests.length - MAX_GROUP_ROWS);
    return el("li", { "data-label": g.label },
      el("h3", {}, `${g.label} `, el("span", { class: "hint" }, `${plural(g.requests.length, "request")}, ${end.toFixed(0)} ms`)),
      hidden ? el("p", { class: "hint" }, `${plural(hidden, "earlier request")} of this group not shown.`) : "",
      el("ol", { class: "waterfall" }, g.requests.slice(hidden).map((r) => {
        const rechallenge = r.status === 401 && r.kind !== "challenge";
        const kind = rechallenge ? "re-challenge" : r.kind;
        const ok = (r.status >= 200 && r.status < 400) || (r.kind === "challenge" && r.status === 401) || rechallenge;
        return el("li", { "data-kind": kind, "data-status": String(r.status ?? "") },
          el("span", { class: `kind ${r.kind}` }, kind),
          el("span", { class: `status${ok ? "" : " bad"}`, title: r.error ?? "" }, r.status === null ? "…" : r.status ? String(r.status) : "failed"),
          el("span", { class: "ms" }, r.ms === null ? "" : `${r.ms.toFixed(0)} ms`),
          el("span", { class: "track", "aria-hidden": "true" },
            el("span", { class: `bar ${r.kind}`, style: barStyle(r, end) })),
          el("span", { class: "url" }, `${r.method} ${r.url}`));
      })));
  }));
}

// ---------------------------------------------------------------------------------------------
// Errors

function showError(err, context) {
  $("error").hidden = !err;
  if (!err) return;
  const v = errorView(err);
  $("error-code").textContent = v.code;
  $("error-status").textContent = v.status ? `HTTP ${v.status}` : "";
  $("error-context").textContent = context ?? "";
  $("error-message").textContent = v.message;
  $("error-registry").hidden = !v.registry;
  $("error-registry-text").textContent = v.registry ?? "";
  $("error-retry").hidden = !(err.code === "RATE_LIMITED");
  $("error-retry").textContent = v.retry
    ? `Rate limited: ${v.retry.text}. The package never retries by itself.`
    : "Rate limited; the registry did not say when to retry (no Retry-After header).";
  $("error-hint").hidden = !v.hint;
  $("error-hint").textContent = v.hint ?? "";
  if (v.retry) S.rateLimitedUntil = Math.max(S.rateLimitedUntil, v.retry.at);
}

function describeFailure(err) {
  const v = errorView(err);
  const extra = v.retry ? ` — ${v.retry.text}` : v.status ? ` (HTTP ${v.status})` : "";
  return `${v.code}${extra}`;
}

// ---------------------------------------------------------------------------------------------
// Registry bar

async function boot() {
  setState("loading", "Loading the WebAssembly module…");
  try {
    const [res] = await Promise.all([fetch("/config.json"), init()]);
    S.config = await res.json();
  } catch (err) {
    setState("error", `Could not start: ${err.message}`);
    return;
  }
  const cfg = S.config;
  const backend = typeof cfg.backend === "string" ? cfg.backend : null;
  $("backend-line").replaceChildren(el("span", {},
    "Local registry ", el("code", {}, cfg.registry),
    backend ? [" (", el("strong", { id: "backend" }, backend), backend === "builtin" ? ": the registry written in Node that npm start runs" : ": CNCF distribution 2.8.2", ")"] : "",
    ". Every request on this page is made in your browser by the package, unless you route a registry through your Worker (Worker URL).",
  ));
  const hosts = [cfg.registry, "docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "mcr.microsoft.com"];
  $("registries").replaceChildren(...hosts.map((h) => el("option", { value: h }, h === cfg.registry ? "the local registry" : "through the dev proxy")));
  $("proxy-row").hidden = !cfg.proxy;
  const users = Array.isArray(cfg.users) ? cfg.users : [];
  if (users.length) {
    $("users-hint").replaceChildren("Local test users: ", ...users.flatMap((u, i) => {
      const b = el("button", { type: "button", class: "small", "aria-label": `Fill in the test user ${u.username}` }, u.username);
      b.addEventListener("click", () => {
        $("username").value = u.username;
        $("password").value = u.password;
        $("refresh-token").checked = false;
      });
      return i ? [" ", b] : [b];
    }));
  }

  $("registry-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    openRegistry($("registry").value, { proxy: $("use-proxy").checked, worker: $("worker-url").value });
  });
  $("registry").addEventListener("input", () => {
    const h = registryHost($("registry").value);
    if (h && cfg.proxy) $("use-proxy").checked = !isLocal(h);
  });
  $("sign-in").addEventListener("click", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("repo-filter").addEventListener("input", renderRepos);
  $("repo-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("repo-name").value.trim();
    if (name) openRepo(name);
  });
  $("tag-filter").addEventListener("input", () => renderTags(true));
  $("tag-sort").addEventListener("change", () => renderTags(true));
  $("stop").addEventListener("click", () => S.listing?.controller.abort());
  $("more").addEventListener("click", () => {
    const first = S.shown;
    renderMore();
    $("tag-list").children[first]?.querySelector("button")?.focus();
  });
  $("copy").addEventListener("click", () => copyText(currentToken, $("copy-status")));
  $("clear-requests").addEventListener("click", () => {
    S.groups = [];
    S.requestCount = 0;
    renderRequests();
  });
  $("error-close").addEventListener("click", () => showError(null));
  $("details-close").addEventListener("click", () => $("details").close());
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !$("more").hidden) renderMore();
  }, { rootMargin: "200px" }).observe($("more"));

  const params = new URLSearchParams(location.search);
  const start = params.get("registry") ?? cfg.registry;
  $("registry").value = start;
  setState("idle", "Ready.");
  await openRegistry(start, { proxy: params.has("proxy") || (!isLocal(registryHost(start) ?? "") && !!cfg.proxy) });
  if (params.get("repo")) await openRepo(params.get("repo"));
}

function isLocal(host) {
  return host === S.config.registry || host === S.config.registryNoCors;
}

async function openRegistry(input, { proxy = false, worker = "" } = {}) {
  const host = registryHost(input);
  if (!host) {
    showError(Object.assign(new Error(`"${input}" is not a registry host: type one such as ghcr.io or 127.0.0.1:5000`), { code: "INVALID_REFERENCE" }), "Opening a registry");
    return;
  }
  const base = workerBase(worker);
  if (worker.trim() && !base) {
    showError(Object.assign(new Error(`"${worker.trim()}" is not a Worker URL: type one such as https://registry-proxy.example.workers.dev`), { code: "INVALID_PARAMETER" }), "Opening a registry through a Worker");
    return;
  }
  let ref;
  try {
    ref = parseReference(`${host}/x`);
  } catch (err) {
    showError(err, "Opening a registry");
    return;
  }
  abortListing();
  S.host = host;
  S.domain = ref.domain;
  S.worker = base;
  S.registryUrl = proxy && S.config.proxy && !base ? proxyBase(location.origin, ref.registryUrl) : undefined;
  $("registry").value = host;
  $("use-proxy").checked = !!S.registryUrl;
  $("cred-host").textContent = S.domain;
  updateSignedIn();
  resetRepo();
  $("repo-name").value = ""; // a repository of the previous registry means nothing here
  showError(null);
  await loadCatalog();
}

function updateSignedIn() {
  const cred = S.creds.get(S.domain);
  $("signed-in").textContent = S.worker ? "the Worker's" : cred ? (cred.username ? `signed in as ${cred.username}` : "refresh token set") : "anonymous";
  $("signed-in").classList.toggle("on", !!cred && !S.worker);
  $("cred-worker").hidden = !S.worker;
  $("cred-worker-url").textContent = S.worker ?? "";
  $("sign-in").disabled = !!S.worker;
  $("sign-out").disabled = !!S.worker;
}

async function signIn() {
  const username = $("username").value.trim();
  const password = $("password").value;
  if (!password) {
    $("password").focus();
    setState("error", "Type a password or token first.");
    return;
  }
  const cred = $("refresh-token").checked ? { refreshToken: password } : { username: username || "token", password };
  S.creds.set(S.domain, cred);
  $("password").value = ""; // the secret lives in memory (S.creds) from here on, not in the page
  updateSignedIn();
  setState("idle", `Credentials set for ${S.domain}.`);
  await reloadAfterCredentials();
}

async function signOut() {
  S.creds.delete(S.domain);
  $("username").value = "";
  $("password").value = "";
  updateSignedIn();
  setState("idle", `Signed out of ${S.domain}: anonymous from now on.`);
  await reloadAfterCredentials();
}

async function reloadAfterCredentials() {
  showError(null);
  const repo = S.repo;
  if (!S.repos.length) await loadCatalog();
  if (repo) await openRepo(repo);
}

// ---------------------------------------------------------------------------------------------
// Repositories

async function loadCatalog() {
  S.repos = [];
  renderRepos();
  $("repos-note").textContent = `Asking ${S.domain} for its catalog${S.worker ? " through the Worker" : ""}…`;
  setState("busy", "Listing repositories…");
  try {
    S.repos = await client().catalog(S.host, traced(`Catalog of ${S.domain}`));
    $("repos-note").textContent = S.repos.length ? "" : "The catalog is empty.";
    setState("ok", `${plural(S.repos.length, "repository", "repositories")} on ${S.domain}${S.worker ? " (through the Worker)" : ""}.`);
  } catch (err) {
    if (err.code === "UNSUPPORTED_OPERATION") {
      $("repos-note").textContent = `${S.domain} has no catalog (Docker Hub and GHCR keep it private): type a repository below, e.g. ${S.domain === "docker.io" ? "library/alpine" : "owner/name"}.`;
      setState("idle", `${S.domain} has no catalog: type a repository.`);
      $("repo-name").focus();
    } else if (err.code === "UNAUTHORIZED" && !S.worker) {
      $("repos-note").textContent = "The catalog needs credentials: sign in above, or type a repository below.";
      $("credentials").open = true;
      showError(err, `Listing the repositories of ${S.domain}`);
      setState("error", `The catalog of ${S.domain} needs credentials.`);
    } else {
      $("repos-note").textContent = "Could not list the repositories; you can still type one below.";
      showError(err, `Listing the repositories of ${S.domain}`);
      setState("error", `Catalog failed: ${err.code ?? err.name}`);
    }
  }
  renderRepos();
}

/** What the local registry's seed (config.seed, when the server sends it) says a repository shows. */
function seedNote(repo) {
  const seed = S.config?.seed;
  if (!seed || !isLocal(S.host) || !Array.isArray(seed.repositories)) return "";
  const entry = seed.repositories.find((r) => r.name === repo);
  if (!entry) return "";
  const limited = seed.rateLimited?.repository ?? S.config.rateLimited;
  if (repo === limited) return "rate-limited";
  if (entry.private) return "private";
  if (repo === seed.multiArch) return `${entry.platforms?.length ?? ""} platforms`.trim();
  if (repo === seed.manyTags) return plural(entry.tagCount ?? 0, "tag");
  return "";
}

/** The tags panel before a repository is chosen: what to try on the local registry. */
function chooseText() {
  const seed = S.config?.seed;
  if (!seed || !S.host || !isLocal(S.host)) return "Choose a repository.";
  const tries = [[seed.multiArch, "multi-arch"], [seed.manyTags, "paging"], [seed.private, "credentials"], [seed.rateLimited?.repository, "RATE_LIMITED"]]
    .filter(([r]) => typeof r === "string").map(([r, what]) => `${r} (${what})`);
  return tries.length ? `Choose a repository. Try ${tries.join(", ")}.` : "Choose a repository.";
}

function renderRepos() {
  const q = $("repo-filter").value.trim().toLowerCase();
  const matching = S.repos.filter((r) => r.toLowerCase().includes(q));
  const shown = matching.slice(0, 300);
  const active = document.activeElement;
  const focusedRepo = active?.closest?.("#repo-list") ? active.dataset.repo : null;
  $("repos-count").textContent = S.repos.length ? `(${q ? `${formatCount(matching.length)} of ` : ""}${formatCount(S.repos.length)})` : "";
  $("repo-list").replaceChildren(...shown.map((r) => el("li", {},
    el("button", { type: "button", class: "repo", "aria-current": r === S.repo ? "true" : null, "data-repo": r, onclick: () => openRepo(r) }, r),
    seedNote(r) ? el("span", { class: "hint repo-note" }, seedNote(r)) : "")));
  if (matching.length > shown.length) $("repo-list").append(el("li", { class: "hint" }, `${formatCount(matching.length - shown.length)} more: refine the filter.`));
  if (focusedRepo) $("repo-list").querySelector(`button[data-repo="${CSS.escape(focusedRepo)}"]`)?.focus({ preventScroll: true }); // keep the keyboard's place
}

// ---------------------------------------------------------------------------------------------
// Tags

function imageRef(tagOrDigest) {
  const sep = tagOrDigest.includes(":") ? "@" : ":"; // a tag never holds ':', a digest always does
  return `${S.host}/${S.repo}${sep}${tagOrDigest}`;
}

function abortListing() {
  S.listing?.controller.abort();
  S.listing = null;
}

function resetRepo() {
  abortListing();
  S.generation++;
  S.limiter.clear();
  S.repo = null;
  S.tags = [];
  S.facts = new Map();
  S.byDigest = new Map();
  S.shown = 0;
  $("tags-repo").textContent = "";
  $("tag-list").replaceChildren();
  $("tag-count").textContent = "";
  $("more").hidden = true;
  $("stop").hidden = true;
  setProgress("idle", chooseText());
  showAuthorization(null);
  const created = $("tag-sort").querySelector('option[value="created"]');
  created.disabled = true;
  if ($("tag-sort").value === "created") $("tag-sort").value = "version";
}

function setProgress(state, text) {
  $("tags-progress").dataset.state = state;
  $("tags-progress").textContent = text;
}

async function openRepo(name) {
  const repo = name.trim().replace(/^\/+|\/+$/g, "");
  resetRepo();
  showError(null);
  S.repo = repo;
  const generation = S.generation;
  $("repo-name").value = repo;
  $("tags-repo").textContent = `${S.domain}/${repo}`;
  renderRepos();
  const top = $("tags-title").getBoundingClientRect().top;
  if (top < 0 || top > innerHeight - 80) $("tags-title").scrollIntoView({ block: "start" }); // e.g. a phone: the tags are below
  const controller = new AbortController();
  const listing = { controller, pages: 0, started: performance.now() };
  S.listing = listing;
  $("stop").hidden = false;
  setState("busy", `Listing the tags of ${repo}…`);
  setProgress("loading", progressText({ tags: 0, pages: 0, state: "loading" }));
  const opts = traced(`Tags of ${repo}`, { signal: controller.signal, timeoutMs: 120_000 });
  try {
    for await (const page of client().tagPages(`${S.host}/${repo}`, opts)) {
      if (generation !== S.generation) return;
      listing.pages++;
      S.tags.push(...page);
      setProgress("loading", progressText({ tags: S.tags.length, pages: listing.pages, state: "loading" }));
      scheduleTagsRender(); // once a frame at most: pages can come faster than rows need redrawing
    }
    if (generation !== S.generation) return;
    setProgress("done", progressText({ tags: S.tags.length, pages: listing.pages, state: "done", ms: performance.now() - listing.started }));
    setState("ok", `${plural(S.tags.length, "tag")} in ${repo}.`);
  } catch (err) {
    if (generation !== S.generation) return;
    if (err.code === "ABORTED") {
      setProgress("stopped", progressText({ tags: S.tags.length, pages: listing.pages, state: "stopped" }));
      setState("idle", "Stopped.");
    } else {
      setProgress("error", progressText({ tags: S.tags.length, pages: listing.pages, state: "error" }));
      showError(err, `Listing the tags of ${S.domain}/${repo}`);
      if (S.worker) {
        setState("error", `Listing failed: ${err.code ?? err.name}${err.code === "UNAUTHORIZED" ? " (the Worker has no credentials for it)" : ""}`);
      } else if (err.code === "UNAUTHORIZED" || (err.code === "NOT_FOUND" && !S.creds.has(S.domain) && !repo.startsWith("library/"))) {
        $("credentials").open = true;
        $("error-context").textContent = `Listing the tags of ${S.domain}/${repo}: this repository needs credentials. Sign in above (the page lists it again).`;
        setState("error", `${repo} needs credentials: sign in above.`);
        $("username").focus();
      } else {
        setState("error", `Listing failed: ${err.code ?? err.name}`);
      }
    }
  } finally {
    if (S.listing === listing) {
      S.listing = null;
      $("stop").hidden = true;
    }
  }
  renderTags(false);
  if (generation === S.generation && S.tags.length) await showAuth(repo);
}

/** The token panel: authorize() answers from the client's cache after a listing (zero requests). */
async function showAuth(repo) {
  if (S.worker) return showAuthorization(null); // the Worker keeps its tokens
  try {
    showAuthorization(await client().authorize(`${S.host}/${repo}`, traced(`Token for ${repo}`)));
  } catch {
    showAuthorization(null);
  }
}

function currentSelection() {
  return selectTags(S.tags, {
    query: $("tag-filter").value,
    sort: $("tag-sort").value,
    created: (t) => S.facts.get(t)?.createdMs,
  });
}

let tagsRenderQueued = false;
function scheduleTagsRender() {
  if (tagsRenderQueued) return;
  tagsRenderQueued = true;
  requestAnimationFrame(() => {
    tagsRenderQueued = false;
    renderTags(false);
  });
}

/** Redraws `container` with `draw`; the control that had the focus in it (by its label) gets it back, without scrolling. */
function keepingFocus(container, draw) {
  const active = document.activeElement;
  const label = container.contains(active) ? active.getAttribute("aria-label") : null;
  draw();
  if (label) container.querySelector(`[aria-label="${CSS.escape(label)}"]`)?.focus({ preventScroll: true });
}

/** Re-renders the tag rows: the first chunk on a filter/sort change, or as many as were shown. */
function renderTags(reset) {
  const selected = currentSelection();
  S.selected = selected;
  const keep = reset ? CHUNK : Math.max(CHUNK, S.shown);
  keepingFocus($("tag-list"), () => {
    S.shown = 0;
    $("tag-list").replaceChildren();
    rowObserver.disconnect();
    renderMore(Math.min(keep, MAX_ROWS));
  });
  const q = $("tag-filter").value.trim();
  $("tag-count").textContent = S.tags.length
    ? `${q ? `${formatCount(selected.length)} of ${formatCount(S.tags.length)} tags match` : plural(S.tags.length, "tag")}; showing ${formatCount(S.shown)}.`
    : "";
  $("tag-list").dataset.count = String(selected.length);
}

function renderMore(count = CHUNK) {
  const selected = S.selected ?? [];
  const end = Math.min(selected.length, S.shown + count, MAX_ROWS);
  const rows = [];
  for (let i = S.shown; i < end; i++) rows.push(tagRow(selected[i]));
  $("tag-list").append(...rows);
  for (const r of rows) rowObserver.observe(r);
  S.shown = end;
  const left = selected.length - S.shown;
  $("more").hidden = left <= 0 || S.shown >= MAX_ROWS;
  $("more").textContent = `Show ${formatCount(Math.min(CHUNK, left))} more (${formatCount(left)} not shown)`;
  if (S.shown >= MAX_ROWS && left > 0) $("tag-list").append(el("li", { class: "hint cap" }, `${formatCount(left)} more tags: refine the filter to see them.`));
  const q = $("tag-filter").value.trim();
  if (S.tags.length) {
    $("tag-count").textContent = `${q ? `${formatCount(selected.length)} of ${formatCount(S.tags.length)} tags match` : plural(S.tags.length, "tag")}; showing ${formatCount(S.shown)}.`;
  }
}

function tagRow(tag) {
  const li = el("li", { class: "tag-row", "data-tag": tag });
  fillRow(li, tag);
  return li;
}

function fillRow(li, tag) {
  const f = S.facts.get(tag);
  li.dataset.state = f?.state ?? "pending";
  const type = f?.mediaType ? mediaTypeInfo(f.mediaType) : null;
  const label = (what) => el("span", { class: "cell-label" }, what);
  li.replaceChildren(
    el("span", { class: "tag-name" }, el("code", {}, tag)),
    el("span", { class: "digest" }, label("Digest "), f?.digest
      ? [el("code", { title: f.digest }, shortDigest(f.digest).replace(/^sha256:/, "")),
        el("button", { type: "button", class: "small icon", "aria-label": `Copy the digest of ${tag}`, onclick: (ev) => copyText(f.digest, ev.currentTarget) }, "Copy")]
      : el("span", { class: "hint" }, f?.state === "error" ? "" : "…")),
    el("span", { class: `type ${type?.family?.toLowerCase() ?? ""}` }, type ? type.text : ""),
    el("span", { class: "platforms" }, (f?.platforms ?? []).map((p) => el("span", { class: "badge" }, platformText(p)))),
    el("span", { class: "size" }, label("Size "), f?.size !== undefined && f?.size !== null ? formatBytes(f.size) : ""),
    el("span", { class: "created" }, label("Created "), f?.created ? el("time", { datetime: f.created, title: formatCreated(f.created) }, formatCreated(f.created).slice(0, 10)) : ""),
    el("span", { class: "actions" },
      el("button", { type: "button", class: "small", "aria-label": `Details of ${tag}`, onclick: () => openDetails(tag) }, "Details"),
      S.worker ? "" : el("button", { type: "button", class: "small danger", "aria-label": `Delete ${tag}`, onclick: () => confirmDelete(tag) }, "Delete")),
    f?.state === "error" ? el("span", { class: "row-error", title: f.message }, f.error) : "",
  );
}

function updateRow(tag) {
  const li = $("tag-list").querySelector(`li[data-tag="${CSS.escape(tag)}"]`);
  if (!li) return;
  keepingFocus(li, () => fillRow(li, tag));
}

const visible = new Set();
const rowObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const tag = e.target.dataset.tag;
    if (e.isIntersecting) {
      visible.add(tag);
      if (!S.facts.has(tag)) loadRow(tag);
    } else {
      visible.delete(tag);
    }
  }
}, { rootMargin: "100px" });

/** Row facts through the concurrency limit: HEAD for the digest and type; the rest once per digest. */
function loadRow(tag) {
  const generation = S.generation;
  const facts = { state: "loading" };
  S.facts.set(tag, facts);
  updateRow(tag);
  S.limiter.run(async () => {
    if (generation !== S.generation) return;
    if (!visible.has(tag)) {
      S.facts.delete(tag); // scrolled away before its turn: ask again when it shows
      updateRow(tag);
      return;
    }
    const head = await client().headManifest(imageRef(tag), traced(`Rows of ${S.repo}`, {}, { shared: true }));
    if (generation !== S.generation) return;
    Object.assign(facts, { digest: head.digest, mediaType: head.mediaType });
    updateRow(tag);
    if (!S.byDigest.has(head.digest)) S.byDigest.set(head.digest, loadDigest(head.digest));
    const detail = await S.byDigest.get(head.digest);
    if (generation !== S.generation) return;
    Object.assign(facts, detail.summary, { state: "ok" });
    updateRow(tag);
    if (facts.createdMs !== undefined) $("tag-sort").querySelector('option[value="created"]').disabled = false;
  }).catch((err) => {
    if (generation !== S.generation || err.name === "AbortError") return;
    Object.assign(facts, { state: "error", error: describeFailure(err), message: err.message });
    S.byDigest.forEach((p, d) => p.catch(() => S.byDigest.delete(d)));
    updateRow(tag);
    if (err.code === "RATE_LIMITED" || $("error").hidden) showError(err, `Reading ${S.repo}:${tag}`);
  });
}

/**
 * What a manifest digest holds, once per digest (many tags share one): the manifest, its
 * platforms and, per platform of an index, that manifest's size; the config of the image (of the
 * default platform for an index) for the created date, labels and history.
 */
async function loadDigest(digest) {
  const c = client();
  const ref = imageRef(digest);
  const group = `Rows of ${S.repo}`;
  const m = await c.getManifest(ref, traced(group, {}, { shared: true }));
  const detail = { manifest: m, platformImages: [], config: null, configPlatform: null, summary: {} };
  if (m.platforms) {
    const main = defaultPlatform(m.platforms);
    detail.configPlatform = main ? platformText(main) : null;
    if (main) {
      const [pm, cfg] = await Promise.all([
        c.getManifest(imageRef(main.digest), traced(group, {}, { shared: true })),
        c.getImageConfig(ref, traced(group, { platform: platformText(main) }, { shared: true })),
      ]);
      detail.platformImages.push({ platform: main, manifest: pm.manifest, size: compressedSize(pm.manifest) });
      detail.config = cfg;
    }
  } else {
    detail.config = await c.getImageConfig(ref, traced(group, {}, { shared: true }));
  }
  const conf = detail.config?.config;
  const created = conf?.created ?? null;
  detail.summary = {
    mediaType: m.mediaType,
    platforms: m.platforms ?? null,
    size: m.platforms ? detail.platformImages[0]?.size ?? null : compressedSize(m.manifest),
    sizeNote: m.platforms ? detail.configPlatform : null,
    created,
    createdMs: created && !Number.isNaN(Date.parse(created)) ? Date.parse(created) : undefined,
    labels: conf?.config?.Labels ?? null,
  };
  return detail;
}

// ---------------------------------------------------------------------------------------------
// Details

async function openDetails(tag) {
  const dialog = $("details");
  $("details-title").textContent = `${S.repo}:${tag}`;
  $("details-body").replaceChildren(el("p", { role: "status" }, "Loading…"));
  if (!dialog.open) dialog.showModal();
  const generation = S.generation;
  try {
    let digest = S.facts.get(tag)?.digest;
    if (!digest) {
      digest = (await client().headManifest(imageRef(tag), traced(`Details of ${tag}`))).digest;
    }
    if (!S.byDigest.has(digest)) S.byDigest.set(digest, loadDigest(digest));
    const detail = await S.byDigest.get(digest);
    if (generation !== S.generation) return;
    $("details-body").replaceChildren(...detailsView(tag, digest, detail));
  } catch (err) {
    const v = errorView(err);
    $("details-body").replaceChildren(el("p", { class: "row-error", role: "alert" }, `${v.code}${v.status ? ` (HTTP ${v.status})` : ""}: ${v.message}${v.retry ? ` — ${v.retry.text}` : ""}`));
  }
}

function detailsView(tag, digest, detail) {
  const m = detail.manifest;
  const type = mediaTypeInfo(m.mediaType);
  const conf = detail.config?.config ?? {};
  const labels = Object.entries(conf.config?.Labels ?? {});
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "Digest"), el("dd", {}, el("code", { id: "details-digest" }, digest), " ",
      el("button", { type: "button", class: "small", "aria-label": "Copy the digest", onclick: (ev) => copyText(digest, ev.currentTarget) }, "Copy")),
    el("dt", {}, "Media type"), el("dd", {}, `${type.text} `, el("code", { class: "hint" }, m.mediaType)),
    el("dt", {}, "Size"), el("dd", { id: "details-size" }, detail.summary.size === null ? "—" : `${formatBytes(detail.summary.size)} compressed (config + layers${detail.summary.sizeNote ? `, ${detail.summary.sizeNote}` : ""})`),
    el("dt", {}, "Created"), el("dd", { id: "details-created" }, conf.created ? el("time", { datetime: conf.created }, formatCreated(conf.created)) : "—"),
    m.platforms ? [el("dt", {}, "Platforms"), el("dd", { id: "details-platforms" }, el("ul", { class: "plain" },
      m.platforms.map((p) => el("li", {}, el("span", { class: "badge" }, platformText(p)), " ", el("code", { class: "hint" }, shortDigest(p.digest))))))] : "",
    detail.configPlatform ? [el("dt", {}, "Config of"), el("dd", {}, detail.configPlatform)] : "",
  );
  const history = (conf.history ?? []).map((h) => el("li", { class: h.empty_layer ? "empty" : "" },
    el("code", {}, h.created_by ?? "(no command)"), h.empty_layer ? el("span", { class: "hint" }, " (no layer)") : "",
    h.created ? el("span", { class: "hint" }, ` · ${formatCreated(h.created)}`) : ""));
  return [
    facts,
    el("h3", {}, "Labels"),
    labels.length ? el("dl", { class: "facts labels", id: "details-labels" }, labels.map(([k, v]) => [el("dt", {}, el("code", {}, k)), el("dd", {}, v)])) : el("p", { class: "hint" }, "No labels."),
    el("h3", {}, "History"),
    history.length ? el("ol", { class: "history", id: "details-history" }, history) : el("p", { class: "hint" }, "No history in the config."),
    el("h3", { id: "manifest-json-title" }, "Manifest"),
    el("pre", { tabindex: "0", "aria-labelledby": "manifest-json-title", id: "details-manifest" }, JSON.stringify(m.manifest, null, 2)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Delete

async function confirmDelete(tag) {
  const dialog = $("confirm");
  const digest = S.facts.get(tag)?.digest;
  $("confirm-title").textContent = `Delete ${S.repo}:${tag}?`;
  $("confirm-text").textContent = `This deletes the manifest ${digest ? shortDigest(digest) : "the tag points at"} from ${S.domain}, and with it every tag that points at the same manifest. It cannot be undone.`;
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (answer !== "delete") {
    opener?.focus?.();
    return;
  }
  await deleteTag(tag);
}

async function deleteTag(tag) {
  const generation = S.generation;
  setState("busy", `Deleting ${tag}…`);
  try {
    const c = client();
    const digest = S.facts.get(tag)?.digest ?? (await c.headManifest(imageRef(tag), traced(`Delete ${tag}`))).digest;
    await c.deleteManifest(imageRef(tag), traced(`Delete ${tag}`));
    if (generation !== S.generation) return;
    const gone = new Set([tag, ...[...S.facts].filter(([, f]) => f.digest === digest).map(([t]) => t)]);
    S.tags = S.tags.filter((t) => !gone.has(t));
    for (const t of gone) S.facts.delete(t);
    S.byDigest.delete(digest);
    const index = [...$("tag-list").children].findIndex((li) => li.dataset.tag === tag);
    renderTags(false);
    ($("tag-list").children[index] ?? $("tag-list").lastElementChild)?.querySelector("button")?.focus() ?? $("tags-title").focus();
    setProgress("done", `${plural(S.tags.length, "tag")} after the delete.`);
    setState("ok", `Deleted ${tag} (${shortDigest(digest)})${gone.size > 1 ? ` and ${plural(gone.size - 1, "other tag")} on the same manifest` : ""}.`);
  } catch (err) {
    showError(err, `Deleting ${S.repo}:${tag}${err.code === "UNAUTHORIZED" ? ": it needs credentials that may delete (sign in; locally, tester may)" : ""}`);
    if (err.code === "UNAUTHORIZED") $("credentials").open = true;
    setState("error", `Delete failed: ${err.code ?? err.name}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Token panel

function showAuthorization(auth) {
  clearInterval(countdownTimer);
  currentToken = auth?.token ?? null;
  $("auth").hidden = !auth;
  if (!auth) return showJwt(null);
  $("auth-title").textContent = auth.token ? "Token" : auth.authorization ? "Authorization (Basic)" : "No authentication needed";
  $("token").textContent = auth.token ? truncateToken(auth.token) : auth.authorization ? "Basic …" : "(none: the registry answered /v2/ with 200)";
  $("copy").hidden = !currentToken;
  $("copy-status").textContent = "";
  $("scope").replaceChildren(...(auth.scope.length ? auth.scope.flatMap((s, i) => (i ? [el("br"), el("code", {}, s)] : [el("code", {}, s)])) : ["—"]));
  $("realm").textContent = auth.realm ?? "—";
  $("service").textContent = auth.service ?? "—";
  $("auth-registry").textContent = `${auth.registry} · ${auth.repository}`;
  if (auth.expiresAt) {
    const at = new Date(auth.expiresAt);
    $("expires-at").dateTime = at.toISOString();
    $("expires-at").textContent = `(at ${at.toISOString().slice(11, 19)} UTC)`;
    const tick = () => {
      const left = auth.expiresAt - Date.now();
      $("countdown").textContent = left > 0 ? `in ${formatRemaining(left)}` : "expired";
      $("countdown").classList.toggle("expired", left <= 0);
      if (left <= 0) clearInterval(countdownTimer);
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  } else {
    $("countdown").textContent = "—";
    $("expires-at").textContent = "";
  }
  showJwt(auth.token);
}

function showJwt(token) {
  const jwt = decodeJwt(token);
  $("jwt").hidden = !jwt;
  if (jwt) {
    $("jwt-header").textContent = JSON.stringify(displayHeader(jwt.header), null, 2);
    $("jwt-claims").textContent = JSON.stringify(displayClaims(jwt.claims), null, 2);
  }
}

async function copyText(text, statusEl) {
  if (!text) return;
  const say = (msg) => {
    if (statusEl.tagName === "BUTTON") {
      statusEl.textContent = msg === "Copied." ? "Copied" : "Copy failed";
      setTimeout(() => { statusEl.textContent = "Copy"; }, 1500);
    } else {
      statusEl.textContent = msg;
    }
  };
  try {
    await navigator.clipboard.writeText(text);
    say("Copied.");
  } catch {
    // No clipboard permission (an embedded or headless browser): a selection copy instead.
    const area = el("textarea", { "aria-hidden": "true", style: { position: "fixed", opacity: "0" } });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    say(ok ? "Copied." : "Copy failed: your browser refused clipboard access.");
  }
}

boot();
