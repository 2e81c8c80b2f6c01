#!/usr/bin/env bash
# The end-to-end benchmark of an 8B-shaped model on one GPU, run on the GPU
# machine (CUDA, cmake, a C++ compiler, PyTorch and transformers; no MLIR):
# qopt beside transformers on the same checkpoint in one run.
#
#   scripts/gpu-bench.sh BUNDLE_DIR
#
# BUNDLE_DIR holds NAME.bundle directories made by
# `scripts/gpu-bundles.sh OUT 8b-e2e` (bf16, sq, fp8, w4-rtn, w8a16 of the
# Llama-3-8B-shaped random-weight model, weights read at load). The script
#   1. builds the runtime and the checkpoint generator (no MLIR),
#   2. makes the checkpoint with the generator command the bundles were
#      compiled from (CHECKPOINT, default /tmp/qopt-llama3-8b; kept when it
#      exists), 16 GB of bf16 weights,
#   3. runs `qopt-run NAME.bundle --backend=cuda --checkpoint CHECKPOINT
#      --bench` for each bundle: the weights are copied or quantized while
#      loading, then prefill of SEQ_LEN (default 2048) random tokens and
#      NEW_TOKENS (default 128) decode steps at batch 1,
#   4. runs transformers' bf16 model on the same checkpoint
#      (scripts/gpu/torch-e2e-bench.py: prefill, and static-cache generate
#      under torch.compile at BATCHES, default 1,8,32), unless TORCH=0,
#   5. prints the table (scripts/gpu/e2e-table.py): tokens/s, ratios to
#      qopt's bf16 and to transformers, and bf16 decode against the
#      weight-bytes / copy-bandwidth roofline.
# NCU=1 also profiles layer 0's decode GEMVs of the bf16 bundle with Nsight
# Compute (speed of light, occupancy, warp stalls; cold L2, kernel by
# kernel) into LOG_DIR/ncu-bf16-gemv.txt.
# Logs and raw outputs go to LOG_DIR (default /tmp/qopt-gpu-bench). QOPT=0
# skips step 3 and TORCH=0 step 4 (to split the run; the table reads what
# LOG_DIR holds).
set -uo pipefail
cd "$(dirname "$0")/.."
bundles=${1:?usage: gpu-bench.sh BUNDLE_DIR}
logs=${LOG_DIR:-/tmp/qopt-gpu-bench}
mkdir -p "$logs"
build=${RUNTIME_BUILD_DIR:-/tmp/qopt-runtime-build}
ckpt=${CHECKPOINT:-/tmp/qopt-llama3-8b}
# The same as E2E_MODEL_FLAGS in gpu-bundles.sh.
model_flags="--arch llama --preset llama3-8b --max-positions 16384"
seq=${SEQ_LEN:-2048} new=${NEW_TOKENS:-128}
export NCCL_NVLS_ENABLE=0

echo "== building the runtime (no MLIR)"
cmake -G Ninja -S runtime -B "$build" -DCMAKE_BUILD_TYPE=Release \
  >"$logs/cmake.log" 2>&1 || { cat "$logs/cmake.log"; exit 1; }
cmake --build "$build" --target qopt-run qopt-make-test-model \
  >"$logs/build.log" 2>&1 || { tail -40 "$logs/build.log"; exit 1; }

if [ ! -f "$ckpt/model.safetensors.index.json" ]; then
  echo "== making the checkpoint: qopt-make-test-model $model_flags"
  t0=$SECONDS
  # shellcheck disable=SC2086
  "$build/qopt-make-test-model" $model_flags -o "$ckpt" \
    >"$logs/make-model.log" 2>&1 || { cat "$logs/make-model.log"; exit 1; }
  echo "(took $((SECONDS - t0)) s)"
fi
sha256sum "$ckpt/model-00001-of-00009.safetensors" | cut -c1-16 |
  sed 's/^/first shard sha256: /'

status=0
for b in "$bundles"/*.bundle; do
  [ "${QOPT:-1}" != 0 ] || break
  name=$(basename "$b" .bundle)
  echo "== qopt $name"
  t0=$SECONDS
  if ! "$build/qopt-run" "$b" --backend=cuda --checkpoint "$ckpt" --bench \
    --seq-len "$seq" --max-new-tokens "$new" \
    >"$logs/qopt-$name.txt" 2>"$logs/qopt-$name.err"; then
    tail -5 "$logs/qopt-$name.err"
    status=1
  fi
  grep -h "^weights:" "$logs/qopt-$name.err"
  grep -h "^prefill:\|^decode:" "$logs/qopt-$name.txt"
  echo "(took $((SECONDS - t0)) s)"
done

if [ "${NCU:-0}" = 1 ] && [ -d "$bundles/bf16.bundle" ]; then
  echo "== ncu: layer 0's decode GEMVs (bf16)"
  ncu -k regex:gemv1 --launch-count 6 --section SpeedOfLight \
    --section Occupancy --section WarpStateStats --section LaunchStats \
    "$build/qopt-run" "$bundles/bf16.bundle" --backend=cuda \
    --checkpoint "$ckpt" --bench --seq-len 16 --max-new-tokens 2 \
    --no-cuda-graphs >"$logs/ncu-bf16-gemv.txt" 2>&1 || status=1
  grep -E "gemv1|Duration|DRAM Throughput|Achieved Occupancy" \
    "$logs/ncu-bf16-gemv.txt"
fi

if [ "${TORCH:-1}" != 0 ]; then
  echo "== transformers bf16"
  t0=$SECONDS
  python3 scripts/gpu/torch-e2e-bench.py "$ckpt" --prefill "$seq" \
    --batches "${BATCHES:-1,8,32}" >"$logs/torch.json" \
    2>"$logs/torch.err" || { tail -20 "$logs/torch.err"; status=1; }
  echo "(took $((SECONDS - t0)) s)"
fi
python3 scripts/gpu/e2e-table.py "$logs" "$bundles" || status=1
exit $status
