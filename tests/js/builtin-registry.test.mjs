// The built-in registry (tests/fixtures/builtin-registry.mjs) against distribution 2.8.2 (Debian's
// docker-registry, tests/fixtures/distribution.mjs): the same requests, in the same order, to both,
// each with a token from its own token server (the same code, TEST_POLICY; distribution's signs with
// an openssl certificate, the builtin's with a node:crypto key). Each step records the status, the
// headers that matter (Content-Type, Content-Length, Docker-Content-Digest, Location, Range,
// Docker-Upload-UUID, Link, WWW-Authenticate, Etag, …) and the body (JSON as parsed, anything else by
// its digest), with each server's own URL, realm and upload ids replaced by placeholders, and the
// two records must be equal — and equal to what distribution is known to answer, so a change on
// both sides cannot pass unseen. The one difference on purpose, tags/list paging, is asserted as such.
// Raw `fetch` (no package) so every header and byte is under the test's control.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startBuiltin, TAGS_PAGE } from "../fixtures/builtin-registry.mjs";
import { buildIndex, buildPlatformImage, findRegistryBinary, platformDescriptor, registryMissingMessage, startDistribution } from "../fixtures/distribution.mjs";
import { digestOf, MEDIA_TYPES } from "../fixtures/registry-protocol.mjs";
import { TEST_USERS } from "../fixtures/token-server.mjs";

const HEADERS = [
  "content-type", "content-length", "docker-content-digest", "docker-distribution-api-version", "docker-upload-uuid", "location", "range",
  "link", "www-authenticate", "etag", "accept-ranges", "cache-control", "access-control-allow-origin", "access-control-expose-headers",
  "access-control-allow-methods", "access-control-allow-headers",
];
const REPO = "conf/one";
const MOUNTED = "conf/two";
const TAGGED = "conf/tags";
const TAG_COUNT = 120;

const image = buildPlatformImage({ format: "oci", label: "conformance", layerSizes: [300, 70_000], created: "2024-03-03T03:03:03Z", labels: { a: "b" } });
const [configBlob, smallLayer, bigLayer] = image.blobs;
const index = buildIndex([platformDescriptor(image)]);
const dockerImage = buildPlatformImage({ format: "docker", label: "conformance-docker", layerSizes: [200] });

const backends = {};

/** A token from the back end's own token server, as `tester` (or anonymous with user null). */
async function token(b, scopes, user = TEST_USERS.tester) {
  const q = new URLSearchParams({ service: b.reg.service });
  for (const s of scopes) q.append("scope", s);
  const headers = user ? { Authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}` } : {};
  const res = await fetch(`${b.reg.realm}?${q}`, { headers });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

/** One request → { status, headers (the ones that matter, normalized), body } */
async function call(b, method, path, { tok, headers = {}, body, base = b.reg.registryUrl } = {}) {
  const h = { ...headers };
  if (tok) h.Authorization = `Bearer ${tok}`;
  const res = await fetch(`${base}${path}`, { method, headers: h, body, redirect: "manual" });
  const bytes = Buffer.from(await res.arrayBuffer());
  const out = { status: res.status, headers: {}, body: null };
  for (const name of HEADERS) {
    const v = res.headers.get(name);
    if (v !== null) out.headers[name] = b.normalize(v);
  }
  if (bytes.length) {
    const type = res.headers.get("content-type") ?? "";
    out.body = /json/.test(type) && !/vnd\./.test(type) ? JSON.parse(bytes.toString("utf8")) : { digest: digestOf(bytes), length: bytes.length };
    if (/json/.test(type) && !/vnd\./.test(type)) out.bodyEndsWithNewline = bytes.at(-1) === 0x0a;
  }
  out.raw = res;
  return out;
}

/** Runs `step(b)` on both back ends (distribution first), checks the records are equal, returns distribution's. */
async function same(step) {
  const d = await step(backends.distribution);
  const bi = await step(backends.builtin);
  const strip = (r) => JSON.parse(JSON.stringify(r, (k, v) => (k === "raw" ? undefined : v)));
  assert.deepEqual(strip(bi), strip(d), "builtin answers as distribution does");
  return d;
}

const uuidOf = (location) => /\/blobs\/uploads\/([^/?]+)/.exec(location)?.[1];

describe("the built-in registry answers as distribution 2.8.2 does", () => {
  before(async () => {
    assert.ok(findRegistryBinary(), registryMissingMessage());
    const t0 = Date.now();
    const [d, bi] = await Promise.all([startDistribution({ seed: false }), startBuiltin()]);
    for (const [name, reg] of [["distribution", d], ["builtin", bi]]) {
      const uuids = new Map();
      backends[name] = {
        name,
        reg,
        normalize(v) {
          let out = v.replaceAll(reg.registryUrl, "<registry>").replaceAll(reg.realm, "<realm>").replace(/_state=[^&\s>]*/g, "_state=<state>");
          // distribution joins a challenge's actions in Go map order (accessSet.scopeParam), so
          // "pull,push" and "push,pull" both occur from one run to the next: compared sorted.
          out = out.replace(/scope="([^"]*)"/g, (_, list) => `scope="${list.split(" ").map((s) => {
            const i = s.lastIndexOf(":");
            return i < 0 ? s : `${s.slice(0, i)}:${s.slice(i + 1).split(",").sort().join(",")}`;
          }).join(" ")}"`);
          out = out.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
            if (!uuids.has(u)) uuids.set(u, `<upload-${uuids.size + 1}>`);
            return uuids.get(u);
          });
          return out;
        },
      };
    }
    backends.startMs = Date.now() - t0;
  });
  after(async () => {
    await Promise.all([backends.distribution?.reg.stop(), backends.builtin?.reg.stop()]);
  });

  test("GET /v2/: 401 with the Bearer challenge (realm, service) and distribution's body; 200 {} with a token; bad names are a plain 404; OPTIONS is refused 401", async () => {
    const anon = await same((b) => call(b, "GET", "/v2/"));
    assert.equal(anon.status, 401);
    assert.equal(anon.headers["www-authenticate"], 'Bearer realm="<realm>",service="registry-token-test"');
    assert.equal(anon.headers["docker-distribution-api-version"], "registry/2.0");
    assert.deepEqual(anon.body, { errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] });
    const ok = await same(async (b) => call(b, "GET", "/v2/", { tok: await token(b, []) }));
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, {});
    const bad = await same(async (b) => call(b, "GET", "/v2/Upper/Case/tags/list", { tok: await token(b, []) }));
    assert.equal(bad.status, 404);
    assert.equal(bad.headers["content-type"], "text/plain; charset=utf-8");
    const preflight = await same((b) => call(b, "OPTIONS", `/v2/${REPO}/tags/list`, { headers: { Origin: "http://page.example", "Access-Control-Request-Method": "GET" } }));
    assert.equal(preflight.status, 401);
  });

  test("401s on resources: the scope needed, error=\"invalid_token\" for a bad or foreign token, error=\"insufficient_scope\" with one detail per action", async () => {
    const anon = await same((b) => call(b, "GET", "/v2/_catalog"));
    assert.equal(anon.status, 401);
    assert.equal(anon.headers["www-authenticate"], 'Bearer realm="<realm>",service="registry-token-test",scope="registry:catalog:*"');
    assert.deepEqual(anon.body.errors[0].detail, [{ Type: "registry", Class: "", Name: "catalog", Action: "*" }]);
    const forged = await same((b) => call(b, "GET", `/v2/${REPO}/tags/list`, { tok: "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln" }));
    assert.equal(forged.status, 401);
    assert.match(forged.headers["www-authenticate"], /scope="repository:conf\/one:pull",error="invalid_token"$/);
    // A token of the *other* back end's token server: well-formed, signed, but not by the trusted key.
    const foreign = await token(backends.builtin, [`repository:${REPO}:pull`]);
    const d = await call(backends.distribution, "GET", `/v2/${REPO}/tags/list`, { tok: foreign });
    const bi = await call(backends.builtin, "GET", `/v2/${REPO}/tags/list`, { tok: await token(backends.distribution, [`repository:${REPO}:pull`]) });
    for (const r of [d, bi]) {
      assert.equal(r.status, 401);
      assert.match(r.headers["www-authenticate"], /error="invalid_token"$/);
    }
    const weak = await same(async (b) => call(b, "PUT", `/v2/${REPO}/manifests/x`, {
      tok: await token(b, [`repository:${REPO}:pull`]), headers: { "Content-Type": image.mediaType }, body: image.manifest,
    }));
    assert.equal(weak.status, 401);
    assert.match(weak.headers["www-authenticate"], /scope="repository:conf\/one:pull,push",error="insufficient_scope"$/);
    assert.deepEqual(weak.body.errors[0].detail.map((x) => x.Action), ["pull", "push"]);
    const reader = await same(async (b) => call(b, "DELETE", `/v2/${REPO}/manifests/${image.digest}`, { tok: await token(b, [`repository:${REPO}:delete`], TEST_USERS.reader) }));
    assert.equal(reader.status, 401);
    assert.match(reader.headers["www-authenticate"], /scope="repository:conf\/one:delete",error="insufficient_scope"$/);
  });

  test("blob uploads: POST → 202 (Location, Docker-Upload-UUID, Range 0-0; ?digest= starts an upload too), a wrong digest → 400 DIGEST_INVALID, PUT → 201; POST → PATCH → PATCH → GET → PUT chunked; an unknown upload → 404", async () => {
    const steps = [];
    const rec = await same(async (b) => {
      const tok = await token(b, [`repository:${REPO}:pull,push`]);
      const out = {};
      const start = await call(b, "POST", `/v2/${REPO}/blobs/uploads/`, { tok });
      out.start = start;
      const loc = (r) => new URL(r.raw.headers.get("location")).pathname + new URL(r.raw.headers.get("location")).search;
      const sep = (l) => (l.includes("?") ? "&" : "?");
      out.wrong = await call(b, "PUT", `${loc(start)}${sep(loc(start))}digest=${encodeURIComponent(smallLayer.digest)}`, { tok, headers: { "Content-Type": "application/octet-stream" }, body: configBlob.data });
      const mono = await call(b, "POST", `/v2/${REPO}/blobs/uploads/?digest=${encodeURIComponent(configBlob.digest)}`, { tok, headers: { "Content-Type": "application/octet-stream" }, body: configBlob.data });
      out.monoPost = mono;
      out.monoPut = await call(b, "PUT", `${loc(mono)}${sep(loc(mono))}digest=${encodeURIComponent(configBlob.digest)}`, { tok, headers: { "Content-Type": "application/octet-stream" }, body: configBlob.data });
      for (const blob of [smallLayer, bigLayer]) {
        const s = await call(b, "POST", `/v2/${REPO}/blobs/uploads/`, { tok });
        const half = Math.floor(blob.data.length / 2);
        const p1 = await call(b, "PATCH", loc(s), { tok, headers: { "Content-Type": "application/octet-stream", "Content-Range": `0-${half - 1}` }, body: blob.data.subarray(0, half) });
        const p2 = await call(b, "PATCH", loc(p1), { tok, headers: { "Content-Type": "application/octet-stream", "Content-Range": `${half}-${blob.data.length - 1}` }, body: blob.data.subarray(half) });
        const status = await call(b, "GET", loc(p2), { tok });
        const put = await call(b, "PUT", `${loc(p2)}&digest=${encodeURIComponent(blob.digest)}`, { tok });
        out[`chunked ${blob.data.length}`] = { p1, p2, status, put };
      }
      out.unknownUpload = await call(b, "PATCH", `/v2/${REPO}/blobs/uploads/no-such-upload`, { tok, body: "x" });
      steps.push(out);
      return out;
    });
    assert.equal(rec.start.status, 202);
    assert.match(rec.start.headers.location, /^<registry>\/v2\/conf\/one\/blobs\/uploads\/<upload-\d+>\?_state=<state>$/);
    assert.equal(rec.start.headers["docker-upload-uuid"], uuidOf(rec.start.headers.location));
    assert.equal(rec.start.headers.range, "0-0");
    assert.equal(rec.wrong.status, 400);
    assert.equal(rec.wrong.body.errors[0].code, "DIGEST_INVALID");
    assert.equal(rec.monoPost.status, 202, "distribution 2.8.2 ignores ?digest= on POST and starts an upload");
    assert.equal(rec.monoPut.status, 201);
    assert.equal(rec.monoPut.headers.location, `<registry>/v2/${REPO}/blobs/${configBlob.digest}`);
    assert.equal(rec.monoPut.headers["docker-content-digest"], configBlob.digest);
    const big = rec[`chunked ${bigLayer.data.length}`];
    assert.equal(big.p1.status, 202);
    assert.equal(big.p2.headers.range, `0-${bigLayer.data.length - 1}`);
    assert.equal(big.status.status, 204);
    assert.equal(big.put.status, 201);
    assert.equal(rec.unknownUpload.status, 404);
    assert.equal(rec.unknownUpload.body.errors[0].code, "BLOB_UPLOAD_INVALID");
    assert.equal(steps.length, 2);
  });

  test("blobs: GET and HEAD (Content-Length, Docker-Content-Digest, Etag, octet-stream); unknown → 404 BLOB_UNKNOWN; a malformed digest → 400; cross-repository mount → 201", async () => {
    const rec = await same(async (b) => {
      const tok = await token(b, [`repository:${REPO}:pull`, `repository:${MOUNTED}:pull,push`]);
      return {
        get: await call(b, "GET", `/v2/${REPO}/blobs/${bigLayer.digest}`, { tok }),
        head: await call(b, "HEAD", `/v2/${REPO}/blobs/${configBlob.digest}`, { tok }),
        unknown: await call(b, "GET", `/v2/${REPO}/blobs/sha256:${"0".repeat(64)}`, { tok }),
        malformed: await call(b, "GET", `/v2/${REPO}/blobs/sha256:zz`, { tok }),
        mount: await call(b, "POST", `/v2/${MOUNTED}/blobs/uploads/?mount=${configBlob.digest}&from=${REPO}`, { tok }),
        mounted: await call(b, "HEAD", `/v2/${MOUNTED}/blobs/${configBlob.digest}`, { tok }),
      };
    });
    assert.equal(rec.get.status, 200);
    assert.deepEqual(rec.get.body, { digest: bigLayer.digest, length: bigLayer.data.length });
    assert.equal(rec.get.headers["content-type"], "application/octet-stream");
    assert.equal(rec.get.headers["docker-content-digest"], bigLayer.digest);
    assert.equal(rec.head.headers["content-length"], String(configBlob.data.length));
    assert.equal(rec.head.body, null);
    assert.equal(rec.unknown.status, 404);
    assert.deepEqual(rec.unknown.body.errors, [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry", detail: `sha256:${"0".repeat(64)}` }]);
    assert.equal(rec.malformed.status, 400);
    assert.equal(rec.mount.status, 201);
    assert.equal(rec.mount.headers.location, `<registry>/v2/${MOUNTED}/blobs/${configBlob.digest}`);
    assert.equal(rec.mounted.status, 200);
  });

  test("manifest PUT: missing blobs → 400 MANIFEST_BLOB_UNKNOWN each, bad JSON → MANIFEST_INVALID with its offset, wrong Content-Type → MANIFEST_INVALID, wrong digest → DIGEST_INVALID; by tag and by digest → 201 (Location, Docker-Content-Digest); an index over it", async () => {
    const rec = await same(async (b) => {
      const tok = await token(b, [`repository:${REPO}:pull,push`]);
      const put = (ref, body, type) => call(b, "PUT", `/v2/${REPO}/manifests/${ref}`, { tok, headers: type ? { "Content-Type": type } : {}, body });
      return {
        missing: await put("nope", dockerImage.manifest, dockerImage.mediaType),
        badJson: await put("bad", "{nope", image.mediaType),
        wrongType: await put("wrong", image.manifest, MEDIA_TYPES.dockerManifest),
        noType: await put("none", image.manifest, null),
        wrongDigest: await put(`sha256:${"1".repeat(64)}`, image.manifest, image.mediaType),
        byTag: await put("1.0", image.manifest, image.mediaType),
        byDigest: await put(image.digest, image.manifest, image.mediaType),
        index: await put("multi", index.manifest, index.mediaType),
      };
    });
    assert.equal(rec.missing.status, 400);
    assert.deepEqual(rec.missing.body.errors.map((e) => e.code), ["MANIFEST_BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN"]);
    assert.deepEqual(rec.badJson.body.errors, [{ code: "MANIFEST_INVALID", message: "manifest invalid", detail: { Offset: 2 } }]);
    assert.deepEqual(rec.wrongType.body.errors, [{ code: "MANIFEST_INVALID", message: "manifest invalid", detail: {} }]);
    assert.equal(rec.noType.status, 400);
    assert.deepEqual(rec.wrongDigest.body.errors, [{ code: "DIGEST_INVALID", message: "provided digest did not match uploaded content" }]);
    for (const r of [rec.byTag, rec.byDigest]) {
      assert.equal(r.status, 201);
      assert.equal(r.headers.location, `<registry>/v2/${REPO}/manifests/${image.digest}`);
      assert.equal(r.headers["docker-content-digest"], image.digest);
    }
    assert.equal(rec.index.status, 201);
  });

  test("manifest GET/HEAD: Content-Type, Content-Length, Docker-Content-Digest, Etag, the exact bytes; Accept not naming an OCI type → distribution's MANIFEST_UNKNOWN words; unknown tag and digest → 404 with their detail", async () => {
    const rec = await same(async (b) => {
      const tok = await token(b, [`repository:${REPO}:pull`]);
      const get = (method, ref, accept) => call(b, method, `/v2/${REPO}/manifests/${ref}`, { tok, headers: accept ? { Accept: accept } : {} });
      return {
        get: await get("GET", "1.0", `${MEDIA_TYPES.ociIndex}, ${MEDIA_TYPES.ociManifest}`),
        head: await get("HEAD", "1.0", MEDIA_TYPES.ociManifest),
        byDigest: await get("GET", image.digest, MEDIA_TYPES.ociManifest),
        index: await get("GET", "multi", MEDIA_TYPES.ociIndex),
        noAccept: await get("GET", "1.0", null),
        indexNotAccepted: await get("GET", "multi", MEDIA_TYPES.ociManifest),
        unknownTag: await get("GET", "nope", MEDIA_TYPES.ociManifest),
        unknownDigest: await get("GET", `sha256:${"2".repeat(64)}`, MEDIA_TYPES.ociManifest),
      };
    });
    assert.equal(rec.get.status, 200);
    assert.equal(rec.get.headers["content-type"], image.mediaType);
    assert.equal(rec.get.headers["docker-content-digest"], image.digest);
    assert.equal(rec.get.headers.etag, `"${image.digest}"`);
    assert.deepEqual(rec.get.body, { digest: image.digest, length: image.manifest.length });
    assert.equal(rec.head.headers["content-length"], String(image.manifest.length));
    assert.equal(rec.head.body, null);
    assert.equal(rec.index.headers["docker-content-digest"], index.digest);
    assert.deepEqual(rec.noAccept.body.errors, [{ code: "MANIFEST_UNKNOWN", message: "OCI manifest found, but accept header does not support OCI manifests" }]);
    assert.deepEqual(rec.indexNotAccepted.body.errors, [{ code: "MANIFEST_UNKNOWN", message: "OCI index found, but accept header does not support OCI indexes" }]);
    assert.deepEqual(rec.unknownTag.body.errors[0].detail, { Tag: "nope" });
    assert.deepEqual(rec.unknownDigest.body.errors[0].detail, { Name: REPO, Revision: `sha256:${"2".repeat(64)}` });
  });

  test("catalog: n/last paging with distribution's relative Link (last URL-encoded), n=0 → empty, n over 1000 → 400 PAGINATION_NUMBER_INVALID; every page the same on both", async () => {
    const rec = await same(async (b) => {
      const tok = await token(b, ["registry:catalog:*"]);
      const pages = [];
      let next = "/v2/_catalog?n=1";
      while (next && pages.length < 10) {
        const page = await call(b, "GET", next, { tok });
        pages.push(page);
        next = /^<([^>]+)>; rel="next"$/.exec(page.raw.headers.get("link") ?? "")?.[1] ?? null;
      }
      return {
        pages,
        all: await call(b, "GET", "/v2/_catalog", { tok }),
        exact: await call(b, "GET", "/v2/_catalog?n=2", { tok }),
        zero: await call(b, "GET", "/v2/_catalog?n=0", { tok }),
        tooMany: await call(b, "GET", "/v2/_catalog?n=1001", { tok }),
        last: await call(b, "GET", `/v2/_catalog?n=5&last=${encodeURIComponent(REPO)}`, { tok }),
      };
    });
    assert.deepEqual(rec.all.body, { repositories: [REPO, MOUNTED] });
    assert.equal(rec.all.bodyEndsWithNewline, true);
    assert.deepEqual(rec.pages.map((p) => p.body.repositories), [[REPO], [MOUNTED]]);
    assert.equal(rec.pages[0].headers.link, '</v2/_catalog?last=conf%2Fone&n=1>; rel="next"');
    assert.equal(rec.zero.status, 200);
    assert.deepEqual(rec.zero.body, { repositories: [] });
    assert.equal(rec.tooMany.status, 400);
    assert.deepEqual(rec.tooMany.body.errors, [{ code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results requested", detail: { n: 1001 } }]);
    assert.deepEqual(rec.last.body, { repositories: [MOUNTED] });
  });

  test(`tags/list — the difference on purpose: distribution answers all ${TAG_COUNT} tags in one page and ignores n; the builtin pages ${TAGS_PAGE} at a time with a relative Link; the same tags in the end`, async () => {
    const tags = Array.from({ length: TAG_COUNT }, (_, i) => `v${String(i).padStart(3, "0")}`);
    const lists = {};
    for (const b of [backends.distribution, backends.builtin]) {
      const tok = await token(b, [`repository:${TAGGED}:pull,push`, `repository:${REPO}:pull`]);
      await call(b, "POST", `/v2/${TAGGED}/blobs/uploads/?mount=${configBlob.digest}&from=${REPO}`, { tok });
      for (const blob of [smallLayer, bigLayer]) await call(b, "POST", `/v2/${TAGGED}/blobs/uploads/?mount=${blob.digest}&from=${REPO}`, { tok });
      for (const tag of tags) {
        const r = await call(b, "PUT", `/v2/${TAGGED}/manifests/${tag}`, { tok, headers: { "Content-Type": image.mediaType }, body: image.manifest });
        assert.equal(r.status, 201);
      }
      const pages = [];
      let next = `/v2/${TAGGED}/tags/list`;
      while (next) {
        const page = await call(b, "GET", next, { tok });
        assert.equal(page.status, 200);
        pages.push(page);
        next = /^<([^>]+)>; rel="next"$/.exec(page.raw.headers.get("link") ?? "")?.[1] ?? null;
      }
      const small = await call(b, "GET", `/v2/${TAGGED}/tags/list?n=10`, { tok });
      lists[b.name] = { pages, small };
    }
    const d = lists.distribution;
    assert.equal(d.pages.length, 1);
    assert.equal(d.pages[0].headers.link, undefined);
    assert.deepEqual([...d.pages[0].body.tags].sort(), tags);
    assert.equal(d.small.body.tags.length, TAG_COUNT, "distribution 2.8.2 ignores n");
    const bi = lists.builtin;
    assert.deepEqual(bi.pages.map((p) => p.body.tags.length), [TAGS_PAGE, TAG_COUNT - TAGS_PAGE]);
    assert.equal(bi.pages[0].headers.link, `</v2/${TAGGED}/tags/list?last=${tags[TAGS_PAGE - 1]}&n=${TAGS_PAGE}>; rel="next"`);
    assert.deepEqual(bi.pages.flatMap((p) => p.body.tags), tags, "sorted, every tag once");
    assert.deepEqual(bi.small.body.tags, tags.slice(0, 10));
    assert.equal(bi.small.headers.link, `</v2/${TAGGED}/tags/list?last=v009&n=10>; rel="next"`);
    for (const r of [d.pages[0], bi.pages[0]]) assert.equal(r.headers["content-type"], "application/json; charset=utf-8");
  });

  test("tags/list of an unknown repository → 404 NAME_UNKNOWN; delete: by tag → 400, by digest → 202 and its tags go, again → 404; blob delete → 202 then 404; a pushed image pulls back byte for byte", async () => {
    const rec = await same(async (b) => {
      const tok = await token(b, [`repository:${REPO}:pull,push,delete`, "repository:conf/none:pull"]);
      const accept = { Accept: `${MEDIA_TYPES.ociIndex}, ${MEDIA_TYPES.ociManifest}` };
      const pulled = await call(b, "GET", `/v2/${REPO}/manifests/1.0`, { tok, headers: accept });
      const blobs = [];
      for (const layer of JSON.parse(image.manifest).layers) blobs.push(await call(b, "GET", `/v2/${REPO}/blobs/${layer.digest}`, { tok }));
      return {
        unknown: await call(b, "GET", "/v2/conf/none/tags/list", { tok }),
        pulled,
        blobs,
        byTag: await call(b, "DELETE", `/v2/${REPO}/manifests/multi`, { tok }),
        index: await call(b, "DELETE", `/v2/${REPO}/manifests/${index.digest}`, { tok }),
        again: await call(b, "DELETE", `/v2/${REPO}/manifests/${index.digest}`, { tok }),
        gone: await call(b, "GET", `/v2/${REPO}/manifests/multi`, { tok, headers: accept }),
        image: await call(b, "DELETE", `/v2/${REPO}/manifests/${image.digest}`, { tok }),
        tags: await call(b, "GET", `/v2/${REPO}/tags/list`, { tok }),
        blob: await call(b, "DELETE", `/v2/${REPO}/blobs/${smallLayer.digest}`, { tok }),
        blobAgain: await call(b, "DELETE", `/v2/${REPO}/blobs/${smallLayer.digest}`, { tok }),
        blobGone: await call(b, "HEAD", `/v2/${REPO}/blobs/${smallLayer.digest}`, { tok }),
      };
    });
    assert.deepEqual(rec.unknown.body.errors, [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name: "conf/none" } }]);
    assert.deepEqual(rec.pulled.body, { digest: image.digest, length: image.manifest.length });
    assert.deepEqual(rec.blobs.map((r) => r.body), [smallLayer, bigLayer].map((l) => ({ digest: l.digest, length: l.data.length })));
    assert.equal(rec.byTag.status, 400);
    assert.equal(rec.byTag.body.errors[0].code, "DIGEST_INVALID");
    assert.equal(rec.index.status, 202);
    assert.equal(rec.again.status, 404);
    assert.deepEqual(rec.again.body.errors, [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }]);
    assert.equal(rec.gone.status, 404);
    assert.equal(rec.image.status, 202);
    assert.deepEqual(rec.tags.body, { name: REPO, tags: null }, "every tag went with its manifest");
    assert.equal(rec.blob.status, 202);
    assert.equal(rec.blobAgain.status, 404);
    assert.equal(rec.blobGone.status, 404);
  });
});

describe("CORS: the builtin answers a page as distribution's CORS front does", () => {
  let d;
  let bi;
  before(async () => {
    [d, bi] = await Promise.all([startDistribution({ seed: false, cors: true }), startBuiltin({ cors: true })]);
  });
  after(async () => {
    await Promise.all([d?.stop(), bi?.stop()]);
  });

  test("preflight → 204 listing Authorization; every answer (401s too) carries the page's origin and exposes WWW-Authenticate, Link, Docker-Content-Digest, Retry-After", async () => {
    const origin = "http://page.example";
    const seen = {};
    for (const [name, reg] of [["distribution", d], ["builtin", bi]]) {
      const pre = await fetch(`${reg.corsUrl}/v2/a/b/tags/list`, {
        method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
      });
      const ping = await fetch(`${reg.corsUrl}/v2/`, { headers: { Origin: origin } });
      await ping.arrayBuffer();
      seen[name] = {
        preflight: pre.status,
        allowHeaders: pre.headers.get("access-control-allow-headers"),
        allowMethods: pre.headers.get("access-control-allow-methods"),
        preflightOrigin: pre.headers.get("access-control-allow-origin"),
        ping: ping.status,
        origin: ping.headers.get("access-control-allow-origin"),
        expose: ping.headers.get("access-control-expose-headers"),
      };
    }
    assert.deepEqual(seen.builtin, seen.distribution);
    assert.equal(seen.builtin.preflight, 204);
    assert.equal(seen.builtin.allowHeaders, "authorization");
    assert.equal(seen.builtin.origin, origin);
    for (const h of ["WWW-Authenticate", "Link", "Docker-Content-Digest", "Retry-After"]) assert.match(seen.builtin.expose, new RegExp(`\\b${h}\\b`));
  });
});
