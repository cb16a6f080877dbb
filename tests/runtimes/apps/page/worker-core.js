// The Web Worker side: one getToken per message, answered with a structured-clone-able result.
export function serve(getToken) {
  self.onmessage = async ({ data }) => {
    const window = typeof globalThis.window; // "undefined" in a worker
    try {
      self.postMessage({ ok: true, value: await getToken(data.ref, data.options), window });
    } catch (err) {
      self.postMessage({ ok: false, name: err?.name, code: err?.code, status: err?.status, message: err?.message ?? String(err), window });
    }
  };
}
