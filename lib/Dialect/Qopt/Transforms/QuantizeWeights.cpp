//===- QuantizeWeights.cpp - Round-to-nearest weight quantization ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/LayerLoop.h"
#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEWEIGHTS
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptQuantizeWeightsPass
    : public mlir::qopt::impl::QoptQuantizeWeightsBase<
          QoptQuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string error;
    FailureOr<WeightSchemeSpec> spec =
        WeightSchemeSpec::parse(&getContext(), dtype, granularity, groupSize,
                                blockSize, symmetric, packing, error);
    if (failed(spec)) {
      emitPassError(module) << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
    SmallVector<LinearOp> linears = linearsToQuantize(module, includeLmHead);
    // Check every layer before writing anything.
    LinearOp bad;
    if (failed(checkLinearsToQuantize(linears, *spec, /*needHessian=*/false,
                                      bad, error))) {
      bad.emitError() << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
    if (linears.empty())
      return;
    if (atLoad) {
      std::unique_ptr<WeightWriter> writer = WeightWriter::create(
          module, weightsOut, "rtn", error, /*atLoad=*/true);
      if (!writer) {
        emitPassError(module) << "qopt-quantize-weights: " << error;
        return signalPassFailure();
      }
      for (LinearOp linear : linears) {
        if (failed(describeAtLoadWeight(linear, *spec, *writer, error))) {
          linear.emitError() << "qopt-quantize-weights: " << error;
          return signalPassFailure();
        }
      }
      if (failed(writer->finish(error))) {
        emitPassError(module) << "qopt-quantize-weights: " << error;
        return signalPassFailure();
      }
      return;
    }
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "rtn", error)
               : nullptr;
    if (!writer) {
      emitPassError(module) << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
    std::vector<float> q; // reused: every element is written
    if (failed(forEachLinearWeight(
            "qopt-quantize-weights", linears, *reader, [&](LinearWeight &w) {
              std::vector<int64_t> shape = {w.n, w.k};
              ::qnum::TensorScheme ts = spec->toTensorScheme();
              ::qnum::computeDynamicParams(w.values.data(), shape, ts);
              q.resize(w.values.size());
              ::qnum::quantizeTensor(w.values.data(), shape, ts, q.data());
              if (failed(replaceByQuantizedLinear(w.linear, *spec, q, ts.scales,
                                                  ts.zeroPoints, *writer,
                                                  error))) {
                emitPassError(module) << "qopt-quantize-weights: " << error;
                return failure();
              }
              return success();
            })))
      return signalPassFailure();
    if (failed(writer->finish(error))) {
      emitPassError(module) << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
  }
};
} // namespace
