//===- KernelDialect.h - qk dialect -----------------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELDIALECT_H
#define QOPT_DIALECT_KERNEL_IR_KERNELDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "qopt/Dialect/Kernel/IR/KernelOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/Kernel/IR/KernelAttrs.h.inc"

#endif // QOPT_DIALECT_KERNEL_IR_KERNELDIALECT_H
