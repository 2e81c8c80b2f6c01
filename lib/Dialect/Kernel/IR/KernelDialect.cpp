//===- KernelDialect.cpp - qk dialect -------------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelDialect.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qopt::kernel;

#include "qopt/Dialect/Kernel/IR/KernelOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/Kernel/IR/KernelAttrs.cpp.inc"

void QKDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "qopt/Dialect/Kernel/IR/KernelOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qopt/Dialect/Kernel/IR/KernelAttrs.cpp.inc"
      >();
}

LogicalResult GemvAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               ArrayRef<int64_t> rows, int64_t warps,
                               int64_t kSplit) {
  if (rows.empty())
    return emitError() << "gemv needs at least one row count";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 1 || rows[i] > 32)
      return emitError() << "gemv rows must be 1 to 32, got " << rows[i];
    if (i > 0 && rows[i] <= rows[i - 1])
      return emitError() << "gemv rows must increase, got " << rows[i - 1]
                         << " then " << rows[i];
  }
  if (warps < 1 || warps > 32)
    return emitError() << "gemv warps must be 1 to 32, got " << warps;
  if (kSplit < 1 || warps % kSplit != 0)
    return emitError() << "gemv k_split (" << kSplit
                       << ") must be positive and divide warps (" << warps
                       << ")";
  return success();
}

LogicalResult WgmmaAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t bm, int64_t bn, int64_t stages,
                                int64_t minRows, int64_t smallRows,
                                int64_t smallStages, bool fastAccum) {
  if (bm != 64 && bm != 128)
    return emitError() << "wgmma bm must be 64 or 128 (one or two "
                          "warpgroups), got "
                       << bm;
  if (bn < 16 || bn > 256 || bn % 16 != 0)
    return emitError() << "wgmma bn must be a multiple of 16 from 16 to 256, "
                          "got "
                       << bn;
  if (stages < 3 || stages > 8)
    return emitError() << "wgmma stages must be 3 to 8, got " << stages;
  if (minRows < 2)
    return emitError() << "wgmma min_rows must be at least 2, got " << minRows;
  if (smallRows != 0 && smallRows < minRows)
    return emitError() << "wgmma small_rows must be 0 (none) or at least "
                          "min_rows ("
                       << minRows << "), got " << smallRows;
  if (smallRows != 0 && (smallStages < 3 || smallStages > 8))
    return emitError() << "wgmma small_stages must be 3 to 8, got "
                       << smallStages;
  return success();
}
