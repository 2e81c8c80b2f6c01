//===- Passes.td - qk dialect passes -----------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_TD
#define QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QKFuseNormQuantize : Pass<"qk-fuse-norm-quantize"> {
  let summary = "Fuses rms_norm with the quantization of its output";
  let description = [{
    A `qk.quantize` (per-token dynamic, static per-tensor, or the bf16
    conversion of a bf16 GEMM's input) whose input is an rms_norm used by
    nothing else becomes the rms_norm's output stage: one kernel.

    ```mlir
    %y = qk.rms_norm %x, %w {epsilon = 1.0e-05} : (tensor<?x384xf32>, tensor<384xf32>) -> tensor<?x384xf32>
    %q, %s = qk.quantize %y {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x384xf32> -> tensor<?x384xi8>, tensor<?xf32>
    // becomes
    %q, %s = qk.rms_norm %x, %w {epsilon = 1.0e-05, out_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : (tensor<?x384xf32>, tensor<384xf32>) -> tensor<?x384xi8>, tensor<?xf32>
    ```
  }];
}

def QKFuseGatedMLP : Pass<"qk-fuse-gated-mlp"> {
  let summary = "Fuses the gate and up GEMMs of an MLP with silu(gate) * up";
  let description = [{
    `silu_mul(gemm(A, Wg), gemm(A, Wu))` with both GEMMs reading one `A`
    with one input scheme, used by nothing else and without epilogues,
    becomes one GEMM with an `up` weight: the kernel loads each tile of `A`
    once, accumulates both products and writes `silu(gate) * up`.
  }];
}

def QKFuseGemmEpilogue : Pass<"qk-fuse-gemm-epilogue"> {
  let summary = "Fuses residual adds and static output quantization into GEMMs";
  let description = [{
    `add(x, gemm(...))` (either order) becomes the GEMM's `residual` when the
    GEMM's result has no other use and `x` is available before it; a static
    per-tensor `qk.quantize` of a GEMM's result becomes its `out_scheme`
    (the kernel quantizes in registers). Dynamic per-token quantization
    needs a whole row, which one GEMM tile does not hold: it stays a
    kernel of its own.
  }];
}

def QKFuseOutputConversion : Pass<"qk-fuse-output-conversion"> {
  let summary = "Writes bf16 directly where the next GEMM reads bf16";
  let description = [{
    The bf16 conversion (`qk.quantize` without a scheme) of a result of
    attention, silu_mul, add, permute_columns or a GEMM without output
    quantization, when that result has no other use, is folded into the
    producer, which then stores bf16.
  }];
}

def QKFuseRopeKVAppend : Pass<"qk-fuse-rope-kv-append"> {
  let summary = "Fuses RoPE of queries and keys with the KV-cache append";
  let description = [{
    `kv_append(rope(k), v)` together with the `rope(q)` that feeds the
    attention over the same cache (same positions, same table) becomes one
    `qk.rope_kv_append`: one kernel rotates q and k, writes the rotated q,
    and quantizes and appends k and v.
  }];
}

def QKSelectTiles : Pass<"qk-select-tiles"> {
  let summary = "Chooses the thread-block tile of every GEMM";
  let description = [{
    Sets `tile` on each `qk.gemm` from the options (the defaults suit
    mma.sync on sm_80 to sm_90a), shrinking `bn` to a divisor of N when N is
    not a multiple of it. A tile the kernels cannot use (not multiples of
    the mma shape, more than 8 warps, a weight group that is neither a
    multiple nor a divisor of `bk`)
    is an error naming the GEMM.

    Each GEMM whose weight rows split into 16-byte vectors (and whose
    weight groups into whole vectors) also gets `gemv`: weight-streaming
    kernels for launches of at most `gemv-rows` tokens (decode). `k_split`
    is the smallest power of two dividing `gemv-warps` that gives at least
    528 blocks (four per SM of a 132-SM GPU), short of leaving a warp less
    than one 32-vector step of K.

    With `wgmma-rows`, each bf16 x bf16, s8 x s8 and e4m3 x e4m3 GEMM whose
    K splits into 128-byte steps (and whose weight groups into whole steps)
    also gets `wgmma`: launches of at least that many tokens run an sm_90a
    warpgroup-MMA kernel with the `wgmma-tile-*` / `wgmma-stages` tile,
    and launches of up to `wgmma-small-rows` tokens a one-warpgroup
    variant (64 rows) with as many buffers as fit.
  }];
  let options = [
    Option<"tileM", "tile-m", "int64_t", "64", "Rows of A per block">,
    Option<"tileN", "tile-n", "int64_t", "64", "Columns of the output per block">,
    Option<"tileK", "tile-k", "int64_t", "64", "K step per pipeline stage">,
    Option<"warpsM", "warps-m", "int64_t", "2", "Warps along M">,
    Option<"warpsN", "warps-n", "int64_t", "2", "Warps along N">,
    Option<"stages", "stages", "int64_t", "2", "Shared-memory pipeline depth">,
    ListOption<"gemvRows", "gemv-rows", "int64_t",
               "Token counts that get weight-streaming kernels (none given: "
               "1; 0: none)">,
    Option<"gemvWarps", "gemv-warps", "int64_t", "8",
           "Warps per weight-streaming block">,
    Option<"wgmmaRows", "wgmma-rows", "int64_t", "0",
           "Launches of at least this many tokens run sm_90a warpgroup-MMA "
           "kernels (bf16, s8 and e4m3 GEMMs; 0: none)">,
    Option<"wgmmaTileM", "wgmma-tile-m", "int64_t", "128",
           "Rows of a warpgroup-MMA block (64 or 128: one or two "
           "warpgroups)">,
    Option<"wgmmaTileN", "wgmma-tile-n", "int64_t", "128",
           "Columns of a warpgroup-MMA block (a multiple of 16 up to 256; "
           "at most 128 for a gated GEMM)">,
    Option<"wgmmaStages", "wgmma-stages", "int64_t", "0",
           "Shared-memory buffers of a warpgroup-MMA kernel (3 to 8; 0: as "
           "many as fit in 227 KiB)">,
    Option<"wgmmaSmallRows", "wgmma-small-rows", "int64_t", "64",
           "Launches of wgmma-rows up to this many tokens run a "
           "one-warpgroup warpgroup-MMA variant (64 rows, as many buffers as "
           "fit; 0: none)">,
    Option<"wgmmaFp8FastAccum", "wgmma-fp8-fast-accum", "bool", "false",
           "e4m3 warpgroup-MMA GEMMs without block scales keep their sums "
           "in the wgmma accumulator for all of K instead of moving them "
           "into float32 every 128 (faster, less precise)">,
  ];
}

def QKPlanBuffers : Pass<"qk-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Assigns every kernel result a slot of one activation arena";
  let description = [{
    Sizes each `[tokens, features]` result for `max-tokens` rows, computes
    its live range over the launch order, and packs the results into one
    arena, first fit, 256-byte aligned, reusing the slots of dead values
    across layers. Records `qk.buffers` (one byte offset per result) on each
    kernel op, and `qk.arena_bytes` and `qk.max_tokens` on the function.
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", "512",
           "Rows of the longest prefill the arena holds">,
  ];
}

def QKVerifyContract : Pass<"qk-verify-contract", "::mlir::ModuleOp"> {
  let summary = "Checks that a module is a complete kernel-level program";
  let description = [{
    After `--lower-to-nvptx`: the model function holds only kernel ops,
    weights, constants and RoPE tables; every kernel op has its buffers
    planned; with `require-kernels`, every kernel op names a kernel of a
    `gpu.binary` and carries its launch shape.
  }];
  let options = [
    Option<"requireKernels", "require-kernels", "bool", "true",
           "Require generated kernels (after codegen)">,
  ];
}

#endif // QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_TD
