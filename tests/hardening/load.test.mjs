// Issue 7, "Resources under load": 10,000 concurrent calls over 100 images cost exactly 100 token
// requests and all settle with no unhandled rejection; 100,000 calls over 10,000 images leave the
// token cache at its bound and wasm memory flat. Memory is printed, not asserted (it depends on
// the allocator and the runtime); the bound and the request counts are asserted.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { startEmulator } from "../js/support/emulator.mjs";
import { importPackage } from "../js/support/package.mjs";

// The package does not export its wasm memory; catch the instance as the glue creates it.
const instances = [];
const OriginalInstance = WebAssembly.Instance;
WebAssembly.Instance = class extends OriginalInstance {
  constructor(module, imports) {
    super(module, imports);
    instances.push(this);
  }
};
const { RegistryClient } = await importPackage();
WebAssembly.Instance = OriginalInstance;
const wasmMemory = () => instances.map((i) => i.exports.memory).find((m) => m instanceof WebAssembly.Memory);

const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);

const MiB = 1024 * 1024;
const mb = (n) => `${(n / MiB).toFixed(2)} MiB`;

let reg;
before(async () => {
  reg = await startEmulator({ name: "load", token: { expiresIn: 3600 } });
});
after(async () => {
  await reg.close();
  process.off("unhandledRejection", onUnhandled);
});

describe("resources under load", () => {
  it("10,000 concurrent getToken calls over 100 images → exactly 100 token requests, all settle", async () => {
    assert.ok(wasmMemory(), "found the package's wasm memory");
    const client = new RegistryClient();
    const calls = Array.from({ length: 10_000 }, (_, i) => client.getToken(`${reg.host}/load/image-${i % 100}`, { timeoutMs: 60_000 }));
    const results = await Promise.allSettled(calls);
    const rejected = results.filter((r) => r.status === "rejected");
    assert.equal(rejected.length, 0, `${rejected.length} rejected, e.g. ${rejected[0]?.reason?.message}`);
    const counts = reg.counts();
    console.log(`# 10,000 calls / 100 images: ${counts.token} token requests, ${counts.ping} pings; wasm memory ${mb(wasmMemory().buffer.byteLength)}`);
    assert.equal(counts.token, 100, "one token request per image");
    // Calls for one image share one token.
    const byImage = new Map();
    results.forEach((r, i) => {
      const prev = byImage.get(i % 100);
      if (prev !== undefined) assert.equal(r.value, prev);
      byImage.set(i % 100, r.value);
    });
    assert.equal(new Set(byImage.values()).size, 100);
    assert.equal(client.stats().inFlight, 0);
    // Cached now: another 10,000 calls cost nothing.
    reg.reset();
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => client.getToken(`${reg.host}/load/image-${i % 100}`)));
    assert.equal(reg.counts().total, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], "no unhandled rejection");
  });

  it("100,000 calls over 10,000 images → the token cache stays at its bound, wasm memory stops growing", async () => {
    // An in-process registry (a fetch of our own), so 100,000 round trips take seconds, not
    // minutes; everything from getToken to the Response is the package's real code.
    let tokenRequests = 0;
    let pings = 0;
    const challengeHeaders = { "WWW-Authenticate": 'Bearer realm="http://127.0.0.1:1/token",service="load"' };
    const fakeFetch = async (url) => {
      if (url.endsWith("/v2/")) {
        pings += 1;
        return new Response("{}", { status: 401, headers: challengeHeaders });
      }
      tokenRequests += 1;
      return new Response(`{"token":"t-${tokenRequests}-${"x".repeat(200)}","expires_in":3600}`, { status: 200 });
    };
    const client = new RegistryClient({ fetch: fakeFetch, timeoutMs: 60_000 });
    const { tokenCapacity } = client.stats();
    assert.equal(tokenCapacity, 1024);
    const rounds = [];
    const memory = wasmMemory();
    const ROUNDS = 10;
    const PER_ROUND = 10_000; // each round calls every image once: 10 × 10,000 = 100,000 calls
    const BATCH = 1000;
    let settled = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let start = 0; start < PER_ROUND; start += BATCH) {
        const batch = [];
        for (let i = start; i < start + BATCH; i++) {
          // A different order each round, so the cache sees hits as well as misses.
          const image = (i * 7919 + round * 104_729) % 10_000;
          batch.push(client.getToken(`registry.load.test/images/image-${image}`));
        }
        const results = await Promise.allSettled(batch);
        settled += results.length;
        const bad = results.find((r) => r.status === "rejected");
        assert.equal(bad, undefined, bad?.reason?.message);
        const stats = client.stats();
        assert.ok(stats.tokens <= tokenCapacity, `token cache holds ${stats.tokens} > ${tokenCapacity}`);
      }
      rounds.push({ round: round + 1, calls: settled, tokenRequests, wasm: memory.buffer.byteLength, heap: process.memoryUsage().heapUsed, ...client.stats() });
    }
    console.log("# 100,000 calls over 10,000 images:");
    for (const r of rounds) {
      console.log(
        `#   round ${String(r.round).padStart(2)}: ${r.calls} calls, ${r.tokenRequests} token requests, cache ${r.tokens}/${r.tokenCapacity} tokens, ` +
          `${r.challenges} challenges, wasm memory ${mb(r.wasm)}, JS heap ${mb(r.heap)}`,
      );
    }
    const growthAfterRound3 = rounds.at(-1).wasm - rounds[2].wasm;
    console.log(`#   wasm memory growth after round 3: ${mb(growthAfterRound3)}; pings: ${pings}`);
    assert.equal(settled, 100_000);
    assert.ok(tokenRequests >= 10_000 && tokenRequests <= 100_000, `${tokenRequests} token requests`);
    const final = client.stats();
    assert.ok(final.tokens <= 1024, `token cache holds ${final.tokens}`);
    assert.equal(final.inFlight, 0);
    assert.equal(final.challenges, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, [], "no unhandled rejection");
  });
});
