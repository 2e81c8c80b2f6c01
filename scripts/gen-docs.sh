#!/usr/bin/env bash
# Copies the dialect and pass references generated from ODS (ninja mlir-doc)
# into docs/reference/. With --check, fails if the committed copies are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target mlir-doc >/dev/null
mkdir -p docs/reference
stale=0
for f in Dialects/QoptDialect.md QoptPasses.md Dialects/QKDialect.md QKPasses.md \
  QoptConversionPasses.md; do
  src=build/docs/$f
  dst=docs/reference/$(basename "$f")
  if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "gen-docs: $dst is stale; run ./scripts/gen-docs.sh" >&2
      stale=1
    fi
  else
    cp "$src" "$dst"
  fi
done
[ "${1:-}" = "--check" ] && [ $stale -eq 0 ] && echo "gen-docs: docs/reference is up to date"
exit $stale
