//===- Pipelines.h - kernel-level pipelines ---------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H
#define QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt::kernel {

/// Options of `--lower-to-kernels` (and of the kernel half of
/// `--lower-to-nvptx`).
struct LowerToKernelsOptions
    : public PassPipelineOptions<LowerToKernelsOptions> {
  Option<int64_t> maxTokens{*this, "max-tokens",
                            llvm::cl::desc("Rows of the longest prefill"),
                            llvm::cl::init(512)};
  Option<int64_t> maxPositions{
      *this, "max-positions",
      llvm::cl::desc("RoPE table rows (0: max_position_embeddings)"),
      llvm::cl::init(0)};
  Option<std::string> kvCacheType{
      *this, "kv-cache-type",
      llvm::cl::desc("Storage of an unquantized KV cache: bf16 or f32"),
      llvm::cl::init("bf16")};
  Option<int64_t> tileM{*this, "tile-m", llvm::cl::desc("GEMM tile rows"),
                        llvm::cl::init(64)};
  Option<int64_t> tileN{*this, "tile-n", llvm::cl::desc("GEMM tile columns"),
                        llvm::cl::init(64)};
  Option<int64_t> tileK{*this, "tile-k", llvm::cl::desc("GEMM K step"),
                        llvm::cl::init(64)};
  Option<int64_t> warpsM{*this, "warps-m", llvm::cl::desc("Warps along M"),
                         llvm::cl::init(2)};
  Option<int64_t> warpsN{*this, "warps-n", llvm::cl::desc("Warps along N"),
                         llvm::cl::init(2)};
  Option<int64_t> stages{*this, "stages",
                         llvm::cl::desc("GEMM shared-memory stages"),
                         llvm::cl::init(2)};
};

/// Graph IR to planned kernel IR: conversion, fusions, tiles, buffers.
void buildLowerToKernelsPipeline(OpPassManager &pm,
                                 const LowerToKernelsOptions &options);

void registerQKPipelines();

} // namespace mlir::qopt::kernel

#endif // QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H
