#!/usr/bin/env bash
# The GPU suite, run on a machine with an NVIDIA GPU, CUDA, cmake, a C++
# compiler and PyTorch but no MLIR: the bundles are made elsewhere
# (scripts/gpu-bundles.sh) and copied here.
#
#   scripts/gpu-check.sh DATA_DIR BUNDLE_DIR...
#
# DATA_DIR holds tiny-llama-reference.safetensors (eval tokens, greedy ids)
# and prompt_ids.safetensors (the greedy prompt, BOS first, tensor `tokens`).
# Kernels-only bundles (Llama-3-8B shapes) get the kernel checks and the GEMM
# timings; the others get every phase. PHASES (default all) picks phases:
#
#   kernels   qopt-kernel-check: every kernel on random inputs against the CPU
#             backend (ROWS, default 1,7,16,64,100; ROWS_8B, default
#             1,16,100: the weight-streaming kernels of one row, the mma.sync
#             ones up to 64 rows and the warpgroup-MMA ones above; and one
#             row over LONG_SEQ-row caches, default 16384, three seeds: the
#             decode attention at long contexts)
#   memcheck  compute-sanitizer memcheck over the kernel checks of every
#             full bundle (rows 1, 64 and 100) and over one bf16 perplexity
#             window
#   e2e       perplexity on the GPU and on the CPU backend (WINDOWS windows of
#             512 tokens, default 64), the same scored through decode steps
#             (DECODE_WINDOWS, default 2), greedy generation (GPU = CPU), and for
#             a bundle named bf16 every window and the greedy ids against
#             transformers' reference
#   bench     tiny-model prefill / decode tokens/s (bf16, sq and w4-awq
#             bundles; decode from the CUDA graph and with --no-cuda-graphs) and
#             the GEMMs of the kernels-only bundles at M = 1, 16, 512, 4096
#             (and at 1, 16 on the tiled kernels, --no-small-m-kernels)
#             beside PyTorch (scripts/gpu/torch-gemm-bench.py), and the
#             rms_norm + per-token quantize kernels at M = NORM_ROWS (default
#             4096, 16384) beside the copy bandwidth and torch.compile
#             (scripts/gpu/torch-norm-bench.py), and decode attention (one
#             token over ATT_SEQ cached positions, default 4096 and 16384;
#             the split kernel and, --no-small-m-kernels, the unsplit one)
#             beside SDPA (scripts/gpu/torch-attention-bench.py)
#             BENCH (default "tiny gemm norm attention") picks which of these
#             four the bench phase runs.
#   errors    the GPU-only bad-input checks (no driver, no such device, a
#             prompt longer than the KV cache on the GPU)
#
# Kernels-only bundles named *-m16k.bundle (max-tokens 16384) serve the
# rms_norm timings only. Tables go to stdout, logs to $LOG_DIR (default /tmp/qopt-gpu-check).
set -uo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: gpu-check.sh DATA_DIR BUNDLE_DIR...}
shift
logs=${LOG_DIR:-/tmp/qopt-gpu-check}
mkdir -p "$logs"
build=${RUNTIME_BUILD_DIR:-/tmp/qopt-runtime-build}
phases=" ${PHASES:-kernels memcheck e2e bench errors} "
ref="$data/tiny-llama-reference.safetensors"
prompt="$data/prompt_ids.safetensors:tokens"
windows=${WINDOWS:-64}
# TEST_BACKEND=cpu: a dry run of the script on a machine without a GPU.
gpu=${TEST_BACKEND:-cuda}
status=0
has() { [[ $phases == *" $1 "* ]] && t0=$SECONDS; }
took() { echo "(took $((SECONDS - t0)) s)"; }
isKernelsOnly() { ! grep -q '"weights"' "$1/manifest.json"; }

echo "== building the runtime (no MLIR)"
cmake -G Ninja -S runtime -B "$build" -DCMAKE_BUILD_TYPE=Release \
  >"$logs/cmake.log" 2>&1 || { cat "$logs/cmake.log"; exit 1; }
cmake --build "$build" --target qopt-run qopt-cuda-info qopt-kernel-check \
  >"$logs/build.log" 2>&1 || { tail -40 "$logs/build.log"; exit 1; }
run="$build/qopt-run" check="$build/qopt-kernel-check"
if [ "$gpu" = cuda ]; then
  "$build/qopt-cuda-info" >"$logs/cuda-info.txt" 2>&1 || { cat "$logs/cuda-info.txt"; exit 1; }
  head -4 "$logs/cuda-info.txt"
fi

full=() kernelsOnly=() normOnly=()
for b in "$@"; do
  if [[ $b == *-m16k.bundle ]]; then normOnly+=("$b")
  elif isKernelsOnly "$b"; then kernelsOnly+=("$b"); else full+=("$b"); fi
done

if has kernels; then
  echo
  echo "== kernel checks (GPU against the CPU backend, fresh random inputs)"
  echo "| bundle | kernels | checks | failed | worst float error | 8-bit one-step |"
  echo "| --- | --- | --- | --- | --- | --- |"
  summarize() { # summarize NAME LOG: one row of the table
    awk -v n="$1" '
      /^(ok|FAIL)/ { checks++; if ($1 == "FAIL") failed++; k[$2] = 1
                     for (i = 1; i <= NF; i++) if ($i == "rel" && $(i+1) + 0 > worst) worst = $(i+1) + 0
                     for (i = 1; i <= NF; i++) if ($i == "8-bit/int:") one += $(i+1) }
      END { printf "| %s | %d | %d | %d | %.1e | %d |\n", n, length(k), checks, failed, worst, one }' "$2"
    grep '^FAIL' "$2" | head -5
  }
  for b in "${full[@]}"; do
    name=$(basename "$b" .bundle)
    log="$logs/kernels.$name.log"
    "$check" "$b" --backend="$gpu" --rows="${ROWS:-1,7,16,64,100}" >"$log" 2>&1 || status=1
    summarize "$name" "$log"
  done
  # One process for every kernels-only bundle: a kernel they share (the
  # embedding, the lm_head) is checked once.
  if [ ${#kernelsOnly[@]} -gt 0 ]; then
    log="$logs/kernels.8b.log"
    "$check" "${kernelsOnly[@]}" --backend="$gpu" --rows="${ROWS_8B:-1,16,100}" >"$log" 2>&1 || status=1
    summarize "Llama-3-8B shapes (${#kernelsOnly[@]} kernels-only bundles)" "$log"
    # Decode (one row) over a long cache: the split attention kernels at
    # random positions up to LONG_SEQ (default 16384), three seeds.
    log="$logs/kernels.8b.long.log"
    : >"$log"
    for seed in 1 2 3; do
      "$check" "${kernelsOnly[@]}" --backend="$gpu" --rows=1 --seed=$seed \
        --max-seq-len="${LONG_SEQ:-16384}" >>"$log" 2>&1 || status=1
    done
    summarize "Llama-3-8B shapes, one row, ${LONG_SEQ:-16384}-row caches (3 seeds)" "$log"
  fi
  took
fi

if has memcheck && command -v compute-sanitizer >/dev/null; then
  echo
  echo "== compute-sanitizer memcheck"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$check" "${full[@]}" \
    --rows=1,64,100 >"$logs/memcheck.kernels.log" 2>&1 || status=1
  echo "kernel checks of ${#full[@]} bundles: $(awk '/ERROR SUMMARY/ {print $4}' "$logs/memcheck.kernels.log" | tail -1) errors ($(tail -1 "$logs/memcheck.kernels.log" | head -c 200))"
  for b in "${full[@]}"; do
    [ "$(basename "$b")" = bf16.bundle ] || continue
    compute-sanitizer --tool memcheck --error-exitcode 9 "$run" "$b" --backend=cuda \
      --ppl "$ref:eval_sotu_heldout" --seq-len 512 --max-windows 1 \
      >"$logs/memcheck.bf16.log" 2>&1 || status=1
    echo "bf16 perplexity window: $(awk '/ERROR SUMMARY/ {print $4}' "$logs/memcheck.bf16.log" | tail -1) errors"
  done
  took
fi

ppl() { awk '/^perplexity:/ {print $2}' "$1"; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.3f %%", (a / b - 1) * 100 }'; }

if has e2e; then
  echo
  echo "== end to end ($windows windows of 512 tokens of eval_sotu_heldout)"
  echo "| bundle | GPU ppl | CPU-backend ppl | GPU vs CPU | greedy GPU = CPU |"
  echo "| --- | --- | --- | --- | --- |"
  side() { # side BUNDLE BACKEND TAG [THREADS]: perplexity and greedy ids
    local b=$1 be=$2 tag=$3 name
    name=$(basename "$b" .bundle)
    rm -f "$logs/$name.$tag.failed"
    "$run" "$b" --backend="$be" ${4:+--num-threads "$4"} --ppl "$ref:eval_sotu_heldout" \
      --seq-len 512 --max-windows "$windows" >"$logs/$name.$tag.ppl" 2>"$logs/$name.$tag.err" ||
      touch "$logs/$name.$tag.failed"
    "$run" "$b" --backend="$be" ${4:+--num-threads "$4"} --generate-ids "$prompt" \
      --max-new-tokens 48 >"$logs/$name.$tag.gen" 2>&1 || touch "$logs/$name.$tag.failed"
  }
  # The CPU backend gains little from threads at the tiny model's shapes, so
  # the CPU side runs one single-threaded process per bundle, E2E_JOBS at a
  # time, beside the GPU side.
  njobs=${E2E_JOBS:-$(($(nproc) > 2 ? $(nproc) - 1 : 1))}
  (
    for b in "${full[@]}"; do
      while [ "$(jobs -rp | wc -l)" -ge "$njobs" ]; do wait -n; done
      side "$b" cpu cpu 1 &
    done
    wait
  ) &
  cpuSide=$!
  for b in "${full[@]}"; do side "$b" "$gpu" cuda; done
  wait $cpuSide
  for b in "${full[@]}"; do
    name=$(basename "$b" .bundle)
    for tag in cuda cpu; do
      [ ! -e "$logs/$name.$tag.failed" ] || { tail -3 "$logs/$name.$tag.err"; status=1; }
    done
    onGpu=$(ppl "$logs/$name.cuda.ppl") onCpu=$(ppl "$logs/$name.cpu.ppl")
    same=no
    cmp -s <(grep '^tokens:' "$logs/$name.cuda.gen") <(grep '^tokens:' "$logs/$name.cpu.gen") && same=yes
    awk -v a="$onGpu" -v b="$onCpu" 'BEGIN { exit !(a != "" && b != "" && (a / b - 1 < 0.001) && (b / a - 1 < 0.001)) }' || status=1
    echo "| $name | $onGpu | $onCpu | $(rel "$onGpu" "$onCpu") | $same |"
  done
  # The decode path (weight-streaming GEMMs, decode attention, the CUDA
  # graph): DECODE_WINDOWS windows scored one decode step a token.
  dwin=${DECODE_WINDOWS:-2}
  echo
  echo "decode steps ($dwin windows of 512, --ppl-decode):"
  echo "| bundle | GPU ppl | CPU-backend ppl | GPU vs CPU |"
  echo "| --- | --- | --- | --- |"
  for b in "${full[@]}"; do
    name=$(basename "$b" .bundle)
    "$run" "$b" --backend="$gpu" --ppl "$ref:eval_sotu_heldout" --seq-len 512 \
      --max-windows "$dwin" --ppl-decode >"$logs/$name.cuda.dppl" 2>&1 || status=1
    "$run" "$b" --backend=cpu --ppl "$ref:eval_sotu_heldout" --seq-len 512 \
      --max-windows "$dwin" --ppl-decode >"$logs/$name.cpu.dppl" 2>&1 || status=1
    onGpu=$(ppl "$logs/$name.cuda.dppl") onCpu=$(ppl "$logs/$name.cpu.dppl")
    awk -v a="$onGpu" -v b="$onCpu" 'BEGIN { exit !(a != "" && b != "" && (a / b - 1 < 0.001) && (b / a - 1 < 0.001)) }' || status=1
    echo "| $name | $onGpu | $onCpu | $(rel "$onGpu" "$onCpu") |"
  done
  for b in "${full[@]}"; do
    [ "$(basename "$b")" = bf16.bundle ] || continue
    "$run" "$b" --backend="$gpu" --ppl "$ref:eval_sotu_heldout" --seq-len 512 \
      >"$logs/bf16.cuda.all.ppl" 2>&1 || status=1
    all=$(ppl "$logs/bf16.cuda.all.ppl")
    echo
    echo "bf16 bundle on the GPU, every window: $all; transformers bf16 autocast 89.574: $(rel "$all" 89.574)"
    echo "bf16 greedy (48 tokens) on the GPU: $(grep '^tokens:' "$logs/bf16.cuda.gen" | head -c 300)"
  done
  took
fi

bench=" ${BENCH:-tiny gemm norm attention} "
part() { [[ $bench == *" $1 "* ]]; }
if has bench; then
  part tiny && echo && echo "== tiny-model throughput (prefill 512 tokens, decode 64)"
  for b in "${full[@]}"; do
    part tiny || break
    case $(basename "$b") in bf16.bundle|sq.bundle|w4-awq.bundle) ;; *) continue ;; esac
    name=$(basename "$b" .bundle)
    "$run" "$b" --backend="$gpu" --bench --seq-len 512 --max-new-tokens 64 \
      >"$logs/$name.bench" 2>&1 || status=1
    echo "$name: $(grep -E 'prefill|decode' "$logs/$name.bench" | grep 'tokens/s' | tr '\n' ';')"
    # Decode launched kernel by kernel instead of from the CUDA graph.
    "$run" "$b" --backend="$gpu" --bench --seq-len 512 --max-new-tokens 64 \
      --no-cuda-graphs >"$logs/$name.nograph.bench" 2>&1 || status=1
    echo "$name --no-cuda-graphs: $(grep -E '^decode' "$logs/$name.nograph.bench" | grep 'tokens/s')"
    # Decode on the tiled GEMM kernels instead of the weight-streaming ones.
    "$run" "$b" --backend="$gpu" --bench --seq-len 512 --max-new-tokens 64 \
      --no-small-m-kernels >"$logs/$name.tiled.bench" 2>&1 || status=1
    echo "$name --no-small-m-kernels: $(grep -E '^decode' "$logs/$name.tiled.bench" | grep 'tokens/s')"
  done
  if [ ${#kernelsOnly[@]} -gt 0 ] && part gemm; then
    echo
    echo "== GEMMs at Llama-3-8B shapes beside PyTorch"
    csv="$logs/gemm.csv"
    "$check" "${kernelsOnly[@]}" --backend="$gpu" --bench="${BENCH_ROWS:-1,16,512,4096}" \
      >"$csv" 2>"$logs/gemm.err" || { tail -3 "$logs/gemm.err"; status=1; }
    # The same GEMMs at M <= 16 on the tiled kernels (their rows follow).
    "$check" "${kernelsOnly[@]}" --backend="$gpu" --bench="${SMALL_ROWS:-1,16}" \
      --no-small-m-kernels 2>>"$logs/gemm.err" | tail -n +2 >>"$csv" || status=1
    python3 scripts/gpu/torch-gemm-bench.py "$csv" 2>"$logs/torch.err" || { tail -5 "$logs/torch.err"; status=1; }
  fi
  if [ $((${#kernelsOnly[@]} + ${#normOnly[@]})) -gt 0 ] && part norm; then
    echo
    echo "== rms_norm + per-token quantize at Llama-3-8B shapes beside PyTorch"
    csv="$logs/norm.csv"
    "$check" "${normOnly[@]}" "${kernelsOnly[@]}" --backend="$gpu" --family=rms_norm \
      --bench="${NORM_ROWS:-4096,16384}" >"$csv" 2>"$logs/norm.err" || { tail -3 "$logs/norm.err"; status=1; }
    python3 scripts/gpu/torch-norm-bench.py "$csv" 2>"$logs/torch-norm.err" || { tail -5 "$logs/torch-norm.err"; status=1; }
  fi
  if [ ${#kernelsOnly[@]} -gt 0 ] && part attention; then
    echo
    echo "== decode attention at Llama-3-8B shapes beside SDPA"
    csv="$logs/attention.csv"
    first=1
    for s in ${ATT_SEQ:-4096 16384}; do
      for flag in "" --no-small-m-kernels; do
        # shellcheck disable=SC2086
        "$check" "${kernelsOnly[@]}" --backend="$gpu" --family=attention --bench=1 \
          --max-seq-len="$s" $flag 2>>"$logs/attention.err" |
          if [ $first = 1 ]; then cat; else tail -n +2; fi >>"$csv" || status=1
        first=0
      done
    done
    python3 scripts/gpu/torch-attention-bench.py "$csv" 2>"$logs/torch-attention.err" || { tail -5 "$logs/torch-attention.err"; status=1; }
  fi
  took
fi

if has errors; then
  echo
  echo "== GPU-only bad input"
  b=${full[0]:-}
  expect() { # expect NAME MESSAGE COMMAND...: non-zero exit and MESSAGE on stderr
    local name=$1 msg=$2
    shift 2
    local out rc
    out=$("$@" 2>&1 >/dev/null)
    rc=$?
    if [ $rc -ne 0 ] && grep -qF -- "$msg" <<<"$out"; then
      echo "ok   $name: $(head -1 <<<"$out")"
    else
      echo "FAIL $name (exit $rc): $out"
      status=1
    fi
  }
  if [ -n "$b" ]; then
    expect "no driver" "no CUDA driver" \
      env QOPT_LIBCUDA=/nonexistent/libcuda.so.1 "$run" "$b" --backend=cuda --generate-ids "$prompt"
    expect "no such device" "no CUDA device 7" \
      "$run" "$b" --backend=cuda --device 7 --generate-ids "$prompt"
    expect "prompt longer than the KV cache" "more than the KV cache of 4 rows" \
      "$run" "$b" --backend=cuda --max-seq-len 4 --generate-ids "$prompt"
    [ ${#kernelsOnly[@]} -eq 0 ] ||
      expect "kernels-only bundle" "kernels-only bundle" \
        "$run" "${kernelsOnly[0]}" --backend=cuda --generate-ids "$prompt"
  fi
fi
echo
echo "(suite: $SECONDS s, exit $status)"
exit $status
