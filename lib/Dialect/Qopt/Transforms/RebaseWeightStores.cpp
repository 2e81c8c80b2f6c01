//===- RebaseWeightStores.cpp - Rebase relative weight-store paths --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTREBASEWEIGHTSTORES
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptRebaseWeightStoresPass
    : public mlir::qopt::impl::QoptRebaseWeightStoresBase<
          QoptRebaseWeightStoresPass> {
  using Base::Base;

  void runOnOperation() override {
    if (from.empty() || to.empty()) {
      emitPassError(getOperation())
          << "qopt-rebase-weight-stores: needs both from= and to=";
      return signalPassFailure();
    }
    rebaseWeightStorePaths(getOperation(), from, to);
  }
};
} // namespace
