#!/usr/bin/env bash
# Installs what qopt needs (Debian 12 packages), builds qopt into build/, and
# runs the main job: import a Hugging Face checkpoint, check its graph, and run
# it on the CPU executor (perplexity and a short greedy generation).
#
# Usage: ./scripts/setup.sh [CHECKPOINT_DIR [TEXT_FILE]]
#   CHECKPOINT_DIR  a llama / mistral / qwen2 checkpoint (config.json,
#                   *.safetensors, tokenizer.json); default: a small random
#                   checkpoint made by qopt-make-test-model
#   TEXT_FILE       text for the perplexity run; default: examples/sample.txt
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

packages=(cmake ninja-build ccache pkg-config clang-22 lld-22 llvm-22-dev
  llvm-22-tools libmlir-22-dev mlir-22-tools clang-format-22 libclang-rt-22-dev
  libgtest-dev nlohmann-json3-dev libpcre2-dev libicu-dev libopenblas-dev
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

job=build/main-job
mkdir -p "$job"
checkpoint=${1:-}
text=${2:-examples/sample.txt}
if [ -z "$checkpoint" ]; then
  checkpoint=$job/test-llama
  echo "== qopt-make-test-model: a small random Llama checkpoint in $checkpoint"
  build/bin/qopt-make-test-model --arch llama --preset tiny -o "$checkpoint"
fi

echo "== qopt-import $checkpoint"
build/bin/qopt-import "$checkpoint" -o "$job/model.mlir"
build/bin/qopt "$job/model.mlir" --qopt-verify-contract=stage=graph \
  --print-op-stats -o /dev/null

echo "== qopt-tokenize $text"
build/bin/qopt-tokenize --tokenizer "$checkpoint/tokenizer.json" \
  --input "$text" --bos-per-paragraph -o "$job/tokens.safetensors"

echo "== qopt-run --backend=cpu: perplexity on $text (windows of 128 tokens)"
build/bin/qopt-run --backend=cpu "$job/model.mlir" \
  --ppl "$job/tokens.safetensors:tokens" --seq-len 128 2>/dev/null

echo "== qopt-run --backend=cpu: greedy generation"
build/bin/qopt-run --backend=cpu "$job/model.mlir" \
  --generate "The Congress of the United States" --max-new-tokens 24
