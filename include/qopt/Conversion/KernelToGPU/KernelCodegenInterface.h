//===- KernelCodegenInterface.h - kernel ops that codegen -------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_H
#define QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_H

#include "qopt/Conversion/KernelToGPU/KernelBuilders.h"

#include "mlir/IR/OpDefinition.h"

namespace mlir {
class DialectRegistry;
namespace qopt::codegen {

/// What every generated kernel of one module shares.
struct CodegenOptions {
  Chip chip = Chip::SM90a;
  /// Rows of the activation buffers (the function's `qk.max_tokens`).
  int64_t maxTokens = 0;
  /// Rows of the KV caches the kernels index (max_position_embeddings).
  int64_t maxSeq = 0;
  /// Warps per attention block.
  int64_t attentionWarps = 16;
  /// Blocks (a thread-block cluster) that split a one-row attention's keys
  /// (the decode kernel); 1: no split kernel.
  int64_t attentionSplits = 1;
  /// Kernels wait for their grid dependencies (sm_90a): weight-streaming
  /// kernels prefetch weights before their griddepcontrol.wait.
  bool gridDependency = false;
};

/// Attaches the codegen interface to every qk kernel op.
void registerKernelCodegenInterfaceExternalModels(DialectRegistry &registry);

} // namespace qopt::codegen
} // namespace mlir

#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h.inc"

#endif // QOPT_CONVERSION_KERNELTOGPU_KERNELCODEGENINTERFACE_H
