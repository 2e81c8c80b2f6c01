//===- GPTQ.cpp - GPTQ weight quantization --------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/LayerLoop.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Support/WeightQuant.h"

#include <map>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTGPTQ
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptGPTQPass : public mlir::qopt::impl::QoptGPTQBase<QoptGPTQPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&](Operation *at, const Twine &msg) {
      emitPassError(at) << "qopt-gptq: " << msg;
      signalPassFailure();
    };
    std::string error;
    FailureOr<WeightSchemeSpec> spec = WeightSchemeSpec::parseGrouped(
        &getContext(), dtype, groupSize, symmetric, packing, error);
    if (failed(spec))
      return fail(module, error);
    if (!(dampening > 0.0 && dampening < 1.0))
      return fail(module, "dampening must be in (0, 1), got " +
                              formatDouble(dampening));
    if (blockSize <= 0)
      return fail(module, "block-size must be positive, got " +
                              std::to_string(blockSize));
    ::qnum::WeightQuantConfig cfg = spec->toWeightQuantConfig();
    ::qnum::GPTQOptions opts;
    opts.dampening = dampening;
    opts.blockSize = blockSize;
    opts.actOrder = actOrder;

    SmallVector<LinearOp> linears = linearsToQuantize(module, false);
    LinearOp bad;
    if (failed(checkLinearsToQuantize(linears, *spec, /*needHessian=*/true, bad,
                                      error)))
      return fail(bad, error);
    if (linears.empty())
      return;
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "gptq", error)
               : nullptr;
    if (!writer)
      return fail(module, error);

    // One factorization per distinct Hessian (q/k/v and gate/up share one),
    // dropped after its last layer so only one is held at a time.
    std::map<std::string, ::qnum::GPTQFactor> factors;
    std::map<std::string, int> remaining;
    for (LinearOp linear : linears)
      ++remaining[findStats(linear.getInput()).getHessian().str()];
    LogicalResult result = forEachLinearWeight(
        "qopt-gptq", linears, *reader, [&](LinearWeight &w) -> LogicalResult {
          LinearOp linear = w.linear;
          ActStatsAttr stats = findStats(linear.getInput());
          std::string key = stats.getHessian().str();
          auto it = factors.find(key);
          if (it == factors.end()) {
            std::vector<double> h;
            int64_t k;
            ::qnum::GPTQFactor factor;
            if (failed(readHessian(stats, *reader, h, k, error)) ||
                !::qnum::factorGPTQHessian(h.data(), k, opts, factor, error)) {
              fail(linear, "layer '" + tensorPrefix(linear) + "': " + error);
              return failure();
            }
            it = factors.emplace(key, std::move(factor)).first;
          }
          ::qnum::QuantizedWeight qw;
          if (!::qnum::quantizeGPTQ(w.values.data(), w.n, w.k, it->second, cfg,
                                    opts, qw, error)) {
            fail(linear, "layer '" + tensorPrefix(linear) + "': " + error);
            return failure();
          }
          if (--remaining[key] == 0)
            factors.erase(key);
          if (failed(replaceByQuantizedLinear(linear, *spec, qw.q, qw.scales,
                                              qw.zeroPoints, *writer, error))) {
            fail(module, error);
            return failure();
          }
          return success();
        });
    if (failed(result))
      return signalPassFailure();
    if (failed(writer->finish(error)))
      return fail(module, error);
  }
};
} // namespace
