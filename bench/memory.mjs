// Part 5: memory after 100,000 calls over 10,000 images, in a fresh process (see memory-child.mjs).

import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startEmulator } from "../tests/js/support/emulator.mjs";

const here = dirname(fileURLToPath(import.meta.url));

export async function memory(consumer) {
  const em = await startEmulator({ name: "bench-mem" });
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", join(here, "memory-child.mjs"), consumer, em.host], {
      encoding: "utf8",
      timeout: 300_000,
      maxBuffer: 1 << 20,
    });
    const result = JSON.parse(stdout.trim().split("\n").pop());
    return { ...result, requests: em.counts() };
  } finally {
    await em.close();
  }
}

/** Part 6: wasm memory growth under 100 concurrent flights with 1 MiB hostile token bodies. */
export async function hostileMemory(consumer) {
  const { stdout } = await promisify(execFile)(process.execPath, [join(here, "hostile-memory-child.mjs"), consumer], {
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop());
}
