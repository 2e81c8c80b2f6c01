//===- StripObservers.cpp - Remove calibration observers ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTSTRIPOBSERVERS
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

/// The discardable attribute that carries an observer's statistics to the
/// ops consuming the observed value.
static constexpr llvm::StringLiteral kInputStatsAttr = "qopt.input_stats";

namespace {
struct QoptStripObserversPass
    : public mlir::qopt::impl::QoptStripObserversBase<QoptStripObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<ObserveOp> observers;
    getOperation()->walk([&](ObserveOp op) { observers.push_back(op); });
    for (ObserveOp op : observers) {
      if (keepStats)
        if (ActStatsAttr stats = op.getStatsAttr())
          for (Operation *user : op.getResult().getUsers())
            user->setAttr(kInputStatsAttr, stats);
      op.getResult().replaceAllUsesWith(op.getInput());
      op.erase();
    }
  }
};
} // namespace
