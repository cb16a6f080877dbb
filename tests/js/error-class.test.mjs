// Issue 14, "A runtime error class": every rejection and throw of the package is an instance of
// the exported RegistryAuthError (a subclass of Error), `RegistryAuthError.is` recognises one by
// shape across realms, and RegistryClient#free / [Symbol.dispose] are harmless to call twice.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { closedPort, makeImage, startEmulator } from "./support/emulator.mjs";
import { ERROR_CODES } from "./support/expect.mjs";
import { importPackage, installPackedPackage } from "./support/package.mjs";

const pkg = await importPackage();
const { RegistryAuthError, RegistryClient } = pkg;

let em;
before(async () => {
  em = await startEmulator({ repos: { "team/app": { manifests: { "1.0": makeImage() } } } });
});
after(() => em?.close());

/** The settled value of `p`, or what it rejected with. */
const settle = (p) => p.then(() => null, (e) => e);
const thrown = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return e;
  }
};

describe("RegistryAuthError", () => {
  it("is a subclass of Error, exported once for import and require", () => {
    const { consumer } = installPackedPackage();
    const cjs = createRequire(join(consumer, "package.json"))("registry-token");
    assert.equal(cjs.RegistryAuthError, RegistryAuthError, "the same class object in one process");
    const e = new RegistryAuthError("boom", { code: "TIMEOUT", cause: "why" });
    assert.ok(e instanceof Error && e instanceof RegistryAuthError);
    assert.deepEqual([e.name, e.code, e.message, e.cause], ["RegistryAuthError", "TIMEOUT", "boom", "why"]);
    assert.match(String(e.stack), /RegistryAuthError: boom/);
  });

  it("every kind of failure is an instance: arguments, network, timeout, abort, HTTP, registry calls", async () => {
    const port = await closedPort();
    const client = new RegistryClient();
    const abort = new AbortController();
    abort.abort();
    const slow = await startEmulator({ ping: { delayMs: 2000 } });
    try {
      const cases = {
        INVALID_REFERENCE: await settle(client.getToken("Not/Valid")),
        NETWORK: await settle(client.getToken(`127.0.0.1:${port}/a/b`)),
        TIMEOUT: await settle(client.getToken(`${slow.host}/a/b`, { timeoutMs: 50 })),
        ABORTED: await settle(client.getToken(`${em.host}/a/b`, { signal: abort.signal })),
        NOT_FOUND: await settle(client.getManifest(`${em.host}/team/app:nope`)),
        OPTION: await settle(client.listTags(`${em.host}/team/app`, { pageSize: 0 })),
      };
      const credentials = () => {
        throw new Error("secret store unavailable");
      };
      cases.CREDENTIALS = await settle(client.getToken(`${em.host}/team/app`, { credentials }));
      cases.SYNC_PARSE = thrown(() => pkg.parseReference("Not/Valid"));
      cases.SYNC_CHALLENGE = thrown(() => pkg.parseChallenges('Bearer realm="x'));
      cases.CONSTRUCTOR = thrown(() => new RegistryClient({ password: "p" }));
      for (const [what, e] of Object.entries(cases)) {
        assert.ok(e instanceof RegistryAuthError, `${what}: ${e?.constructor?.name} ${e?.message}`);
        assert.ok(e instanceof Error, what);
        assert.equal(e.name, "RegistryAuthError", what);
        assert.ok(ERROR_CODES.includes(e.code), `${what}: ${e.code}`);
        assert.ok(RegistryAuthError.is(e), what);
      }
      assert.equal(cases.TIMEOUT.code, "TIMEOUT");
      assert.equal(cases.NOT_FOUND.code, "NOT_FOUND");
      assert.equal(cases.NOT_FOUND.status, 404);
    } finally {
      await slow.close();
    }
  });

  it("RegistryAuthError.is recognises one by shape (another realm, a rebuilt object), nothing else", () => {
    for (const v of [
      { name: "RegistryAuthError", code: "NETWORK", message: "x" },
      Object.assign(new Error("x"), { name: "RegistryAuthError", code: "RATE_LIMITED" }),
      structuredClone({ name: "RegistryAuthError", code: "NOT_INITIALIZED" }),
    ]) {
      assert.equal(RegistryAuthError.is(v), true, JSON.stringify(v));
    }
    for (const v of [null, undefined, "RegistryAuthError", {}, { name: "RegistryAuthError" }, { name: "RegistryAuthError", code: "NOPE" }, { name: "Error", code: "NETWORK" }, new Error("x")]) {
      assert.equal(RegistryAuthError.is(v), false, String(v && JSON.stringify(v)));
    }
  });
});

describe("RegistryClient#free and [Symbol.dispose]", () => {
  it("free() twice, and [Symbol.dispose]() after it, are harmless", () => {
    const client = new RegistryClient();
    client.free();
    client.free();
    assert.equal(typeof client[Symbol.dispose], "function");
    client[Symbol.dispose]();
    const other = new RegistryClient();
    other[Symbol.dispose]();
    other[Symbol.dispose]();
  });
});
