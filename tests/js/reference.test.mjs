// Issue 2, flow step 1: parseReference with the distribution/reference grammar, docker.io
// normalisation, loopback → http, upper-case rejection and the 255-character name limit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { throwsWith } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { parseReference } = await importPackage();

const DIGEST = "sha256:e4f5b7c8d9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6";
const KEYS = ["domain", "path", "name", "tag", "digest", "familiar", "registryUrl"];
const pick = (ref) => Object.fromEntries(KEYS.map((k) => [k, ref[k]]));

const hub = (path, tag, digest, familiar) => ({
  domain: "docker.io",
  path,
  name: `docker.io/${path}`,
  tag,
  digest,
  familiar,
  registryUrl: "https://registry-1.docker.io",
});
const at = (registryUrl, domain, path, tag, digest, familiar) => ({
  domain,
  path,
  name: `${domain}/${path}`,
  tag,
  digest,
  familiar,
  registryUrl,
});

describe("parseReference: normalisation table", () => {
  const table = [
    // docker.io normalisation: library/ for official images, registry-1.docker.io as the URL.
    ["nginx", hub("library/nginx", null, null, "nginx")],
    ["nginx:1.25", hub("library/nginx", "1.25", null, "nginx:1.25")],
    ["library/nginx:1.25", hub("library/nginx", "1.25", null, "nginx:1.25")],
    ["docker.io/nginx:1.25", hub("library/nginx", "1.25", null, "nginx:1.25")],
    ["docker.io/library/nginx:1.25", hub("library/nginx", "1.25", null, "nginx:1.25")],
    ["index.docker.io/library/nginx:1.25", hub("library/nginx", "1.25", null, "nginx:1.25")],
    ["index.docker.io/nginx", hub("library/nginx", null, null, "nginx")],
    // Only the repository must be lower case; tags may use upper case.
    ["nginx:Latest", hub("library/nginx", "Latest", null, "nginx:Latest")],
    ["bitnami/redis:7.2", hub("bitnami/redis", "7.2", null, "bitnami/redis:7.2")],
    ["docker.io/bitnami/redis", hub("bitnami/redis", null, null, "bitnami/redis")],
    [`nginx@${DIGEST}`, hub("library/nginx", null, DIGEST, `nginx@${DIGEST}`)],
    [`nginx:1.25@${DIGEST}`, hub("library/nginx", "1.25", DIGEST, `nginx:1.25@${DIGEST}`)],
    // Other registries keep their domain and use https…
    ["ghcr.io/owner/image:tag", at("https://ghcr.io", "ghcr.io", "owner/image", "tag", null, "ghcr.io/owner/image:tag")],
    ["quay.io/a/b/c/d", at("https://quay.io", "quay.io", "a/b/c/d", null, null, "quay.io/a/b/c/d")],
    [
      `registry.example.com:5000/team/app@${DIGEST}`,
      at("https://registry.example.com:5000", "registry.example.com:5000", "team/app", null, DIGEST, `registry.example.com:5000/team/app@${DIGEST}`),
    ],
    ["myhost:5000/app", at("https://myhost:5000", "myhost:5000", "app", null, null, "myhost:5000/app")],
    ["10.0.0.1:5000/x", at("https://10.0.0.1:5000", "10.0.0.1:5000", "x", null, null, "10.0.0.1:5000/x")],
    // …a host name that merely starts with 127. is not loopback.
    ["127.0.0.1.nip.io/x", at("https://127.0.0.1.nip.io", "127.0.0.1.nip.io", "x", null, null, "127.0.0.1.nip.io/x")],
    ["[2001:db8::1]:5000/x", at("https://[2001:db8::1]:5000", "[2001:db8::1]:5000", "x", null, null, "[2001:db8::1]:5000/x")],
    // …except loopback: localhost, 127.0.0.0/8 and [::1] get http.
    ["localhost:5000/foo/bar:1", at("http://localhost:5000", "localhost:5000", "foo/bar", "1", null, "localhost:5000/foo/bar:1")],
    ["localhost/foo", at("http://localhost", "localhost", "foo", null, null, "localhost/foo")],
    ["127.0.0.1:5000/x:v1", at("http://127.0.0.1:5000", "127.0.0.1:5000", "x", "v1", null, "127.0.0.1:5000/x:v1")],
    ["127.200.3.4/x", at("http://127.200.3.4", "127.200.3.4", "x", null, null, "127.200.3.4/x")],
    ["[::1]:5000/x", at("http://[::1]:5000", "[::1]:5000", "x", null, null, "[::1]:5000/x")],
    ["[::1]/x", at("http://[::1]", "[::1]", "x", null, null, "[::1]/x")],
  ];
  for (const [input, expected] of table) {
    it(`${input}`, () => {
      assert.deepEqual(pick(parseReference(input)), expected);
    });
  }

  it("name separators: '.', '_', '__' and runs of '-' inside path components", () => {
    assert.equal(parseReference("example.com/a.b_c__d---e/f").path, "a.b_c__d---e/f");
  });

  it("tags up to 128 characters, starting with a word character", () => {
    const tag = `_${"a".repeat(127)}`;
    assert.equal(parseReference(`nginx:${tag}`).tag, tag);
  });

  it("upper case is fine in the domain (only the path must be lower case)", () => {
    const ref = parseReference("Example.COM/app");
    assert.equal(ref.path, "app");
    assert.equal(ref.domain.toLowerCase(), "example.com");
  });
});

describe("parseReference: the 255-character name limit", () => {
  // name = domain + "/" + path; tag and digest do not count.
  const domain = "example.com"; // 11 + 1 for "/"
  it("255 characters is accepted, tag not counted", () => {
    const path = "a".repeat(255 - domain.length - 1);
    assert.equal(parseReference(`${domain}/${path}`).name.length, 255);
    assert.equal(parseReference(`${domain}/${path}:latest`).tag, "latest");
  });
  it("256 characters → INVALID_REFERENCE", () => {
    const path = "a".repeat(256 - domain.length - 1);
    throwsWith(() => parseReference(`${domain}/${path}`), "INVALID_REFERENCE");
  });
});

describe("parseReference: INVALID_REFERENCE", () => {
  const invalid = [
    ["", "empty"],
    ["Nginx", "upper case in the path"],
    ["docker.io/Library/nginx", "upper case in a path component"],
    ["ghcr.io/Owner/app:tag", "upper case after a domain"],
    ["nginx:", "empty tag"],
    [":1.25", "no name"],
    ["nginx@sha256:abc", "short digest"],
    [`nginx@${DIGEST.slice(0, -1)}`, "sha256 digest of 63 hex digits"],
    ["nginx@", "empty digest"],
    [`nginx:${"a".repeat(129)}`, "tag over 128 characters"],
    ["nginx:-tag", "tag starting with '-'"],
    ["a//b", "empty path component"],
    ["nginx/", "trailing slash"],
    ["/nginx", "leading slash"],
    ["-nginx", "component starting with '-'"],
    ["nginx..x", "double dot in a component"],
    ["ngi nx", "space"],
    ["http://nginx", "a URL, not a reference"],
    [DIGEST.slice("sha256:".length), "a bare 64-hex identifier (distribution refuses it as a name)"],
    ["localhost:port/x", "non-numeric port"],
    ["[::1/x", "unterminated IPv6 literal"],
  ];
  for (const [input, why] of invalid) {
    it(`${JSON.stringify(input)} (${why})`, () => {
      const err = throwsWith(() => parseReference(input), "INVALID_REFERENCE");
      assert.ok(err.message.length > 0, "a message for humans");
    });
  }
});
