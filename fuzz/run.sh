#!/usr/bin/env bash
# Fuzz every feed parser and loader for a bounded time each, seeded with the real files.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#
# cargo-fuzz needs nightly compiler flags; the toolchain here is stable, so the script sets
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept them. Crashes land in
# fuzz/artifacts/TARGET/; copy each into tests/fuzz_regressions/TARGET/ once fixed, so the
# test suite (tests/fuzz_regressions.rs) keeps checking it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shared="${HERALD_SHARED_DATA:-$(cd .. && pwd)/../shared/data}"
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

seed() { # target, files...
  local target="$1"; shift
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    # Seeds are capped in size: libFuzzer mutates small inputs far faster.
    head -c 65536 "$f" > "corpus/$target/$(basename "$f")"
  done
}
seed herald_json ../config/demo/*.json
seed parliament_csv "$shared"/candidate-level-results-general-election-*.csv
seed hoc_csv "$shared"/HoC-GE2019-results-by-candidate.csv "$shared"/GE2017-candidate.csv
seed pa_xml "$shared"/feeds/pa/*/*.xml
seed config ../config/herald.toml ../config/parties.toml
# One joined seed for the HoC pair (candidates NUL constituencies).
if [ -f "$shared/HoC-GE2019-results-by-candidate.csv" ]; then
  { head -c 20000 "$shared/HoC-GE2019-results-by-candidate.csv"; printf '\0'; head -c 20000 "$shared/HoC-GE2019-results-by-constituency.csv"; } > corpus/hoc_csv/pair
fi

status=0
for target in herald_json parliament_csv hoc_csv pa_xml config; do
  echo "== $target ($seconds s)"
  if ! cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096; then
    echo "!! $target found a crash: see fuzz/artifacts/$target/"
    status=1
  fi
done
exit $status
