//===- TestSimtPasses.td - Test passes of the CUDA-core kernels -*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Registered by the qopt tool only (under the qopt-test- prefix), never by
// registerAllPasses().
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TEST_CODEGEN_TESTSIMTPASSES_TD
#define QOPT_TEST_CODEGEN_TESTSIMTPASSES_TD

include "mlir/Pass/PassBase.td"

def QoptTestBuildSimtKernels
    : Pass<"qopt-test-build-simt-kernels", "::mlir::ModuleOp"> {
  let summary = "Writes one CUDA-core kernel from a spec given as options";
  let description = [{
    Calls the kernel builder of `kind` (rms_norm, quantize, embedding,
    rope_append, attention, elementwise, argmax, permute_columns) with a
    spec made of the
    options, appending the `gpu.func` to `gpu.module @qopt_kernels` (created
    when absent; the module gets `gpu.container_module`). The launch
    configuration the builder returns is recorded in the module attribute
    `qopt_test.launch` (a dictionary keyed by kernel name), so tests can
    check it. Run the pass several times to put several kernels in one
    module. Options that a kind does not use are ignored; `hidden` is the
    row length (the features of elementwise kernels), element types are
    f32, bf16, f16, i8, e4m3, i32, and cache scales none, tensor, head,
    token.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"kind", "kind", "std::string", /*default=*/"\"\"",
           "Kernel family: rms_norm, quantize, embedding, rope_append, "
           "attention, elementwise, argmax, permute_columns">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU: sm_80, sm_89, sm_90a">,
    Option<"kernelName", "name", "std::string", /*default=*/"\"\"",
           "Kernel name (default: the kind)">,
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"16",
           "Rows of the activations">,
    Option<"hidden", "hidden", "int64_t", /*default=*/"0",
           "Row length (hidden size, or features)">,
    Option<"vocab", "vocab", "int64_t", /*default=*/"0",
           "Vocabulary size (embedding, argmax)">,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-5",
           "rms_norm epsilon">,
    Option<"weightType", "weight-type", "std::string", /*default=*/"\"f32\"",
           "rms_norm weight type">,
    Option<"tableType", "table-type", "std::string", /*default=*/"\"bf16\"",
           "Embedding table type">,
    Option<"outType", "out-type", "std::string", /*default=*/"\"f32\"",
           "Output type">,
    Option<"inType", "in-type", "std::string", /*default=*/"\"f32\"",
           "Input type (permute_columns)">,
    Option<"dynamic", "dynamic", "bool", /*default=*/"false",
           "Per-token dynamic quantization">,
    Option<"staticScale", "static-scale", "bool", /*default=*/"false",
           "Static quantization scale (rms_norm)">,
    Option<"asymmetric", "asymmetric", "bool", /*default=*/"false",
           "Static zero point">,
    Option<"blockThreads", "block-threads", "int64_t", /*default=*/"256",
           "Threads per block (rms_norm, quantize)">,
    Option<"heads", "heads", "int64_t", /*default=*/"0", "Query heads">,
    Option<"warps", "warps", "int64_t", /*default=*/"4",
           "Warps per attention block">,
    Option<"splits", "splits", "int64_t", /*default=*/"1",
           "attention: blocks of a cluster splitting the keys">,
    Option<"kvHeads", "kv-heads", "int64_t", /*default=*/"0",
           "Key/value heads">,
    Option<"headDim", "head-dim", "int64_t", /*default=*/"0", "Head size">,
    Option<"maxPositions", "max-positions", "int64_t", /*default=*/"0",
           "Rows of the RoPE table (default: max-seq)">,
    Option<"maxSeq", "max-seq", "int64_t", /*default=*/"0",
           "Rows of the KV caches">,
    Option<"kStorage", "k-storage", "std::string", /*default=*/"\"bf16\"",
           "Key cache storage">,
    Option<"vStorage", "v-storage", "std::string", /*default=*/"\"bf16\"",
           "Value cache storage">,
    Option<"kScales", "k-scales", "std::string", /*default=*/"\"none\"",
           "Key cache scales">,
    Option<"vScales", "v-scales", "std::string", /*default=*/"\"none\"",
           "Value cache scales">,
    Option<"causal", "causal", "bool", /*default=*/"true", "Causal attention">,
    Option<"scale", "scale", "double", /*default=*/"0.0",
           "Attention score scale (0: 1 / sqrt(head-dim))">,
    Option<"slidingWindow", "sliding-window", "int64_t", /*default=*/"0",
           "Attention window (0: none)">,
    Option<"op", "op", "std::string", /*default=*/"\"add\"",
           "Elementwise operation: add, mul, silu_mul">,
  ];
}

#endif // QOPT_TEST_CODEGEN_TESTSIMTPASSES_TD
