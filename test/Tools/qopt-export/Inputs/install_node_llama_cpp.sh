#!/usr/bin/env bash
# Installs node-llama-cpp 3.21.1 (llama.cpp's prebuilt CPU build for x64
# Linux) from npm into DIR/node_modules, once: later calls find it there.
set -euo pipefail
dir=$1
version=3.21.1
pkg="$dir/node_modules/node-llama-cpp/package.json"
if [ -f "$pkg" ] && grep -q "\"version\": \"$version\"" "$pkg" &&
   [ -d "$dir/node_modules/@node-llama-cpp/linux-x64/bins" ]; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
# The prebuilt binaries come with @node-llama-cpp/linux-x64; the package's
# postinstall (which would download or build llama.cpp) is not needed.
npm install --no-audit --no-fund --omit=optional --ignore-scripts \
  "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >&2
