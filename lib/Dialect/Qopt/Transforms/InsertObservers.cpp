//===- InsertObservers.cpp - Place calibration observers ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTINSERTOBSERVERS
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptInsertObserversPass
    : public mlir::qopt::impl::QoptInsertObserversBase<
          QoptInsertObserversPass> {
  using Base::Base;

  /// Routes the uses of `value` by `users` through one observer labelled
  /// `label`, placed right after the value's definition.
  void observe(Value value, ArrayRef<Operation *> users, StringRef label) {
    if (value.getDefiningOp<ObserveOp>())
      return;
    OpBuilder b(&getContext());
    if (Operation *def = value.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(cast<BlockArgument>(value).getOwner());
    auto obs = ObserveOp::create(
        b, value.getLoc(), value.getType(), value, b.getStringAttr(label),
        ObserverKindAttr::get(&getContext(), ObserverKind::MinMax), FloatAttr(),
        ActStatsAttr());
    value.replaceUsesWithIf(obs.getResult(), [&](OpOperand &use) {
      return llvm::is_contained(users, use.getOwner());
    });
  }

  void runOnOperation() override {
    // Distinct linear inputs in program order, with their linear users.
    llvm::MapVector<Value, SmallVector<Operation *>> inputs;
    getOperation().walk([&](LinearLikeOpInterface linear) {
      inputs[linear.getInput()].push_back(linear.getOperation());
    });
    unsigned unnamed = 0;
    for (auto &[value, users] : inputs) {
      StringRef name =
          cast<LinearLikeOpInterface>(users.front()).getLayerName();
      std::string label =
          !name.empty() ? name.str() : "linear" + std::to_string(unnamed++);
      observe(value, users, label + ".input");
    }
    if (!kv)
      return;
    getOperation().walk([&](AttentionOp attn) {
      std::string slot = "layers." + std::to_string(attn.getLayer());
      observe(attn.getKey(), {attn.getOperation()}, slot + ".k");
      observe(attn.getValue(), {attn.getOperation()}, slot + ".v");
    });
  }
};
} // namespace
