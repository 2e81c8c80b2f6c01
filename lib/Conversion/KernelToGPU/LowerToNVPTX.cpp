//===- LowerToNVPTX.cpp - the --lower-to-nvptx pipeline -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/LowerToNVPTX.h"
#include "qopt/Conversion/KernelToGPU/GPUToPTX.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/Kernel/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::codegen;

LogicalResult mlir::qopt::codegen::buildLowerToNVPTXPipeline(
    OpPassManager &pm, const LowerToNVPTXOptions &options,
    function_ref<LogicalResult(const Twine &)> errorHandler) {
  if (!parseChip(options.chip))
    return errorHandler("--lower-to-nvptx: unknown chip '" + options.chip +
                        "'; expected sm_80, sm_89 or sm_90a");
  kernel::KernelLoweringConfig config =
      kernel::KernelLoweringConfig::from(options);
  bool hopper = *parseChip(options.chip) == Chip::SM90a;
  if (config.wgmmaRows < -1)
    return errorHandler("--lower-to-nvptx: wgmma-rows must be -1 (default), "
                        "0 (none) or a token count, got " +
                        Twine(config.wgmmaRows));
  if (config.wgmmaRows > 0 && !hopper)
    return errorHandler("--lower-to-nvptx: wgmma-rows needs chip=sm_90a "
                        "(warpgroup MMA), not " +
                        options.chip);
  if (config.wgmmaRows == -1)
    config.wgmmaRows = hopper ? 2 : 0;
  kernel::buildLowerToKernelsPipeline(pm, config);
  ConvertKernelsToGPUOptions gpu;
  gpu.chip = options.chip;
  gpu.attentionWarps = options.attentionWarps;
  gpu.attentionSplits = options.attentionSplits;
  gpu.gridDependency = options.gridDependency;
  pm.addPass(createConvertKernelsToGPU(gpu));
  buildGPUToPTXPipeline(pm, options.chip);
  kernel::QKVerifyContractOptions contract;
  contract.requireKernels = true;
  pm.addPass(kernel::createQKVerifyContract(contract));
  return success();
}

void mlir::qopt::codegen::registerLowerToNVPTXPipeline() {
  registerPassPipeline(
      "lower-to-nvptx",
      "Compiles a float or quantized model to fused kernels in PTX: "
      "--lower-to-kernels, one gpu.func per kernel (tensor-core GEMMs on "
      "mma.sync, and on sm_90a wgmma for launches of wgmma-rows tokens or "
      "more), LLVM's NVPTX back end, and the kernel contract",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        LowerToNVPTXOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return errorHandler("--lower-to-nvptx: bad options '" + optionsStr +
                              "'");
        return buildLowerToNVPTXPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const ::mlir::detail::PassOptions &)> optHandler) {
        optHandler(LowerToNVPTXOptions());
      });
}
