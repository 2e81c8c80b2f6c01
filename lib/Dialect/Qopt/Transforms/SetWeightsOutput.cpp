//===- SetWeightsOutput.cpp - Default directory of side stores ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTSETWEIGHTSOUTPUT
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptSetWeightsOutputPass
    : public mlir::qopt::impl::QoptSetWeightsOutputBase<
          QoptSetWeightsOutputPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (dir.empty()) {
      module->removeAttr(kWeightsOutputAttrName);
      module->removeAttr(kCreatedWeightFilesAttrName);
      return;
    }
    llvm::SmallString<256> path(dir.getValue());
    llvm::sys::fs::make_absolute(path);
    llvm::sys::path::remove_dots(path, /*remove_dot_dot=*/true);
    module->setAttr(kWeightsOutputAttrName,
                    StringAttr::get(module.getContext(), path));
  }
};
} // namespace
