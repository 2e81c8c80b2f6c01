//===- Smooth.cpp - SmoothQuant smoothing migration -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/Passes.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/MapVector.h"

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

/// How the division by s is folded into the producer of the activation.
enum class ProducerKind { Norm, ValueToOutput, UpToDown };

/// Linears reading one activation, and where that activation comes from.
struct SmoothGroup {
  Value input;                    // the value the linears read
  ObserveOp observer;             // its observer (with the statistics)
  SmallVector<LinearOp> linears;  // the consumers (weights * s)
  ProducerKind kind;
  Operation *norm = nullptr;      // Norm: rms_norm / layer_norm
  LinearOp producer;              // ValueToOutput / UpToDown: rows / s
  AttentionOp attention;          // ValueToOutput
  ObserveOp valueObserver;        // ValueToOutput: the observer of V, if any
};

/// `value` if it is not observed, otherwise the observer's input.
Value stripObserver(Value value) {
  if (auto obs = value.getDefiningOp<ObserveOp>())
    return obs.getInput();
  return value;
}

/// True when every use of `value` (looking through observers) is by an op in
/// `allowed`.
bool onlyUsedBy(Value value, llvm::function_ref<bool(Operation *)> allowed) {
  for (Operation *user : value.getUsers()) {
    if (auto obs = dyn_cast<ObserveOp>(user)) {
      if (!onlyUsedBy(obs.getResult(), allowed))
        return false;
    } else if (!allowed(user)) {
      return false;
    }
  }
  return true;
}

std::string labelOf(Operation *op, const char *fallback) {
  if (auto label = op->getAttrOfType<StringAttr>("label"))
    return label.str();
  return fallback;
}

struct QoptSmoothPass
    : public mlir::qopt::impl::QoptSmoothBase<QoptSmoothPass> {
  using Base::Base;

  /// Finds the producer of `group.input` and fills in the group's kind.
  /// Returns false when the activation cannot be smoothed (the group is left
  /// alone).
  bool classify(SmoothGroup &group) {
    Value src = stripObserver(group.input);
    auto isLinear = [](Operation *op) { return isa<LinearOp>(op); };
    Operation *def = src.getDefiningOp();
    if (!def)
      return false;
    if (isa<RMSNormOp, LayerNormOp>(def)) {
      Value weight = def->getOperand(1);
      if (!WeightReader::isWeightExpression(weight) ||
          !onlyUsedBy(src, isLinear))
        return false;
      group.kind = ProducerKind::Norm;
      group.norm = def;
      return true;
    }
    if (auto attn = dyn_cast<AttentionOp>(def)) {
      Value v = attn.getValue();
      auto vObs = v.getDefiningOp<ObserveOp>();
      auto vLinear = stripObserver(v).getDefiningOp<LinearOp>();
      if (!vLinear || !onlyUsedBy(src, isLinear) ||
          !onlyUsedBy(vLinear.getResult(),
                      [&](Operation *u) { return u == attn.getOperation(); }))
        return false;
      group.kind = ProducerKind::ValueToOutput;
      group.producer = vLinear;
      group.attention = attn;
      group.valueObserver = vObs;
      return true;
    }
    if (auto mul = dyn_cast<MulOp>(def)) {
      if (!onlyUsedBy(src, isLinear))
        return false;
      for (Value operand : {mul.getRhs(), mul.getLhs()}) {
        auto up = stripObserver(operand).getDefiningOp<LinearOp>();
        if (up && onlyUsedBy(up.getResult(), [&](Operation *u) {
              return u == mul.getOperation();
            })) {
          group.kind = ProducerKind::UpToDown;
          group.producer = up;
          return true;
        }
      }
    }
    return false;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      module.emitError() << "qopt-smooth: alpha must be in [0, 1], got "
                         << alpha;
      return signalPassFailure();
    }

    // Groups in program order, one per distinct linear input.
    llvm::MapVector<Value, SmoothGroup> groups;
    module.walk([&](LinearOp linear) {
      SmoothGroup &g = groups[linear.getInput()];
      g.input = linear.getInput();
      g.linears.push_back(linear);
    });
    SmallVector<SmoothGroup> work;
    for (auto &[value, group] : groups) {
      bool lmHead = llvm::any_of(group.linears, [](LinearOp l) {
        return l.getRole() == LinearRole::LMHead;
      });
      if (lmHead || !classify(group))
        continue;
      bool weights = llvm::all_of(group.linears, [](LinearOp l) {
        return WeightReader::isWeightExpression(l.getWeight());
      });
      if (!weights)
        continue;
      group.observer = group.input.getDefiningOp<ObserveOp>();
      if (!group.observer || !group.observer.getStatsAttr()) {
        group.linears.front().emitError()
            << "qopt-smooth: linear '" << labelOf(group.linears.front(), "?")
            << "' has no calibration statistics for its input; run "
               "qopt-calibrate on the model first";
        return signalPassFailure();
      }
      work.push_back(group);
    }
    if (work.empty())
      return;

    std::string error;
    std::unique_ptr<WeightReader> reader = WeightReader::open(module, error);
    if (!reader) {
      module.emitError() << "qopt-smooth: " << error;
      return signalPassFailure();
    }
    std::unique_ptr<WeightWriter> writer =
        WeightWriter::create(module, weightsOut, "smooth", error);
    if (!writer) {
      module.emitError() << "qopt-smooth: " << error;
      return signalPassFailure();
    }
    for (SmoothGroup &group : work)
      if (failed(smooth(group, *reader, *writer, error))) {
        group.linears.front().emitError() << "qopt-smooth: " << error;
        return signalPassFailure();
      }
    if (failed(writer->finish(error))) {
      module.emitError() << "qopt-smooth: " << error;
      return signalPassFailure();
    }
  }

  LogicalResult smooth(SmoothGroup &group, WeightReader &reader,
                       WeightWriter &writer, std::string &error) {
    ActStatsAttr stats = group.observer.getStatsAttr();
    std::vector<float> act = statValues(stats.getAbsmax());
    int64_t k = static_cast<int64_t>(act.size());

    // Column maxima of |W| over the group's weights.
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
      for (size_t i = 0; i < w.size(); ++i)
        wmax[i % k] = std::max<double>(wmax[i % k], std::fabs(w[i]));
      reader.release(linear.getWeight());
    }

    auto factor = [&](double a, double w) {
      if (a <= 0.0 || w <= 0.0)
        return 1.0;
      return std::max(std::pow(a, alpha.getValue()) /
                          std::pow(w, 1.0 - alpha.getValue()),
                      1e-5);
    };

    // s per input channel of the consumers; for ValueToOutput, also per
    // channel of the value projection (rows).
    std::vector<double> s(k, 1.0), sProducer;
    if (group.kind == ProducerKind::ValueToOutput) {
      AttentionOp attn = group.attention;
      int64_t heads = attn.getNumHeads(), kvHeads = attn.getNumKvHeads(),
              d = attn.getHeadDim(), ratio = heads / kvHeads;
      if (heads * d != k) {
        error = "attention output has " + std::to_string(heads * d) +
                " channels but the statistics have " + std::to_string(k);
        return failure();
      }
      auto kvChannel = [&](int64_t j) {
        return (j / d) / ratio * d + j % d;
      };
      std::vector<double> aKv(kvHeads * d, 0.0), wKv(kvHeads * d, 0.0);
      for (int64_t j = 0; j < k; ++j) {
        aKv[kvChannel(j)] = std::max<double>(aKv[kvChannel(j)], act[j]);
        wKv[kvChannel(j)] = std::max(wKv[kvChannel(j)], wmax[j]);
      }
      sProducer.resize(kvHeads * d);
      for (int64_t c = 0; c < kvHeads * d; ++c)
        sProducer[c] = factor(aKv[c], wKv[c]);
      for (int64_t j = 0; j < k; ++j)
        s[j] = sProducer[kvChannel(j)];
    } else {
      for (int64_t j = 0; j < k; ++j)
        s[j] = factor(act[j], wmax[j]);
      if (group.kind == ProducerKind::UpToDown)
        sProducer = s;
    }

    OpBuilder b(&getContext());
    std::string base = labelOf(group.linears.front(), "linear");
    auto toFloats = [](const std::vector<double> &v, bool invert) {
      std::vector<float> out(v.size());
      for (size_t i = 0; i < v.size(); ++i)
        out[i] = static_cast<float>(invert ? 1.0 / v[i] : v[i]);
      return out;
    };
    auto vectorType = [&](int64_t n) {
      return RankedTensorType::get({n}, b.getF32Type());
    };
    /// Replaces the weight operand `operand` by scale_channels(weight, f).
    auto scaleOperand = [&](OpOperand &operand, Value factors, int64_t axis) {
      auto wType = cast<RankedTensorType>(operand.get().getType());
      auto rType = RankedTensorType::get(wType.getShape(), b.getF32Type());
      b.setInsertionPoint(operand.getOwner());
      Value scaled = ScaleChannelsOp::create(b, operand.getOwner()->getLoc(),
                                             rType, operand.get(), factors,
                                             b.getI64IntegerAttr(axis));
      operand.set(scaled);
    };

    // Consumers: W[:, j] * s_j.
    std::string sName = base + ".smooth";
    if (failed(writer.addFloat(sName, {k}, toFloats(s, false), error)))
      return failure();
    b.setInsertionPoint(group.linears.front());
    Value sValue = writer.reference(b, group.linears.front().getLoc(), sName,
                                    vectorType(k));
    // The weight expressions must dominate: put the factor before the
    // earliest consumer.
    for (LinearOp linear : group.linears) {
      if (linear->isBeforeInBlock(sValue.getDefiningOp()))
        sValue.getDefiningOp()->moveBefore(linear);
    }
    for (LinearOp linear : group.linears)
      scaleOperand(linear->getOpOperand(1), sValue, 1);

    // Producer: divide by s.
    if (group.kind == ProducerKind::Norm) {
      Operation *norm = group.norm;
      std::vector<float> g;
      if (failed(reader.evaluate(norm->getOperand(1), g, error)))
        return failure();
      std::vector<double> gs(g.begin(), g.end());
      for (int64_t j = 0; j < k; ++j)
        gs[j] /= s[j];
      std::string gName =
          (norm->getOperand(1).getDefiningOp<WeightOp>()
               ? norm->getOperand(1).getDefiningOp<WeightOp>().getName().str()
               : base + ".norm") +
          ".smoothed";
      if (failed(writer.addFloat(gName, {k}, toFloats(gs, false), error)))
        return failure();
      b.setInsertionPoint(norm);
      norm->setOperand(1, writer.reference(b, norm->getLoc(), gName,
                                           vectorType(k)));
      if (norm->getNumOperands() > 2 && norm->getOperand(2)) {
        // layer_norm bias: (x_hat * g + b) / s.
        std::vector<float> bias;
        if (failed(reader.evaluate(norm->getOperand(2), bias, error)))
          return failure();
        std::vector<double> bs(bias.begin(), bias.end());
        for (int64_t j = 0; j < k; ++j)
          bs[j] /= s[j];
        std::string bName = gName + ".bias";
        if (failed(writer.addFloat(bName, {k}, toFloats(bs, false), error)))
          return failure();
        norm->setOperand(2, writer.reference(b, norm->getLoc(), bName,
                                             vectorType(k)));
      }
    } else {
      LinearOp producer = group.producer;
      int64_t rows = static_cast<int64_t>(sProducer.size());
      std::string pName = labelOf(producer, "producer") + ".smooth_inv";
      if (failed(
              writer.addFloat(pName, {rows}, toFloats(sProducer, true), error)))
        return failure();
      b.setInsertionPoint(producer);
      Value inv = writer.reference(b, producer.getLoc(), pName,
                                   vectorType(rows));
      scaleOperand(producer->getOpOperand(1), inv, 0);
      if (producer.getBias())
        scaleOperand(producer->getOpOperand(2), inv, 0);
    }

    // The activation statistics now describe X / s.
    auto divide = [&](ActStatsAttr st, const std::vector<double> &by) {
      auto scaled = [&](ElementsAttr attr) -> ElementsAttr {
        if (!attr)
          return attr;
        std::vector<float> v = statValues(attr);
        for (size_t j = 0; j < v.size(); ++j)
          v[j] = static_cast<float>(v[j] / by[j]);
        return DenseElementsAttr::get(vectorType(v.size()), ArrayRef<float>(v));
      };
      return ActStatsAttr::get(&getContext(), scaled(st.getAbsmax()),
                               scaled(st.getMin()), scaled(st.getMax()),
                               st.getNumTokens(), StringAttr());
    };
    group.observer.setStatsAttr(divide(stats, s));
    if (group.valueObserver && group.valueObserver.getStatsAttr())
      group.valueObserver.setStatsAttr(
          divide(group.valueObserver.getStatsAttr(), sProducer));
    return success();
  }
};
} // namespace
