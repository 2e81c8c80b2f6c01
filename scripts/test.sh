#!/usr/bin/env bash
# Runs every CPU test of qopt: the lit regression tests (FileCheck and
# -verify-diagnostics), the GoogleTest suites (through lit), the embedding
# test against the installed package, short libFuzzer runs of the frontend's
# parsers (plus their saved crash inputs), and the formatting and docs checks.
# Run ./scripts/setup.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

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
