//===- KernelOps.h - qk operations ------------------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_IR_KERNELOPS_H
#define QOPT_DIALECT_KERNEL_IR_KERNELOPS_H

#include "qopt/Dialect/Kernel/IR/KernelDialect.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "qopt/Dialect/Kernel/IR/KernelOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/Kernel/IR/KernelOps.h.inc"

namespace mlir::qopt::kernel {
/// The name of the result-slot attribute `--qk-plan-buffers` sets on every
/// kernel op: one arena byte offset per result.
inline constexpr llvm::StringLiteral kBuffersAttrName = "qk.buffers";
} // namespace mlir::qopt::kernel

#endif // QOPT_DIALECT_KERNEL_IR_KERNELOPS_H
