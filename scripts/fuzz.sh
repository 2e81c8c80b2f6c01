#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (ASan + UBSan) in build-fuzz/, runs
# each once over its saved crash inputs (fuzz/regressions/<fuzzer>/), then
# fuzzes each for SECONDS seconds (default 20) starting from its seed corpus
# (fuzz/corpus/<fuzzer>/). Exits non-zero if any fuzzer crashes, leaks,
# times out or runs out of memory; crash inputs are written to
# build-fuzz/fuzz-artifacts/<fuzzer>/ (copy one to fuzz/regressions/<fuzzer>/
# once it is fixed).
#
# Usage: ./scripts/fuzz.sh [--runs=N] [--jobs=J] [SECONDS] [FUZZER...]
#   SECONDS    fuzz each fuzzer for this long (default 20; with --runs, a time
#              cap, default none)
#   --runs=N   stop each fuzzer after N executions in all (libFuzzer -runs=N)
#   --jobs=J   fuzz each fuzzer with J processes that share its corpus
#              (libFuzzer -fork=J); N counts the executions of all of them
# Each fuzzer reports its executions and executions per second, e.g.
#   ./scripts/fuzz.sh --runs=10000000 --jobs=2     # a 10M-execution campaign
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

runs=""
jobs=1
while [ $# -gt 0 ]; do
  case "$1" in
  --runs=*) runs=${1#--runs=} ;;
  --jobs=*) jobs=${1#--jobs=} ;;
  -h | --help)
    sed -n '2,/^set -euo/p' scripts/fuzz.sh | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  --*)
    echo "fuzz: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
  *) break ;;
  esac
  shift
done
whole_number() {
  case "$2" in
  '' | *[!0-9]*)
    echo "fuzz: $1 must be a whole number (got '$2')" >&2
    exit 2
    ;;
  esac
}
[ -z "$runs" ] || whole_number --runs "$runs"
whole_number --jobs "$jobs"
[ "$jobs" -ge 1 ] || { echo "fuzz: --jobs must be at least 1" >&2; exit 2; }

# SECONDS is optional: a first argument that is not a number names a fuzzer.
seconds=""
case "${1:-}" in
'' | *[!0-9]*) ;;
*)
  seconds=$1
  shift
  ;;
esac
if [ -z "$seconds" ]; then
  seconds=20
  [ -z "$runs" ] || seconds=0
fi
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] ||
  fuzzers=(SafetensorsHeaderFuzzer ModelConfigFuzzer TokenizerFuzzer)
for f in "${fuzzers[@]}"; do
  [ -f "fuzz/$f.cpp" ] || {
    echo "fuzz: no fuzzer '$f' (fuzz/$f.cpp); SECONDS must be a whole number" >&2
    exit 2
  }
done

build="build-fuzz"
mkdir -p "$build"
cmake -G Ninja -S . -B "$build" \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DQOPT_ENABLE_FUZZERS=ON \
  -DMLIR_DIR="$QOPT_LLVM_ROOT/lib/cmake/mlir" \
  -DLLVM_EXTERNAL_LIT="$QOPT_LLVM_ROOT/bin/lit" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  echo "fuzz: cmake configure failed" >&2
  exit 1
}
cmake --build "$build" --target "${fuzzers[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=$(command -v llvm-symbolizer || true)
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer"

status=0
failed=()
for f in "${fuzzers[@]}"; do
  bin="$build/fuzz/$f"
  dict="fuzz/dicts/$f.dict"
  dict_arg=()
  [ -f "$dict" ] && dict_arg=(-dict="$dict")
  artifacts="$build/fuzz-artifacts/$f"
  work="$build/fuzz-corpus/$f"
  mkdir -p "$artifacts" "$work"

  regressions=()
  if [ -d "fuzz/regressions/$f" ]; then
    while IFS= read -r -d '' file; do
      regressions+=("$file")
    done < <(find "fuzz/regressions/$f" -type f ! -name '.*' -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    echo "fuzz: $f: ${#regressions[@]} regression input(s)"
    if ! "$bin" -timeout=10 -rss_limit_mb=2048 "${regressions[@]}" \
      >"$artifacts/regressions.log" 2>&1; then
      tail -40 "$artifacts/regressions.log" >&2
      echo "fuzz: $f: a regression input fails (log: $artifacts/regressions.log)" >&2
      status=1
      failed+=("$f(regression)")
    fi
  fi

  limits=(-max_total_time="$seconds")
  what="for ${seconds}s"
  if [ -n "$runs" ]; then
    limits+=(-runs="$runs")
    what="for $runs runs"
    [ "$seconds" -eq 0 ] || what+=" (at most ${seconds}s)"
  fi
  parallel=()
  if [ "$jobs" -gt 1 ]; then
    parallel=(-fork="$jobs")
    what+=" with $jobs jobs"
  fi
  echo "fuzz: $f: fuzzing $what"
  start=$(date +%s)
  if ! "$bin" "${limits[@]}" "${parallel[@]}" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "${dict_arg[@]}" \
    -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$f" \
    >"$artifacts/fuzz.log" 2>&1; then
    tail -60 "$artifacts/fuzz.log" >&2
    echo "fuzz: $f: FAILED (log: $artifacts/fuzz.log, inputs: $artifacts/)" >&2
    status=1
    failed+=("$f")
  else
    elapsed=$(($(date +%s) - start))
    if [ "$jobs" -gt 1 ]; then
      # The fork-mode parent's last status line: "#RUNS: cov: ... exec/s: E".
      done_runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$artifacts/fuzz.log" | tail -1)
    else
      done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/fuzz.log")
    fi
    rate="?"
    [ -z "$done_runs" ] || rate=$((done_runs / (elapsed > 0 ? elapsed : 1)))
    echo "fuzz: $f: ok (${done_runs:-?} runs in ${elapsed}s, $rate exec/s)"
  fi
done

if [ $status -ne 0 ]; then
  echo "fuzz: failures: ${failed[*]}" >&2
else
  echo "fuzz: all ${#fuzzers[@]} fuzzers ran clean"
fi
exit $status
