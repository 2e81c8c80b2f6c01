#!/usr/bin/env bash
# Installs what qopt needs (Debian 12 packages), builds qopt into build/, and
# runs the main job on the bundled default model (or on MODEL.mlir if given):
# parse, verify against the graph contract, and print it.
#
# Usage: ./scripts/setup.sh [MODEL.mlir]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

model=${1:-examples/tiny-llama.mlir}

packages=(cmake ninja-build ccache clang-22 lld-22 llvm-22-dev llvm-22-tools
  libmlir-22-dev mlir-22-tools clang-format-22 libgtest-dev nlohmann-json3-dev
  python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR="$QOPT_LLVM_ROOT/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$QOPT_LLVM_ROOT/bin/lit" >/dev/null
fi
cmake --build build

echo
echo "== qopt: parse, verify (graph contract) and print $model"
build/bin/qopt "$model" --qopt-verify-contract=stage=graph --print-op-stats \
  -o build/main-job.mlir
cat build/main-job.mlir
echo "== verified; printed IR also in build/main-job.mlir"
