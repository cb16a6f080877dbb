// `npm start` (after bootstrap and build): the demo dashboard and an embedded local registry on
// 127.0.0.1. See scripts/demo.mjs for what is served; Ctrl-C stops everything it started.
import { parseArgs } from "node:util";
import { backendLine, chooseBackend } from "../tests/fixtures/local-registry.mjs";
import { MANY_TAG_COUNT, RATE_LIMIT, REPOSITORIES } from "../tests/fixtures/seed.mjs";
import { startDemo } from "./demo.mjs";
import { log } from "./lib.mjs";

const HELP = `Usage: npm start [-- --port N] [--registry=builtin|distribution] [--no-proxy]
       node scripts/start.mjs [--port N] [--registry=builtin|distribution] [--no-proxy] [--help]

Serves the registry-token demo dashboard on http://127.0.0.1:PORT/ together with a local
registry with token auth and CORS, so the page works with no network. The registry is seeded
through the package itself: ${REPOSITORIES.multiarch} (linux/amd64, linux/arm64/v8, linux/arm/v7 and
attestations), ${REPOSITORIES.oci}, ${REPOSITORIES.docker}, ${REPOSITORIES.many} (${MANY_TAG_COUNT} tags),
${REPOSITORIES.limited} (429 beyond ${RATE_LIMIT.limit} manifest or tag requests in ${RATE_LIMIT.windowSeconds} s),
${REPOSITORIES.alpine}, ${REPOSITORIES.app} and the private ${REPOSITORIES.secret} (test users only).

Options:
  -p, --port N         port on 127.0.0.1 (default: $PORT, else 8080; 0 picks a free one)
  --registry=NAME      distribution: Debian's docker-registry (distribution 2.8.2; REGISTRY_BIN,
                       /usr/bin/docker-registry or PATH), an error if it is not installed;
                       builtin: the built-in registry written in Node (no package needed).
                       Default: distribution when installed, else builtin. It prints which runs.
  --no-proxy           turn off the dev proxy route /proxy/<host>/… (on by default)
  -h, --help           show this help

The dev proxy forwards /proxy/<host>/<path> to https://<host>/<path> (plain http for localhost,
127.0.0.0/8 and [::1]) and rewrites the token realm and redirects to come back through it, so the
page can reach public registries, which send no CORS headers, with
  registryUrl: "http://127.0.0.1:PORT/proxy/registry-1.docker.io"
It needs network access for public registries and answers same-origin requests only.

Needs: Node and pkg/ built (npm start builds it); for --registry=distribution also the Debian
packages docker-registry and openssl. Ctrl-C stops the server, the registry and the token server.`;

let args;
try {
  args = parseArgs({
    options: {
      port: { type: "string", short: "p" },
      registry: { type: "string" },
      "no-proxy": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const portText = args.port ?? process.env.PORT ?? "8080";
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) {
  console.error(`not a port: ${JSON.stringify(portText)} (from ${args.port !== undefined ? "--port" : "PORT"})`);
  process.exit(2);
}

let backend;
try {
  backend = chooseBackend(args.registry ?? "auto");
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
log("starting the local registry and seeding it through the package …");
let demo;
try {
  demo = await startDemo({ port, proxy: !args["no-proxy"], registry: backend });
} catch (err) {
  console.error(`could not start the demo: ${err.message}`);
  process.exit(1);
}
const { registry } = demo;
log(backendLine(registry));
log(`token server ${registry.realm}; seeded in ${(registry.seeded.ms / 1000).toFixed(1)} s (${registry.seeded.manifests} manifests, ${registry.seeded.blobs} blobs)`);
if (!args["no-proxy"]) log(`dev proxy: ${demo.url}proxy/<host>/… (e.g. registryUrl "${demo.url}proxy/registry-1.docker.io")`);
log(`demo on ${demo.url}`);
log("Ctrl-C to stop");

let stopping = false;
const stop = async (signal) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await demo.stop();
  process.exit(0);
};
// Registered before the fixture's own exit hooks run (they kill the registry on any exit anyway).
process.prependListener("SIGINT", () => stop("SIGINT"));
process.prependListener("SIGTERM", () => stop("SIGTERM"));
