#!/usr/bin/env bash
# Installs what qopt needs (Debian 12 packages), builds qopt into build/, and
# runs the main job: import a Hugging Face checkpoint, check its graph,
# calibrate it, quantize it with `qopt --smoothquant`, compile it with
# `qopt --lower-to-nvptx`, write its bundle with `qopt-bundle`, and report the
# perplexity of the float model, the quantized graph (CPU executor) and the
# bundle (on the GPU when there is one, else on the runtime's CPU backend),
# then a short greedy generation from the bundle.
#
# Usage: ./scripts/setup.sh [CHECKPOINT_DIR [TEXT_FILE]]
#   CHECKPOINT_DIR  a llama / mistral / qwen2 checkpoint (config.json,
#                   *.safetensors, tokenizer.json); default: the bundled tiny
#                   Llama (../shared/models/qopt-tiny-llama, calibrated and
#                   evaluated on its reference tokens), else a small random
#                   checkpoint made by qopt-make-test-model
#   TEXT_FILE       text to tokenize (and, for a named checkpoint, calibrate
#                   and evaluate on); default: examples/sample.txt
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
if [ -z "$checkpoint" ] && [ -d ../shared/models/qopt-tiny-llama ]; then
  checkpoint=../shared/models/qopt-tiny-llama
elif [ -z "$checkpoint" ]; then
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

# Calibration and evaluation tokens: the reference data's when it is there
# (the bundled tiny Llama), else the tokenized text.
ref=../shared/data/tiny-llama-reference.safetensors
if [ -z "${1:-}" ] && [ -f "$ref" ]; then
  calib=("$ref:calib_tokens" --max-sequences 16)
  eval_tokens="$ref:eval_sotu_heldout"; seq_len=512
else
  calib=("$job/tokens.safetensors:tokens")
  eval_tokens="$job/tokens.safetensors:tokens"; seq_len=128
fi

echo "== qopt-calibrate: activation statistics and Hessians"
build/bin/qopt-calibrate "$job/model.mlir" --tokens "${calib[@]}" \
  -o "$job/model.calib.mlir"

echo "== qopt --smoothquant (W8A8 INT8: SmoothQuant, per-channel weights, per-token activations)"
build/bin/qopt "$job/model.calib.mlir" --smoothquant -o "$job/model.sq.mlir"
echo "   IR: $(wc -c < "$job/model.sq.mlir") bytes; weights: $(du -sh "$job/model.sq.weights" | cut -f1)"

echo "== qopt-run --backend=cpu: perplexity before and after (windows of $seq_len)"
ppl() {
  build/bin/qopt-run --backend=cpu "$1" --ppl "$eval_tokens" \
    --seq-len "$seq_len" 2>/dev/null | sed -n 's/^perplexity: //p'
}
before=$(ppl "$job/model.mlir")
after=$(ppl "$job/model.sq.mlir")

echo "== qopt --lower-to-nvptx, qopt-bundle: fused kernels in PTX, the runtime bundle"
build/bin/qopt "$job/model.sq.mlir" --lower-to-nvptx=chip=sm_90a -o "$job/model.nvptx.mlir"
build/bin/qopt-bundle "$job/model.nvptx.mlir" -o "$job/model.bundle"
echo "   bundle: $(ls "$job/model.bundle" | tr '\n' ' ')"
# On the GPU when there is one, else on the runtime's CPU backend (the same
# kernels' arithmetic on the host).
backend=cpu
build/bin/qopt-cuda-info >/dev/null 2>&1 && backend=cuda
echo "== qopt-run $job/model.bundle --backend=$backend: perplexity"
bundle=$(build/bin/qopt-run "$job/model.bundle" --backend=$backend \
  --ppl "$eval_tokens" --seq-len "$seq_len" 2>/dev/null | sed -n 's/^perplexity: //p')
awk -v b="$before" -v a="$after" -v g="$bundle" -v be="$backend" 'BEGIN {
  printf "| model | perplexity | vs float |\n|---|---|---|\n"
  printf "| float (checkpoint weights, f32 compute) | %.4f | |\n", b
  printf "| --smoothquant (W8A8 INT8) | %.4f | %+.2f %% |\n", a, (a / b - 1) * 100
  printf "| --smoothquant --lower-to-nvptx, bundle on %s | %.4f | %+.2f %% |\n", be, g, (g / b - 1) * 100
}'

echo "== qopt-run $job/model.bundle --backend=$backend: greedy generation"
build/bin/qopt-run "$job/model.bundle" --backend=$backend \
  --generate "The Congress of the United States" --max-new-tokens 24
