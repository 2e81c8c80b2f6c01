#!/usr/bin/env bash
# Fails when a tracked C++ file is not clang-format (LLVM style) clean.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cf=$(command -v clang-format-22 || command -v clang-format)
files=$(git ls-files '*.cpp' '*.h')
if ! "$cf" --dry-run --Werror $files; then
  echo "check-format: run '$cf -i' on the files above" >&2
  exit 1
fi
echo "check-format: $(echo "$files" | wc -l) files clean"
