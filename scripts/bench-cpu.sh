#!/usr/bin/env bash
# CPU benchmarks recorded in docs/perf.md (not tests). Run on an idle machine
# after ./scripts/setup.sh:
#   1. perplexity of qopt-tiny-llama on eval_sotu_heldout (64 x 512 tokens)
#   2. qopt-import of an 8B-shaped (Llama-3-8B) generated checkpoint
# The 8B checkpoint (~16 GB) is generated once into build/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
shared=../shared
mkdir -p build/bench

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

echo "== perplexity, qopt-tiny-llama, eval_sotu_heldout, seq-len 512"
build/bin/qopt-import $shared/models/qopt-tiny-llama -o build/bench/tiny-llama.mlir
/usr/bin/time -f "wall %e s, peak RSS %M KB" build/bin/qopt-run --backend=cpu \
  build/bench/tiny-llama.mlir \
  --ppl $shared/data/tiny-llama-reference.safetensors:eval_sotu_heldout \
  --seq-len 512 2>&1 | tr '\r' '\n' | grep -v '^window'

ckpt=build/bench/llama3-8b
if [ ! -f $ckpt/config.json ]; then
  echo "== generating an 8B-shaped checkpoint in $ckpt (once)"
  /usr/bin/time -f "wall %e s, peak RSS %M KB" build/bin/qopt-make-test-model \
    --arch llama --preset llama3-8b -o $ckpt
fi
echo "== qopt-import of the 8B-shaped checkpoint ($(du -sh $ckpt | cut -f1))"
for i in 1 2 3; do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" build/bin/qopt-import $ckpt \
    -o build/bench/llama3-8b.mlir
done
echo "IR size: $(wc -c < build/bench/llama3-8b.mlir) bytes"
