// Writes the outcome of a promise into an element, in the form the tests read back
// (tests/js/support/browser.mjs `waitForResult`): data-state "ok" | "error", the text, and for
// errors data-code / data-name / data-status / data-is-error.
export function show(selector, outcome) {
  const el = document.querySelector(selector);
  return outcome.then(
    (value) => {
      el.textContent = value;
      el.dataset.state = "ok";
    },
    (err) => {
      el.textContent = `${err?.code ?? err?.name ?? "Error"}: ${err?.message ?? err}`;
      el.dataset.code = err?.code ?? "";
      el.dataset.name = err?.name ?? "";
      if (err?.status !== undefined) el.dataset.status = String(err.status);
      el.dataset.isError = String(err instanceof Error);
      el.dataset.state = "error";
    },
  );
}

/** The same outcome, as a structured-clone-able message from a Web Worker. */
export function fromWorker(data) {
  if (data.ok) return Promise.resolve(data.value);
  const err = new Error(data.message);
  Object.assign(err, { name: data.name, code: data.code, status: data.status });
  return Promise.reject(err);
}
