//===- Passes.td - qopt conversion passes ------------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_PASSES_TD
#define QOPT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQoptToKernels : Pass<"convert-qopt-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Lowers quantized qopt graph IR to qk kernel ops";
  let description = [{
    Rewrites the model function, op by op, into one `qk` kernel op per
    launch: embedding, rms_norm, quantize (per-token dynamic or static
    per-tensor, and the bf16 conversion of a bf16 GEMM's input), GEMMs
    (`qopt.linear` as bf16 x bf16, `qopt.quantized_linear` for W8A8, FP8,
    W8A16, W4A16), RoPE, attention (a `qk.kv_cache` per layer, a
    `qk.kv_append` and a `qk.attention`), `silu(x) * y` as `qk.silu_mul`,
    add and mul. Inline scales of static schemes become `arith.constant`
    operands, RoPE frequencies a `qk.rope_table`. The function gains a
    second result: the greedy next token (`qk.argmax` of the last row).
    Calibration observers are dropped. An op with no kernel (layer_norm,
    gelu, a lone silu, dequantize, requantize, scale_channels) is an error
    naming it.

    ```mlir
    %y = qopt.linear %x, %w : (tensor<?x384xf32>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    // becomes
    %xb = qk.quantize %x : tensor<?x384xf32> -> tensor<?x384xbf16>
    %y = qk.gemm %xb, %w : (tensor<?x384xbf16>, tensor<384x384xbf16>) -> tensor<?x384xf32>
    ```
  }];
  let options = [
    Option<"maxPositions", "max-positions", "int64_t", /*default=*/"0",
           "Rows of the RoPE tables (0: the model's max_position_embeddings)">,
    Option<"kvCacheType", "kv-cache-type", "std::string", /*default=*/"\"f32\"",
           "Storage of an unquantized KV cache: f32 (the graph IR's semantics) or bf16 (half the memory)">,
  ];
  let dependentDialects = ["::mlir::qopt::kernel::QKDialect",
                           "::mlir::arith::ArithDialect"];
}

def ConvertKernelsToGPU : Pass<"convert-kernels-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Writes the kernel of every qk op as a gpu.func";
  let description = [{
    Creates `gpu.module @qopt_kernels` and, for each kernel op of the model
    function in launch order, derives its kernel spec and generates the
    kernel through the op's `KernelCodegenOpInterface`: tensor-core GEMMs
    (mma.sync fed by cp.async and ldmatrix; with `wgmma`, sm_90a
    warpgroup MMAs from swizzled shared memory for launches of many tokens,
    the mma.sync kernel kept for fewer) and SIMT kernels for norms,
    quantization, RoPE + KV append, attention, elementwise ops and argmax.
    Records `qk.kernel`, `qk.launch`, `qk.spec` and `qk.params` on each op.

    With `grid-dependency` (sm_90a), each kernel waits for the kernels
    launched before it (`nvvm.griddepcontrol wait`) before it touches any
    buffer, then lets the next one launch (`launch_dependents`), and the
    module gets `qk.grid_dependency`: the bundle says so, and the runtime
    launches its kernels with programmatic stream serialization, so that a
    kernel's launch and start overlap the end of the one before it. A
    weight-streaming GEMV kernel first asks for its block's first weights
    (`cp.async.bulk.prefetch.L2`, 32 KiB a block): weights are never
    written, so they may be read before the wait.
    What the chip cannot run (an e4m3 GEMM on sm_80, a `wgmma` tile below
    sm_90a), an unfused RoPE and unplanned buffers are errors naming the op.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU: sm_80, sm_89 or sm_90a">,
    Option<"attentionWarps", "attention-warps", "int64_t", /*default=*/"16",
           "Warps per attention block (1 to 32): each takes 4 keys at a "
           "time, so more warps walk a long KV cache in fewer steps (16: "
           "decode 1.35x faster than 4 at 1,000 cached positions on an "
           "H200, prefill within 3 %)">,
    Option<"attentionSplits", "attention-splits", "int64_t",
           /*default=*/"0",
           "Flash-decoding: one-row launches (decode) of each attention "
           "run a second kernel whose keys are split across this many "
           "blocks of a thread-block cluster, merged through distributed "
           "shared memory (1 to 8; 1: none; 0: 8 on sm_90a, else 1)">,
    Option<"gridDependency", "grid-dependency", "bool", /*default=*/"true",
           "On sm_90a, every kernel starts with griddepcontrol.wait and "
           "launch_dependents, so that the runtime may launch it while the "
           "kernel ahead of it finishes (programmatic dependent launch); "
           "weight-streaming kernels first prefetch their first weights "
           "into the L2">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

#endif // QOPT_CONVERSION_PASSES_TD
