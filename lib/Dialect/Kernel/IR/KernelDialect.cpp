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
