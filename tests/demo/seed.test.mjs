// The local registry of `npm start` on both back ends (tests/fixtures/local-registry.mjs): the seed
// (tests/fixtures/seed.mjs), pushed through the packed package's RegistryClient#fetch, gives the
// content it promises, read back through the package as the page reads it — over the URL the page
// uses (distribution: its CORS front; builtin: itself): the catalog without credentials, 1,500 tags
// (one page on distribution, 15 on the builtin), the multi-arch index's three platforms and its
// attestations, config created dates, labels and history, layer sizes, the private repository for
// the test users only, 429 with Retry-After beyond the 3rd manifest or tag request on the
// rate-limited repository, and deleting one of demo/many's tags deletes only it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TAGS_PAGE } from "../fixtures/builtin-registry.mjs";
import { startLocalRegistry } from "../fixtures/local-registry.mjs";
import {
  MANY_TAG_COUNT, manyTags, MULTIARCH_PLATFORMS, PRIVATE_REPOSITORIES, RATE_LIMIT, REPOSITORIES, seedContent, seedDescription,
} from "../fixtures/seed.mjs";
import { TEST_USERS } from "../fixtures/token-server.mjs";
import { rejectsWith } from "../js/support/expect.mjs";
import { importPackage } from "../js/support/package.mjs";

const platformText = (p) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");
const secrets = [TEST_USERS.tester.password, TEST_USERS.reader.password];

for (const backend of ["builtin", "distribution"]) {
  describe(`the seed on ${backend}`, () => {
    let reg;
    let pkg;
    let host; // what the page uses: with CORS (and, on distribution, the rate limit)
    let anonymous;
    const ref = (repo, tag = "") => `${host}/${repo}${tag}`;
    const userClient = (user) => new pkg.RegistryClient({ credentials: { [host]: { ...user } } });

    before(async () => {
      pkg = await importPackage();
      reg = await startLocalRegistry({ backend, pkg });
      host = reg.corsHost;
      anonymous = new pkg.RegistryClient();
    });
    after(async () => {
      anonymous?.free();
      await reg?.stop();
    });

    test("pushed through the package: every manifest and blob, in seconds", (t) => {
      t.diagnostic(`${backend}: seeded in ${reg.seeded.ms} ms, ${reg.seeded.requests} requests`);
      assert.equal(reg.backend, backend);
      const content = seedContent();
      const manifests = Object.values(content).reduce((n, r) => n + r.children.length + Object.keys(r.tags).length, 0);
      assert.equal(reg.seeded.manifests, manifests);
      assert.ok(reg.seeded.blobs > 100, `${reg.seeded.blobs} blobs`);
    });

    test("the catalog without credentials lists every seeded repository; the description says the same", async () => {
      const repos = await anonymous.catalog(host);
      assert.deepEqual(repos, Object.values(REPOSITORIES).sort());
      const described = seedDescription();
      assert.deepEqual(described.repositories.map((r) => r.name).sort(), repos);
      assert.equal(described.rateLimited.repository, RATE_LIMIT.repository);
      assert.deepEqual(described.repositories.filter((r) => r.private).map((r) => r.name), [...PRIVATE_REPOSITORIES]);
    });

    test(`${REPOSITORIES.many}: ${MANY_TAG_COUNT} tags, anonymous, ${backend === "builtin" ? `${TAGS_PAGE} a page` : "in one page (distribution ignores n)"}`, async () => {
      const pages = [];
      for await (const page of anonymous.tagPages(ref(REPOSITORIES.many))) pages.push(page);
      const tags = pages.flat();
      assert.equal(tags.length, MANY_TAG_COUNT);
      assert.deepEqual([...tags].sort(), [...manyTags()].sort());
      assert.equal(pages.length, backend === "builtin" ? MANY_TAG_COUNT / TAGS_PAGE : 1);
      const described = seedDescription().repositories.find((r) => r.name === REPOSITORIES.many);
      assert.equal(described.tagCount, MANY_TAG_COUNT);
      assert.equal(described.firstTag, [...tags].sort()[0]);
    });

    test(`${REPOSITORIES.multiarch}: an OCI index, platforms ${MULTIARCH_PLATFORMS.join(", ")}, attestations hidden from platforms but in the index`, async () => {
      const m = await anonymous.getManifest(ref(REPOSITORIES.multiarch, ":1.0"));
      assert.equal(m.mediaType, "application/vnd.oci.image.index.v1+json");
      assert.deepEqual(m.platforms.map(platformText), [...MULTIARCH_PLATFORMS]);
      const attestations = m.manifest.manifests.filter((e) => e.annotations?.["vnd.docker.reference.type"] === "attestation-manifest");
      assert.equal(attestations.length, MULTIARCH_PLATFORMS.length);
      assert.ok(attestations.every((e) => e.platform.os === "unknown"));
      const arm = await anonymous.getImageConfig(ref(REPOSITORIES.multiarch, ":latest"), { platform: "linux/arm/v7" });
      assert.equal(arm.config.architecture, "arm");
      assert.equal(arm.config.variant, "v7");
    });

    test("OCI and Docker v2 images: config created dates, labels, history; layers of different sizes", async () => {
      const oci = await anonymous.getManifest(ref(REPOSITORIES.oci, ":1.0"));
      assert.equal(oci.mediaType, "application/vnd.oci.image.manifest.v1+json");
      const sizes = oci.manifest.layers.map((l) => l.size);
      assert.equal(new Set(sizes).size, sizes.length, `distinct layer sizes ${sizes}`);
      const ociConfig = await anonymous.getImageConfig(ref(REPOSITORIES.oci, ":1.0"));
      assert.equal(ociConfig.config.created, "2024-06-02T08:30:00Z");
      assert.equal(ociConfig.config.config.Labels["org.opencontainers.image.version"], "1.0");
      assert.equal(ociConfig.config.history.length, 4);
      const docker = await anonymous.getManifest(ref(REPOSITORIES.docker, ":2.0"));
      assert.equal(docker.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
      assert.ok(docker.manifest.layers.some((l) => l.size > 50_000));
      const dockerConfig = await anonymous.getImageConfig(ref(REPOSITORIES.docker, ":2.0"));
      assert.equal(dockerConfig.config.created, "2023-11-20T16:45:12Z");
      assert.equal(dockerConfig.config.config.Labels.maintainer, "registry-token demo");
      const many = await anonymous.getImageConfig(ref(REPOSITORIES.many, ":5.19.14"));
      assert.ok(Date.parse(many.config.created) > Date.parse("2022-01-01T00:00:00Z"), "demo/many's newest tags are the newest images");
      const alpine = await anonymous.listTags(ref(REPOSITORIES.alpine));
      assert.deepEqual([...alpine].sort(), ["3.19", "latest"]);
    });

    test(`${REPOSITORIES.secret} is private: anonymous → UNAUTHORIZED; reader and tester list it`, async () => {
      await rejectsWith(anonymous.listTags(ref(REPOSITORIES.secret)), "UNAUTHORIZED", { secrets });
      for (const user of [TEST_USERS.reader, TEST_USERS.tester]) {
        const client = userClient(user);
        assert.deepEqual([...(await client.listTags(ref(REPOSITORIES.secret)))].sort(), ["1.0", "1.1"]);
        client.free();
      }
    });

    test(`${RATE_LIMIT.repository}: ${RATE_LIMIT.limit} manifest or tag requests within ${RATE_LIMIT.windowSeconds} s pass, from anyone; the next → 429 with Retry-After (RATE_LIMITED in the package)`, async () => {
      reg.rateLimit.reset();
      const client = new pkg.RegistryClient();
      assert.deepEqual([...(await client.listTags(ref(RATE_LIMIT.repository)))].sort(), ["1.0", "2.0"]);
      await client.headManifest(ref(RATE_LIMIT.repository, ":1.0"));
      await client.getManifest(ref(RATE_LIMIT.repository, ":2.0"));
      const err = await rejectsWith(client.getManifest(ref(RATE_LIMIT.repository, ":1.0")), "RATE_LIMITED", { status: 429 });
      assert.match(String(err.retryAfter), /^\d+$/);
      // Anyone: a raw request with another user's token is limited too, with distribution's error body.
      const reader = userClient(TEST_USERS.reader);
      const res = await reader.fetch(ref(RATE_LIMIT.repository), "tags/list");
      assert.equal(res.status, 429);
      const retryAfter = Number(res.headers.get("retry-after"));
      assert.ok(retryAfter >= 1 && retryAfter <= RATE_LIMIT.windowSeconds, `Retry-After ${retryAfter}`);
      assert.equal((await res.json()).errors[0].code, "TOOMANYREQUESTS");
      reader.free();
      // Other repositories are not limited.
      await client.getManifest(ref(REPOSITORIES.alpine, ":3.19"));
      client.free();
      reg.rateLimit.reset();
    });

    test(`deleting one of ${REPOSITORIES.many}'s tags (tester) deletes only it`, async () => {
      const tester = userClient(TEST_USERS.tester);
      await tester.deleteManifest(ref(REPOSITORIES.many, ":3.7.2"));
      const tags = await anonymous.listTags(ref(REPOSITORIES.many));
      assert.equal(tags.length, MANY_TAG_COUNT - 1);
      assert.ok(!tags.includes("3.7.2"));
      assert.ok(tags.includes("3.7.1") && tags.includes("3.7.3"));
      tester.free();
    });
  });
}
