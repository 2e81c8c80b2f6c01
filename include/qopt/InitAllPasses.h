//===- InitAllPasses.h - Register qopt's passes -----------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_INITALLPASSES_H
#define QOPT_INITALLPASSES_H

namespace mlir {
namespace qopt {

/// Registers qopt's passes and pipelines, and the upstream MLIR passes qopt's
/// pipelines are built from (canonicalize, cse, ...), with the global pass
/// registry so that textual pipelines can name them.
void registerAllPasses();

} // namespace qopt
} // namespace mlir

#endif // QOPT_INITALLPASSES_H
