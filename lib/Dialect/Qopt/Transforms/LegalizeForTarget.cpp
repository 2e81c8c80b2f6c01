//===- LegalizeForTarget.cpp - Fit quantized ops to a GPU target ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTLEGALIZEFORTARGET
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
std::string layerName(LinearLikeOpInterface op) {
  StringRef name = op.getLayerName();
  return !name.empty() ? "'" + name.str() + "'" : std::string("(unnamed)");
}

/// A copy of `op` reading `input` with `inputScheme` (null: weight-only).
QuantizedLinearOp rebuild(QuantizedLinearOp op, Value input, Value scales,
                          QuantSchemeAttr inputScheme) {
  OpBuilder b(op);
  auto copy = QuantizedLinearOp::create(
      b, op.getLoc(), op.getOutput().getType(), input, op.getWeight(),
      op.getBias(), inputScheme ? op.getIntBias() : Value(), scales,
      /*input_zero_points=*/Value(), op.getWeightScales(),
      op.getWeightZeroPoints(), op.getResidual(), inputScheme,
      op.getWeightScheme(), op.getActivationAttr(), op.getRoleAttr(),
      op.getLabelAttr());
  op.getOutput().replaceAllUsesWith(copy.getOutput());
  op.erase();
  return copy;
}

struct QoptLegalizeForTargetPass
    : public mlir::qopt::impl::QoptLegalizeForTargetBase<
          QoptLegalizeForTargetPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    bool hasFp8 = target != Target::SM80;
    StringRef targetName = stringifyTarget(target);

    llvm::DenseMap<Operation *, QuantizeOp> perTokenOf;
    SmallVector<QuantizedLinearOp> ops;
    module.walk([&](QuantizedLinearOp op) {
      if (op.getInputSchemeAttr())
        ops.push_back(op);
    });
    for (QuantizedLinearOp op : ops) {
      QuantSchemeAttr x = op.getInputSchemeAttr(), w = op.getWeightScheme();
      auto g = w.getGranularity().getGranularity().kind;
      if (x.isInteger() && g != ::qnum::GranularityKind::PerChannel &&
          g != ::qnum::GranularityKind::PerTensor) {
        op.emitError() << "qopt-legalize-for-target: layer " << layerName(op)
                       << " has integer inputs and per-group or block weight "
                          "scales; integer W8A8 needs per-channel or "
                          "per-tensor weight scales (quantize the weights "
                          "with granularity=channel)";
        return signalPassFailure();
      }
      auto quantize = op.getInput().getDefiningOp<QuantizeOp>();
      if (x.isFloat8() && !hasFp8) {
        if (!quantize) {
          op.emitError() << "qopt-legalize-for-target: layer " << layerName(op)
                         << " has float8 inputs, which " << targetName
                         << " cannot multiply, and they do not come from a "
                            "qopt.quantize that could be dropped";
          return signalPassFailure();
        }
        op.emitRemark() << "qopt-legalize-for-target: " << targetName
                        << " has no float8 tensor cores; layer "
                        << layerName(op)
                        << " now runs float8 weights with 16-bit "
                           "activations (weight-only)";
        rebuild(op, quantize.getInput(), Value(), QuantSchemeAttr());
        if (quantize->use_empty())
          quantize.erase();
        continue;
      }
      if (x.isDynamic() && isa<PerTensorAttr>(x.getGranularity()) &&
          !quantize) {
        op.emitError() << "qopt-legalize-for-target: layer " << layerName(op)
                       << " has dynamic per-tensor input scales, which need "
                          "a device-wide reduction before the GEMM, and its "
                          "input does not come from a qopt.quantize that "
                          "could compute per-token scales instead";
        return signalPassFailure();
      }
      if (x.isDynamic() && isa<PerTensorAttr>(x.getGranularity())) {
        auto perToken = QuantSchemeAttr::get(
            ctx, x.getStorage(), PerTokenAttr::get(ctx), x.getSymmetry(),
            ScaleMode::Dynamic, ElementsAttr(), ElementsAttr(), Packing::None);
        op.emitRemark() << "qopt-legalize-for-target: layer " << layerName(op)
                        << ": dynamic per-tensor input scales need a "
                           "device-wide reduction before the GEMM; using "
                           "dynamic per-token scales";
        QuantizeOp &q = perTokenOf[quantize.getOperation()];
        if (!q) {
          OpBuilder b(quantize);
          b.setInsertionPointAfter(quantize);
          auto xType = cast<RankedTensorType>(quantize.getInput().getType());
          q = QuantizeOp::create(
              b, quantize.getLoc(), quantize.getOutput().getType(),
              RankedTensorType::get(xType.getShape().drop_back(),
                                    b.getF32Type()),
              Type(), quantize.getInput(), perToken);
        }
        rebuild(op, q.getOutput(), q.getScales(), perToken);
        if (quantize->use_empty())
          quantize.erase();
      }
    }
  }
};
} // namespace
