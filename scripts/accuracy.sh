#!/usr/bin/env bash
# Measures the perplexity of every quantization scheme on the bundled tiny
# Llama (CPU executor, exact simulation of the quantized ops) and prints the
# table of docs/accuracy.md. Calibration: all of calib_tokens (128 x 512);
# evaluation: eval_sotu_heldout, windows of 512.
#
#   ./scripts/accuracy.sh [OUT_DIR]        (about 15 minutes on 2 cores)
#
# QOPT_BIN names another directory of qopt binaries (default build/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${QOPT_BIN:-$PWD/build/bin}
SHARED=$(cd ../shared && pwd)
REF=$SHARED/data/tiny-llama-reference.safetensors
OUT=${1:-build/accuracy}
mkdir -p "$OUT"
cd "$OUT"

"$B/qopt-import" "$SHARED/models/qopt-tiny-llama" -o model.mlir
if [ ! -f model.calib.mlir ]; then
  "$B/qopt-calibrate" model.mlir --tokens "$REF:calib_tokens" \
    -o model.calib.mlir 2>/dev/null
fi

ppl() { "$B/qopt-run" "$1" --ppl "$REF:eval_sotu_heldout" --seq-len 512 \
          2>/dev/null | sed -n 's/^perplexity: //p'; }
BASE=$(ppl model.calib.mlir)

# row NAME TARGET_PERCENT(or -) INPUT QOPT_ARGS...
row() {
  local name=$1 target=$2 input=$3; shift 3
  local file
  file=$(echo "$name" | tr -c 'A-Za-z0-9\n' '_').mlir
  if [ $# -gt 0 ]; then
    if ! "$B/qopt" "$input" "$@" -o "$file" 2>"$file.err"; then
      echo "| $name | \`$*\` | failed: $(head -1 "$file.err") | | |"
      return
    fi
  else
    file=$input
  fi
  local p
  p=$(ppl "$file")
  awk -v n="$name" -v p="$p" -v b="$BASE" -v t="$target" -v c="$*" 'BEGIN {
    d = (p / b - 1) * 100
    verdict = "";
    if (t != "-") verdict = (d <= t + 1e-9) ? "met (<= +" t " %)" : "**missed** (target +" t " %)";
    printf "| %s | `%s` | %.4f | %+.2f %% | %s |\n", n, c, p, d, verdict
  }'
}

echo "| Scheme | qopt flags | Perplexity | vs FP32 | Target |"
echo "|---|---|---|---|---|"
row "FP32 (reference)" - model.calib.mlir
row "W8A8 INT8 SmoothQuant, per-token dynamic" 2 model.calib.mlir --smoothquant
row "W8A8 INT8 SmoothQuant, static per-tensor sym" - model.calib.mlir "--smoothquant=act=static-sym"
row "W8A8 INT8 SmoothQuant, static per-tensor asym" 5 model.calib.mlir "--smoothquant=act=static-asym"
row "FP8 per-tensor (static)" 1 model.calib.mlir "--fp8=weights=tensor act=tensor-static"
row "FP8 per-channel + per-token" 1 model.calib.mlir --fp8
row "FP8 block 128x128 + per-token" 1 model.calib.mlir "--fp8=weights=block"
row "W8A16 per-channel" - model.calib.mlir --w8a16
for sym in true false; do
  s=$([ $sym = true ] && echo sym || echo asym)
  row "W4A16 g128 RTN $s" 6 model.calib.mlir "--w4a16=method=rtn sym=$sym"
  row "W4A16 g128 AWQ $s" 6 model.calib.mlir "--w4a16=method=awq sym=$sym"
  row "W4A16 g128 GPTQ $s" 6 model.calib.mlir "--w4a16=method=gptq sym=$sym"
done
for dt in i8 f8E4M3FN; do
  for g in tensor head token; do
    t=-
    [ $dt = i8 ] && [ $g = token ] && t=1
    row "KV $dt per-$g" $t model.calib.mlir "--kv-cache=dtype=$dt granularity=$g"
  done
done

# Outliers: an equivalent model whose activations have 4 channels x50 per
# normalization group.
"$B/qopt" model.calib.mlir --qopt-test-inject-outliers -o outliers.mlir 2>/dev/null
echo
echo "| Outlier model (4 channels x50 per norm group) | qopt flags | Perplexity | vs FP32 | |"
echo "|---|---|---|---|---|"
row "FP32, outliers injected" - outliers.mlir
row "W8A8 naive static per-tensor sym (no smoothing)" - outliers.mlir --qopt-quantize-weights "--qopt-quantize-activations=mode=static granularity=tensor" --qopt-strip-observers
row "W8A8 naive dynamic per-token (no smoothing)" - outliers.mlir --qopt-quantize-weights --qopt-quantize-activations --qopt-strip-observers
row "W8A8 SmoothQuant static per-tensor sym" - outliers.mlir "--smoothquant=act=static-sym"
row "W8A8 SmoothQuant per-token dynamic" - outliers.mlir --smoothquant
