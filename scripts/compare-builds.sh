#!/usr/bin/env bash
# Checks that two builds of qopt compute the same numbers: quantizes the
# bundled tiny Llama with every scheme of docs/accuracy.md using each build's
# tools (calibrated on 8 x 512 reference tokens), writes the logits of the
# reference sequences (4 x 256) and compares them byte for byte. For
# restructurings that must not change any result.
#
#   ./scripts/compare-builds.sh BIN_A BIN_B [OUT_DIR]
#
# BIN_A, BIN_B: directories holding qopt, qopt-import, qopt-calibrate and
# qopt-run. Prints one line per scheme and exits 1 when any logits differ.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 BIN_A BIN_B [OUT_DIR]" >&2; exit 2; }
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd)
OUT=${3:-build/compare-builds}
SHARED=$(cd ../shared && pwd)
REF=$SHARED/data/tiny-llama-reference.safetensors
schemes=(
  ""
  "--smoothquant"
  "--smoothquant=act=static-sym"
  "--smoothquant=act=static-asym"
  "--fp8=weights=tensor act=tensor-static"
  "--fp8"
  "--fp8=weights=block"
  "--w8a16"
  "--w4a16=method=rtn sym=true"
  "--w4a16=method=awq sym=true"
  "--w4a16=method=gptq sym=true"
  "--w4a16=method=rtn sym=false"
  "--w4a16=method=awq sym=false"
  "--w4a16=method=gptq sym=false"
  "--kv-cache=dtype=i8 granularity=tensor"
  "--kv-cache=dtype=i8 granularity=token"
  "--kv-cache=dtype=f8E4M3FN granularity=head"
)
run() { # BIN DIR
  local bin=$1 dir=$2 i=0
  mkdir -p "$dir"
  "$bin/qopt-import" "$SHARED/models/qopt-tiny-llama" -o "$dir/model.mlir"
  "$bin/qopt-calibrate" "$dir/model.mlir" --tokens "$REF:calib_tokens" \
    --max-sequences 8 -o "$dir/model.calib.mlir" 2>/dev/null
  for s in "${schemes[@]}"; do
    i=$((i + 1))
    if [ -z "$s" ]; then
      cp "$dir/model.calib.mlir" "$dir/s$i.mlir"
    else
      "$bin/qopt" "$dir/model.calib.mlir" "$s" -o "$dir/s$i.mlir"
    fi
    "$bin/qopt-run" "$dir/s$i.mlir" --logits "$REF:ref_seqs" \
      -o "$dir/s$i.logits.safetensors" >/dev/null
  done
}
rm -rf "$OUT"
run "$A" "$OUT/a"
run "$B" "$OUT/b"
status=0 i=0
for s in "${schemes[@]}"; do
  i=$((i + 1))
  if cmp -s "$OUT/a/s$i.logits.safetensors" "$OUT/b/s$i.logits.safetensors"; then
    echo "identical: ${s:-float}"
  else
    echo "DIFFERENT: ${s:-float}"
    status=1
  fi
done
exit $status
