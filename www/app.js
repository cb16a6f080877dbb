// The demo dashboard: one RegistryClient for the page's lifetime (so its cache shows), a recording
// fetch passed as `options.fetch` for the waterfall, and the page's own tags request with the token.
import { init, parseReference, RegistryClient } from "/pkg/index.browser.js";
import {
  decodeJwt, displayClaims, displayHeader, formatRemaining, proxyBase, recordingFetch, registryErrorText, splitHint, truncateToken,
} from "./format.js";

const $ = (id) => document.getElementById(id);
const client = new RegistryClient();
let config = null;
let countdownTimer = null;
let currentToken = null;
let runs = 0;

function setState(state, status) {
  document.body.dataset.state = state;
  if (status !== undefined) $("status").textContent = status;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "style") Object.assign(node.style, v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Setup

async function boot() {
  setState("loading", "Loading the WebAssembly module…");
  try {
    const [res] = await Promise.all([fetch("/config.json"), init()]);
    config = await res.json();
  } catch (err) {
    setState("error", `Could not start: ${err.message}`);
    return;
  }
  const examples = localExamples(config);
  if (config.proxy) {
    examples.push({ ref: "docker.io/library/alpine:latest", note: "Docker Hub via the dev proxy (needs network)", proxy: true });
  }
  for (const ex of examples) {
    $("examples").append(el("option", { value: ex.ref }, ex.note));
    const b = el("button", { type: "button", title: ex.note, "aria-label": `Use ${ex.ref} (${ex.note})` }, ex.label ?? shortLabel(ex.ref));
    b.addEventListener("click", () => useExample(ex));
    $("example-buttons").append(b);
  }
  const users = config.users ?? [];
  if (users.length) {
    $("users-hint").replaceChildren(
      "Local test users: ",
      ...users.flatMap((u, i) => {
        const b = el("button", { type: "button", class: "small", "aria-label": `Fill in the test user ${u.username}` }, u.username);
        b.addEventListener("click", () => {
          $("username").value = u.username;
          $("password").value = u.password;
        });
        return i ? [" ", b] : [b];
      }),
      " (tester may pull and push everything; reader may pull everything).",
    );
  }
  $("proxy-row").hidden = !config.proxy;

  const params = new URLSearchParams(location.search);
  $("ref").value = params.get("ref") ?? `${config.registry}/library/alpine:3.19`;
  $("form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run();
  });
  $("clear-cache").addEventListener("click", () => {
    client.clearCache();
    setState("idle", "Cache cleared: the next Get token asks the registry again.");
  });
  $("copy").addEventListener("click", copyToken);
  setState("idle", "Ready.");
}

function localExamples(cfg) {
  const out = [];
  for (const [repo, tags] of Object.entries(cfg.images ?? {})) {
    const isPublic = repo.startsWith(cfg.publicPrefix ?? "library/");
    for (const tag of tags) {
      out.push({ ref: `${cfg.registry}/${repo}:${tag}`, note: isPublic ? "public: anonymous pull" : "private: needs a user (tester or reader)", user: !isPublic });
    }
  }
  out.push({ ref: `${cfg.registryNoCors}/library/alpine:3.19`, label: "alpine:3.19 without CORS", note: "the registry without CORS headers: fails in a browser, works with the dev proxy" });
  out.push({ ref: `${cfg.registry}/Library/Alpine`, label: "Library/Alpine (invalid)", note: "invalid: upper case is not allowed in a repository name" });
  return out;
}

function shortLabel(ref) {
  return ref.replace(/^[^/]*:\d+\//, "");
}

function useExample(ex) {
  $("ref").value = ex.ref;
  $("use-proxy").checked = !!ex.proxy;
  if (ex.user && !$("username").value) $("credentials").open = true;
  $("ref").focus();
}

// ---------------------------------------------------------------------------------------------
// Get token

function readForm() {
  const ref = $("ref").value.trim();
  const actions = [...document.querySelectorAll('input[name="action"]:checked')].map((i) => i.value);
  const options = { actions: actions.length ? actions : ["pull"] };
  const username = $("username").value;
  const password = $("password").value;
  if (username || password) Object.assign(options, { username, password });
  if ($("use-proxy").checked && config?.proxy) {
    try {
      options.registryUrl = proxyBase(location.origin, parseReference(ref).registryUrl);
    } catch {
      // An invalid reference: let authorize() report it with the library's own error.
    }
  }
  return { ref, options };
}

async function run() {
  const { ref, options } = readForm();
  const requests = [];
  $("get-token").disabled = true;
  setState("busy", "Asking…");
  const t0 = performance.now();
  try {
    const auth = await client.authorize(ref, { ...options, fetch: recordingFetch(requests) });
    const total = performance.now() - t0;
    showError(null);
    showAuthorization(auth);
    showRequests(requests, total);
    setState("busy", "Token received; listing tags…");
    await showTags(auth);
    setState("ok", requests.length ? `Token received: ${requests.length} request${requests.length === 1 ? "" : "s"}.` : "Token from the cache: zero requests.");
  } catch (err) {
    showAuthorization(null);
    showTags(null);
    showRequests(requests, performance.now() - t0);
    showError(err);
    setState("error", `Failed: ${err.code ?? err.name}`);
  } finally {
    $("get-token").disabled = false;
    runs += 1;
    document.body.dataset.runs = String(runs);
  }
}

function showAuthorization(auth) {
  clearInterval(countdownTimer);
  currentToken = auth?.token ?? auth?.authorization ?? null;
  $("result").hidden = !auth;
  if (!auth) return showJwt(null);
  $("result-title").textContent = auth.token ? "Token" : auth.authorization ? "Authorization (Basic)" : "No authentication needed";
  $("token").textContent = auth.token ? truncateToken(auth.token) : auth.authorization ? "Basic …" : "(none: the registry answered /v2/ with 200)";
  $("copy").hidden = !currentToken;
  $("copy-status").textContent = "";
  $("scope").replaceChildren(...(auth.scope.length ? auth.scope.flatMap((s, i) => (i ? [el("br"), el("code", {}, s)] : [el("code", {}, s)])) : ["—"]));
  $("realm").textContent = auth.realm ?? "—";
  $("service").textContent = auth.service ?? "—";
  $("registry").textContent = `${auth.registry} · ${auth.repository}`;
  if (auth.expiresAt) {
    const at = new Date(auth.expiresAt);
    $("expires-at").dateTime = at.toISOString();
    $("expires-at").textContent = `(at ${at.toLocaleTimeString()})`;
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

function showRequests(requests, totalMs) {
  $("requests").hidden = false;
  const summary = $("requests-summary");
  summary.classList.toggle("cache-hit", requests.length === 0);
  summary.textContent = requests.length === 0
    ? `0 requests — answered from the client's cache in ${totalMs.toFixed(1)} ms.`
    : `${requests.length} request${requests.length === 1 ? "" : "s"}, ${totalMs.toFixed(0)} ms in all.`;
  const span = Math.max(totalMs, ...requests.map((r) => r.start + (r.ms ?? 0)), 1);
  $("waterfall").replaceChildren(...requests.map((r) => {
    const ok = r.status >= 200 && r.status < 300;
    const expected = r.kind === "challenge" && r.status === 401; // the challenge is a 401 by design
    return el("li", { "data-kind": r.kind, "data-status": String(r.status ?? "") },
      el("span", { class: `kind ${r.kind}` }, r.kind),
      el("span", { class: `status${ok || expected ? "" : " bad"}`, title: r.error ?? "" }, r.status ? String(r.status) : "failed"),
      el("span", { class: "ms" }, `${(r.ms ?? 0).toFixed(0)} ms`),
      el("span", { class: "track", "aria-hidden": "true" },
        el("span", { class: `bar ${r.kind}`, style: { left: `${(r.start / span) * 100}%`, width: `${((r.ms ?? 0) / span) * 100}%` } })),
      el("span", { class: "url" }, `${r.method} ${r.url}`));
  }));
}

/** The page's own request with the token: proof that it works. */
async function showTags(auth) {
  $("tags").hidden = !auth;
  if (!auth) return;
  const url = `${auth.registry}/v2/${auth.repository}/tags/list`;
  const headers = auth.authorization ? { Authorization: auth.authorization } : {};
  const t0 = performance.now();
  $("tags-list").replaceChildren();
  try {
    const res = await fetch(url, { headers, credentials: "omit" });
    const ms = (performance.now() - t0).toFixed(0);
    const body = await res.text();
    if (!res.ok) {
      $("tags-summary").textContent = `GET ${url} → ${res.status} in ${ms} ms: ${registryErrorText(body)}`;
      return;
    }
    const tags = JSON.parse(body).tags ?? [];
    $("tags-summary").textContent = `GET ${url} with the token → ${res.status} in ${ms} ms.`;
    $("tags-list").replaceChildren(...tags.map((t) => el("li", {}, t)));
  } catch (err) {
    $("tags-summary").textContent = `GET ${url} failed: ${err.message}`;
  }
}

function showError(err) {
  $("error").hidden = !err;
  if (!err) return;
  $("error-code").textContent = err.code ?? err.name ?? "Error";
  $("error-status").textContent = err.status ? `HTTP ${err.status}` : "";
  const { message, hint } = splitHint(err.message);
  $("error-message").textContent = message;
  $("error-hint").hidden = !hint;
  $("error-hint").textContent = hint ?? "";
}

async function copyToken() {
  if (!currentToken) return;
  try {
    await navigator.clipboard.writeText(currentToken);
    $("copy-status").textContent = "Copied.";
  } catch {
    // No clipboard permission (e.g. an embedded or headless browser): fall back to a selection copy.
    const area = el("textarea", { "aria-hidden": "true", style: { position: "fixed", opacity: "0" } });
    area.value = currentToken;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    $("copy-status").textContent = ok ? "Copied." : "Copy failed: your browser refused clipboard access.";
  }
}

boot();
