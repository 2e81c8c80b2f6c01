//===- LayerLoop.h - The per-layer loop of weight passes --------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The one driver loop of the passes that rewrite weights (smoothing, RTN,
// AWQ, GPTQ): iterate the linears in program order, read each one's weight
// as float32 while the next one's pages are read in on a background thread,
// release the pages of the checkpoint, hand the weight to the pass, and show
// which decoder layer it is at on stderr.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_LAYERLOOP_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_LAYERLOOP_H

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <string>
#include <vector>

namespace mlir {
namespace qopt {
class WeightReader;

/// One linear's weight as the loop hands it over: [n, k] row-major float32.
struct LinearWeight {
  LinearOp linear;
  /// The position of `linear` in the list given to forEachLinearWeight.
  size_t index;
  int64_t n, k;
  std::vector<float> &values;
};

/// For every linear of `linears` in order: evaluates its weight expression
/// (prefetching the pages of the next one meanwhile), releases the pages it
/// read, and calls `fn`. Stops at the first failure: a weight that cannot be
/// read is reported as "<pass>: <message>" at its linear (or at
/// `errorAt(index)` when given); `fn` reports its own errors. Shows "\r[<pass>]
/// layer L/N" on stderr when it is a terminal (or when the environment sets
/// QOPT_PROGRESS=1; QOPT_PROGRESS=0 hides it), L being the decoder layer of the
/// linear's label (model.layers.L....).
LogicalResult
forEachLinearWeight(StringRef pass, ArrayRef<LinearOp> linears,
                    WeightReader &reader,
                    llvm::function_ref<LogicalResult(LinearWeight &)> fn,
                    llvm::function_ref<Operation *(size_t)> errorAt = {});

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_LAYERLOOP_H
