#!/usr/bin/env bash
# Fuzz every feed parser and loader for a bounded time each, seeded with the real files.
#
#   fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]    (default 60 s, every target)
#
# cargo-fuzz needs nightly compiler flags; the toolchain here is stable, so the script sets
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept them. Crashes, timeouts and
# out-of-memory inputs land in fuzz/artifacts/TARGET/; copy each into
# tests/fuzz_regressions/TARGET/ once fixed, so the test suite (tests/fuzz_regressions.rs)
# keeps checking it. See fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]" >&2; exit 2 ;;
esac
all_targets="herald_json parliament_csv hoc_csv pa_xml config"
shift $(( $# > 0 ? 1 : 0 ))
targets="${*:-$all_targets}"
for target in $targets; do
  case " $all_targets " in
    *" $target "*) ;;
    *) echo "unknown target $target (expected one of: $all_targets)" >&2; exit 2 ;;
  esac
done
shared="${HERALD_SHARED_DATA:-$(cd .. && pwd)/../shared/data}"
export RUSTC_BOOTSTRAP=1
# The fuzz build (instrumented, with AddressSanitizer) always goes to fuzz/target, never to
# a target dir set for the main build.
unset CARGO_TARGET_DIR

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# fuzz/ is its own workspace with its own (ignored) lock file: start it from the main one,
# so that the fuzzed dependencies are the versions herald ships with.
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock
[ -d "$shared" ] || echo "warning: no seed data at $shared (set HERALD_SHARED_DATA)" >&2

seed() { # target, files...
  local target="$1"; shift
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    # Seeds are capped in size: libFuzzer mutates small inputs far faster. A longer file is
    # cut after its last whole line in the cap: a CSV record cut in half would make every
    # capped seed fail on its last row, before any of it reached a loader.
    if [ "$(wc -c < "$f")" -gt 65536 ]; then
      head -c 65536 "$f" | sed '$d' > "corpus/$target/$(basename "$f")"
    else
      cp "$f" "corpus/$target/$(basename "$f")"
    fi
  done
}
seed herald_json ../config/demo/*.json
seed parliament_csv "$shared"/candidate-level-results-general-election-*.csv
seed hoc_csv "$shared"/HoC-GE2019-results-by-candidate.csv "$shared"/GE2017-candidate.csv
seed pa_xml "$shared"/feeds/pa/*/*.xml
seed config ../config/herald.toml ../config/parties.toml
# The saved regressions and hand-written edge cases seed their targets too.
for target in $all_targets; do
  seed "$target" ../tests/fuzz_regressions/"$target"/*
done
# Joined seeds for the HoC pair (candidates NUL constituencies): the first 20 seats of a
# constituency file with their candidates, so that the two halves match.
pair() { # name, candidate file, constituency file
  [ -f "$2" ] && [ -f "$3" ] || return 0
  {
    awk -F, 'NR == FNR { if (FNR > 1 && FNR <= 21) want[$1] = 1; next } FNR == 1 || ($1 in want)' "$3" "$2"
    printf '\0'
    head -n 21 "$3"
  } > "corpus/hoc_csv/$1"
}
pair pair-ge2019 "$shared/HoC-GE2019-results-by-candidate.csv" "$shared/HoC-GE2019-results-by-constituency.csv"
pair pair-ge2017-old-schema "$shared/GE2017-candidate.csv" "$shared/GE2017-constituency.csv"

status=0
for target in $targets; do
  echo "== $target ($seconds s)"
  # One job, one worker (the defaults). -timeout: an input taking longer than 10 s is a hang
  # (libFuzzer's default, 20 minutes, would never fire in a bounded run).
  if ! cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" \
    -max_len=262144 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1; then
    echo "!! $target failed (crash, timeout or out-of-memory): see fuzz/artifacts/$target/"
    status=1
  fi
done
exit $status
