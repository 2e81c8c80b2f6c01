//===- QuantizeActivations.cpp - Quantize linear-layer inputs -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mlir {
namespace qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEACTIVATIONS
#include "qopt/Dialect/Qopt/Transforms/Passes.h.inc"
} // namespace qopt
} // namespace mlir

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QoptQuantizeActivationsPass
    : public mlir::qopt::impl::QoptQuantizeActivationsBase<
          QoptQuantizeActivationsPass> {
  using Base::Base;

  std::string name(LinearLikeOpInterface op) {
    StringRef layer = op.getLayerName();
    return !layer.empty() ? layer.str() : std::string("?");
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Builder b(ctx);
    auto fail = [&](Operation *at, const Twine &msg) {
      emitPassError(at) << "qopt-quantize-activations: " << msg;
      signalPassFailure();
    };
    Type storage = getStorageType(ctx, dtype);
    bool isStatic = mode == ScaleMode::Static;
    bool perToken = granularity == ::qnum::GranularityKind::PerToken;
    if (isStatic && perToken)
      return fail(module, "per-token activation scales are dynamic; use "
                          "mode=dynamic or granularity=tensor");
    bool isFloat8 = !storage.isInteger();
    if (!symmetric && (isFloat8 || !isStatic))
      return fail(module, "asymmetric activations need mode=static, "
                          "granularity=tensor and dtype=i8");

    SmallVector<QuantizedLinearOp> targets;
    module.walk([&](QuantizedLinearOp op) {
      if (op.getInputSchemeAttr())
        return;
      QuantSchemeAttr w = op.getWeightScheme();
      if (w.getStorageKind() == ::qnum::StorageKind::Int4)
        return; // W4A16 stays weight-only.
      targets.push_back(op);
    });
    // Check everything before writing anything.
    for (QuantizedLinearOp op : targets) {
      QuantSchemeAttr w = op.getWeightScheme();
      if (w.isFloat8() != isFloat8)
        return fail(op, "layer '" + name(op) + "' has " +
                            (w.isFloat8() ? "float8" : "integer") +
                            " weights but dtype=" +
                            optionName(dtypeSpellings(), dtype).str());
      if (!isFloat8 && !w.isSymmetric())
        return fail(op, "layer '" + name(op) +
                            "' has asymmetric weights; W8A8 needs symmetric "
                            "weights");
      if (isStatic && !symmetric &&
          !isa<PerChannelAttr, PerTensorAttr>(w.getGranularity()))
        return fail(op, "layer '" + name(op) +
                            "' has per-group or block weight scales; an "
                            "asymmetric input's zero point folds into "
                            "int_bias only with per-channel or per-tensor "
                            "weights");
      if (isStatic && !findStats(op.getInput()))
        return fail(op, "layer '" + name(op) +
                            "' has no calibration statistics for its input; "
                            "run qopt-calibrate on the model first");
    }
    if (targets.empty())
      return;

    std::string error;
    std::unique_ptr<WeightReader> reader;
    std::unique_ptr<WeightWriter> writer;
    if (isStatic && !symmetric) {
      reader = WeightReader::open(module, error);
      writer = reader ? WeightWriter::create(module, weightsOut, "zp", error)
                      : nullptr;
      if (!writer)
        return fail(module, error);
    }

    // One quantize per distinct input (q/k/v and gate/up share theirs).
    std::map<std::pair<void *, const void *>, QuantizeOp> quantized;
    for (QuantizedLinearOp op : targets) {
      Value x = op.getInput();
      auto xType = cast<RankedTensorType>(x.getType());
      QuantSchemeAttr scheme;
      if (!isStatic) {
        GranularityAttrInterface g =
            perToken ? GranularityAttrInterface(PerTokenAttr::get(ctx))
                     : GranularityAttrInterface(PerTensorAttr::get(ctx));
        scheme = QuantSchemeAttr::get(ctx, storage, g, Symmetry::Symmetric,
                                      ScaleMode::Dynamic, ElementsAttr(),
                                      ElementsAttr(), Packing::None);
      } else {
        ActStatsAttr st = findStats(x);
        std::vector<float> absmax = statValues(st.getAbsmax());
        float amax = 0;
        for (float v : absmax)
          amax = std::max(amax, v);
        auto scalar = RankedTensorType::get({}, b.getF32Type());
        ::qnum::StorageKind kind = isFloat8 ? ::qnum::StorageKind::Float8E4M3FN
                                            : ::qnum::StorageKind::Int8;
        ElementsAttr scales, zps;
        if (symmetric) {
          float s = ::qnum::symmetricScale(
              amax, ::qnum::storageRange(kind, true).max);
          scales = DenseElementsAttr::get(scalar, s);
        } else {
          std::vector<float> mins = statValues(st.getMin()),
                             maxs = statValues(st.getMax());
          if (mins.empty() || maxs.empty())
            return fail(op, "layer '" + name(op) +
                                "': the statistics have no min/max; run "
                                "qopt-calibrate again");
          float lo = *std::min_element(mins.begin(), mins.end());
          float hi = *std::max_element(maxs.begin(), maxs.end());
          ::qnum::StorageRange r = ::qnum::storageRange(kind, false);
          ::qnum::AffineParams p = ::qnum::asymmetricParams(
              lo, hi, static_cast<int32_t>(r.min), static_cast<int32_t>(r.max));
          scales = DenseElementsAttr::get(scalar, p.scale);
          zps = DenseElementsAttr::get(
              RankedTensorType::get({}, b.getI32Type()), p.zeroPoint);
        }
        scheme = QuantSchemeAttr::get(
            ctx, storage, PerTensorAttr::get(ctx),
            symmetric ? Symmetry::Symmetric : Symmetry::Asymmetric,
            ScaleMode::Static, scales, zps, Packing::None);
      }

      auto key =
          std::make_pair(x.getAsOpaquePointer(), scheme.getAsOpaquePointer());
      QuantizeOp &qop = quantized[key];
      if (!qop) {
        OpBuilder ob(ctx);
        if (Operation *def = x.getDefiningOp())
          ob.setInsertionPointAfter(def);
        else
          ob.setInsertionPointToStart(cast<BlockArgument>(x).getOwner());
        auto qType = RankedTensorType::get(xType.getShape(), storage);
        Type sType;
        if (!isStatic)
          sType = RankedTensorType::get(
              perToken ? ArrayRef<int64_t>{xType.getShape().drop_back()}
                       : ArrayRef<int64_t>{},
              b.getF32Type());
        qop = QuantizeOp::create(ob, op.getLoc(), qType, sType, Type(), x,
                                 scheme);
      }

      Value intBias;
      OpBuilder ob(op);
      if (isStatic && !symmetric) {
        // int_bias[n] = -zp * sum_k Wq[n, k].
        auto wOp = op.getWeight().getDefiningOp<WeightOp>();
        std::vector<float> wq;
        if (!wOp || failed(reader->readStorage(wOp, wq, error)))
          return fail(op, "layer '" + name(op) + "': " +
                              (wOp ? error : "weight is not a stored tensor"));
        int64_t n = op.getWeight().getType().getDimSize(0);
        int64_t k = op.getWeight().getType().getDimSize(1);
        int32_t zp = scheme.getZeroPointValues()[0];
        std::vector<int32_t> bias(n);
        for (int64_t r = 0; r < n; ++r) {
          int64_t sum = 0;
          for (int64_t c = 0; c < k; ++c)
            sum += static_cast<int64_t>(wq[r * k + c]);
          bias[r] = static_cast<int32_t>(-zp * sum);
        }
        std::string tname = name(op) + ".int_bias";
        if (failed(writer->addInt32(tname, {n}, bias, error)))
          return fail(op, error);
        intBias = writer->reference(ob, op.getLoc(), tname,
                                    RankedTensorType::get({n}, b.getI32Type()));
      }
      auto replacement = QuantizedLinearOp::create(
          ob, op.getLoc(), op.getOutput().getType(), qop.getOutput(),
          op.getWeight(), op.getBias(), intBias, qop.getScales(),
          /*input_zero_points=*/Value(), op.getWeightScales(),
          op.getWeightZeroPoints(), op.getResidual(), scheme,
          op.getWeightScheme(), op.getActivationAttr(), op.getRoleAttr(),
          op.getLabelAttr());
      op.getOutput().replaceAllUsesWith(replacement.getOutput());
      op.erase();
    }
    if (writer && failed(writer->finish(error)))
      return fail(module, error);
  }
};
} // namespace
