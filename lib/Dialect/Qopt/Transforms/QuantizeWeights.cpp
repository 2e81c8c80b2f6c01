//===- QuantizeWeights.cpp - Round-to-nearest weight quantization ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
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
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    std::unique_ptr<WeightWriter> writer =
        reader ? WeightWriter::create(module, weightsOut, "rtn", error)
               : nullptr;
    if (!writer) {
      module.emitError() << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
    for (LinearOp linear : linears) {
      auto wType = cast<RankedTensorType>(linear.getWeight().getType());
      std::vector<int64_t> shape = {wType.getDimSize(0), wType.getDimSize(1)};
      std::vector<float> w;
      if (failed(reader->evaluate(linear.getWeight(), w, error))) {
        linear.emitError() << "qopt-quantize-weights: " << error;
        return signalPassFailure();
      }
      reader->release(linear.getWeight());
      ::qnum::TensorScheme ts = spec->toTensorScheme();
      ::qnum::computeDynamicParams(w.data(), shape, ts);
      std::vector<float> q(w.size());
      ::qnum::quantizeTensor(w.data(), shape, ts, q.data());
      if (failed(replaceByQuantizedLinear(linear, *spec, q, ts.scales,
                                          ts.zeroPoints, *writer, error))) {
        module.emitError() << "qopt-quantize-weights: " << error;
        return signalPassFailure();
      }
    }
    if (failed(writer->finish(error))) {
      module.emitError() << "qopt-quantize-weights: " << error;
      return signalPassFailure();
    }
  }
};
} // namespace
