#!/usr/bin/env bash
# Streaming benchmark of the weight-rewriting pipelines on an 8B-shaped
# checkpoint (Llama-3-8B shapes, random bf16 weights, 16 GB): wall time and
# peak RSS of `qopt --smoothquant` and `qopt --w4a16` (RTN), recorded in
# docs/perf.md. The CPU executor cannot calibrate an 8B model (it keeps
# float32 weights), so the observers get synthetic statistics (absmax 1 on
# every channel, 4096 tokens): the benchmark measures the passes' streaming
# of weights, not accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${QOPT_BIN:-build/bin}
D=build/bench
mkdir -p "$D"
if [ ! -f "$D/llama3-8b/model.safetensors.index.json" ]; then
  "$B/qopt-make-test-model" --arch llama --preset llama3-8b -o "$D/llama3-8b"
fi
"$B/qopt-import" "$D/llama3-8b" -o "$D/llama3-8b.mlir"
"$B/qopt" "$D/llama3-8b.mlir" --qopt-insert-observers -o "$D/llama3-8b.obs.mlir"
python3 scripts/synthetic-calib.py "$D/llama3-8b.obs.mlir" "$D/llama3-8b.calib.mlir"
run() {
  local name=$1; shift
  rm -rf "$D/$name.weights"
  /usr/bin/time -f "$name: %e s wall, %M KB peak RSS" \
    "$B/qopt" "$D/llama3-8b.calib.mlir" "$@" -o "$D/$name.mlir"
  du -sh "$D/$name.weights" | sed "s/^/$name side store: /"
  wc -c < "$D/$name.mlir" | sed "s/^/$name IR bytes: /"
}
run sq8b --smoothquant
run w4rtn8b --w4a16
