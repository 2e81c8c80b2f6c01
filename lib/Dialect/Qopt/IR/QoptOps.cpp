//===- QoptOps.cpp - qopt operation verifiers -----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::qopt;

#include "qopt/Dialect/Qopt/IR/QoptOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/Qopt/IR/QoptOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Prints a shape as `[a, ?, b]`.
static std::string shapeStr(ArrayRef<int64_t> shape) {
  return ::qnum::shapeToString({shape.begin(), shape.end()});
}

static ShapedType shapedOf(Value v) { return cast<ShapedType>(v.getType()); }

/// True when two sizes can be equal (either dynamic or both the same).
static bool compatibleDim(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static bool compatibleShape(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!compatibleDim(x, y))
      return false;
  return true;
}

/// The innermost (feature) dimension of a tensor.
static int64_t featureDim(ShapedType t) {
  return t.getRank() == 0 ? 1 : t.getDimSize(t.getRank() - 1);
}

/// Checks the scales / zero points a scheme receives as operands (or
/// results) against the scheme and the quantized tensor's shape.
static LogicalResult verifyScaleSources(Operation *op, QuantSchemeAttr scheme,
                                        ArrayRef<int64_t> shape, Value scales,
                                        Value zeroPoints, StringRef what) {
  if (failed(scheme.verifyForShape(
          shape, [&] { return op->emitOpError(); }, what)))
    return failure();
  if (scheme.hasInlineScales() && scales)
    return op->emitOpError() << "the " << what
                             << " scales are given both inline in the scheme "
                                "and as an operand";
  if (!scheme.hasInlineScales() && !scales)
    return op->emitOpError()
           << "the " << what << " scheme has no inline scales, so it needs a "
           << "scales operand (" << (scheme.isDynamic() ? "dynamic" : "static")
           << " scheme)";
  SmallVector<int64_t> expected = scheme.getScaleShape(shape);
  if (scales && !compatibleShape(shapedOf(scales).getShape(), expected))
    return op->emitOpError()
           << "the " << what << " scales have shape "
           << shapeStr(shapedOf(scales).getShape())
           << " but the scheme's granularity needs " << shapeStr(expected);
  bool needsZpOperand = !scheme.isSymmetric() && !scheme.getZeroPoints();
  if (zeroPoints && !needsZpOperand)
    return op->emitOpError() << "the " << what
                             << " zero points operand is only allowed for an "
                                "asymmetric scheme without inline zero points";
  if (!zeroPoints && needsZpOperand && !scheme.isFloat8())
    return op->emitOpError() << "the asymmetric " << what
                             << " scheme needs a zero points operand";
  if (zeroPoints && !compatibleShape(shapedOf(zeroPoints).getShape(), expected))
    return op->emitOpError()
           << "the " << what << " zero points have shape "
           << shapeStr(shapedOf(zeroPoints).getShape())
           << " but the scheme's granularity needs " << shapeStr(expected);
  return success();
}

static LogicalResult verifyStorageElementType(Operation *op, Type elementType,
                                              QuantSchemeAttr scheme,
                                              StringRef what) {
  if (elementType != scheme.getStorage())
    return op->emitOpError() << what << " element type " << elementType
                             << " does not match the scheme's storage type "
                             << scheme.getStorage();
  return success();
}

/// Checks `input [..., in] x weight [out, in] (+ bias [out]) -> [..., out]`.
static LogicalResult verifyLinearShapes(Operation *op, ShapedType input,
                                        ShapedType weight, Value bias,
                                        ShapedType result) {
  if (weight.getRank() != 2)
    return op->emitOpError() << "weight must have rank 2 ([out, in]), got rank "
                             << weight.getRank();
  if (input.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  int64_t out = weight.getDimSize(0), in = weight.getDimSize(1);
  if (!compatibleDim(featureDim(input), in))
    return op->emitOpError()
           << "input feature size " << featureDim(input)
           << " does not match the weight's in-features " << in;
  SmallVector<int64_t> expected(input.getShape().drop_back());
  expected.push_back(out);
  if (!compatibleShape(result.getShape(), expected))
    return op->emitOpError()
           << "result shape " << shapeStr(result.getShape())
           << " does not match the expected shape " << shapeStr(expected);
  if (bias) {
    ShapedType b = shapedOf(bias);
    if (b.getRank() != 1 || !compatibleDim(b.getDimSize(0), out))
      return op->emitOpError() << "bias shape " << shapeStr(b.getShape())
                               << " does not match the out-features " << out;
  }
  return success();
}

static bool isWeight(Value v) { return v.getDefiningOp<WeightOp>() != nullptr; }

//===----------------------------------------------------------------------===//
// WeightStoreOp / WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightStoreOp::verify() {
  if (getPath().empty())
    return emitOpError() << "weight store path must not be empty";
  return success();
}

LogicalResult WeightOp::verify() {
  RankedTensorType type = getResult().getType();
  if (!type.hasStaticShape())
    return emitOpError() << "weight type " << type
                         << " must have a static shape";
  bool int4 = type.getElementType().isSignlessInteger(4);
  if (int4 && !getPacking())
    return emitOpError()
           << "i4 weight must say how the store packs it (packing attribute)";
  if (!int4 && getPacking() && *getPacking() != Packing::None)
    return emitOpError() << "packing applies only to i4 weights";
  if (getName().empty())
    return emitOpError() << "weight name must not be empty";
  return success();
}

LogicalResult WeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto store =
      symbolTable.lookupNearestSymbolFrom<WeightStoreOp>(*this, getStoreAttr());
  if (!store)
    return emitOpError() << "references unknown weight store "
                         << getStoreAttr();
  return success();
}

//===----------------------------------------------------------------------===//
// Graph ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  ShapedType table = getTable().getType();
  if (table.getRank() != 2)
    return emitOpError()
           << "table must have rank 2 ([vocab, hidden]), got rank "
           << table.getRank();
  SmallVector<int64_t> expected(getIds().getType().getShape());
  expected.push_back(table.getDimSize(1));
  if (!compatibleShape(getResult().getType().getShape(), expected))
    return emitOpError() << "result shape "
                         << shapeStr(getResult().getType().getShape())
                         << " does not match the expected shape "
                         << shapeStr(expected);
  return success();
}

static LogicalResult verifyNorm(Operation *op, ShapedType input,
                                ShapedType weight, Value bias,
                                ShapedType result, double epsilon) {
  if (!(epsilon > 0.0))
    return op->emitOpError() << "epsilon must be positive, got " << epsilon;
  if (input.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  int64_t features = featureDim(input);
  auto checkVector = [&](ShapedType t, StringRef name) -> LogicalResult {
    if (t.getRank() != 1 || !compatibleDim(t.getDimSize(0), features))
      return op->emitOpError()
             << name << " shape " << shapeStr(t.getShape())
             << " does not match the feature size " << features;
    return success();
  };
  if (failed(checkVector(weight, "weight")) ||
      (bias && failed(checkVector(shapedOf(bias), "bias"))))
    return failure();
  if (!compatibleShape(result.getShape(), input.getShape()))
    return op->emitOpError()
           << "result shape " << shapeStr(result.getShape())
           << " does not match the input shape " << shapeStr(input.getShape());
  return success();
}

LogicalResult RMSNormOp::verify() {
  return verifyNorm(*this, getInput().getType(), getWeight().getType(), Value(),
                    getResult().getType(), getEpsilon().convertToDouble());
}

LogicalResult LayerNormOp::verify() {
  return verifyNorm(*this, getInput().getType(), getWeight().getType(),
                    getBias(), getResult().getType(),
                    getEpsilon().convertToDouble());
}

LogicalResult LinearOp::verify() {
  return verifyLinearShapes(*this, getInput().getType(), getWeight().getType(),
                            getBias(), getResult().getType());
}

/// Checks that a feature dimension splits into `heads` heads of `headDim`.
static LogicalResult verifyHeads(Operation *op, StringRef what,
                                 int64_t features, int64_t heads,
                                 int64_t headDim, StringRef headsName) {
  if (ShapedType::isDynamic(features))
    return success();
  if (features % heads != 0)
    return op->emitOpError()
           << what << " feature size " << features << " is not divisible by "
           << headsName << " " << heads;
  if (features != heads * headDim)
    return op->emitOpError()
           << what << " feature size " << features << " is not " << headsName
           << " (" << heads << ") x head_dim (" << headDim << ")";
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t heads = getNumHeads(), headDim = getHeadDim();
  if (heads <= 0 || headDim <= 0)
    return emitOpError() << "num_heads and head_dim must be positive";
  if (headDim % 2 != 0)
    return emitOpError() << "head_dim must be even for rotary embedding, got "
                         << headDim;
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError() << "theta must be positive";
  ShapedType input = getInput().getType();
  if (input.getRank() < 1)
    return emitOpError() << "input must have rank >= 1";
  if (failed(verifyHeads(*this, "input", featureDim(input), heads, headDim,
                         "num_heads")))
    return failure();
  if (!compatibleShape(getPositions().getType().getShape(),
                       input.getShape().drop_back()))
    return emitOpError() << "positions shape "
                         << shapeStr(getPositions().getType().getShape())
                         << " does not match the input's token dimensions "
                         << shapeStr(input.getShape().drop_back());
  if (!compatibleShape(getResult().getType().getShape(), input.getShape()))
    return emitOpError() << "result shape does not match the input shape";
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError()
           << "num_heads, num_kv_heads and head_dim must be positive";
  if (heads % kvHeads != 0)
    return emitOpError() << "num_heads (" << heads
                         << ") must be a multiple of num_kv_heads (" << kvHeads
                         << ")";
  if (getLayer() < 0)
    return emitOpError() << "layer must be non-negative";
  if (getScale() && !(getScale()->convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive";
  if (std::optional<int64_t> window = getSlidingWindow()) {
    if (*window <= 0)
      return emitOpError() << "sliding_window must be positive, got "
                           << *window;
    if (!getCausal())
      return emitOpError() << "sliding_window needs causal attention";
  }
  ShapedType q = getQuery().getType(), k = getKey().getType(),
             v = getValue().getType();
  if (q.getRank() < 1 || k.getRank() != q.getRank() ||
      v.getRank() != q.getRank())
    return emitOpError() << "query, key and value must have the same rank >= 1";
  if (failed(verifyHeads(*this, "query", featureDim(q), heads, headDim,
                         "num_heads")) ||
      failed(verifyHeads(*this, "key", featureDim(k), kvHeads, headDim,
                         "num_kv_heads")) ||
      failed(verifyHeads(*this, "value", featureDim(v), kvHeads, headDim,
                         "num_kv_heads")))
    return failure();
  if (!compatibleShape(k.getShape(), v.getShape()) ||
      !compatibleShape(q.getShape().drop_back(), k.getShape().drop_back()))
    return emitOpError() << "query, key and value must have the same tokens";
  if (!compatibleShape(getResult().getType().getShape(), q.getShape()))
    return emitOpError() << "result shape does not match the query shape";
  if (static_cast<bool>(getKeySchemeAttr()) !=
      static_cast<bool>(getValueSchemeAttr()))
    return emitOpError()
           << "key_scheme and value_scheme must be given together";
  for (auto [kv, what] : {std::pair{getKeySchemeAttr(), "key"},
                          std::pair{getValueSchemeAttr(), "value"}}) {
    if (!kv)
      continue;
    if (kv.getStorageKind() == ::qnum::StorageKind::Int4)
      return emitOpError() << what
                           << " cache scheme storage must be i8 or float8, "
                              "got i4";
    if (!isa<PerTensorAttr, PerHeadAttr, PerTokenAttr>(kv.getGranularity()))
      return emitOpError() << what
                           << " cache scheme must be per-tensor, per-head "
                              "or per-token, got "
                           << kv.getGranularity();
    if (auto perHead = dyn_cast<PerHeadAttr>(kv.getGranularity()))
      if (perHead.getHeads() != kvHeads || perHead.getAxis() != k.getRank() - 1)
        return emitOpError() << "per-head " << what
                             << " cache scheme must split the "
                                "innermost axis into num_kv_heads ("
                             << kvHeads << ") heads";
    if (failed(kv.verifyForShape(
            k.getShape(), [&] { return emitOpError(); },
            std::string(what) + " cache")))
      return failure();
    if (kv.isDynamic() && !isa<PerTokenAttr>(kv.getGranularity()))
      return emitOpError() << "dynamic " << what
                           << " cache scheme must be per-token (a "
                              "per-tensor or per-head scale computed at run "
                              "time would depend on how tokens are batched)";
    if (kv.isStatic() && !kv.hasInlineScales())
      return emitOpError() << "static " << what
                           << " cache scheme needs inline scales";
  }
  return success();
}

LogicalResult ScaleChannelsOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto scales = cast<ShapedType>(getScales().getType());
  int64_t axis = getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << input.getRank();
  if (scales.getRank() != 1)
    return emitOpError() << "scales must have rank 1, got rank "
                         << scales.getRank();
  if (!compatibleShape(scales.getShape(), {input.getDimSize(axis)}))
    return emitOpError() << "scales have " << scales.getDimSize(0)
                         << " elements but axis " << axis << " has size "
                         << input.getDimSize(axis);
  if (!compatibleShape(getResult().getType().getShape(), input.getShape()))
    return emitOpError() << "result shape does not match the input shape";
  return success();
}

LogicalResult PermuteChannelsOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto perm = cast<ShapedType>(getPermutation().getType());
  if (input.getRank() < 1)
    return emitOpError() << "input must have at least one dimension";
  if (perm.getRank() != 1)
    return emitOpError() << "permutation must have rank 1, got rank "
                         << perm.getRank();
  int64_t channels = input.getDimSize(input.getRank() - 1);
  if (ShapedType::isDynamic(channels))
    return emitOpError() << "the channel (innermost) dimension must be static";
  if (!compatibleShape(perm.getShape(), {channels}))
    return emitOpError() << "permutation has " << perm.getDimSize(0)
                         << " elements but the input has " << channels
                         << " channels";
  if (!compatibleShape(getResult().getType().getShape(), input.getShape()) ||
      getResult().getType().getElementType() != input.getElementType())
    return emitOpError() << "result type must be the input type";
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization ops
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  QuantSchemeAttr scheme = getScheme();
  ShapedType input = getInput().getType();
  if (failed(scheme.verifyForShape(
          input.getShape(), [&] { return emitOpError(); }, "input")))
    return failure();
  if (scheme.getGranularity().isActivationOnly() && isWeight(getInput()))
    return emitOpError() << "per-token granularity cannot apply to a weight";
  if (failed(verifyStorageElementType(
          *this, getOutput().getType().getElementType(), scheme, "result")))
    return failure();
  if (!compatibleShape(getOutput().getType().getShape(), input.getShape()))
    return emitOpError() << "result shape does not match the input shape";
  if (scheme.isStatic()) {
    if (!scheme.hasInlineScales())
      return emitOpError()
             << "static quantize needs a scheme with inline scales";
    if (getScales() || getZeroPoints())
      return emitOpError()
             << "static quantize returns no scales or zero points";
    return success();
  }
  if (!getScales())
    return emitOpError() << "dynamic quantize must return its scales";
  SmallVector<int64_t> expected = scheme.getScaleShape(input.getShape());
  if (!compatibleShape(getScales().getType().getShape(), expected))
    return emitOpError() << "scales result has shape "
                         << shapeStr(getScales().getType().getShape())
                         << " but the scheme's granularity needs "
                         << shapeStr(expected);
  if (scheme.isSymmetric() && getZeroPoints())
    return emitOpError() << "symmetric quantize returns no zero points";
  if (!scheme.isSymmetric() && !getZeroPoints())
    return emitOpError() << "asymmetric dynamic quantize must return its zero "
                            "points";
  if (getZeroPoints() &&
      !compatibleShape(getZeroPoints().getType().getShape(), expected))
    return emitOpError() << "zero points result has shape "
                         << shapeStr(getZeroPoints().getType().getShape())
                         << " but the scheme's granularity needs "
                         << shapeStr(expected);
  return success();
}

LogicalResult DequantizeOp::verify() {
  QuantSchemeAttr scheme = getScheme();
  ShapedType input = getInput().getType();
  if (failed(verifyStorageElementType(*this, input.getElementType(), scheme,
                                      "input")))
    return failure();
  if (!compatibleShape(getOutput().getType().getShape(), input.getShape()))
    return emitOpError() << "result shape does not match the input shape";
  return verifyScaleSources(*this, scheme, input.getShape(), getScales(),
                            getZeroPoints(), "input");
}

LogicalResult RequantizeOp::verify() {
  for (auto [scheme, name] :
       {std::pair{getInScheme(), StringRef("in_scheme")},
        std::pair{getOutScheme(), StringRef("out_scheme")}})
    if (!scheme.isStatic() || !scheme.hasInlineScales())
      return emitOpError() << name << " must be static with inline scales";
  ShapedType input = getInput().getType();
  if (failed(verifyStorageElementType(*this, input.getElementType(),
                                      getInScheme(), "input")) ||
      failed(verifyStorageElementType(*this,
                                      getOutput().getType().getElementType(),
                                      getOutScheme(), "result")))
    return failure();
  if (!compatibleShape(getOutput().getType().getShape(), input.getShape()))
    return emitOpError() << "result shape does not match the input shape";
  if (failed(getInScheme().verifyForShape(
          input.getShape(), [&] { return emitOpError(); }, "input")) ||
      failed(getOutScheme().verifyForShape(
          input.getShape(), [&] { return emitOpError(); }, "result")))
    return failure();
  return success();
}

LogicalResult QuantizedLinearOp::verify() {
  QuantSchemeAttr wScheme = getWeightScheme();
  ShapedType weight = getWeight().getType();
  if (!wScheme.isStatic())
    return emitOpError() << "weight scheme must be static";
  if (wScheme.getGranularity().isActivationOnly())
    return emitOpError() << "per-token granularity cannot apply to a weight";
  if (failed(verifyStorageElementType(*this, weight.getElementType(), wScheme,
                                      "weight")))
    return failure();
  if (weight.getRank() != 2)
    return emitOpError() << "weight must have rank 2 ([out, in]), got rank "
                         << weight.getRank();
  if (failed(verifyScaleSources(*this, wScheme, weight.getShape(),
                                getWeightScales(), getWeightZeroPoints(),
                                "weight")))
    return failure();

  ShapedType input = cast<ShapedType>(getInput().getType());
  if (QuantSchemeAttr xScheme = getInputSchemeAttr()) {
    if (failed(verifyStorageElementType(*this, input.getElementType(), xScheme,
                                        "input")) ||
        failed(verifyScaleSources(*this, xScheme, input.getShape(),
                                  getInputScales(), getInputZeroPoints(),
                                  "input")))
      return failure();
    if (xScheme.isFloat8() != wScheme.isFloat8())
      return emitOpError() << "input and weight storage must both be integer "
                              "or both float8";
    if (xScheme.isInteger() && !wScheme.isSymmetric())
      return emitOpError() << "an integer-input quantized_linear needs a "
                              "symmetric weight scheme";
    bool foldedZp = xScheme.isInteger() && !xScheme.isSymmetric();
    if (foldedZp && !getIntBias())
      return emitOpError()
             << "an asymmetric integer input needs its zero point folded "
                "into an int_bias operand";
    if (getIntBias() && !xScheme.isInteger())
      return emitOpError() << "int_bias needs integer input and weight schemes";
    if (getIntBias() &&
        !isa<PerChannelAttr, PerTensorAttr>(wScheme.getGranularity()))
      return emitOpError() << "int_bias needs per-channel or per-tensor "
                              "weight scales (one scale per output row)";
    if (foldedZp && (xScheme.isDynamic() || getInputZeroPoints() ||
                     !isa<PerTensorAttr>(xScheme.getGranularity())))
      return emitOpError() << "an asymmetric integer input must be static "
                              "per-tensor with inline zero points (folded "
                              "into int_bias)";
  } else {
    if (!isa<FloatType>(input.getElementType()) ||
        input.getElementType().getIntOrFloatBitWidth() < 16)
      return emitOpError() << "weight-only quantized_linear (no input_scheme) "
                              "needs an f16, bf16 or f32 input, got "
                           << input.getElementType();
    if (getInputScales() || getInputZeroPoints() || getIntBias())
      return emitOpError()
             << "input scales, zero points or int_bias need an input_scheme";
  }
  if (failed(verifyLinearShapes(*this, input, weight, getBias(),
                                getOutput().getType())))
    return failure();
  if (getIntBias() && !compatibleShape(getIntBias().getType().getShape(),
                                       {weight.getDimSize(0)}))
    return emitOpError() << "int_bias must have one element per output";
  if (getResidual() && !compatibleShape(getResidual().getType().getShape(),
                                        getOutput().getType().getShape()))
    return emitOpError() << "residual shape does not match the result shape";
  return success();
}

LogicalResult ObserveOp::verify() {
  bool isPercentile = getObserver() == ObserverKind::Percentile;
  if (isPercentile && !getPercentile())
    return emitOpError() << "percentile observer needs a 'percentile' value";
  if (!isPercentile && getPercentile())
    return emitOpError() << "'percentile' is only valid with the percentile "
                            "observer";
  if (getPercentile()) {
    double p = getPercentile()->convertToDouble();
    if (!(p > 0.0 && p <= 100.0))
      return emitOpError() << "percentile must be in (0, 100], got " << p;
  }
  if (ActStatsAttr stats = getStatsAttr()) {
    int64_t features = featureDim(getInput().getType());
    if (!ShapedType::isDynamic(features) &&
        stats.getAbsmax().getNumElements() != features)
      return emitOpError() << "statistics have "
                           << stats.getAbsmax().getNumElements()
                           << " channels but the input has " << features;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// QuantSchemeOpInterface
//===----------------------------------------------------------------------===//

SmallVector<QuantSchemeAttr> AttentionOp::getQuantSchemes() {
  if (getKeySchemeAttr() && getValueSchemeAttr())
    return {getKeySchemeAttr(), getValueSchemeAttr()};
  return {};
}

SmallVector<QuantSchemeAttr> QuantizeOp::getQuantSchemes() {
  return {getScheme()};
}

SmallVector<QuantSchemeAttr> DequantizeOp::getQuantSchemes() {
  return {getScheme()};
}

SmallVector<QuantSchemeAttr> RequantizeOp::getQuantSchemes() {
  return {getInScheme(), getOutScheme()};
}

SmallVector<QuantSchemeAttr> QuantizedLinearOp::getQuantSchemes() {
  if (QuantSchemeAttr x = getInputSchemeAttr())
    return {x, getWeightScheme()};
  return {getWeightScheme()};
}
