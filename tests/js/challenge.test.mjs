// Issue 2, flow step 2: parseChallenges (RFC 7235 §2.1, §4.1): quoted strings with commas,
// `\"` escapes, any case for scheme and keys, optional whitespace, empty values, several
// challenges in one header value. Real headers from registry-facts.md first, then broken ones.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { throwsWith } from "./support/expect.mjs";
import { importPackage } from "./support/package.mjs";

const { parseChallenges } = await importPackage();

/** Plain copies, so a null-prototype params object still compares equal. */
const plain = (challenges) => challenges.map((c) => ({ scheme: c.scheme, params: { ...c.params } }));
const parse = (header) => plain(parseChallenges(header));

describe("parseChallenges: real registry headers", () => {
  const table = [
    [
      "Docker Hub /v2/ (no scope)",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
      [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" } }],
    ],
    [
      "Docker Hub repository, with error (RFC 6750 §3)",
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:samalba/my-app:pull,push",
            error: "insufficient_scope",
          },
        },
      ],
    ],
    [
      "ACR: a comma inside a quoted scope",
      'Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io",scope="repository:samples/hello-world:pull,push"',
      [
        {
          scheme: "bearer",
          params: { realm: "https://r.azurecr.io/oauth2/token", service: "r.azurecr.io", scope: "repository:samples/hello-world:pull,push" },
        },
      ],
    ],
    [
      "legacy GCR: service before realm",
      'Bearer service="gcr.io",realm="https://auth.gcr.io/v36/tokenz"',
      [{ scheme: "bearer", params: { service: "gcr.io", realm: "https://auth.gcr.io/v36/tokenz" } }],
    ],
    [
      "Artifact Registry: no service",
      'Bearer realm="https://us-docker.pkg.dev/v2/token"',
      [{ scheme: "bearer", params: { realm: "https://us-docker.pkg.dev/v2/token" } }],
    ],
    [
      "Gitea/Codeberg: Bearer and Basic in one line, scope=\"*\"",
      'Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*",Basic realm="https://codeberg.org/v2",service="container_registry",scope="*"',
      [
        { scheme: "bearer", params: { realm: "https://codeberg.org/v2/token", service: "container_registry", scope: "*" } },
        { scheme: "basic", params: { realm: "https://codeberg.org/v2", service: "container_registry", scope: "*" } },
      ],
    ],
    [
      "Nexus: upper-case BASIC",
      'BASIC realm="Sonatype Nexus Repository Manager"',
      [{ scheme: "basic", params: { realm: "Sonatype Nexus Repository Manager" } }],
    ],
    [
      "ECR: Basic with extra params",
      'Basic realm="https://012345678910.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [{ scheme: "basic", params: { realm: "https://012345678910.dkr.ecr.us-east-1.amazonaws.com/", service: "ecr.amazonaws.com" } }],
    ],
    ["Harbor catalog: Basic", 'Basic realm="harbor"', [{ scheme: "basic", params: { realm: "harbor" } }]],
    [
      "relative realm",
      'Bearer realm="/token",service="relative.example"',
      [{ scheme: "bearer", params: { realm: "/token", service: "relative.example" } }],
    ],
  ];
  for (const [why, header, expected] of table) {
    it(why, () => assert.deepEqual(parse(header), expected));
  }
});

describe("parseChallenges: RFC 7235 syntax", () => {
  it('`\\"` and `\\\\` escapes inside quoted strings', () => {
    assert.deepEqual(parse(String.raw`Bearer realm="https://a/token",service="say \"hi\", \\o/"`), [
      { scheme: "bearer", params: { realm: "https://a/token", service: 'say "hi", \\o/' } },
    ]);
  });

  it("any case: scheme and keys come out lower-case, values keep their case", () => {
    assert.deepEqual(parse('BeArEr REALM="https://A/Token",Service="Registry.Example"'), [
      { scheme: "bearer", params: { realm: "https://A/Token", service: "Registry.Example" } },
    ]);
  });

  it("optional whitespace around '=' and ','", () => {
    assert.deepEqual(parse('Bearer  realm = "https://a/token" ,  service="s" , scope="x"'), [
      { scheme: "bearer", params: { realm: "https://a/token", service: "s", scope: "x" } },
    ]);
  });

  it("empty quoted values are kept as empty strings", () => {
    assert.deepEqual(parse('Bearer realm="https://a/token",service="",scope=""'), [
      { scheme: "bearer", params: { realm: "https://a/token", service: "", scope: "" } },
    ]);
  });

  it("unquoted token values", () => {
    assert.deepEqual(parse('Bearer realm="https://a/token",service=registry.example,error=invalid_token'), [
      { scheme: "bearer", params: { realm: "https://a/token", service: "registry.example", error: "invalid_token" } },
    ]);
  });

  it("several challenges in one value, a comma and spaces between them", () => {
    assert.deepEqual(parse('Basic realm="r1", Bearer realm="https://a/token",service="s", Basic realm="r2"'), [
      { scheme: "basic", params: { realm: "r1" } },
      { scheme: "bearer", params: { realm: "https://a/token", service: "s" } },
      { scheme: "basic", params: { realm: "r2" } },
    ]);
  });

  it("a scheme without parameters", () => {
    assert.deepEqual(parse("Negotiate"), [{ scheme: "negotiate", params: {} }]);
    assert.deepEqual(parse('Negotiate, Basic realm="x"'), [
      { scheme: "negotiate", params: {} },
      { scheme: "basic", params: { realm: "x" } },
    ]);
  });

  it("RFC 6750 error and error_description come through", () => {
    assert.deepEqual(parse('Bearer realm="https://a/token",error="invalid_token",error_description="The access token expired"'), [
      { scheme: "bearer", params: { realm: "https://a/token", error: "invalid_token", error_description: "The access token expired" } },
    ]);
  });
});

describe("parseChallenges: INVALID_CHALLENGE", () => {
  const invalid = [
    ['Bearer realm="https://a/token', "unterminated quoted string"],
    ['Bearer realm="https://a/token",service="s', "unterminated second value"],
    ['=realm="x"', "no scheme"],
    ['Bearer realm="a"junk', "text glued to a quoted string"],
    ['"Bearer" realm="a"', "quoted scheme"],
  ];
  for (const [header, why] of invalid) {
    it(`${header} (${why})`, () => {
      const err = throwsWith(() => parseChallenges(header), "INVALID_CHALLENGE");
      assert.ok(err.message.length > 0);
    });
  }
});
