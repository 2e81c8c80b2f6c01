//===- VerifyContract.cpp - Check a pipeline stage's contract -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTVERIFYCONTRACT
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct QoptVerifyContractPass
    : public mlir::qopt::impl::QoptVerifyContractBase<QoptVerifyContractPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    StringRef stageName = stage == ContractStage::Graph ? "graph" : "quantized";
    bool ok = true;
    auto fail = [&](Operation *op) {
      ok = false;
      return op->emitError() << "violates the '" << stageName << "' contract: ";
    };

    llvm::StringMap<WeightStoreOp> storesByPath;
    module.walk([&](Operation *op) {
      if (op == module.getOperation())
        return;
      if (auto store = dyn_cast<WeightStoreOp>(op)) {
        auto [it, inserted] = storesByPath.try_emplace(store.getPath(), store);
        if (!inserted)
          fail(op) << "weight store path '" << store.getPath()
                   << "' is declared twice (also by " << it->second.getSymName()
                   << ")";
        return;
      }
      if (auto func = dyn_cast<func::FuncOp>(op)) {
        for (Type t : llvm::concat<const Type>(func.getArgumentTypes(),
                                               func.getResultTypes()))
          if (!isa<RankedTensorType>(t))
            fail(op) << "function signature type " << t
                     << " is not a ranked tensor";
        return;
      }
      if (isa<func::ReturnOp, arith::ConstantOp>(op))
        return;
      if (!isa<QoptDialect>(op->getDialect())) {
        fail(op) << "op '" << op->getName()
                 << "' is outside the qopt, func and arith.constant set";
        return;
      }
      auto schemes = dyn_cast<QuantSchemeOpInterface>(op);
      if (stage == ContractStage::Graph) {
        if (schemes && !schemes.getQuantSchemes().empty())
          fail(op) << "quantization schemes are not allowed before the "
                      "quantization passes";
        return;
      }
      if (isa<ObserveOp>(op)) {
        fail(op) << "calibration observers must be consumed before this stage";
        return;
      }
      if (requireQuantizedLinears)
        if (auto linear = dyn_cast<LinearOp>(op))
          if (linear.getRole() != LinearRole::LMHead)
            fail(op) << "float linear layer left unquantized";
    });
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
