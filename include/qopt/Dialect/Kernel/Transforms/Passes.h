//===- Passes.h - qk dialect passes -----------------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_H
#define QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qopt::kernel {

#define GEN_PASS_DECL
#include "qopt/Dialect/Kernel/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qopt/Dialect/Kernel/Transforms/Passes.h.inc"

} // namespace mlir::qopt::kernel

#endif // QOPT_DIALECT_KERNEL_TRANSFORMS_PASSES_H
