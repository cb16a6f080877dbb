// Part 5, one fresh process (run with --expose-gc): 100,000 getToken calls over 10,000 distinct
// images on one client, against the emulator the parent runs. Images come in batches of 100:
// one concurrent call each (100 token requests), then 9 more rounds served from the cache.
// After checkpoints: wasm linear memory (the instance's `memory` export, captured when the glue
// instantiates it) and the JS heap after a full GC. Prints one JSON line.
// Usage: node --expose-gc memory-child.mjs <consumer> <registry host>
import { loadWithMemory } from "./load-with-memory.mjs";

const [consumer, host] = process.argv.slice(2);
if (typeof globalThis.gc !== "function") throw new Error("run with --expose-gc");

const { pkg, memory } = await loadWithMemory(consumer);

const IMAGES = 10_000;
const BATCH = 100;
const ROUNDS = 10;
const CHECKPOINTS = new Set([10, 25, 50, 75, 100]); // batches done

const client = new pkg.RegistryClient();
const ref = (i) => `${host}/bench/mem/image-${i}:1`;
function sample(calls) {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { calls, images: calls / ROUNDS, wasmMemory: memory ? memory.buffer.byteLength : null, heapUsed: m.heapUsed, rss: m.rss, ...client.stats() };
}
await client.getToken(ref(0)); // the challenge, once; then every image costs one token request
const samples = [sample(0)];
let calls = 0;
const t = performance.now();
for (let b = 0; b < IMAGES / BATCH; b++) {
  const batch = Array.from({ length: BATCH }, (_, i) => ref(b * BATCH + i));
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(batch.map((r) => client.getToken(r)));
    calls += BATCH;
  }
  if (CHECKPOINTS.has(b + 1)) samples.push(sample(calls));
}
console.log(JSON.stringify({ calls, ms: performance.now() - t, wasmMemoryReachable: memory !== null, samples }));
