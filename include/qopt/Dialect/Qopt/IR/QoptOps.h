//===- QoptOps.h - qopt operations ------------------------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTOPS_H
#define QOPT_DIALECT_QOPT_IR_QOPTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qopt/Dialect/Qopt/IR/QoptDialect.h"

#include "qopt/Dialect/Qopt/IR/QoptOpInterfaces.h.inc"

namespace mlir {
namespace qopt {
/// The KV cache that `qopt.attention` reads and appends to.
struct KVCacheResource : public SideEffects::Resource::Base<KVCacheResource> {
  StringRef getName() final { return "qopt::KVCache"; }
};
} // namespace qopt
} // namespace mlir

#define GET_OP_CLASSES
#include "qopt/Dialect/Qopt/IR/QoptOps.h.inc"

namespace mlir {
namespace qopt {
/// The module's `qopt.model` attribute, or null when it has none.
ModelAttr getModelAttr(ModuleOp module);
/// Sets the module's `qopt.model` attribute.
void setModelAttr(ModuleOp module, ModelAttr model);
} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_IR_QOPTOPS_H
