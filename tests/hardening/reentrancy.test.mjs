// Issue 13, "No panic from re-entrancy": JavaScript the library calls — the `now` clock, a
// custom `fetch`, a `credentials` function — may call back into the same client (clearCache,
// stats, getToken/authorize for another image) synchronously or after an await. The instance
// must not panic (with panic = "abort" a panic kills the whole module: every later call throws
// "unreachable"): the outer and inner calls all settle — resolve, or reject with a
// RegistryAuthError — and the client, new clients and the module-level getToken work afterwards.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import { startEmulator } from "../js/support/emulator.mjs";
import { ERROR_CODES } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";

const { RegistryClient, getToken, parseReference } = await importPackage();

/** A call that has not settled by then never will (a dead instance leaves promises pending). */
const HANG_GUARD_MS = 15_000;

/**
 * Starts `call` (a function returning a promise) and settles it into an outcome:
 * { state: "resolved", value } | { state: "rejected", error } | { state: "threw", error }
 * (a synchronous throw) | { state: "pending" } (not settled within HANG_GUARD_MS).
 */
function outcome(call) {
  let p;
  try {
    p = call();
  } catch (error) {
    return Promise.resolve({ state: "threw", error });
  }
  let timer;
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ state: "pending" }), HANG_GUARD_MS);
  });
  const settled = Promise.resolve(p).then(
    (value) => ({ state: "resolved", value }),
    (error) => ({ state: "rejected", error }),
  );
  return Promise.race([settled, guard]).finally(() => clearTimeout(timer));
}

const show = (o) =>
  o.state === "resolved" || o.state === "pending"
    ? o.state
    : `${o.state}: ${o.error?.name ?? typeof o.error}: ${o.error?.code ?? ""} ${o.error?.message ?? String(o.error)}`;

/** Resolved (to a string, or an Authorization object), or rejected with a RegistryAuthError. */
function assertSettledWell(o, label) {
  if (o.state === "resolved") {
    assert.ok(typeof o.value === "string" || (o.value !== null && typeof o.value === "object"), `${label}: resolved to ${typeof o.value}`);
    return;
  }
  assert.equal(o.state, "rejected", `${label}: ${show(o)}`);
  assert.ok(o.error instanceof Error, `${label}: rejected with a non-Error: ${show(o)}`);
  assert.equal(o.error.name, "RegistryAuthError", `${label}: ${show(o)}`);
  assert.ok(ERROR_CODES.includes(o.error.code), `${label}: ${show(o)}`);
}

/**
 * What a re-entering callback does to `client`: clearCache(), stats() and a getToken for
 * `image` (the promise kept and awaited later). Each step's outcome is recorded.
 */
function reenter(client, image, record) {
  const entry = { clear: null, stats: null, inner: null };
  try {
    client.clearCache();
    entry.clear = "ok";
  } catch (e) {
    entry.clear = e;
  }
  try {
    entry.stats = client.stats();
  } catch (e) {
    entry.stats = e;
  }
  entry.inner = outcome(() => client.getToken(image));
  record.push(entry);
}

/** Every recorded re-entry worked and its inner call settled well. */
async function assertReentries(record, label, { atLeast = 1 } = {}) {
  assert.ok(record.length >= atLeast, `${label}: the callback re-entered ${record.length} times (expected ≥ ${atLeast})`);
  for (const [i, e] of record.entries()) {
    assert.equal(e.clear, "ok", `${label} #${i}: clearCache() threw: ${e.clear?.message ?? e.clear}`);
    assert.ok(e.stats && typeof e.stats === "object" && !(e.stats instanceof Error), `${label} #${i}: stats() threw: ${e.stats?.message}`);
    for (const k of ["tokens", "tokenCapacity", "challenges", "inFlight"]) {
      assert.equal(typeof e.stats[k], "number", `${label} #${i}: stats().${k}`);
    }
    assertSettledWell(await e.inner, `${label} #${i}: the inner getToken`);
  }
}

let reg; // the registry the outer calls go to
let other; // the registry the re-entering calls go to
before(async () => {
  reg = await startEmulator({ name: "reentry" });
  other = await startEmulator({ name: "reentry-other" });
});
after(() => Promise.all([reg.close(), other.close()]));
beforeEach(() => [reg, other].forEach((e) => e.restore()));

let seq = 0;
/** A repository not yet cached by anyone (module-level cache included). */
const fresh = (e) => `${e.host}/team/app-${++seq}`;

/** The client (and a new one, and the module) still work: fresh tokens resolve. */
async function assertStillWorks(client, label) {
  reg.reset();
  const image = fresh(reg);
  const token = await outcome(() => client.getToken(image));
  assert.equal(token.state, "resolved", `${label}: the client after re-entry: ${show(token)}`);
  assert.equal(token.value, reg.entries("token").at(-1)?.issued, `${label}: the client's token is the one just issued`);
  const again = await outcome(() => client.getToken(image));
  assert.equal(again.state, "resolved", `${label}: cached call: ${show(again)}`);
  assert.equal(again.value, token.value, `${label}: the cache works`);
  const stats = client.stats();
  assert.ok(stats.tokens >= 1, `${label}: stats().tokens`);
  assert.equal(stats.inFlight, 0, `${label}: nothing left in flight`);
  const viaNew = await outcome(() => new RegistryClient().getToken(fresh(reg)));
  assert.equal(viaNew.state, "resolved", `${label}: a new client: ${show(viaNew)}`);
  const viaModule = await outcome(() => getToken(fresh(reg)));
  assert.equal(viaModule.state, "resolved", `${label}: the module-level getToken: ${show(viaModule)}`);
  assert.equal(parseReference("nginx").domain, "docker.io", `${label}: the synchronous exports still work`);
}

describe("a now clock that calls back into the client", () => {
  for (const [label, times] of [
    ["once", 1],
    ["every time it is asked", Infinity],
  ]) {
    it(`synchronously: clearCache(), stats(), getToken(another image) — ${label}`, async () => {
      const client = new RegistryClient();
      const record = [];
      let left = times;
      const now = () => {
        if (left > 0) {
          left -= 1;
          reenter(client, fresh(other), record);
        }
        return Date.now();
      };
      const outer = await outcome(() => client.getToken(fresh(reg), { now }));
      assertSettledWell(outer, "the outer getToken");
      await assertReentries(record, "now");
      await assertStillWorks(client, "now");
    });
  }

  it("synchronously, on the cached path (a token already cached for the image)", async () => {
    const client = new RegistryClient();
    const image = fresh(reg);
    const first = await client.getToken(image);
    const record = [];
    let left = 1;
    const now = () => {
      if (left-- > 0) reenter(client, fresh(other), record);
      return Date.now();
    };
    const outer = await outcome(() => client.getToken(image, { now }));
    assertSettledWell(outer, "the outer getToken");
    if (outer.state === "resolved") assert.equal(typeof outer.value, "string");
    await assertReentries(record, "now (cached path)");
    assert.equal(typeof first, "string");
    await assertStillWorks(client, "now (cached path)");
  });

  it("synchronously, from authorize(), re-entering with authorize() for the same registry", async () => {
    const client = new RegistryClient();
    const inner = [];
    let left = 3;
    const now = () => {
      if (left-- > 0) {
        client.clearCache();
        inner.push(outcome(() => client.authorize(fresh(reg))));
      }
      return Date.now();
    };
    const outer = await outcome(() => client.authorize(fresh(reg), { now }));
    assertSettledWell(outer, "the outer authorize");
    assert.ok(inner.length >= 1);
    for (const [i, o] of (await Promise.all(inner)).entries()) assertSettledWell(o, `inner authorize #${i}`);
    await assertStillWorks(client, "now + authorize");
  });

  it("as a client default: the inner calls use the same clock (re-entering once per level, two levels deep)", async () => {
    const record = [];
    let depth = 0;
    let budget = 6;
    const client = new RegistryClient({
      now: () => {
        if (depth < 2 && budget > 0) {
          budget -= 1;
          depth += 1;
          try {
            reenter(client, fresh(other), record);
          } finally {
            depth -= 1;
          }
        }
        return Date.now();
      },
    });
    const outer = await outcome(() => client.getToken(fresh(reg)));
    assertSettledWell(outer, "the outer getToken");
    await assertReentries(record, "default now");
    await assertStillWorks(client, "default now");
  });

  it("on the module-level getToken: now starts getToken for another image", async () => {
    const inner = [];
    let left = 2;
    const now = () => {
      if (left-- > 0) inner.push(outcome(() => getToken(fresh(other))));
      return Date.now();
    };
    const outer = await outcome(() => getToken(fresh(reg), { now }));
    assertSettledWell(outer, "the outer module-level getToken");
    assert.ok(inner.length >= 1);
    for (const [i, o] of (await Promise.all(inner)).entries()) assertSettledWell(o, `inner module-level getToken #${i}`);
    const after = await outcome(() => getToken(fresh(reg)));
    assert.equal(after.state, "resolved", `the module-level getToken afterwards: ${show(after)}`);
  });
});

describe("a custom fetch that calls back into the client", () => {
  it("synchronously before delegating to globalThis.fetch, on every request", async () => {
    const client = new RegistryClient();
    const record = [];
    const fetch = (input, init) => {
      reenter(client, fresh(other), record);
      return globalThis.fetch(input, init);
    };
    const outer = await outcome(() => client.getToken(fresh(reg), { fetch }));
    assertSettledWell(outer, "the outer getToken");
    await assertReentries(record, "sync fetch", { atLeast: 2 });
    await assertStillWorks(client, "sync fetch");
  });

  it("after an await, on every request", async () => {
    const client = new RegistryClient();
    const record = [];
    const fetch = async (input, init) => {
      await null;
      await new Promise((resolve) => setImmediate(resolve));
      reenter(client, fresh(other), record);
      return globalThis.fetch(input, init);
    };
    const outer = await outcome(() => client.getToken(fresh(reg), { fetch }));
    assertSettledWell(outer, "the outer getToken");
    await assertReentries(record, "async fetch", { atLeast: 2 });
    await assertStillWorks(client, "async fetch");
  });

  it("synchronously joining its own flight (the same image, the same fetch) and clearing the cache", async () => {
    const client = new RegistryClient();
    const image = fresh(reg);
    const inner = [];
    let left = 2;
    const fetch = (input, init) => {
      if (left-- > 0) {
        inner.push(outcome(() => client.getToken(image, { fetch })));
        client.clearCache();
      }
      return globalThis.fetch(input, init);
    };
    const outer = await outcome(() => client.getToken(image, { fetch }));
    assertSettledWell(outer, "the outer getToken");
    const settled = await Promise.all(inner);
    settled.forEach((o, i) => assertSettledWell(o, `inner getToken #${i}`));
    if (outer.state === "resolved" && settled[0]?.state === "resolved") {
      assert.equal(settled[0].value, outer.value, "the joined call shares the flight's token");
    }
    await assertStillWorks(client, "fetch joining its own flight");
  });

  it("re-entering through the module-level getToken from a custom fetch", async () => {
    const inner = [];
    const fetch = async (input, init) => {
      inner.push(outcome(() => getToken(fresh(other))));
      await null;
      inner.push(outcome(() => getToken(fresh(other))));
      return globalThis.fetch(input, init);
    };
    const outer = await outcome(() => getToken(fresh(reg), { fetch }));
    assertSettledWell(outer, "the outer module-level getToken");
    assert.ok(inner.length >= 2);
    for (const [i, o] of (await Promise.all(inner)).entries()) assertSettledWell(o, `inner module-level getToken #${i}`);
  });
});

describe("a credentials function that calls back into the client", () => {
  for (const [label, make] of [
    ["synchronously", (client, record) => (registry) => {
      reenter(client, fresh(other), record);
      return registry === reg.host ? { username: "alice", password: "re-entrant-secret" } : null;
    }],
    ["after an await", (client, record) => async (registry) => {
      await new Promise((resolve) => setImmediate(resolve));
      reenter(client, fresh(other), record);
      return registry === reg.host ? { username: "alice", password: "re-entrant-secret" } : null;
    }],
  ]) {
    it(`${label}: clearCache(), stats(), getToken(another image)`, async () => {
      const client = new RegistryClient();
      const record = [];
      const outer = await outcome(() => client.getToken(fresh(reg), { credentials: make(client, record) }));
      assertSettledWell(outer, "the outer getToken");
      if (outer.state === "resolved") assert.equal(reg.entries("token").at(-1)?.authorization, "basic", "the credential was used");
      await assertReentries(record, `credentials ${label}`);
      await assertStillWorks(client, `credentials ${label}`);
    });
  }
});

describe("afterwards", () => {
  it("the module-level getToken, new clients and the parsers all still work", async () => {
    const viaModule = await outcome(() => getToken(fresh(reg)));
    assert.equal(viaModule.state, "resolved", show(viaModule));
    assert.equal(viaModule.value, reg.entries("token").at(-1)?.issued);
    const client = new RegistryClient();
    const auth = await outcome(() => client.authorize(fresh(other)));
    assert.equal(auth.state, "resolved", show(auth));
    assert.match(auth.value.authorization, /^Bearer /);
    assert.equal(parseReference("ghcr.io/o/r:1").path, "o/r");
  });
});
