#!/usr/bin/env bash
# Runs every CPU test of qopt: the lit regression tests (FileCheck and
# -verify-diagnostics), the GoogleTest suites (through lit), the embedding
# test against the installed package, short libFuzzer runs of the frontend's
# parsers (plus their saved crash inputs), and the formatting and docs checks.
# Run ./scripts/setup.sh once first.
#
# Usage: ./scripts/test.sh [--sanitize[=runtime]]
#   --sanitize  instead: configure and build build-asan/ with AddressSanitizer
#               and UndefinedBehaviorSanitizer (-DQOPT_SANITIZE=address,undefined)
#               and run the lit suite (lit tests, GoogleTest suites, embedding
#               test; all but the every-scheme tiny-llama-bundles tests, or
#               what QOPT_ASAN_FILTER_OUT names) on those binaries; any
#               report fails its test
#   --sanitize=runtime
#               the same for the runtime alone (what CI runs): build only the
#               MLIR-free runtime and its GoogleTest suites (bundle loading
#               and its errors, the CPU kernels against float64, the CUDA
#               driver layer on a fake libcuda) and the support library's,
#               and run those
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

sanitize=0
scope=all
for arg in "$@"; do
  case "$arg" in
  --sanitize) sanitize=1 ;;
  --sanitize=runtime) sanitize=1 scope=runtime ;;
  -h | --help)
    sed -n '2,/^set -euo/p' scripts/test.sh | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "test: unknown argument '$arg' (try --help)" >&2
    exit 2
    ;;
  esac
done

if [ $sanitize -eq 1 ]; then
  build=build-asan
  mkdir -p "$build"
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DQOPT_SANITIZE=address,undefined \
    -DMLIR_DIR="$QOPT_LLVM_ROOT/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$QOPT_LLVM_ROOT/bin/lit" >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log" >&2
    echo "test: cmake configure of $build failed" >&2
    exit 1
  }
  if [ $scope = runtime ]; then
    # The GoogleTest binaries that need nothing of MLIR; lit's unit suite
    # runs whichever *Tests binaries exist, so stale others must go.
    unit_targets=(QoptRuntimeTests QoptCudaDriverTests QoptBundleTests
      QuantMathTests WeightQuantTests)
    find "$build/unittests" -name '*Tests' -type f -delete 2>/dev/null || true
    cmake --build "$build" --target "${unit_targets[@]}"
    instrumented=$build/unittests/Runtime/QoptBundleTests
    suite=$build/test/Unit
  else
    cmake --build "$build"
    instrumented=$build/bin/qopt
    suite=$build/test
  fi
  # lit resolves qopt's tools in $build/bin: make sure they are instrumented.
  llvm-nm "$instrumented" | grep __asan_init >/dev/null || {
    echo "test: $instrumented is not built with AddressSanitizer" >&2
    exit 1
  }
  # allow_user_poisoning=0: Debian's libMLIR is not instrumented, and LLVM's
  # BumpPtrAllocator poisons and unpoisons its slabs by hand (ASan's user
  # poisoning API) in ways only an instrumented LLVM keeps consistent: with
  # it on, reads of MLIR-allocated memory from qopt's instrumented code are
  # reported as use-after-poison. Only that manual poisoning is ignored; heap,
  # stack and global checks stay on.
  export ASAN_OPTIONS=${QOPT_ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1:abort_on_error=0:check_initialization_order=1:detect_stack_use_after_return=1}
  export UBSAN_OPTIONS=${QOPT_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  symbolizer=$(command -v llvm-symbolizer || true)
  [ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer"
  log=$build/lit.log
  set +e
  # The two tiny-llama-bundles tests compile, bundle and score every
  # quantization scheme of the tiny model (about 530 s of the plain suite's
  # 810); the sanitizers see the same code through the single-scheme
  # bundle, pipeline and runtime tests, so they are left to the plain run.
  lit -sv --filter-out "${QOPT_ASAN_FILTER_OUT:-Tools/qopt-bundle/tiny-llama-bundles}" \
    "$suite" 2>&1 | tee "$log"
  lit_status=${PIPESTATUS[0]}
  set -e
  passed=$(sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  failed=$(sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  echo "lit (ASan + UBSan, $scope): ${passed:-0} passed, ${failed:-0} failed"
  exit "$lit_status"
fi

[ -f build/build.ninja ] || { echo "test: no build/ yet; run ./scripts/setup.sh first" >&2; exit 1; }
cmake --build build --target qopt QoptUnitTests mlir-doc

status=0
scripts/check-format.sh || status=1
scripts/gen-docs.sh --check || status=1

log=build/lit.log
set +e
lit -sv build/test 2>&1 | tee "$log"
lit_status=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^ *Passed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^ *Failed *: *\([0-9]*\).*/\1/p' "$log" | tail -1)
[ "$lit_status" -eq 0 ] || status=1

scripts/fuzz.sh "${QOPT_FUZZ_SECONDS:-10}" || status=1

echo "lit: ${passed:-0} passed, ${failed:-0} failed"
exit $status
