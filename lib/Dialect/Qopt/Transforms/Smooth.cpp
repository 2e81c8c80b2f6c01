//===- Smooth.cpp - SmoothQuant smoothing migration -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/SmoothingGroups.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTSMOOTH
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct QoptSmoothPass
    : public mlir::qopt::impl::QoptSmoothBase<QoptSmoothPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      emitPassError(module) << "qopt-smooth: alpha must be in [0, 1], got "
                            << formatDouble(alpha);
      return signalPassFailure();
    }
    std::vector<SmoothGroup> groups = collectSmoothingGroups(module);
    for (SmoothGroup &group : groups)
      if (!group.observer || !group.observer.getStatsAttr()) {
        LinearOp first = group.linears.front();
        first.emitError() << "qopt-smooth: linear '"
                          << (first.getLabelAttr()
                                  ? first.getLabelAttr().getValue()
                                  : StringRef("?"))
                          << "' has no calibration statistics for its input; "
                             "run qopt-calibrate on the model first";
        return signalPassFailure();
      }
    if (groups.empty())
      return;

    std::string error;
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "smooth", error)
               : nullptr;
    if (!writer) {
      module.emitError() << "qopt-smooth: " << error;
      return signalPassFailure();
    }
    for (SmoothGroup &group : groups) {
      std::vector<double> s;
      if (failed(factors(group, *reader, s, error)) ||
          failed(applySmoothing(group, s, *reader, *writer, error))) {
        group.linears.front().emitError() << "qopt-smooth: " << error;
        return signalPassFailure();
      }
    }
    if (failed(writer->finish(error))) {
      module.emitError() << "qopt-smooth: " << error;
      return signalPassFailure();
    }
  }

  /// s_j = max|X_j|^alpha / max|W_j|^(1 - alpha). In a grouped-query
  /// ValueToOutput group, the channels that share a value row share the
  /// factor computed from all of them.
  LogicalResult factors(SmoothGroup &group, WeightReader &reader,
                        std::vector<double> &s, std::string &error) {
    std::vector<float> act =
        statValues(group.observer.getStatsAttr().getAbsmax());
    int64_t k = static_cast<int64_t>(act.size());
    std::vector<double> wmax(k, 0.0);
    for (LinearOp linear : group.linears) {
      std::vector<float> w;
      if (failed(reader.evaluate(linear.getWeight(), w, error)))
        return failure();
      if (static_cast<int64_t>(w.size()) % k != 0) {
        error = "weight size does not match the statistics' " +
                std::to_string(k) + " channels";
        return failure();
      }
      std::vector<float> colMax(k, 0.0f);
      for (size_t r = 0; r < w.size() / k; ++r) {
        const float *row = w.data() + r * k;
        for (int64_t c = 0; c < k; ++c)
          colMax[c] = std::max(colMax[c], std::fabs(row[c]));
      }
      for (int64_t c = 0; c < k; ++c)
        wmax[c] = std::max<double>(wmax[c], colMax[c]);
      reader.release(linear.getWeight());
    }
    int64_t rows = group.producerChannels();
    std::vector<double> aRow(rows, 0.0), wRow(rows, 0.0);
    for (int64_t j = 0; j < k; ++j) {
      int64_t r = group.producerChannel(j);
      aRow[r] = std::max<double>(aRow[r], act[j]);
      wRow[r] = std::max(wRow[r], wmax[j]);
    }
    s.assign(k, 1.0);
    for (int64_t j = 0; j < k; ++j) {
      int64_t r = group.producerChannel(j);
      double a = aRow[r], w = wRow[r];
      if (a > 0.0 && w > 0.0)
        s[j] = std::max(std::pow(a, alpha.getValue()) /
                            std::pow(w, 1.0 - alpha.getValue()),
                        1e-5);
    }
    return success();
  }
};
} // namespace
