#!/usr/bin/env bash
# Fuzzes the sans-IO core with cargo-fuzz (libFuzzer): `scripts/fuzz.sh [seconds] [target…]`.
#
#   seconds   how long EACH target runs (default 60); CI uses 15 → about a minute in all
#   target…   any of: reference challenge token flow (default: all four, one after another)
#
# Bootstraps what a fresh machine lacks (a nightly toolchain, cargo-fuzz from crates.io), builds
# once, then runs each target on its working corpus (fuzz/corpus/<target>, git-ignored) plus the
# committed seeds (fuzz/seeds/<target>) with its dictionary (fuzz/dict/<target>.dict). Prints the
# executions per target; exits non-zero if any target found a crash (saved in
# fuzz/artifacts/<target>/, replay with `cargo +nightly fuzz run <target> <file>`).
#
# FUZZ_STRICT=1 also checks invariants that reported-but-unfixed bugs still break
# (see fuzz/src/lib.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(reference challenge token flow)
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [seconds-per-target] [target…]" >&2; exit 2 ;; esac

say() { printf '\033[1m[fuzz]\033[0m %s\n' "$*"; }

if ! command -v rustup >/dev/null; then
  echo "rustup is required (https://rustup.rs)" >&2
  exit 1
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  say "installing the nightly toolchain (cargo-fuzz needs -Zsanitizer)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz from crates.io"
  # --locked first (reproducible); without it if the lock pins a version the registry lacks.
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

say "building the fuzz targets (optimised, with debug assertions and overflow checks)"
cargo +nightly fuzz build -O -a

status=0
summary=()
for t in "${targets[@]}"; do
  [ -d "fuzz/seeds/$t" ] || { echo "unknown target $t" >&2; exit 2; }
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  say "$t: ${seconds}s"
  set +e
  cargo +nightly fuzz run -O -a "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -dict="fuzz/dict/$t.dict" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^(thread .* panicked|SUMMARY|Done [0-9]+ runs)' -A1 "$log" | grep -v '^--$' || true
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1 || true)
  [ -n "$runs" ] || runs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$t: CRASH after ${runs:-?} executions (exit $rc) — see $log and fuzz/artifacts/$t/")
  else
    summary+=("$t: ${runs:-?} executions in ${seconds}s, no crash; corpus $corpus inputs")
  fi
done

say "summary"
printf '  %s\n' "${summary[@]}"
exit $status
