#!/usr/bin/env bash
# The GPU suite, run on a machine with an NVIDIA GPU, CUDA, cmake and a C++
# compiler but no MLIR: bundles are compiled elsewhere (qopt --lower-to-nvptx,
# qopt-bundle) and copied here.
#
#   scripts/gpu-check.sh DATA_DIR BUNDLE_DIR...
#
# DATA_DIR holds tiny-llama-reference.safetensors (eval tokens and greedy ids)
# and prompt_ids.safetensors (the greedy prompt, BOS first, tensor `tokens`).
# For each bundle it runs, on the CUDA backend and on the runtime's CPU
# backend (the GPU's oracle): perplexity over every 512-token window of
# eval_sotu_heldout, greedy generation of 48 tokens, the benchmark (prefill
# and decode tokens/s, per-kernel times), and one window under
# compute-sanitizer memcheck. It prints one table; logs go to $LOG_DIR
# (default /tmp/qopt-gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: gpu-check.sh DATA_DIR BUNDLE_DIR...}
shift
logs=${LOG_DIR:-/tmp/qopt-gpu-check}
mkdir -p "$logs"
build=${RUNTIME_BUILD_DIR:-/tmp/qopt-runtime-build}
ref="$data/tiny-llama-reference.safetensors"

echo "== building the runtime (no MLIR)"
cmake -G Ninja -S runtime -B "$build" -DCMAKE_BUILD_TYPE=Release \
  >"$logs/cmake.log" 2>&1 || { cat "$logs/cmake.log"; exit 1; }
cmake --build "$build" --target qopt-run qopt-cuda-info >"$logs/build.log" 2>&1 ||
  { tail -40 "$logs/build.log"; exit 1; }
run="$build/qopt-run"
"$build/qopt-cuda-info" || exit 1

ppl() { awk '/^perplexity:/ {print $2}' "$1"; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.3f %%", (a / b - 1) * 100 }'; }

rows=()
status=0
for bundle in "$@"; do
  name=$(basename "$bundle")
  echo "== $name"
  "$run" "$bundle" --backend=cuda --ppl "$ref:eval_sotu_heldout" --seq-len 512 \
    >"$logs/$name.cuda.ppl" 2>"$logs/$name.cuda.err" || { cat "$logs/$name.cuda.err"; status=1; }
  "$run" "$bundle" --backend=cpu --ppl "$ref:eval_sotu_heldout" --seq-len 512 \
    >"$logs/$name.cpu.ppl" 2>"$logs/$name.cpu.err" || { cat "$logs/$name.cpu.err"; status=1; }
  gpu=$(ppl "$logs/$name.cuda.ppl"); cpu=$(ppl "$logs/$name.cpu.ppl")
  "$run" "$bundle" --backend=cuda --generate-ids "$data/prompt_ids.safetensors:tokens" \
    --max-new-tokens 48 >"$logs/$name.cuda.gen" 2>&1 || status=1
  "$run" "$bundle" --backend=cpu --generate-ids "$data/prompt_ids.safetensors:tokens" \
    --max-new-tokens 48 >"$logs/$name.cpu.gen" 2>&1 || status=1
  same=no
  cmp -s <(grep '^tokens:' "$logs/$name.cuda.gen") <(grep '^tokens:' "$logs/$name.cpu.gen") && same=yes
  "$run" "$bundle" --backend=cuda --bench --seq-len 512 --max-new-tokens 64 \
    >"$logs/$name.bench" 2>&1 || status=1
  prefill=$(awk '/prefill/ && /tokens\/s/ {for (i = 1; i <= NF; i++) if ($(i+1) == "tokens/s") print $i}' "$logs/$name.bench" | head -1)
  decode=$(awk '/decode/ && /tokens\/s/ {for (i = 1; i <= NF; i++) if ($(i+1) == "tokens/s") print $i}' "$logs/$name.bench" | head -1)
  errors="n/a"
  if command -v compute-sanitizer >/dev/null; then
    compute-sanitizer --tool memcheck --error-exitcode 9 "$run" "$bundle" --backend=cuda \
      --ppl "$ref:eval_sotu_heldout" --seq-len 128 --max-windows 1 \
      >"$logs/$name.memcheck" 2>&1
    rc=$?
    errors=$(awk '/ERROR SUMMARY/ {print $4}' "$logs/$name.memcheck" | tail -1)
    [ "$rc" -eq 0 ] || status=1
  fi
  rows+=("| $name | $gpu | $cpu | $(rel "$gpu" "$cpu") | $same | $prefill | $decode | $errors |")
done

echo
echo "| bundle | GPU ppl | CPU-backend ppl | GPU vs CPU | greedy GPU = CPU | prefill tok/s (512) | decode tok/s | memcheck errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
exit $status
