//===- LowerToNVPTX.h - the --lower-to-nvptx pipeline -----------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_LOWERTONVPTX_H
#define QOPT_CONVERSION_KERNELTOGPU_LOWERTONVPTX_H

#include "qopt/Dialect/Kernel/Transforms/Pipelines.h"

namespace mlir::qopt::codegen {

struct LowerToNVPTXOptions
    : public kernel::KernelLoweringOptions<LowerToNVPTXOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("Target GPU: sm_80, sm_89, sm_90a"),
                           llvm::cl::init("sm_90a")};
  Option<int64_t> attentionWarps{
      *this, "attention-warps",
      llvm::cl::desc("Warps per attention block (1 to 32)"),
      llvm::cl::init(16)};
  Option<int64_t> attentionSplits{
      *this, "attention-splits",
      llvm::cl::desc("Blocks of a cluster splitting decode attention's keys "
                     "(1 to 8; 1: none; 0: 8 on sm_90a, else 1)"),
      llvm::cl::init(0)};
  Option<bool> gridDependency{
      *this, "grid-dependency",
      llvm::cl::desc("On sm_90a, kernels wait for the kernel before them "
                     "themselves (griddepcontrol), so that the runtime may "
                     "launch each while the one before it finishes"),
      llvm::cl::init(true)};
};

/// --lower-to-kernels, codegen, PTX and the contract check.
LogicalResult
buildLowerToNVPTXPipeline(OpPassManager &pm, const LowerToNVPTXOptions &options,
                          function_ref<LogicalResult(const Twine &)> error);

void registerLowerToNVPTXPipeline();

} // namespace mlir::qopt::codegen

#endif // QOPT_CONVERSION_KERNELTOGPU_LOWERTONVPTX_H
