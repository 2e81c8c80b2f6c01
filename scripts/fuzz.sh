#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (ASan + UBSan) in build-fuzz/, runs
# each once over its saved crash inputs (fuzz/regressions/<fuzzer>/), then
# fuzzes each for SECONDS seconds (default 20) starting from its seed corpus
# (fuzz/corpus/<fuzzer>/). Exits non-zero if any fuzzer crashes, leaks,
# times out or runs out of memory; crash inputs are written to
# build-fuzz/fuzz-artifacts/<fuzzer>/ (copy one to fuzz/regressions/<fuzzer>/
# once it is fixed).
#
# Usage: ./scripts/fuzz.sh [SECONDS] [FUZZER...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

seconds=${1:-20}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] ||
  fuzzers=(SafetensorsHeaderFuzzer ModelConfigFuzzer TokenizerFuzzer)
case "$seconds" in
'' | *[!0-9]*)
  echo "fuzz: SECONDS must be a whole number (got '$seconds')" >&2
  exit 2
  ;;
esac

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

  echo "fuzz: $f: fuzzing for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "${dict_arg[@]}" \
    -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$f" \
    >"$artifacts/fuzz.log" 2>&1; then
    tail -60 "$artifacts/fuzz.log" >&2
    echo "fuzz: $f: FAILED (log: $artifacts/fuzz.log, inputs: $artifacts/)" >&2
    status=1
    failed+=("$f")
  else
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$artifacts/fuzz.log")
    echo "fuzz: $f: ok (${runs:-?} runs)"
  fi
done

if [ $status -ne 0 ]; then
  echo "fuzz: failures: ${failed[*]}" >&2
else
  echo "fuzz: all ${#fuzzers[@]} fuzzers ran clean"
fi
exit $status
