// A registry on 127.0.0.1 whose behaviour a test swaps at will, down to raw bytes on the socket:
// bodies that never end, headers that never end, a connection closed mid-body, non-UTF-8 bytes.
// (The contract emulator in tests/js/support/emulator.mjs speaks well-formed HTTP only.)
//
//   const h = await startHostile();
//   h.token = (req, res, ctx) => { … };   // the token endpoint (default: a good JSON token)
//   h.ping = (req, res, ctx) => { … };    // GET /v2/ (default: 401 Bearer realm=<h.url>/token)
//   h.resource = (req, res, ctx) => { … };// every other path: tags, catalog, manifests, blobs
//                                        // (default: distribution's 404 body)
//   h.log                                // [{ method, path, url, authorization, body }]
//   h.resources()                        // the log without /v2/ and /token requests
//   await h.close()                      // ends every socket and timer it started
import { createServer } from "node:http";

export const TOKEN_PATH = "/token";

/** Ping handler: a 401 with this WWW-Authenticate value (string or array of lines). */
export function challenge(value) {
  return (_req, res) => {
    res.writeHead(401, { "Content-Type": "application/json", "WWW-Authenticate": value });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  };
}

/** Token handler: a JSON body (object or raw string/Buffer) with a status. */
export function json(body, status = 200, headers = {}) {
  return (_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  };
}

export async function startHostile() {
  const sockets = new Set();
  const timers = new Set();
  const log = [];
  let serial = 0;
  let closed = false;

  const h = {
    log,
    url: "",
    host: "",
    ping: null,
    token: null,
    resource: null,
    /** Bytes written by the last streaming handler, and whether its client went away. */
    stream: { written: 0, clientGone: false },
    /** A timer that ends when the server closes. */
    every(ms, fn) {
      const t = setInterval(fn, ms);
      timers.add(t);
      return t;
    },
    stop(t) {
      clearInterval(t);
      timers.delete(t);
    },
    /** Resets behaviour to a good registry and empties the log. */
    good() {
      h.ping = challenge(`Bearer realm="${h.url}${TOKEN_PATH}",service="hostile"`);
      h.token = (_req, res) => json({ token: `good-token-${++serial}`, expires_in: 300 })(_req, res);
      h.resource = notFound;
      log.length = 0;
      return h;
    },
    /** Requests to anything but the ping and the token endpoint. */
    resources() {
      return log.filter((e) => e.path !== "/v2/" && e.path !== TOKEN_PATH);
    },
    /**
     * Writes `chunk` until `limit` bytes (Infinity: forever) or until the client goes away,
     * honouring back-pressure, so the server never buffers what the client does not read.
     */
    async pump(res, chunk, limit = Infinity) {
      h.stream = { written: 0, clientGone: false };
      const s = h.stream;
      res.on("close", () => {
        s.clientGone = true;
      });
      while (!closed && !s.clientGone && s.written < limit && !res.destroyed) {
        s.written += chunk.length;
        if (!res.write(chunk)) {
          await new Promise((resolve) => {
            const done = () => {
              res.off("drain", done);
              res.off("close", done);
              resolve();
            };
            res.on("drain", done);
            res.on("close", done);
          });
        }
      }
      if (!res.destroyed && !closed) res.end();
    },
    async close() {
      closed = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = new URL(req.url, "http://x").pathname;
      log.push({ method: req.method, path, url: req.url, authorization: req.headers.authorization ?? null, body });
      res.on("error", () => {});
      const handler = path === "/v2/" ? h.ping : path === TOKEN_PATH ? h.token : h.resource ?? notFound;
      Promise.resolve(handler(req, res, h)).catch(() => req.socket.destroy());
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  server.on("clientError", (_e, s) => s.destroy());
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  h.url = `http://127.0.0.1:${port}`;
  h.host = `127.0.0.1:${port}`;
  return h.good();
}

/** What a path no handler claims gets: distribution's 404. */
function notFound(_req, res) {
  res.writeHead(404, { "Content-Type": "application/json" });
  res.end('{"errors":[{"code":"NOT_FOUND","message":"404 page not found"}]}');
}

/** Raw bytes straight onto the socket, bypassing the HTTP serializer. */
export function raw(req, bytes) {
  req.socket.write(bytes);
}

/**
 * A complete raw response, then the connection is closed: Node's server still counts the request
 * as unanswered, so a keep-alive client must not send the next one on this socket.
 */
export function rawResponse(req, bytes) {
  req.socket.end(bytes);
}
