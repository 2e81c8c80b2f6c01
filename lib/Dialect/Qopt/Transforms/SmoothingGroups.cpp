//===- SmoothingGroups.cpp - Linears sharing a smoothable input -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/SmoothingGroups.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;
using namespace mlir::qopt;

/// `value` if it is not observed, otherwise the observer's input.
static Value stripObserver(Value value) {
  if (auto obs = value.getDefiningOp<ObserveOp>())
    return obs.getInput();
  return value;
}

/// True when every use of `value` (looking through observers) is by an op
/// `allowed` accepts.
static bool onlyUsedBy(Value value,
                       llvm::function_ref<bool(Operation *)> allowed) {
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

static std::string labelOf(Operation *op, const char *fallback) {
  if (auto linear = dyn_cast<LinearLikeOpInterface>(op))
    if (!linear.getLayerName().empty())
      return linear.getLayerName().str();
  return fallback;
}

int64_t SmoothGroup::producerChannels() const {
  if (kind != ProducerKind::ValueToOutput)
    return cast<RankedTensorType>(input.getType()).getShape().back();
  AttentionOp a = attention;
  return a.getNumKvHeads() * a.getHeadDim();
}

int64_t SmoothGroup::producerChannel(int64_t j) const {
  if (kind != ProducerKind::ValueToOutput)
    return j;
  AttentionOp a = attention;
  int64_t d = a.getHeadDim();
  int64_t ratio = a.getNumHeads() / a.getNumKvHeads();
  return (j / d) / ratio * d + j % d;
}

/// Finds the producer of `group.input` and fills in the group's kind.
static bool classify(SmoothGroup &group) {
  Value src = stripObserver(group.input);
  auto isLinear = [](Operation *op) { return isa<LinearOp>(op); };
  Operation *def = src.getDefiningOp();
  if (!def)
    return false;
  if (isa<RMSNormOp, LayerNormOp>(def)) {
    if (!WeightReader::isWeightExpression(def->getOperand(1)) ||
        (def->getNumOperands() > 2 &&
         !WeightReader::isWeightExpression(def->getOperand(2))) ||
        !onlyUsedBy(src, isLinear))
      return false;
    group.kind = ProducerKind::Norm;
    group.norm = def;
    return true;
  }
  if (auto attn = dyn_cast<AttentionOp>(def)) {
    Value v = attn.getValue();
    auto vLinear = stripObserver(v).getDefiningOp<LinearOp>();
    if (!vLinear || !WeightReader::isWeightExpression(vLinear.getWeight()) ||
        !onlyUsedBy(src, isLinear) ||
        !onlyUsedBy(vLinear.getResult(),
                    [&](Operation *u) { return u == attn.getOperation(); }))
      return false;
    group.kind = ProducerKind::ValueToOutput;
    group.producer = vLinear;
    group.attention = attn;
    group.valueObserver = v.getDefiningOp<ObserveOp>();
    return true;
  }
  if (auto mul = dyn_cast<MulOp>(def)) {
    if (!onlyUsedBy(src, isLinear))
      return false;
    for (Value operand : {mul.getRhs(), mul.getLhs()}) {
      auto up = stripObserver(operand).getDefiningOp<LinearOp>();
      if (up && WeightReader::isWeightExpression(up.getWeight()) &&
          onlyUsedBy(up.getResult(),
                     [&](Operation *u) { return u == mul.getOperation(); })) {
        group.kind = ProducerKind::UpToDown;
        group.producer = up;
        return true;
      }
    }
  }
  return false;
}

std::vector<SmoothGroup> mlir::qopt::collectSmoothingGroups(ModuleOp module) {
  llvm::MapVector<Value, SmoothGroup> byInput;
  module.walk([&](LinearOp linear) {
    SmoothGroup &g = byInput[linear.getInput()];
    g.input = linear.getInput();
    g.linears.push_back(linear);
  });
  std::vector<SmoothGroup> out;
  for (auto &[value, group] : byInput) {
    bool lmHead = llvm::any_of(group.linears, [](LinearOp l) {
      return l.getRole() == LinearRole::LMHead;
    });
    bool weights = llvm::all_of(group.linears, [](LinearOp l) {
      return WeightReader::isWeightExpression(l.getWeight());
    });
    if (lmHead || !weights || !classify(group))
      continue;
    group.observer = group.input.getDefiningOp<ObserveOp>();
    out.push_back(group);
  }
  return out;
}

LogicalResult mlir::qopt::applySmoothing(SmoothGroup &group,
                                         const std::vector<double> &s,
                                         WeightReader &reader,
                                         WeightWriter &writer,
                                         std::string &error) {
  MLIRContext *ctx = group.input.getContext();
  OpBuilder b(ctx);
  int64_t k = static_cast<int64_t>(s.size());
  std::vector<double> sProducer(group.producerChannels(), 1.0);
  for (int64_t j = 0; j < k; ++j)
    sProducer[group.producerChannel(j)] = s[j];
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
  // Replaces the weight operand `operand` by scale_channels(weight, f).
  auto scaleOperand = [&](OpOperand &operand, Value factors, int64_t axis) {
    auto wType = cast<RankedTensorType>(operand.get().getType());
    auto rType = RankedTensorType::get(wType.getShape(), b.getF32Type());
    b.setInsertionPoint(operand.getOwner());
    Value scaled = ScaleChannelsOp::create(b, operand.getOwner()->getLoc(),
                                           rType, operand.get(), factors,
                                           b.getI64IntegerAttr(axis));
    operand.set(scaled);
  };

  // Consumers: W[:, j] * s_j. The factor is defined before the first of
  // them (they are in program order).
  std::string sName = base + ".smooth";
  if (failed(writer.addFloat(sName, {k}, toFloats(s, false), error)))
    return failure();
  b.setInsertionPoint(group.linears.front());
  Value sValue =
      writer.reference(b, group.linears.front().getLoc(), sName, vectorType(k));
  for (LinearOp linear : group.linears)
    scaleOperand(linear->getOpOperand(1), sValue, 1);

  // The producer: divided by s.
  if (group.kind == ProducerKind::Norm) {
    Operation *norm = group.norm;
    auto weightName = [&](Value v, const std::string &fallback) {
      if (auto w = v.getDefiningOp<WeightOp>())
        return w.getName().str();
      return fallback;
    };
    for (unsigned idx = 1; idx < norm->getNumOperands(); ++idx) {
      std::vector<float> g;
      if (failed(reader.evaluate(norm->getOperand(idx), g, error)))
        return failure();
      std::vector<double> gs(g.begin(), g.end());
      for (int64_t j = 0; j < k; ++j)
        gs[j] /= s[j];
      std::string gName =
          weightName(norm->getOperand(idx),
                     base + (idx == 1 ? ".norm_weight" : ".norm_bias")) +
          ".smoothed";
      if (failed(writer.addFloat(gName, {k}, toFloats(gs, false), error)))
        return failure();
      b.setInsertionPoint(norm);
      Value old = norm->getOperand(idx);
      norm->setOperand(
          idx, writer.reference(b, norm->getLoc(), gName, vectorType(k)));
      if (Operation *def = old.getDefiningOp())
        if (def->use_empty() && isa<WeightOp>(def))
          def->erase();
    }
  } else {
    LinearOp producer = group.producer;
    int64_t rows = static_cast<int64_t>(sProducer.size());
    std::string pName = labelOf(producer, "producer") + ".smooth_inv";
    if (failed(
            writer.addFloat(pName, {rows}, toFloats(sProducer, true), error)))
      return failure();
    b.setInsertionPoint(producer);
    Value inv = writer.reference(b, producer.getLoc(), pName, vectorType(rows));
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
    return ActStatsAttr::get(ctx, scaled(st.getAbsmax()), scaled(st.getMin()),
                             scaled(st.getMax()), st.getNumTokens(),
                             StringAttr());
  };
  if (group.observer && group.observer.getStatsAttr())
    group.observer.setStatsAttr(divide(group.observer.getStatsAttr(), s));
  if (group.valueObserver && group.valueObserver.getStatsAttr())
    group.valueObserver.setStatsAttr(
        divide(group.valueObserver.getStatsAttr(), sProducer));
  return success();
}
