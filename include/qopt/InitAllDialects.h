//===- InitAllDialects.h - Register qopt's dialects -------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_INITALLDIALECTS_H
#define QOPT_INITALLDIALECTS_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
namespace qopt {

/// Adds every dialect qopt's IR and pipelines use to `registry`: qopt itself,
/// `func`, `arith`, `tensor`, and upstream `quant` (which coexists with qopt
/// in one context).
void registerAllDialects(DialectRegistry &registry);

/// Loads the dialects of registerAllDialects into `context`.
void loadAllDialects(MLIRContext &context);

} // namespace qopt
} // namespace mlir

#endif // QOPT_INITALLDIALECTS_H
