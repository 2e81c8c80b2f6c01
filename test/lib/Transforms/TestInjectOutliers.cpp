//===- TestInjectOutliers.cpp - Equivalent model with outlier channels ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Dialect/Qopt/Transforms/SmoothingGroups.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace qopt {
namespace test {
#define GEN_PASS_DECL_QOPTTESTINJECTOUTLIERS
#define GEN_PASS_DEF_QOPTTESTINJECTOUTLIERS
#define GEN_PASS_REGISTRATION
#include "TestPasses.h.inc"
} // namespace test
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptTestInjectOutliersPass
    : public mlir::qopt::test::impl::QoptTestInjectOutliersBase<
          QoptTestInjectOutliersPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (channels <= 0 || !(factor > 0.0)) {
      emitPassError(module)
          << "qopt-test-inject-outliers: channels and factor must "
             "be positive";
      return signalPassFailure();
    }
    std::vector<SmoothGroup> groups;
    for (SmoothGroup &g : collectSmoothingGroups(module))
      if (g.kind == ProducerKind::Norm)
        groups.push_back(g);
    if (groups.empty())
      return;
    std::string error;
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "outliers", error)
               : nullptr;
    if (!writer) {
      emitPassError(module) << "qopt-test-inject-outliers: " << error;
      return signalPassFailure();
    }
    for (SmoothGroup &g : groups) {
      int64_t k = cast<RankedTensorType>(g.input.getType()).getShape().back();
      int64_t n = std::min<int64_t>(channels, k);
      // s = 1 / factor: the producer is multiplied by factor, the weight
      // columns divided by it.
      std::vector<double> s(k, 1.0);
      for (int64_t i = 0; i < n; ++i)
        s[(2 * i + 1) * k / (2 * n)] = 1.0 / factor;
      if (failed(applySmoothing(g, s, *reader, *writer, error))) {
        g.linears.front().emitError() << "qopt-test-inject-outliers: " << error;
        return signalPassFailure();
      }
    }
    if (failed(writer->finish(error))) {
      emitPassError(module) << "qopt-test-inject-outliers: " << error;
      return signalPassFailure();
    }
  }
};
} // namespace

namespace mlir::qopt::test {
void registerTestPasses();
} // namespace mlir::qopt::test

void mlir::qopt::test::registerTestPasses() { registerQoptTestPasses(); }
