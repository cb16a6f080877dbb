// Issue 10, "Hardening": hostile servers for each new path — tag and catalog paging, manifests,
// image configs, `fetch` — against the packed package. Every server is on 127.0.0.1, every loop
// in it is bounded (it stops by itself), and every case ends with the code the contract names:
//
//   endless pages        an endless stream of *distinct* pages is legitimate paging: the library
//                        has no page cap (pkg-template/common.js), so `limit`, a `tagPages` consumer
//                        that stops, or the caller's signal end it — and then no request follows
//   huge bodies          a 100,000-tag page works; a page over 16 MiB and a manifest or config
//                        over 4 MiB → BAD_REGISTRY_RESPONSE without the rest being read
//   redirects            10,000 of them: 1 + 10 requests, the 11th never sent → NETWORK
//   Link                 a loop or another origin → BAD_REGISTRY_RESPONSE, nothing sent there
//   bad JSON             not JSON, `tags` / `repositories` not an array of strings
//   secrets              a password given through `credentials` or per call never shows in a
//                        message, `errors` entry, `retryAfter` or cause of these errors, even when
//                        the server echoes it (and the Basic header) in bodies, headers and Links
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { after, before, beforeEach, describe, it } from "node:test";

import { PASSWORD, rejectsWith as sharedRejectsWith, sleep } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";
import { json, startHostile, TOKEN_PATH } from "./hostile.mjs";

const { RegistryClient, listTags: moduleListTags } = await importPackage();

const MiB = 1024 * 1024;
const TIMEOUT_MS = 5000;
const REPO = "team/app";
const TAGS_PATH = `/v2/${REPO}/tags/list`;
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";


let h; // the registry (and its token server)
let other; // a second origin: must never be sent anything
before(async () => {
  h = await startHostile();
  other = await startHostile();
});
after(async () => {
  await h.close();
  await other.close();
});
beforeEach(() => {
  h.good();
  other.good();
});

const image = (ref = "") => `${h.host}/${REPO}${ref}`;
const client = () => new RegistryClient({ timeoutMs: TIMEOUT_MS });

/** Awaits `p`, which must reject with a RegistryAuthError of `code` and a bounded message. */
async function rejectsWith(p, code, { maxMessage = 2048, ...opts } = {}) {
  const err = await sharedRejectsWith(p, code, opts);
  assert.ok(err.message.length <= maxMessage, `the ${code} message is ${err.message.length} characters`);
  return err;
}

/** Consumes `tagPages` fully; rejects as it does. */
async function allPages(iterable) {
  const pages = [];
  for await (const p of iterable) pages.push(p);
  return pages;
}

function tagsBody(tags, extra = {}) {
  return JSON.stringify({ name: REPO, tags, ...extra });
}

/** One page of JSON, with an optional Link. */
function page(res, body, link, status = 200) {
  const headers = { "Content-Type": "application/json" };
  if (link) headers.Link = link;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Tag pages that never run out: each page has `perPage` new tags and a `Link` to the next,
 * distinct URL. Bounded: after `stopAfter` pages the Link stops (so a broken client cannot hang
 * the suite). `onPage(n)` runs as page n (0-based) is served.
 */
function endlessTags({ perPage = 10, stopAfter = 1000, absolute = false, onPage } = {}) {
  let served = 0;
  return (req, res) => {
    const u = new URL(req.url, h.url);
    if (u.pathname !== TAGS_PATH) return page(res, '{"errors":[{"code":"NOT_FOUND","message":"no"}]}', null, 404);
    const n = served++;
    onPage?.(n);
    const tags = Array.from({ length: perPage }, (_, i) => `p${n}-t${i}`);
    const next = `${absolute ? h.url : ""}${TAGS_PATH}?last=p${n}-t${perPage - 1}&n=${perPage}`;
    page(res, tagsBody(tags), served < stopAfter ? `<${next}>; rel="next"` : null);
  };
}

const pageRequests = () => h.resources().filter((e) => e.path === TAGS_PATH);

describe("endless tag pages (distinct pages are legitimate paging: no page cap)", () => {
  it("listTags with limit: 25 of an endless stream → 3 pages requested, the third cut, then nothing", async () => {
    h.resource = endlessTags({ perPage: 10 });
    const tags = await client().listTags(image(), { pageSize: 10, limit: 25 });
    assert.equal(tags.length, 25);
    assert.deepEqual(tags.slice(20), ["p2-t0", "p2-t1", "p2-t2", "p2-t3", "p2-t4"]);
    assert.equal(new Set(tags).size, 25, "no tag repeated");
    assert.equal(pageRequests().length, 3);
    await sleep(200);
    assert.equal(pageRequests().length, 3, "a page was requested after the call resolved");
  });

  it("catalog with limit on an endless catalog: stops at the limit", async () => {
    let served = 0;
    h.resource = (req, res) => {
      const n = served++;
      page(res, JSON.stringify({ repositories: [`r${n}/a`, `r${n}/b`] }), `</v2/_catalog?last=r${n}%2Fb&n=2>; rel="next"`);
    };
    const repos = await client().catalog(h.host, { pageSize: 2, limit: 7 });
    assert.equal(repos.length, 7);
    assert.equal(h.resources().length, 4);
    await sleep(100);
    assert.equal(h.resources().length, 4);
  });

  it("tagPages + break after 3 pages: no further page is fetched (at most one ahead)", async () => {
    h.resource = endlessTags({ perPage: 10, absolute: true });
    const pages = [];
    const iterable = client().tagPages(image(), { pageSize: 10 });
    for await (const p of iterable) {
      pages.push(p);
      if (pages.length === 3) break;
    }
    assert.deepEqual(pages.map((p) => p[0]), ["p0-t0", "p1-t0", "p2-t0"]);
    await sleep(200);
    const n = pageRequests().length;
    assert.ok(n >= 3 && n <= 4, `${n} pages requested for 3 consumed`);
    assert.equal(n, 3, "the library fetches no page ahead (TagPages in pkg-template/common.js)");
    const iterator = iterable[Symbol.asyncIterator]();
    assert.deepEqual(await iterator.next(), { value: undefined, done: true }, "a finished iteration stays finished");
    await sleep(100);
    assert.equal(pageRequests().length, n);
  });

  it("tagPages with limit 25: pages of 10, 10, 5, then done; no fourth request", async () => {
    h.resource = endlessTags({ perPage: 10 });
    const pages = await allPages(client().tagPages(image(), { pageSize: 10, limit: 25 }));
    assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
    await sleep(100);
    assert.equal(pageRequests().length, 3);
  });

  it("listTags without limit keeps paging (300 distinct pages, 3,000 tags, none lost or repeated)", async () => {
    h.resource = endlessTags({ perPage: 10, stopAfter: 300 });
    const tags = await client().listTags(image(), { pageSize: 10 });
    assert.equal(tags.length, 3000);
    assert.equal(new Set(tags).size, 3000);
    assert.equal(pageRequests().length, 300);
  });

  it("listTags without limit on an endless stream: the caller's signal ends it (ABORTED), and no request follows", async () => {
    const controller = new AbortController();
    h.resource = endlessTags({ perPage: 10, stopAfter: 5000, onPage: (n) => n === 40 && setImmediate(() => controller.abort()) });
    await rejectsWith(client().listTags(image(), { pageSize: 10, signal: controller.signal }), "ABORTED");
    const n = pageRequests().length;
    assert.ok(n >= 41 && n <= 43, `${n} pages requested`);
    await sleep(200);
    assert.equal(pageRequests().length, n, "a page was requested after the abort");
  });

  it("timeoutMs applies to each page, not to the paging: 60 pages served slowly enough to outlast it still resolve", async () => {
    const inner = endlessTags({ perPage: 1, stopAfter: 60 });
    h.resource = (req, res) => setTimeout(() => inner(req, res), 15);
    const tags = await new RegistryClient().listTags(image(), { pageSize: 1, timeoutMs: 400 });
    assert.equal(tags.length, 60);
  });

  it("a tagPages consumer that stops mid-flight: the page in flight is the last", async () => {
    let release;
    const gate = new Promise((r) => (release = r));
    const inner = endlessTags({ perPage: 5 });
    h.resource = async (req, res) => {
      if (pageRequests().length === 2) await gate;
      inner(req, res);
    };
    const iterator = client().tagPages(image(), { pageSize: 5 })[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value.length, 5);
    const pending = iterator.next(); // page 2, held by the server
    await sleep(50);
    await iterator.return();
    release();
    const second = await pending;
    assert.ok(second.done || second.value.length === 5, JSON.stringify(second));
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    await sleep(150);
    assert.equal(pageRequests().length, 2);
  });
});

describe("huge pages, manifests and configs", () => {
  it("a single page of 100,000 tags (~10 MB, under the 16 MiB cap) → all of them", async () => {
    const tags = Array.from({ length: 100_000 }, (_, i) => `v${String(i).padStart(6, "0")}-${"x".repeat(92)}`);
    const body = tagsBody(tags);
    assert.ok(body.length > 10_000_000 && body.length <= 16 * MiB, `${body.length} bytes`);
    h.resource = (_req, res) => page(res, body);
    const got = await client().listTags(image());
    assert.equal(got.length, 100_000);
    assert.equal(got[0], tags[0]);
    assert.equal(got[99_999], tags[99_999]);
    assert.equal(pageRequests().length, 1);
  });

  it("a page of exactly 16 MiB is read; one byte more is refused", async () => {
    const exact = (size) => {
      const head = `{"name":"${REPO}","tags":["a"],"pad":"`;
      return head + "p".repeat(size - head.length - 2) + '"}';
    };
    h.resource = (_req, res) => page(res, exact(16 * MiB));
    assert.deepEqual(await client().listTags(image()), ["a"]);
    h.resource = (_req, res) => page(res, exact(16 * MiB + 1));
    await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE", { message: /larger than 16777216 bytes/ });
  });

  it("a 64 MiB page → BAD_REGISTRY_RESPONSE past 16 MiB, without reading it all, no retry", async () => {
    h.resource = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": String(64 * MiB) });
      const head = Buffer.from(`{"name":"${REPO}","tags":[`);
      res.write(head);
      return h.pump(res, Buffer.from('"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",'.repeat(2048)), 64 * MiB - head.length);
    };
    await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE", { message: /larger than 16777216 bytes/ });
    await sleep(100);
    assert.ok(h.stream.written < 40 * MiB, `the server wrote ${(h.stream.written / MiB).toFixed(1)} MiB before the client hung up`);
    assert.equal(pageRequests().length, 1);
  });

  it("an endless catalog page (chunked, no length) → BAD_REGISTRY_RESPONSE, connection dropped", async () => {
    h.resource = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"repositories":[');
      return h.pump(res, Buffer.from('"team/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",'.repeat(1024)));
    };
    await rejectsWith(client().catalog(h.host), "BAD_REGISTRY_RESPONSE", { message: /larger than 16777216 bytes/ });
    await sleep(100);
    assert.ok(h.stream.clientGone, "the client closed the endless body");
  });

  /** A manifest body of `size` bytes of JSON whitespace after `{`, streamed. */
  const hugeManifest = (size, headers = {}) => (_req, res) => {
    res.writeHead(200, { "Content-Type": OCI_MANIFEST, "Content-Length": String(size), ...headers });
    res.write("{");
    return h.pump(res, Buffer.alloc(64 * 1024, " "), size - 1);
  };

  it("a 50 MB manifest → BAD_REGISTRY_RESPONSE past 4 MiB, without reading it all", async () => {
    h.resource = hugeManifest(50_000_000);
    await rejectsWith(client().getManifest(image(":1.0")), "BAD_REGISTRY_RESPONSE", { message: /larger than 4194304 bytes/ });
    await sleep(100);
    assert.ok(h.stream.written < 25 * MiB, `the server wrote ${(h.stream.written / MiB).toFixed(1)} MiB`);
    assert.equal(h.resources().length, 1);
  });

  it("headManifest without Docker-Content-Digest falls back to GET: a 50 MB body there → BAD_REGISTRY_RESPONSE, not read", async () => {
    h.resource = (req, res) => {
      if (req.method === "HEAD") {
        res.writeHead(200, { "Content-Type": OCI_MANIFEST, "Content-Length": "50000000" });
        return res.end();
      }
      return hugeManifest(50_000_000)(req, res);
    };
    await rejectsWith(client().headManifest(image(":1.0")), "BAD_REGISTRY_RESPONSE", { message: /larger than 4194304 bytes/ });
    await sleep(100);
    assert.ok(h.stream.written < 25 * MiB, `the server wrote ${(h.stream.written / MiB).toFixed(1)} MiB`);
    assert.deepEqual(h.resources().map((e) => e.method), ["HEAD", "GET"]);
  });

  it("getImageConfig: a 50 MB config blob → BAD_REGISTRY_RESPONSE past 4 MiB, not read", async () => {
    const config = "sha256:" + "c".repeat(64);
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 50_000_000 }, layers: [] });
    h.resource = (req, res) => {
      if (req.url.includes("/manifests/")) {
        res.writeHead(200, { "Content-Type": OCI_MANIFEST });
        return res.end(manifest);
      }
      return hugeManifest(50_000_000, { "Content-Type": "application/octet-stream" })(req, res);
    };
    await rejectsWith(client().getImageConfig(image(":1.0")), "BAD_REGISTRY_RESPONSE", { message: /larger than 4194304 bytes/ });
    await sleep(100);
    assert.ok(h.stream.written < 25 * MiB, `the server wrote ${(h.stream.written / MiB).toFixed(1)} MiB`);
  });

  it("registryFetch hands a 50 MB blob back unread: the caller decides (cancelling it stops the server)", async () => {
    h.resource = hugeManifest(50_000_000, { "Content-Type": "application/octet-stream" });
    const res = await client().fetch(image(), `blobs/sha256:${"b".repeat(64)}`);
    assert.equal(res.status, 200);
    await sleep(100);
    assert.ok(h.stream.written < 16 * MiB, `the library read ${(h.stream.written / MiB).toFixed(1)} MiB of a body it hands back`);
    await res.body.cancel();
    await sleep(100);
    assert.ok(h.stream.clientGone);
  });
});

describe("10,000 redirects", () => {
  /** Redirects every request to the next hop, at most `max` times (then 404). */
  function redirecting(max = 10_000, to = (n, req) => `${new URL(req.url, h.url).pathname}?hop=${n}`) {
    let hops = 0;
    return (req, res) => {
      if (hops >= max) return page(res, '{"errors":[{"code":"NOT_FOUND","message":"end"}]}', null, 404);
      const n = ++hops;
      res.writeHead(302, { Location: to(n, req) });
      res.end();
    };
  }

  for (const [name, call] of [
    ["getManifest", (c) => c.getManifest(image(":1.0"))],
    ["headManifest", (c) => c.headManifest(image(":1.0"))],
    ["listTags", (c) => c.listTags(image())],
    ["catalog", (c) => c.catalog(h.host)],
    ["getImageConfig", (c) => c.getImageConfig(image(":1.0"))],
    ["registryFetch", (c) => c.fetch(image(), "blobs/sha256:" + "b".repeat(64))],
    ["deleteManifest", (c) => c.deleteManifest(image(`@sha256:${"d".repeat(64)}`))],
  ]) {
    it(`${name}: 1 + 10 requests, the 11th hop never requested → NETWORK`, async () => {
      h.resource = redirecting();
      await rejectsWith(call(client()), "NETWORK", { message: /redirected/ });
      await sleep(50);
      assert.equal(h.resources().length, 11);
    });
  }

  it("a DELETE redirected to another origin goes there without Authorization", async () => {
    h.resource = (_req, res) => {
      res.writeHead(307, { Location: `${other.url}/v2/${REPO}/manifests/sha256:${"d".repeat(64)}` });
      res.end();
    };
    other.resource = (_req, res) => page(res, "", null, 202);
    await client().deleteManifest(image(`@sha256:${"d".repeat(64)}`), { username: "u", password: PASSWORD });
    assert.equal(other.resources().length, 1);
    assert.ok(other.log.every((e) => e.authorization === null), "Authorization went to another origin");
  });

  it("bouncing between the registry and another origin: 11 requests in all, no Authorization at the other origin", async () => {
    let n = 0;
    const bounce = (target) => (_req, res) => {
      if (++n > 10_000) return page(res, "{}", null, 404);
      res.writeHead(307, { Location: `${target().url}/v2/${REPO}/manifests/1.0?hop=${n}` });
      res.end();
    };
    h.resource = bounce(() => other);
    other.resource = bounce(() => h);
    await rejectsWith(client().getManifest(image(":1.0")), "NETWORK");
    await sleep(50);
    assert.equal(h.resources().length + other.resources().length, 11);
    assert.ok(other.resources().length >= 5);
    assert.ok(other.log.every((e) => e.authorization === null), "Authorization went to another origin");
    assert.ok(h.resources().every((e) => /^Bearer good-token-/.test(e.authorization ?? "")), "the registry's own hops carry the token");
  });
});

describe("Link loops and other origins", () => {
  it("a Link loop (page 1 → 2 → 1) → BAD_REGISTRY_RESPONSE after 2 pages", async () => {
    h.resource = (req, res) => {
      const last = new URL(req.url, h.url).searchParams.get("last");
      if (last === "b") return page(res, tagsBody(["c", "d"]), `<${TAGS_PATH}?n=2>; rel="next"`);
      return page(res, tagsBody(["a", "b"]), `<${TAGS_PATH}?last=b&n=2>; rel="next"`);
    };
    await rejectsWith(client().listTags(image(), { pageSize: 2 }), "BAD_REGISTRY_RESPONSE", { message: /Link/ });
    assert.equal(pageRequests().length, 2);
  });

  it("a Link to the page itself → BAD_REGISTRY_RESPONSE after 1 page; tagPages yields nothing more", async () => {
    h.resource = (req, res) => page(res, tagsBody(["a"]), `<${h.url}${req.url}>; rel=next`);
    await rejectsWith(client().listTags(image(), { pageSize: 7 }), "BAD_REGISTRY_RESPONSE");
    assert.equal(pageRequests().length, 1);
    h.log.length = 0;
    const iterator = client().tagPages(image(), { pageSize: 7 })[Symbol.asyncIterator]();
    await rejectsWith(iterator.next(), "BAD_REGISTRY_RESPONSE");
    assert.deepEqual(await iterator.next(), { value: undefined, done: true }, "after an error the iteration is over");
    assert.equal(pageRequests().length, 1);
  });

  for (const [what, link] of [
    ["another port", () => `<${other.url}${TAGS_PATH}?last=b>; rel="next"`],
    ["a network-path reference", () => `<//${other.host}${TAGS_PATH}?last=b>; rel="next"`],
    ["https on the same host and port", () => `<https://${h.host}${TAGS_PATH}?last=b>; rel="next"`],
    ["localhost for 127.0.0.1", () => `<http://localhost:${new URL(h.url).port}${TAGS_PATH}?last=b>; rel="next"`],
    ["another origin after a good link in the same header", () => `<${TAGS_PATH}?last=z>; rel="prev", <${other.url}${TAGS_PATH}>; rel=next`],
  ]) {
    it(`a Link to ${what} → BAD_REGISTRY_RESPONSE, nothing sent there`, async () => {
      h.resource = (_req, res) => page(res, tagsBody(["a", "b"]), link());
      await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE", { message: /origin|Link/ });
      assert.equal(other.log.length, 0, "a request reached the other origin");
      assert.equal(h.resources().length, 1, "only the first page was requested");
    });
  }

  it("a cross-origin Link on the third page: the first two pages' tags are not handed out", async () => {
    let n = 0;
    h.resource = (_req, res) => {
      n++;
      page(res, tagsBody([`t${n}`]), n < 3 ? `<${TAGS_PATH}?last=t${n}>; rel=next` : `<${other.url}${TAGS_PATH}?last=t3>; rel=next`);
    };
    await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE");
    const pages = [];
    await rejectsWith(
      (async () => {
        n = 0;
        for await (const p of client().tagPages(image())) pages.push(p);
      })(),
      "BAD_REGISTRY_RESPONSE",
    );
    assert.deepEqual(pages, [["t1"], ["t2"]], "tagPages yields the pages before the bad Link");
    assert.equal(other.log.length, 0);
  });

  it("400 Link values in one header (~12 KB, under Node's 16 KiB header limit), the next one last → followed", async () => {
    const many = Array.from({ length: 400 }, (_, i) => `</x${i}>; rel="alternate"`).join(", ");
    let n = 0;
    h.resource = (_req, res) => {
      n++;
      page(res, tagsBody([`t${n}`]), n === 1 ? `${many}, <${TAGS_PATH}?last=t1>; rel="next"` : null);
    };
    assert.deepEqual(await client().listTags(image()), ["t1", "t2"]);
  });
});

describe("bodies that are not JSON, lists that are not lists", () => {
  const bodies = [
    ["HTML", "<html><body><h1>502 Bad Gateway</h1></body></html>"],
    ["empty", ""],
    ["truncated JSON", '{"name":"team/app","tags":["a","b"'],
    ["JSON null", "null"],
    ["a JSON string", '"tags"'],
    ["non-UTF-8 bytes", Buffer.from([0xff, 0xfe, 0x7b, 0x7d])],
  ];
  for (const [what, body] of bodies) {
    it(`tags page: ${what} → BAD_REGISTRY_RESPONSE`, async () => {
      h.resource = json(body);
      await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE", { status: undefined });
    });
  }

  for (const [what, tags] of [
    ["a string", "v1"],
    ["an object", { 0: "a" }],
    ["numbers", [1, 2]],
    ["a null entry", ["a", null]],
    ["nested arrays", [["a"]]],
    ["true", true],
    ["a number", 3],
  ]) {
    it(`tags that are ${what} → BAD_REGISTRY_RESPONSE (listTags and tagPages)`, async () => {
      h.resource = json({ name: REPO, tags });
      await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE", { message: /tags/ });
      await rejectsWith(allPages(client().tagPages(image())), "BAD_REGISTRY_RESPONSE", { message: /tags/ });
    });
  }

  it('a JSON array instead of {"tags": …} → BAD_REGISTRY_RESPONSE', async () => {
    h.resource = json(["a", "b"]);
    await rejectsWith(client().listTags(image()), "BAD_REGISTRY_RESPONSE");
  });

  it('"tags": null is an empty list; a second page with null tags adds nothing', async () => {
    let n = 0;
    h.resource = (_req, res) => (++n === 1 ? page(res, tagsBody(["a"]), `<${TAGS_PATH}?last=a>; rel=next`) : page(res, tagsBody(null)));
    assert.deepEqual(await client().listTags(image()), ["a"]);
  });

  it("catalog: repositories not an array of strings, or not JSON → BAD_REGISTRY_RESPONSE", async () => {
    for (const body of ['{"repositories":"a"}', '{"repositories":[1]}', "<html>", '{"repositories":{"a":1}}']) {
      h.resource = json(body);
      await rejectsWith(client().catalog(h.host), "BAD_REGISTRY_RESPONSE", { message: /catalog|repositories/ });
    }
  });

  it("manifest bodies that are not a JSON object → BAD_REGISTRY_RESPONSE", async () => {
    for (const body of ["<html>oops</html>", "", "[]", '"x"', "null", '{"a":', Buffer.from([0xc3, 0x28])]) {
      h.resource = json(body, 200, { "Content-Type": OCI_MANIFEST });
      await rejectsWith(client().getManifest(image(":1.0")), "BAD_REGISTRY_RESPONSE");
    }
  });

  it('an index whose "manifests" is not an array → BAD_REGISTRY_RESPONSE', async () => {
    h.resource = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: { a: 1 } }, 200, { "Content-Type": OCI_INDEX });
    await rejectsWith(client().getManifest(image(":1.0")), "BAD_REGISTRY_RESPONSE", { message: /manifests/ });
  });

  it("a config blob that hashes right but is not JSON → BAD_REGISTRY_RESPONSE", async () => {
    const { createHash } = await import("node:crypto");
    const blob = Buffer.from("<html>not a config</html>");
    const digest = "sha256:" + createHash("sha256").update(blob).digest("hex");
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest, size: blob.length }, layers: [] });
    h.resource = (req, res) => {
      res.writeHead(200, { "Content-Type": req.url.includes("/manifests/") ? OCI_MANIFEST : "application/octet-stream" });
      res.end(req.url.includes("/manifests/") ? manifest : blob);
    };
    await rejectsWith(client().getImageConfig(image(":1.0")), "BAD_REGISTRY_RESPONSE", { message: /config/ });
  });

  it("an index with 1,000 platforms, none asked for: NOT_FOUND names at most 20 and stays short", async () => {
    const manifests = Array.from({ length: 1000 }, (_, i) => ({ mediaType: OCI_MANIFEST, digest: `sha256:${String(i).padStart(64, "0")}`, size: 1, platform: { os: "linux", architecture: `arch${i}` } }));
    h.resource = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, 200, { "Content-Type": OCI_INDEX });
    const err = await rejectsWith(client().getManifest(image(":1.0"), { platform: "linux/amd64" }), "NOT_FOUND", { message: /and 980 more/ });
    assert.ok(err.message.length <= 1024, `${err.message.length} characters`);
  });

  it("an index whose platform names are long: the NOT_FOUND and INVALID_REFERENCE messages stay under 2 KiB", async () => {
    // Server text in a message is clipped everywhere else (300 bytes a quote); manifest::names
    // quotes up to 20 os/architecture/variant strings unclipped.
    const manifests = Array.from({ length: 20 }, (_, i) => ({ mediaType: OCI_MANIFEST, digest: `sha256:${String(i).padStart(64, "0")}`, size: 1, platform: { os: "o".repeat(10_000), architecture: `a${i}` } }));
    h.resource = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, 200, { "Content-Type": OCI_INDEX });
    await rejectsWith(client().getManifest(image(":1.0"), { platform: "linux/amd64" }), "NOT_FOUND", { maxMessage: 2048 });
    await rejectsWith(client().getImageConfig(image(":1.0")), "INVALID_REFERENCE", { maxMessage: 2048 });
  });
});

describe("no secret in the new errors, whatever the server echoes", () => {
  const USER = "alice";
  const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
  const ECHO = `password=${PASSWORD} authorization=Basic ${BASIC} ${encodeURIComponent(PASSWORD)}`;
  const SECRETS = [PASSWORD, BASIC];

  /** How the caller hands over the password. */
  const MODES = {
    "credentials option": () => ({ client: new RegistryClient({ timeoutMs: TIMEOUT_MS, credentials: { [h.host]: { username: USER, password: PASSWORD } } }), opts: {} }),
    "per call": () => ({ client: new RegistryClient({ timeoutMs: TIMEOUT_MS }), opts: { username: USER, password: PASSWORD } }),
  };

  /** Every text an error exposes: message, stack, String(), retryAfter, errors, cause chain, inspect. */
  function texts(err, depth = 0) {
    if (!err || typeof err !== "object" || depth > 3) return [String(err ?? "")];
    const own = [String(err.message ?? ""), String(err.stack ?? ""), String(err.retryAfter ?? ""), JSON.stringify(err.errors ?? null), inspect(err, { depth: 8 })];
    try {
      own.push(String(err));
    } catch {}
    return err.cause === undefined ? own : [...own, ...texts(err.cause, depth + 1)];
  }

  function assertNoSecret(err) {
    const all = texts(err);
    SECRETS.forEach((s, i) => assert.ok(!all.some((t) => t.includes(s)), `secret #${i} in the ${err.code} error (${err.message.slice(0, 300)})`));
  }

  /** Stricter: no 10-character piece of a secret, in any letter case (a clipped or lower-cased echo). */
  function assertNoSecretFragment(err) {
    const all = texts(err).map((t) => t.toLowerCase());
    for (const [i, s] of SECRETS.entries()) {
      for (let k = 0; k + 10 <= s.length; k++) {
        const piece = s.slice(k, k + 10).toLowerCase();
        assert.ok(!all.some((t) => t.includes(piece)), `secret #${i}: "${k}…${k + 10}" appears in the ${err.code} error: ${err.message.slice(0, 400)}`);
      }
    }
  }

  /** [name, code, setup() → the call] */
  const PATHS = [
    [
      "tags 404 with a distribution body echoing the secrets",
      "NOT_FOUND",
      () => {
        h.resource = json({ errors: [{ code: "NAME_UNKNOWN", message: ECHO, detail: { name: REPO, echo: ECHO } }] }, 404);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "manifest 429 with Retry-After and RateLimit headers echoing",
      "RATE_LIMITED",
      () => {
        h.resource = json({ errors: [{ code: "TOOMANYREQUESTS", message: ECHO }] }, 429, { "Retry-After": ECHO, "RateLimit-Limit": ECHO });
        return (c, o) => c.getManifest(image(":1.0"), o);
      },
    ],
    [
      "tagPages 500 with a plain-text body echoing",
      "REGISTRY_ERROR",
      () => {
        h.resource = (_req, res) => {
          res.writeHead(500, { "Content-Type": "text/plain", "X-Echo": ECHO });
          res.end(`internal error: ${ECHO}`);
        };
        return (c, o) => allPages(c.tagPages(image(), o));
      },
    ],
    [
      "catalog 405 echoing",
      "UNSUPPORTED_OPERATION",
      () => {
        h.resource = json({ errors: [{ code: "UNSUPPORTED", message: ECHO, detail: ECHO }] }, 405);
        return (c, o) => c.catalog(h.host, o);
      },
    ],
    [
      "deleteManifest 405 echoing",
      "UNSUPPORTED_OPERATION",
      () => {
        h.resource = json({ errors: [{ code: "UNSUPPORTED", message: ECHO }] }, 405);
        return (c, o) => c.deleteManifest(image(`@sha256:${"d".repeat(64)}`), o);
      },
    ],
    [
      "a resource 401 twice, its challenge and body echoing",
      "UNAUTHORIZED",
      () => {
        h.resource = (_req, res) => {
          res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": `Bearer realm="${h.url}${TOKEN_PATH}",error="invalid_token",error_description="${ECHO}"` });
          res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: ECHO, detail: ECHO }] }));
        };
        return (c, o) => c.getManifest(image(":1.0"), o);
      },
    ],
    [
      "a Docker-Content-Digest that is the password",
      "DIGEST_MISMATCH",
      () => {
        h.resource = json({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }, 200, { "Content-Type": OCI_MANIFEST, "Docker-Content-Digest": `sha256:${PASSWORD}` });
        return (c, o) => c.getManifest(image(":1.0"), o);
      },
    ],
    [
      "an index whose platforms echo the password, none matching",
      "NOT_FOUND",
      () => {
        h.resource = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${"1".repeat(64)}`, size: 1, platform: { os: PASSWORD, architecture: BASIC } }] }, 200, { "Content-Type": OCI_INDEX });
        return (c, o) => c.getManifest(image(":1.0"), { ...o, platform: "linux/amd64" });
      },
    ],
    [
      "getImageConfig of an index whose platforms echo the password",
      "INVALID_REFERENCE",
      () => {
        h.resource = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${"1".repeat(64)}`, size: 1, platform: { os: PASSWORD, architecture: "amd64" } }] }, 200, { "Content-Type": OCI_INDEX });
        return (c, o) => c.getImageConfig(image(":1.0"), o);
      },
    ],
    [
      "a Link loop whose URLs carry the password",
      "BAD_REGISTRY_RESPONSE",
      () => {
        h.resource = (req, res) => page(res, tagsBody(["a"]), `<${TAGS_PATH}?last=${PASSWORD}&auth=${BASIC}>; rel="next"`);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a cross-origin Link whose URL carries the password",
      "BAD_REGISTRY_RESPONSE",
      () => {
        h.resource = (_req, res) => page(res, tagsBody(["a"]), `<${other.url}/${PASSWORD}/${BASIC}?p=${PASSWORD}>; rel="next"`);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "10,000 redirects whose Locations carry the password",
      "NETWORK",
      () => {
        let n = 0;
        h.resource = (_req, res) => {
          res.writeHead(302, { Location: `/v2/${REPO}/manifests/${PASSWORD}?hop=${++n}&b=${BASIC}`, "X-Echo": ECHO });
          res.end(ECHO);
        };
        return (c, o) => c.getManifest(image(":1.0"), o);
      },
    ],
    [
      "a next page (from a Link with the password) answering 503",
      "REGISTRY_ERROR",
      () => {
        let n = 0;
        h.resource = (_req, res) => (++n === 1 ? page(res, tagsBody(["a"]), `<${TAGS_PATH}?last=${PASSWORD}>; rel=next`) : json(ECHO, 503, { "Retry-After": PASSWORD })(_req, res));
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a next page (from a Link with the password) whose connection drops",
      "NETWORK",
      () => {
        let n = 0;
        h.resource = (req, res) => (++n === 1 ? page(res, tagsBody(["a"]), `<${TAGS_PATH}?last=${PASSWORD}&b=${BASIC}>; rel=next`) : req.socket.destroy());
        return (c, o) => c.listTags(image(), o);
      },
    ],
  ];

  for (const [mode, make] of Object.entries(MODES)) {
    describe(`password given ${mode}`, () => {
      for (const [name, code, setup] of PATHS) {
        it(`${name} → ${code}, no secret anywhere in the error`, async () => {
          const call = setup();
          const { client: c, opts } = make();
          const err = await rejectsWith(call(c, opts), code);
          assertNoSecret(err);
          assertNoSecretFragment(err);
          assert.ok(h.log.some((e) => e.path === TOKEN_PATH && /^Basic /.test(e.authorization ?? "")), "the password was used");
          assert.equal(other.log.length, 0);
        });
      }
    });
  }

  // Echoes that the exact-match redaction misses: each names the place in src/ that lets it
  // through. Same assertions, stricter: no 10-character piece of the secret in any case.
  const LEAKS = [
    [
      "errors[].message: the password after 285 bytes",
      "NOT_FOUND",
      "src/server_error.rs entries() clips each field to 300 bytes and then redacts, so a clipped echo (\"hunter2-PASSWOR…\") survives in errors[0].message",
      () => {
        h.resource = json({ errors: [{ code: "NAME_UNKNOWN", message: `${"x".repeat(285)}${PASSWORD}` }] }, 404);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "errors[].detail: the password JSON-escaped (\\u0068\\u0075…)",
      "NOT_FOUND",
      "src/server_error.rs entries() redacts `detail` as raw JSON text, where an escaped password does not match, and src/js/convert.rs then JSON.parses it: errors[0].detail holds the password in full",
      () => {
        const escaped = [...PASSWORD].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
        h.resource = json(`{"errors":[{"code":"NAME_UNKNOWN","message":"unknown","detail":{"password":"${escaped}"}}]}`, 404);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a page URL over 200 bytes, the password at the cut, answering 500",
      "REGISTRY_ERROR",
      "Session::status_error (src/js/registry.rs) quotes \"GET <url>\" clipped to 200 bytes, and the message is redacted after the clip: \"…?last=ppp…hunter2-PASSWOR…\"",
      () => {
        let n = 0;
        const pad = "p".repeat(200 - `${h.url}${TAGS_PATH}?last=`.length - 15);
        h.resource = (_req, res) => (++n === 1 ? page(res, tagsBody(["a"]), `<${TAGS_PATH}?last=${pad}${PASSWORD}>; rel=next`) : json("{}", 500)(_req, res));
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a cross-origin Link whose host is the password",
      "BAD_REGISTRY_RESPONSE",
      "src/link.rs quotes the other origin, which src/url.rs HttpUrl::parse lower-cased; redaction is case-sensitive: \"(http://hunter2-password-must-not-leak.invalid)\"",
      () => {
        h.resource = (_req, res) => page(res, tagsBody(["a"]), `<http://${PASSWORD}.invalid/v2/x>; rel="next"`);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a Link whose scheme is the password",
      "BAD_REGISTRY_RESPONSE",
      "src/url.rs HttpUrl::parse quotes the lower-cased scheme (\"its scheme is hunter2-password-must-not-leak:\"), past case-sensitive redaction",
      () => {
        h.resource = (_req, res) => page(res, tagsBody(["a"]), `<${PASSWORD}:x>; rel="next"`);
        return (c, o) => c.listTags(image(), o);
      },
    ],
    [
      "a redirect whose Location scheme is the password",
      "BAD_REGISTRY_RESPONSE",
      "src/redirect.rs next() → src/url.rs HttpUrl::parse quotes the lower-cased scheme, past case-sensitive redaction",
      () => {
        h.resource = (_req, res) => {
          res.writeHead(302, { Location: `${PASSWORD}:x` });
          res.end();
        };
        return (c, o) => c.getManifest(image(":1.0"), o);
      },
    ],
  ];

  describe("echoes redaction must also catch (clipped, escaped, lower-cased)", () => {
    for (const [name, code, why, setup] of LEAKS) {
      it(`${name} → ${code}, no 10-character piece of a secret in any case`, async () => {
        const call = setup();
        const { client: c, opts } = MODES["per call"]();
        const err = await rejectsWith(call(c, opts), code);
        assertNoSecretFragment(err);
      });
    }

    it("a password with a quote and a backslash, echoed by JSON.stringify in errors[].detail → no secret", async () => {
      const odd = 'p@ss "w0rd" \\ LEAK-42';
      h.resource = json({ errors: [{ code: "DENIED", message: "denied", detail: { echo: odd } }] }, 404);
      const err = await rejectsWith(new RegistryClient({ timeoutMs: TIMEOUT_MS }).listTags(image(), { username: USER, password: odd }), "NOT_FOUND");
      assert.ok(!texts(err).some((t) => t.includes(odd)), "the password is in the error");
      assert.ok(!JSON.stringify(err.errors).includes(JSON.stringify(odd).slice(1, -1)), "the password is in errors[].detail");
    });
  });
});

it("the module-level listTags obeys limit on an endless stream too", async () => {
  h.resource = endlessTags({ perPage: 4 });
  const tags = await moduleListTags(image(), { pageSize: 4, limit: 6, timeoutMs: TIMEOUT_MS });
  assert.equal(tags.length, 6);
  await sleep(100);
  assert.equal(pageRequests().length, 2);
});
