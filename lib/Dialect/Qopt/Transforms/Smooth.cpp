//===- Smooth.cpp - SmoothQuant smoothing migration -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/LayerLoop.h"
#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/SmoothingGroups.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "qopt-runtime/Parallel.h"

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
      emitPassError(module) << "qopt-smooth: " << error;
      return signalPassFailure();
    }
    // The groups' linears in one list for the layer loop: each weight adds
    // to its group's column maxima; after a group's last one, its factors
    // are computed and folded in.
    SmallVector<LinearOp> order;
    std::vector<size_t> groupOf;
    for (size_t gi = 0; gi < groups.size(); ++gi)
      for (LinearOp linear : groups[gi].linears) {
        order.push_back(linear);
        groupOf.push_back(gi);
      }
    std::vector<double> wmax;
    LogicalResult result = forEachLinearWeight(
        "qopt-smooth", order, *reader,
        [&](LinearWeight &w) -> LogicalResult {
          SmoothGroup &group = groups[groupOf[w.index]];
          bool first = w.index == 0 || groupOf[w.index - 1] != groupOf[w.index];
          bool last = w.index + 1 == order.size() ||
                      groupOf[w.index + 1] != groupOf[w.index];
          std::vector<double> s;
          if (failed(addColumnMax(group, w.values, first, wmax, error)) ||
              (last &&
               (failed(factors(group, wmax, s, error)) ||
                failed(applySmoothing(group, s, *reader, *writer, error))))) {
            group.linears.front().emitError() << "qopt-smooth: " << error;
            return failure();
          }
          return success();
        },
        [&](size_t i) {
          return groups[groupOf[i]].linears.front().getOperation();
        });
    if (failed(result))
      return signalPassFailure();
    if (failed(writer->finish(error))) {
      emitPassError(module) << "qopt-smooth: " << error;
      return signalPassFailure();
    }
  }

  /// wmax[c] = max(wmax[c], max_r |W[r][c]|) for a weight of the group
  /// (`first`: the group's first weight, which starts wmax at 0).
  LogicalResult addColumnMax(SmoothGroup &group, const std::vector<float> &w,
                             bool first, std::vector<double> &wmax,
                             std::string &error) {
    int64_t k = group.observer.getStatsAttr().getAbsmax().getNumElements();
    if (first)
      wmax.assign(k, 0.0);
    if (k == 0 || static_cast<int64_t>(w.size()) % k != 0) {
      error = "weight size does not match the statistics' " +
              std::to_string(k) + " channels";
      return failure();
    }
    // Columns are split over threads; each column's maximum runs over the
    // rows in order (a maximum does not depend on the order anyway).
    int64_t rows = static_cast<int64_t>(w.size()) / k;
    constexpr int64_t kCols = 256;
    qrt::parallelForChunks(
        k, kCols, 2.0 * double(rows), 0, [&](int64_t cb, int64_t ce) {
          std::vector<float> colMax(ce - cb, 0.0f);
          for (int64_t r = 0; r < rows; ++r) {
            const float *row = w.data() + r * k;
            for (int64_t c = cb; c < ce; ++c)
              colMax[c - cb] = std::max(colMax[c - cb], std::fabs(row[c]));
          }
          for (int64_t c = cb; c < ce; ++c)
            wmax[c] = std::max<double>(wmax[c], colMax[c - cb]);
        });
    return success();
  }

  /// s_j = max|X_j|^alpha / max|W_j|^(1 - alpha), from the column maxima
  /// `wmax` of the group's weights. In a grouped-query ValueToOutput group,
  /// the channels that share a value row share the factor computed from all
  /// of them.
  LogicalResult factors(SmoothGroup &group, const std::vector<double> &wmax,
                        std::vector<double> &s, std::string &error) {
    std::vector<float> act =
        statValues(group.observer.getStatsAttr().getAbsmax());
    int64_t k = static_cast<int64_t>(act.size());
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
