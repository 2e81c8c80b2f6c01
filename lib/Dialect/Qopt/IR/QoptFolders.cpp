//===- QoptFolders.cpp - qopt folders and canonicalizations ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Folds and rewrites that are exact under qopt's quantization semantics (see
// QuantMath.h): constant quantize / dequantize / requantize, and cancelling
// dequantize-then-quantize pairs.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Constant evaluation helpers
//===----------------------------------------------------------------------===//

/// Constants larger than this are left alone: folding them would only bloat
/// the IR.
static constexpr int64_t kMaxFoldElements = 1 << 16;

/// Inline scales (and zero points, if any) whose values can be read now (a
/// resource blob may not be loaded yet).
static bool hasReadableScales(QuantSchemeAttr scheme) {
  if (!scheme.hasInlineScales() ||
      static_cast<int64_t>(scheme.getScaleValues().size()) !=
          scheme.getScales().getNumElements())
    return false;
  ElementsAttr zeroPoints = scheme.getZeroPoints();
  return !zeroPoints ||
         static_cast<int64_t>(scheme.getZeroPointValues().size()) ==
             zeroPoints.getNumElements();
}

/// Scales far from the float32 extremes keep `dequantize` then `quantize`
/// exact (no overflow or subnormal loss in the intermediate product).
static bool hasWellConditionedScales(QuantSchemeAttr scheme) {
  if (!hasReadableScales(scheme))
    return false;
  return llvm::all_of(scheme.getScaleValues(),
                      [](float s) { return s >= 1e-30f && s <= 1e30f; });
}

/// Advances a row-major multi-index over `shape`.
static void increment(std::vector<int64_t> &index, ArrayRef<int64_t> shape) {
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (++index[d] < shape[d])
      return;
    index[d] = 0;
  }
}

/// The per-element (scale, zero point) of a static scheme with inline scales
/// for a tensor of static `shape`.
static void
forEachElementParams(QuantSchemeAttr scheme, ArrayRef<int64_t> shape,
                     llvm::function_ref<void(int64_t, float, int32_t)> fn) {
  SmallVector<float> scales = scheme.getScaleValues();
  SmallVector<int32_t> zeroPoints = scheme.getZeroPointValues();
  ::qnum::Granularity g = scheme.getGranularity().getGranularity();
  std::vector<int64_t> shapeVec(shape.begin(), shape.end());
  std::vector<int64_t> index(shape.size(), 0);
  int64_t n = ShapedType::getNumElements(shape);
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = ::qnum::scaleIndex(g, shapeVec, index);
    // A splat scale attribute holds one value for every index.
    float scale = scales.size() == 1 ? scales[0] : scales[s];
    int32_t zp = zeroPoints.size() == 1 ? zeroPoints[0] : zeroPoints[s];
    fn(i, scale, zp);
    increment(index, shape);
  }
}

static float toFloat(APFloat v) {
  bool losesInfo;
  v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  return v.convertToFloat();
}

/// Real values of a constant float tensor as float32.
static std::vector<float> realValues(DenseElementsAttr attr) {
  std::vector<float> out;
  out.reserve(attr.getNumElements());
  for (APFloat v : attr.getValues<APFloat>())
    out.push_back(toFloat(v));
  return out;
}

/// Storage values of a constant quantized tensor, dequantized to float32.
static std::vector<float> dequantizeValues(DenseElementsAttr attr,
                                           QuantSchemeAttr scheme,
                                           ArrayRef<int64_t> shape) {
  std::vector<int64_t> raw;
  raw.reserve(attr.getNumElements());
  if (scheme.isFloat8()) {
    for (APFloat v : attr.getValues<APFloat>())
      raw.push_back(v.bitcastToAPInt().getZExtValue());
  } else {
    for (APInt v : attr.getValues<APInt>())
      raw.push_back(v.getSExtValue());
  }
  std::vector<float> out(raw.size());
  ::qnum::StorageKind kind = scheme.getStorageKind();
  forEachElementParams(scheme, shape, [&](int64_t i, float scale, int32_t zp) {
    out[i] =
        scheme.isFloat8()
            ? ::qnum::dequantizeFloat8(static_cast<uint8_t>(raw[i]), scale,
                                       kind)
            : ::qnum::dequantizeInt(static_cast<int32_t>(raw[i]), scale, zp);
  });
  return out;
}

/// Quantizes float32 values with a static scheme into a constant of
/// `resultType`.
static DenseElementsAttr quantizeValues(ArrayRef<float> values,
                                        QuantSchemeAttr scheme,
                                        RankedTensorType resultType) {
  ::qnum::StorageKind kind = scheme.getStorageKind();
  ::qnum::StorageRange range = ::qnum::storageRange(kind, scheme.isSymmetric());
  Type elementType = resultType.getElementType();
  if (scheme.isFloat8()) {
    const llvm::fltSemantics &sem =
        cast<FloatType>(elementType).getFloatSemantics();
    SmallVector<APFloat> out(values.size(), APFloat(sem));
    forEachElementParams(
        scheme, resultType.getShape(), [&](int64_t i, float scale, int32_t) {
          uint8_t bits = ::qnum::quantizeFloat8(values[i], scale, kind);
          out[i] = APFloat(sem, APInt(8, bits));
        });
    return DenseElementsAttr::get(resultType, out);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  SmallVector<APInt> out(values.size(), APInt(width, 0));
  forEachElementParams(
      scheme, resultType.getShape(), [&](int64_t i, float scale, int32_t zp) {
        int32_t q = ::qnum::quantizeInt(values[i], scale, zp,
                                        static_cast<int32_t>(range.min),
                                        static_cast<int32_t>(range.max));
        out[i] = APInt(width, q, /*isSigned=*/true);
      });
  return DenseElementsAttr::get(resultType, out);
}

/// A constant operand worth folding, or null.
static DenseElementsAttr foldableConstant(Attribute attr, ShapedType type) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldElements)
    return {};
  return dense;
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::fold(FoldAdaptor adaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  QuantSchemeAttr scheme = getScheme();
  if (!scheme.isStatic() || getNumResults() != 1)
    return failure();
  // quantize(dequantize(q, S), S) -> q.
  if (auto dq = getInput().getDefiningOp<DequantizeOp>()) {
    Type mid = dq.getOutput().getType().getElementType();
    if (dq.getScheme() == scheme && !dq.getScales() && !dq.getZeroPoints() &&
        (mid.isF32() || mid.isBF16()) && hasWellConditionedScales(scheme) &&
        dq.getInput().getType() == getOutput().getType()) {
      results.push_back(dq.getInput());
      return success();
    }
  }
  DenseElementsAttr input =
      foldableConstant(adaptor.getInput(), getInput().getType());
  if (!input || !hasReadableScales(scheme))
    return failure();
  results.push_back(
      quantizeValues(realValues(input), scheme, getOutput().getType()));
  return success();
}

namespace {
/// Rewrites `quantize(dequantize(q, A), B)` with static schemes and a float32
/// intermediate into `requantize(q, A -> B)`, which is its definition.
struct DequantizeQuantizeToRequantize : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    QuantSchemeAttr out = op.getScheme();
    auto dq = op.getInput().getDefiningOp<DequantizeOp>();
    if (!dq || !out.isStatic() || op.getNumResults() != 1)
      return failure();
    QuantSchemeAttr in = dq.getScheme();
    if (!in.isStatic() || !in.hasInlineScales() || dq.getScales() ||
        dq.getZeroPoints() || in == out ||
        !dq.getOutput().getType().getElementType().isF32())
      return failure();
    rewriter.replaceOpWithNewOp<RequantizeOp>(op, op.getOutput().getType(),
                                              dq.getInput(), in, out);
    return success();
  }
};
} // namespace

void QuantizeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<DequantizeQuantizeToRequantize>(context);
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

OpFoldResult DequantizeOp::fold(FoldAdaptor adaptor) {
  QuantSchemeAttr scheme = getScheme();
  if (!hasReadableScales(scheme) || getZeroPoints())
    return {};
  DenseElementsAttr input =
      foldableConstant(adaptor.getInput(), getInput().getType());
  if (!input)
    return {};
  RankedTensorType resultType = getOutput().getType();
  if (!resultType.hasStaticShape())
    return {};
  std::vector<float> values =
      dequantizeValues(input, scheme, resultType.getShape());
  const llvm::fltSemantics &sem =
      cast<FloatType>(resultType.getElementType()).getFloatSemantics();
  SmallVector<APFloat> out;
  out.reserve(values.size());
  for (float v : values) {
    APFloat f(v);
    bool losesInfo;
    f.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
    out.push_back(f);
  }
  return DenseElementsAttr::get(resultType, out);
}

//===----------------------------------------------------------------------===//
// RequantizeOp
//===----------------------------------------------------------------------===//

OpFoldResult RequantizeOp::fold(FoldAdaptor adaptor) {
  if (getInScheme() == getOutScheme() &&
      hasWellConditionedScales(getInScheme()) &&
      getInput().getType() == getOutput().getType())
    return getInput();
  DenseElementsAttr input =
      foldableConstant(adaptor.getInput(), getInput().getType());
  if (!input || !hasReadableScales(getInScheme()) ||
      !hasReadableScales(getOutScheme()))
    return {};
  std::vector<float> values =
      dequantizeValues(input, getInScheme(), getInput().getType().getShape());
  return quantizeValues(values, getOutScheme(), getOutput().getType());
}
