//===- AWQ.cpp - Activation-aware weight quantization ---------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/LayerLoop.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/SmoothingGroups.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Support/WeightQuant.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <memory>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTAWQ
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptAWQPass : public mlir::qopt::impl::QoptAWQBase<QoptAWQPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](Operation *at, const Twine &msg) {
      emitPassError(at) << "qopt-awq: " << msg;
      signalPassFailure();
    };
    std::string error;
    FailureOr<WeightSchemeSpec> spec = WeightSchemeSpec::parseGrouped(
        &getContext(), dtype, groupSize, symmetric, packing, error);
    if (failed(spec))
      return fail(module, error);
    if (grid < 1)
      return fail(module, "grid must be positive, got " + std::to_string(grid));
    ::qnum::WeightQuantConfig cfg = spec->toWeightQuantConfig();

    SmallVector<LinearOp> linears = linearsToQuantize(module, false);
    LinearOp bad;
    if (failed(checkLinearsToQuantize(linears, *spec, /*needHessian=*/true, bad,
                                      error)))
      return fail(bad, error);
    if (linears.empty())
      return;
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    if (!reader)
      return fail(module, error);

    // The Hessian of every linear's input, read before smoothing drops the
    // statistics' references to them.
    // Layers that read one input share one matrix.
    llvm::DenseMap<Operation *, std::shared_ptr<std::vector<double>>> hessians;
    llvm::DenseMap<Value, std::shared_ptr<std::vector<double>>> byInput;
    for (LinearOp linear : linears) {
      std::shared_ptr<std::vector<double>> &shared = byInput[linear.getInput()];
      if (!shared) {
        shared = std::make_shared<std::vector<double>>();
        int64_t k;
        if (failed(readHessian(findStats(linear.getInput()), *reader, *shared,
                               k, error)))
          return fail(linear, "layer '" + tensorPrefix(linear) + "': " + error);
      }
      hessians[linear] = shared;
    }

    // 1. Scale search per group, on the original weights.
    std::unique_ptr<WeightWriter> scaleWriter =
        WeightWriter::create(module, weightsOut, "awq_scales", error);
    if (!scaleWriter)
      return fail(module, error);
    std::vector<SmoothGroup> groups = collectSmoothingGroups(module);
    std::vector<std::vector<double>> scales(groups.size());
    // The groups' linears in one list for the layer loop; a group's weights
    // are kept until its last one is read.
    SmallVector<LinearOp> order;
    std::vector<size_t> groupOf;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      SmoothGroup &group = groups[gi];
      if (group.kind == ProducerKind::ValueToOutput &&
          group.attention.getNumHeads() != group.attention.getNumKvHeads())
        continue; // a factor per o_proj channel cannot fold into shared V
      for (LinearOp linear : group.linears) {
        order.push_back(linear);
        groupOf.push_back(gi);
      }
    }
    std::vector<std::vector<float>> ws;
    LogicalResult searched = forEachLinearWeight(
        "qopt-awq", order, *reader, [&](LinearWeight &w) -> LogicalResult {
          size_t gi = groupOf[w.index];
          SmoothGroup &group = groups[gi];
          ws.push_back(std::move(w.values));
          if (w.index + 1 < order.size() && groupOf[w.index + 1] == gi)
            return success();
          const std::vector<double> &h = *hessians[group.linears.front()];
          int64_t k =
              cast<RankedTensorType>(group.input.getType()).getShape().back();
          int64_t tokens = findStats(group.input).getNumTokens();
          std::vector<float> xScale(k);
          for (int64_t j = 0; j < k; ++j)
            xScale[j] = static_cast<float>(std::sqrt(
                std::max(0.0, h[j * k + j]) / std::max<int64_t>(1, tokens)));
          std::vector<const float *> ptrs;
          std::vector<int64_t> ns;
          for (std::vector<float> &wi : ws) {
            ptrs.push_back(wi.data());
            ns.push_back(static_cast<int64_t>(wi.size()) / k);
          }
          double best = 0, rtn = 0;
          std::vector<float> s = ::qnum::awqSearchScales(
              ptrs, ns, k, h.data(), xScale, cfg,
              static_cast<int>(grid.getValue()), &best, &rtn);
          ws.clear();
          if (s.empty()) {
            fail(group.linears.front(), "AWQ scale search failed");
            return failure();
          }
          scales[gi].assign(s.begin(), s.end());
          return success();
        });
    if (failed(searched))
      return signalPassFailure();
    // 2. Fold the factors into the producers and weights.
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      if (scales[gi].empty())
        continue;
      if (failed(applySmoothing(groups[gi], scales[gi], *reader, *scaleWriter,
                                error)))
        return fail(groups[gi].linears.front(), error);
      // The layers now read X / s: their Hessian is S^-1 H S^-1.
      int64_t k = static_cast<int64_t>(scales[gi].size());
      std::vector<double> &h = *hessians[groups[gi].linears.front()];
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j)
          h[i * k + j] /= scales[gi][i] * scales[gi][j];
    }
    if (failed(scaleWriter->finish(error)))
      return fail(module, error);

    // 3. Clip search and round-to-nearest on the scaled weights.
    reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "awq", error)
               : nullptr;
    if (!writer)
      return fail(module, error);
    LogicalResult quantized = forEachLinearWeight(
        "qopt-awq", linears, *reader, [&](LinearWeight &w) -> LogicalResult {
          std::vector<float> clip;
          if (this->clip)
            clip = ::qnum::awqSearchClip(w.values.data(), w.n, w.k,
                                         hessians[w.linear]->data(), cfg);
          ::qnum::QuantizedWeight qw =
              ::qnum::quantizeRTN(w.values.data(), w.n, w.k, cfg,
                                  clip.empty() ? nullptr : clip.data());
          if (failed(replaceByQuantizedLinear(w.linear, *spec, qw.q, qw.scales,
                                              qw.zeroPoints, *writer, error))) {
            fail(module, error);
            return failure();
          }
          return success();
        });
    if (failed(quantized))
      return signalPassFailure();
    if (failed(writer->finish(error)))
      return fail(module, error);
  }
};
} // namespace
