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
