//===- TestCodegenPasses.td - Test passes of the GPU codegen -*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Test-only passes that run the kernel builders on a spec given as pass
// options. Registered by the qopt tool only (qopt-test- prefix).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TEST_CODEGEN_TESTCODEGENPASSES_TD
#define QOPT_TEST_CODEGEN_TESTCODEGENPASSES_TD

include "mlir/Pass/PassBase.td"

def QoptTestBuildGemm : Pass<"qopt-test-build-gemm", "::mlir::ModuleOp"> {
  let summary = "Generates one tensor-core GEMM kernel from a spec in options";
  let description = [{
    Builds the GEMM kernel the options describe (a GemmSpec) with
    buildGemmKernel into `gpu.module @qopt_kernels` (created when absent;
    the module becomes a `gpu.container_module`). The launch configuration
    the builder returns is attached to the kernel as the discardable
    attribute `qopt_test.launch` (block, grid_token_tile, grid_per_tile,
    grid_y, shared_bytes). A spec the builder rejects fails the pass with
    the builder's diagnostic.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"kernelName", "name", "std::string", /*default=*/"\"gemm\"",
           "Kernel (gpu.func) name">,
    Option<"kind", "kind", "std::string", /*default=*/"\"bf16\"",
           "Operand types: bf16, s8, e4m3, w8a16 or w4a16">,
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"64",
           "Rows of A (the largest m)">,
    Option<"n", "n", "int64_t", /*default=*/"128", "Output columns">,
    Option<"k", "k", "int64_t", /*default=*/"128", "Reduction size">,
    Option<"aScale", "a-scale", "std::string", /*default=*/"\"none\"",
           "A scales: none, tensor or token">,
    Option<"bScale", "b-scale", "std::string", /*default=*/"\"none\"",
           "B scales: none, tensor, channel, group or block">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "K per group of per-group B scales">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "N per block of block B scales">,
    Option<"blockK", "block-k", "int64_t", /*default=*/"0",
           "K per block of block B scales">,
    Option<"zeroPoints", "zero-points", "bool", /*default=*/"false",
           "W4A16 per-group zero points">,
    Option<"intBias", "int-bias", "bool", /*default=*/"false",
           "S8 i32 bias added to the accumulator">,
    Option<"bias", "bias", "bool", /*default=*/"false", "f32 bias">,
    Option<"gated", "gated", "bool", /*default=*/"false",
           "silu(A Bgate^T) * (A Bup^T)">,
    Option<"residual", "residual", "bool", /*default=*/"false",
           "Adds an f32 residual">,
    Option<"outType", "out", "std::string", /*default=*/"\"f32\"",
           "Output type: f32, bf16, i8 or e4m3">,
    Option<"outAsymmetric", "out-asymmetric", "bool", /*default=*/"false",
           "i8 output with a zero point">,
    Option<"bm", "bm", "int64_t", /*default=*/"64", "Tile rows">,
    Option<"bn", "bn", "int64_t", /*default=*/"64", "Tile columns">,
    Option<"bk", "bk", "int64_t", /*default=*/"64", "Tile K">,
    Option<"warpsM", "warps-m", "int64_t", /*default=*/"2", "Warps along M">,
    Option<"warpsN", "warps-n", "int64_t", /*default=*/"2", "Warps along N">,
    Option<"stages", "stages", "int64_t", /*default=*/"2",
           "Shared-memory buffers">,
    Option<"promoteK", "promote-k", "int64_t", /*default=*/"0",
           "wgmma e4m3: move the partial sums into float32 every this much "
           "of K (0: never)">,
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "sm_90a warpgroup-MMA tile (warps-m = bm / 16, warps-n = 1, bk = "
           "128 bytes)">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU: sm_80, sm_89 or sm_90a">,
    Option<"gemvRows", "gemv-rows", "int64_t", /*default=*/"0",
           "Build the weight-streaming kernel for this many rows instead">,
    Option<"gemvWarps", "gemv-warps", "int64_t", /*default=*/"8",
           "Its warps per block">,
    Option<"gemvKSplit", "gemv-k-split", "int64_t", /*default=*/"1",
           "Its warps per column pair">,
    Option<"gridDependency", "grid-dependency", "bool", /*default=*/"false",
           "The weight-streaming kernel prefetches its first weights, then "
           "waits for its grid dependencies (sm_90a)">,
  ];
}

#endif // QOPT_TEST_CODEGEN_TESTCODEGENPASSES_TD
