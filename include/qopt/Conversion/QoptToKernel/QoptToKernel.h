//===- QoptToKernel.h - qopt graph IR to qk kernels -------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_CONVERSION_QOPTTOKERNEL_QOPTTOKERNEL_H
#define QOPT_CONVERSION_QOPTTOKERNEL_QOPTTOKERNEL_H

#include "mlir/Support/LLVM.h"

#include <cstdint>

namespace mlir {
class RewritePatternSet;
class Type;
class Value;

namespace qopt {

/// Patterns lowering qopt graph ops to qk kernel ops. Attention patterns
/// need the module to hold the `qk.kv_cache` declarations they create and
/// the model function's positions argument, passed as `positions`.
void populateQoptToKernelPatterns(RewritePatternSet &patterns,
                                  int64_t maxPositions, Type kvCacheType,
                                  Value positions);

} // namespace qopt
} // namespace mlir

#endif // QOPT_CONVERSION_QOPTTOKERNEL_QOPTTOKERNEL_H
