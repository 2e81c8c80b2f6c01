#!/usr/bin/env bash
# Makes the bundles the GPU suite (scripts/gpu-check.sh) runs. It needs MLIR
# and the models, so it runs on the CPU machine; the GPU machine gets the
# bundles copied over.
#
#   scripts/gpu-bundles.sh OUT_DIR [tiny|tiny-kernels|8b|8b-e2e]...   (default: tiny 8b)
#
# SCHEMES="sq w4-awq ..." builds only the bundles of those names (each with
# the KV variants its part makes: "sq" alone, "sq-kv8" for the INT8 cache).
#
# OUT_DIR/tiny/NAME.bundle: qopt-tiny-llama in bf16, W8A8 SmoothQuant
#   (dynamic per-token), W8A8 static per-tensor asymmetric, FP8 per-channel
#   x per-token, FP8 128x128 blocks, W8A16, W4A16 AWQ g128 symmetric and
#   asymmetric; each plain, with an INT8 KV cache (per-token scales, NAME-kv8)
#   and with an FP8 KV cache (per-head scales, NAME-kvf8): 24 bundles; and
#   w4-gptq-actorder: a GPTQ act-order checkpoint of the W4A16 g128 values
#   (test/Frontend/Inputs/make_int4_checkpoint.py --act-order: every
#   down_proj's input channels dealt into the groups at random), imported,
#   whose down_proj inputs go through permute_columns kernels; and
#   w8a16-g32: W8A16 with groups of 32 (smaller than the tile's K step).
# OUT_DIR/tiny-kernels/NAME.bundle: the tiny model's plain schemes and
#   w8a16-g32 as kernels-only bundles (no weights), for kernel checks.
# OUT_DIR/8b/NAME.bundle: kernels-only bundles (qopt-bundle --kernels-only)
#   at Llama-3-8B shapes (hidden 4096, 32 / 8 heads of 128, intermediate
#   14336, vocab 128256): a one-layer random-weight checkpoint
#   (qopt-make-test-model) through the same schemes, for qopt-kernel-check
#   and the GEMM timings. W4A16 uses round-to-nearest here (AWQ's search
#   needs real activations; it changes the weights, not the kernels).
#   max-tokens 4096, so that the GEMMs can be timed at M = 4096; and
#   sq-m16k, the SmoothQuant one at max-tokens 16384 for the rms_norm +
#   quantize timings; and bf16-mma, sq-mma, fp8-mma, fp8-block-mma, built
#   with wgmma-rows=0 (mma.sync kernels at every M), to time them beside the
#   sm_90a warpgroup-MMA kernels in the same run.
# OUT_DIR/8b-e2e/NAME.bundle: the whole Llama-3-8B-shaped model (32 layers,
#   random weights: qopt-make-test-model --preset llama3-8b, made in
#   CHECKPOINT_8B, default build/bench/llama3-8b, when missing) in bf16,
#   W8A8 SmoothQuant, FP8, W4A16 RTN g128 and W8A16, max-tokens
#   E2E_MAX_TOKENS (default 2048), with no weights of their own: the runtime
#   reads and quantizes the checkpoint at load (gpu-bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: gpu-bundles.sh OUT_DIR [tiny|tiny-kernels|8b]...}
shift
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(tiny 8b)
B=${QOPT_BIN:-build/bin}
shared=${QOPT_SHARED:-../shared}
calib="$shared/data/tiny-llama-reference.safetensors:calib_tokens"
# The 8B-shaped checkpoint of the end-to-end benchmark (the same in
# scripts/gpu-bench.sh, which makes it on the GPU machine).
E2E_MODEL_FLAGS="--arch llama --preset llama3-8b --max-positions 16384"
kv8="--kv-cache=dtype=i8 granularity=token"
kvf8="--kv-cache=dtype=f8E4M3FN granularity=head"

# scheme NAME FLAGS...: the graph flags of each scheme ("" for bf16).
schemes=(
  "bf16|"
  "sq|--smoothquant"
  "sq-static|--smoothquant=act=static-asym"
  "fp8|--fp8"
  "fp8-block|--fp8=weights=block"
  "w8a16|--w8a16"
  "w4-awq|--w4a16=method=awq"
  "w4-awq-asym|--w4a16=method=awq sym=false"
)

# build DIR NAME GRAPH NVPTX_OPTIONS BUNDLE_FLAGS FLAGS...
build() {
  local dir=$1 name=$2 graph=$3 lower=$4 bundleFlags=$5
  shift 5
  if [ -n "${SCHEMES:-}" ] && [[ " $SCHEMES " != *" $name "* ]]; then
    return 0
  fi
  if [ $# -gt 0 ]; then
    "$B/qopt" "$graph" "$@" -o "$dir/$name.mlir"
  else
    cp "$graph" "$dir/$name.mlir"
  fi
  "$B/qopt" "$dir/$name.mlir" "--lower-to-nvptx=$lower" -o "$dir/$name.nvptx.mlir"
  # shellcheck disable=SC2086
  "$B/qopt-bundle" "$dir/$name.nvptx.mlir" -o "$dir/$name.bundle" $bundleFlags
  rm -f "$dir/$name.nvptx.mlir"
  echo "$dir/$name.bundle"
}

# variants DIR GRAPH NVPTX_OPTIONS BUNDLE_FLAGS KV...: every scheme, with
# each KV variant given ("plain", "kv8", "kvf8").
variants() {
  local dir=$1 graph=$2 lower=$3 bundleFlags=$4
  shift 4
  for entry in "${schemes[@]}"; do
    local name=${entry%%|*} flags=${entry#*|}
    for kv in "$@"; do
      local suffix="" kvFlag=""
      case $kv in
      kv8) suffix=-kv8 kvFlag=$kv8 ;;
      kvf8) suffix=-kvf8 kvFlag=$kvf8 ;;
      esac
      local args=()
      [ -z "$kvFlag" ] || args+=("$kvFlag")
      [ -z "$flags" ] || args+=("$flags")
      build "$dir" "$name$suffix" "$graph" "$lower" "$bundleFlags" "${args[@]}"
    done
  done
}

allSchemes=("${schemes[@]}")
for part in "${parts[@]}"; do
  schemes=("${allSchemes[@]}")
  case $part in
  tiny)
    d="$out/tiny"
    mkdir -p "$d"
    "$B/qopt-import" "$shared/models/qopt-tiny-llama" -o "$d/m.mlir"
    "$B/qopt-calibrate" "$d/m.mlir" --tokens "$calib" --max-sequences 4 \
      -o "$d/calib.mlir" 2>/dev/null
    variants "$d" "$d/calib.mlir" "chip=sm_90a" "" plain kv8 kvf8
    "$B/qopt" "$d/m.mlir" "--w4a16=group=128" -o "$d/gptq-src.mlir"
    python3 test/Frontend/Inputs/make_int4_checkpoint.py \
      "$shared/models/qopt-tiny-llama" "$d/gptq-src.weights" \
      "$d/gptq-actorder.ckpt" gptq --act-order 1
    "$B/qopt-import" "$d/gptq-actorder.ckpt" -o "$d/gptq-actorder.mlir"
    build "$d" w4-gptq-actorder "$d/gptq-actorder.mlir" "chip=sm_90a" ""
    # Groups smaller than the tiled kernel's K step.
    build "$d" w8a16-g32 "$d/calib.mlir" "chip=sm_90a" "" --w8a16=group=32
    ;;
  tiny-kernels)
    # The tiny model's kernels without its weights (a few MB a bundle, for
    # kernel checks where the full bundles are too large to copy).
    d="$out/tiny-kernels"
    mkdir -p "$d"
    "$B/qopt-import" "$shared/models/qopt-tiny-llama" -o "$d/m.mlir"
    "$B/qopt-calibrate" "$d/m.mlir" --tokens "$calib" --max-sequences 4 \
      -o "$d/calib.mlir" 2>/dev/null
    variants "$d" "$d/calib.mlir" "chip=sm_90a" --kernels-only plain
    build "$d" w8a16-g32 "$d/calib.mlir" "chip=sm_90a" --kernels-only \
      --w8a16=group=32
    ;;
  8b)
    d="$out/8b"
    mkdir -p "$d"
    if [ ! -f "$d/llama3-8b-1l/config.json" ]; then
      "$B/qopt-make-test-model" --arch llama --preset llama3-8b --layers 1 \
        --max-positions 16384 -o "$d/llama3-8b-1l"
    fi
    "$B/qopt-import" "$d/llama3-8b-1l" -o "$d/m.mlir"
    "$B/qopt-calibrate" "$d/m.mlir" --tokens "$calib" --max-sequences 1 \
      -o "$d/calib.mlir" 2>/dev/null
    schemes[6]="w4-rtn|--w4a16"
    schemes[7]="w4-rtn-asym|--w4a16=sym=false"
    variants "$d" "$d/calib.mlir" "chip=sm_90a max-tokens=4096" \
      --kernels-only plain
    # The KV caches at 8B shapes: with the SmoothQuant GEMMs.
    schemes=("sq|--smoothquant")
    variants "$d" "$d/calib.mlir" "chip=sm_90a max-tokens=4096" \
      --kernels-only kv8 kvf8
    # rms_norm + per-token quantize timed at M = 16384 (gpu-check.sh).
    build "$d" sq-m16k "$d/calib.mlir" "chip=sm_90a max-tokens=16384" \
      --kernels-only --smoothquant
    # The tensor-core GEMMs on mma.sync only (no warpgroup-MMA kernels), to
    # time both in one run.
    schemes=("bf16|" "sq|--smoothquant" "fp8|--fp8" "fp8-block|--fp8=weights=block")
    for entry in "${schemes[@]}"; do
      name=${entry%%|*} flags=${entry#*|}
      args=()
      [ -z "$flags" ] || args+=("$flags")
      build "$d" "$name-mma" "$d/calib.mlir" \
        "chip=sm_90a max-tokens=4096 wgmma-rows=0" --kernels-only "${args[@]}"
    done
    ;;
  8b-e2e)
    # The whole Llama-3-8B-shaped model, for gpu-bench.sh: weights read from
    # the checkpoint when the bundle loads (--weights-at-load; the quantized
    # schemes quantize them then, at-load), so a bundle is a few MB. The GPU
    # machine makes the same checkpoint with the same generator command
    # (E2E_MODEL_FLAGS, also in gpu-bench.sh). SmoothQuant's factors come
    # from synthetic statistics (scripts/synthetic-calib.py): it reads the
    # checkpoint here (16 GB).
    d="$out/8b-e2e"
    mkdir -p "$d"
    ck=${CHECKPOINT_8B:-build/bench/llama3-8b}
    if [ ! -f "$ck/model.safetensors.index.json" ]; then
      # shellcheck disable=SC2086
      "$B/qopt-make-test-model" $E2E_MODEL_FLAGS -o "$ck"
    fi
    "$B/qopt-import" "$ck" -o "$d/m.mlir"
    "$B/qopt" "$d/m.mlir" --qopt-insert-observers -o "$d/obs.mlir"
    python3 scripts/synthetic-calib.py "$d/obs.mlir" "$d/calib.mlir"
    schemes=("bf16|" "sq|--smoothquant=at-load" "fp8|--fp8=at-load"
      "w4-rtn|--w4a16=at-load" "w8a16|--w8a16=at-load")
    variants "$d" "$d/calib.mlir" "chip=sm_90a max-tokens=${E2E_MAX_TOKENS:-2048}" \
      --weights-at-load plain
    ;;
  *)
    echo "gpu-bundles: unknown part '$part' (tiny, tiny-kernels, 8b, 8b-e2e)" >&2
    exit 2
    ;;
  esac
done
