//===- Pipelines.cpp - kernel-level pipelines -----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/Transforms/Pipelines.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qopt::kernel;

void mlir::qopt::kernel::buildLowerToKernelsPipeline(
    OpPassManager &pm, const KernelLoweringConfig &options) {
  ConvertQoptToKernelsOptions convert;
  convert.maxPositions = options.maxPositions;
  convert.kvCacheType = options.kvCacheType;
  pm.addPass(createConvertQoptToKernels(convert));
  // One RoPE table per (theta, head_dim, scaling), one constant per value.
  pm.addPass(createCSEPass());
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createQKFuseNormQuantize());
  func.addPass(createQKFuseGatedMLP());
  func.addPass(createQKFuseGemmEpilogue());
  func.addPass(createQKFuseRopeKVAppend());
  func.addPass(createQKFuseOutputConversion());
  QKSelectTilesOptions tiles;
  tiles.tileM = options.tileM;
  tiles.tileN = options.tileN;
  tiles.tileK = options.tileK;
  tiles.warpsM = options.warpsM;
  tiles.warpsN = options.warpsN;
  tiles.stages = options.stages;
  tiles.gemvRows.assign(options.gemvRows.begin(), options.gemvRows.end());
  tiles.gemvWarps = options.gemvWarps;
  // -1: the caller's default; --lower-to-kernels knows no chip: none.
  tiles.wgmmaRows = options.wgmmaRows == -1 ? 0 : options.wgmmaRows;
  tiles.wgmmaTileM = options.wgmmaTileM;
  tiles.wgmmaTileN = options.wgmmaTileN;
  tiles.wgmmaStages = options.wgmmaStages;
  tiles.wgmmaSmallRows = options.wgmmaSmallRows;
  tiles.wgmmaFp8FastAccum = options.wgmmaFp8FastAccum;
  func.addPass(createQKSelectTiles(tiles));
  QKPlanBuffersOptions plan;
  plan.maxTokens = options.maxTokens;
  pm.addPass(createQKPlanBuffers(plan));
  QKVerifyContractOptions contract;
  contract.requireKernels = false;
  pm.addPass(createQKVerifyContract(contract));
}

void mlir::qopt::kernel::registerQKPipelines() {
  PassPipelineRegistration<LowerToKernelsOptions>(
      "lower-to-kernels",
      "Quantized graph IR to fused, tiled, buffer-planned qk kernel ops (the "
      "kernel half of --lower-to-nvptx)",
      [](OpPassManager &pm, const LowerToKernelsOptions &options) {
        buildLowerToKernelsPipeline(pm, KernelLoweringConfig::from(options));
      });
}
