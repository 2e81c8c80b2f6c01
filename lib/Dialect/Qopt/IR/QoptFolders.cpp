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
  // Storage values as floats: integers, or the float8 values themselves.
  std::vector<float> q;
  q.reserve(attr.getNumElements());
  if (scheme.isFloat8()) {
    for (APFloat v : attr.getValues<APFloat>())
      q.push_back(toFloat(v));
  } else {
    for (APInt v : attr.getValues<APInt>())
      q.push_back(static_cast<float>(v.getSExtValue()));
  }
  std::vector<float> out(q.size());
  ::qnum::dequantizeTensor(q.data(), {shape.begin(), shape.end()},
                           scheme.getTensorScheme(), out.data());
  return out;
}

/// Quantizes float32 values with a static scheme into a constant of
/// `resultType`.
static DenseElementsAttr quantizeValues(ArrayRef<float> values,
                                        QuantSchemeAttr scheme,
                                        RankedTensorType resultType) {
  ArrayRef<int64_t> shape = resultType.getShape();
  std::vector<float> q(values.size());
  ::qnum::quantizeTensor(values.data(), {shape.begin(), shape.end()},
                         scheme.getTensorScheme(), q.data());
  Type elementType = resultType.getElementType();
  if (auto fp8 = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> out;
    out.reserve(q.size());
    for (float v : q) {
      APFloat f(v); // exactly representable in the float8 format
      bool losesInfo;
      f.convert(fp8.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                &losesInfo);
      out.push_back(f);
    }
    return DenseElementsAttr::get(resultType, out);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  SmallVector<APInt> out;
  out.reserve(q.size());
  for (float v : q)
    out.push_back(APInt(width, static_cast<int64_t>(v), /*isSigned=*/true));
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
