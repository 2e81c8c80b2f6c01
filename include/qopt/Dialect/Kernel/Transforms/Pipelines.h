//===- Pipelines.h - kernel-level pipelines ---------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H
#define QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <vector>

namespace mlir::qopt::kernel {

/// Options of `--lower-to-kernels` and of the kernel half of
/// `--lower-to-nvptx`.
template <typename Derived>
struct KernelLoweringOptions : public PassPipelineOptions<Derived> {
  template <typename T>
  using Option = typename PassPipelineOptions<Derived>::template Option<T>;
  Option<int64_t> maxTokens{*this, "max-tokens",
                            llvm::cl::desc("Rows of the longest prefill"),
                            llvm::cl::init(512)};
  Option<int64_t> maxPositions{
      *this, "max-positions",
      llvm::cl::desc("RoPE table rows (0: max_position_embeddings)"),
      llvm::cl::init(0)};
  Option<std::string> kvCacheType{
      *this, "kv-cache-type",
      llvm::cl::desc("Storage of an unquantized KV cache: f32 (the graph IR's "
                     "semantics) or bf16 (half the memory)"),
      llvm::cl::init("f32")};
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
  template <typename T>
  using ListOption =
      typename PassPipelineOptions<Derived>::template ListOption<T>;
  ListOption<int64_t> gemvRows{
      *this, "gemv-rows",
      llvm::cl::desc("Token counts that get weight-streaming GEMM kernels "
                     "(default 1; 0: none)")};
  Option<int64_t> gemvWarps{*this, "gemv-warps",
                            llvm::cl::desc("Warps per weight-streaming block"),
                            llvm::cl::init(8)};
  Option<int64_t> wgmmaRows{
      *this, "wgmma-rows",
      llvm::cl::desc("Launches of at least this many tokens run sm_90a "
                     "warpgroup-MMA GEMMs (0: none; -1: 2 for "
                     "--lower-to-nvptx on sm_90a, else none)"),
      llvm::cl::init(-1)};
  Option<int64_t> wgmmaTileM{
      *this, "wgmma-tile-m",
      llvm::cl::desc("Rows of a warpgroup-MMA block (64 or 128)"),
      llvm::cl::init(128)};
  Option<int64_t> wgmmaTileN{
      *this, "wgmma-tile-n",
      llvm::cl::desc("Columns of a warpgroup-MMA block (16 to 256)"),
      llvm::cl::init(128)};
  Option<int64_t> wgmmaStages{
      *this, "wgmma-stages",
      llvm::cl::desc("Buffers of a warpgroup-MMA kernel (3 to 8; 0: as many "
                     "as fit)"),
      llvm::cl::init(0)};
  Option<int64_t> wgmmaSmallRows{
      *this, "wgmma-small-rows",
      llvm::cl::desc("Launches of up to this many tokens run a one-warpgroup "
                     "warpgroup-MMA variant (0: none)"),
      llvm::cl::init(64)};
  Option<bool> wgmmaFp8FastAccum{
      *this, "wgmma-fp8-fast-accum",
      llvm::cl::desc("e4m3 warpgroup-MMA GEMMs keep their sums in the wgmma "
                     "accumulator for all of K (faster, less precise)"),
      llvm::cl::init(false)};
};

struct LowerToKernelsOptions
    : public KernelLoweringOptions<LowerToKernelsOptions> {};

/// Graph IR to planned kernel IR: conversion, fusions, tiles, buffers.
/// The option values, independent of which pipeline parsed them.
struct KernelLoweringConfig {
  int64_t maxTokens = 512, maxPositions = 0;
  std::string kvCacheType = "f32";
  int64_t tileM = 64, tileN = 64, tileK = 64, warpsM = 2, warpsN = 2,
          stages = 2;
  std::vector<int64_t> gemvRows = {1};
  int64_t gemvWarps = 8;
  /// -1: the pipeline's default (none for --lower-to-kernels).
  int64_t wgmmaRows = -1, wgmmaTileM = 128, wgmmaTileN = 128, wgmmaStages = 0,
          wgmmaSmallRows = 64;
  bool wgmmaFp8FastAccum = false;

  template <typename Derived>
  static KernelLoweringConfig from(const KernelLoweringOptions<Derived> &o) {
    KernelLoweringConfig c;
    c.maxTokens = o.maxTokens;
    c.maxPositions = o.maxPositions;
    c.kvCacheType = o.kvCacheType;
    c.tileM = o.tileM;
    c.tileN = o.tileN;
    c.tileK = o.tileK;
    c.warpsM = o.warpsM;
    c.warpsN = o.warpsN;
    c.stages = o.stages;
    if (!o.gemvRows.empty())
      c.gemvRows.assign(o.gemvRows.begin(), o.gemvRows.end());
    c.gemvWarps = o.gemvWarps;
    c.wgmmaRows = o.wgmmaRows;
    c.wgmmaTileM = o.wgmmaTileM;
    c.wgmmaTileN = o.wgmmaTileN;
    c.wgmmaStages = o.wgmmaStages;
    c.wgmmaSmallRows = o.wgmmaSmallRows;
    c.wgmmaFp8FastAccum = o.wgmmaFp8FastAccum;
    return c;
  }
};

void buildLowerToKernelsPipeline(OpPassManager &pm,
                                 const KernelLoweringConfig &options);

void registerQKPipelines();

} // namespace mlir::qopt::kernel

#endif // QOPT_DIALECT_KERNEL_TRANSFORMS_PIPELINES_H
