// Small numeric helpers for the bench: medians, spread, and units a reader can scan.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** (max − min) / median: how far apart the runs were, the bench's noise figure. */
export function spread(xs) {
  const m = median(xs);
  return m > 0 ? (Math.max(...xs) - Math.min(...xs)) / m : 0;
}

export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), spread: spread(xs), runs: xs.length };
}

/** Milliseconds in the unit that keeps 3 significant figures readable. */
export function fmtMs(ms) {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}

export function fmtPct(x) {
  return `±${Math.round((x * 100) / 2)}%`;
}

export function fmtBytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

export function fmtInt(n) {
  return Math.round(n).toLocaleString("en-US");
}

export function fmtRatio(x) {
  if (!Number.isFinite(x)) return "–";
  if (x > 0 && x < 0.5) return `1/${fmtRatio(1 / x)}`;
  if (x >= 100) return `${Math.round(x)}×`;
  if (x >= 10) return `${x.toFixed(0)}×`;
  return `${x.toFixed(2)}×`;
}

/** A Markdown table from a header row and body rows (all strings). */
export function table(head, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}
