//===- QoptToKernel.cpp - qopt graph IR to qk kernel ops ------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/QoptToKernel/QoptToKernel.h"
#include "qopt/Conversion/Passes.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOKERNELS
#include "qopt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
namespace qk = mlir::qopt::kernel;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static RankedTensorType rowsType(int64_t features, Type elem) {
  return RankedTensorType::get({ShapedType::kDynamic, features}, elem);
}

/// A small f32 / i32 constant tensor of `values` (static scales, zero
/// points), shaped `shape` (one element: [1]).
template <typename T>
static Value smallConstant(OpBuilder &b, Location loc, ArrayRef<T> values,
                           Type elem, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> dims(shape.begin(), shape.end());
  if (dims.empty())
    dims.push_back(static_cast<int64_t>(values.size()));
  auto type = RankedTensorType::get(dims, elem);
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

static Value scaleConstant(OpBuilder &b, Location loc, ArrayRef<float> values,
                           ArrayRef<int64_t> shape = {}) {
  return smallConstant(b, loc, values, b.getF32Type(), shape);
}

static Value zeroPointConstant(OpBuilder &b, Location loc,
                               ArrayRef<int32_t> values,
                               ArrayRef<int64_t> shape = {}) {
  return smallConstant(b, loc, values, b.getI32Type(), shape);
}

/// A float32 version of a small float vector operand (a bias).
static Value toF32(OpBuilder &b, Location loc, Value v) {
  if (!v)
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getElementType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, type.clone(b.getF32Type()), v);
}

/// The bf16 input of a bf16 GEMM: a conversion kernel that
/// `--qk-fuse-output-conversion` folds into the producer when it can.
static Value toBF16Rows(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getElementType().isBF16())
    return x;
  return qk::QuantizeOp::create(b, loc,
                                rowsType(type.getDimSize(1), b.getBF16Type()),
                                Type(), x, Value(), Value(), QuantSchemeAttr())
      .getResult();
}

/// The scale operand of a scheme: the op's operand when given, else the
/// scheme's inline values (shaped for `quantized`'s shape), else null.
static Value schemeScales(OpBuilder &b, Location loc, QuantSchemeAttr scheme,
                          Value operand, ArrayRef<int64_t> shape) {
  if (operand || !scheme || !scheme.hasInlineScales())
    return operand;
  SmallVector<float> values = scheme.getScaleValues();
  SmallVector<int64_t> scaleShape = scheme.getScaleShape(shape);
  return scaleConstant(b, loc, values, scaleShape);
}

static Value schemeZeroPoints(OpBuilder &b, Location loc,
                              QuantSchemeAttr scheme, Value operand,
                              ArrayRef<int64_t> shape) {
  if (operand || !scheme || scheme.isSymmetric() || !scheme.getZeroPoints())
    return operand;
  SmallVector<int32_t> values = scheme.getZeroPointValues();
  SmallVector<int64_t> zpShape = scheme.getScaleShape(shape);
  return zeroPointConstant(b, loc, values, zpShape);
}

static QuantSchemeAttr stripped(QuantSchemeAttr scheme) {
  return scheme ? scheme.withoutValues() : scheme;
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

struct EmbeddingLowering : OpConversionPattern<EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<qk::EmbeddingOp>(
        op, op.getType(), adaptor.getTable(), adaptor.getIds());
    return success();
  }
};

struct RmsNormLowering : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<qk::RmsNormOp>(
        op, op.getType(), Type(), adaptor.getInput(), adaptor.getWeight(),
        Value(), Value(), op.getEpsilonAttr(), QuantSchemeAttr());
    return success();
  }
};

struct QuantizeLowering : OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    QuantSchemeAttr scheme = op.getScheme();
    bool perToken = isa<PerTokenAttr>(scheme.getGranularity());
    bool perTensor = isa<PerTensorAttr>(scheme.getGranularity());
    if (!(scheme.isDynamic() && perToken && scheme.isSymmetric()) &&
        !(scheme.isStatic() && perTensor))
      return rewriter.notifyMatchFailure(
          op, "only dynamic symmetric per-token and static per-tensor "
              "activation quantization have kernels");
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = op.getInput().getType().getShape();
    Value scale, zp;
    if (scheme.isStatic()) {
      scale = schemeScales(rewriter, loc, scheme, Value(), shape);
      zp = schemeZeroPoints(rewriter, loc, scheme, Value(), shape);
      if (!scale)
        return rewriter.notifyMatchFailure(op, "static scheme without scales");
    }
    Type scalesType = scheme.isDynamic() ? op.getScales().getType() : Type();
    auto kernel = qk::QuantizeOp::create(
        rewriter, loc, op.getOutput().getType(), scalesType, adaptor.getInput(),
        scale, zp, stripped(scheme));
    SmallVector<Value> results = {kernel.getResult()};
    if (scheme.isDynamic())
      results.push_back(kernel.getScales());
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto wType = cast<RankedTensorType>(adaptor.getWeight().getType());
    if (!wType.getElementType().isBF16())
      return rewriter.notifyMatchFailure(
          op, "a float linear runs as a bf16 GEMM and needs bf16 weights");
    Location loc = op.getLoc();
    Value a = toBF16Rows(rewriter, loc, adaptor.getInput());
    Value bias = toF32(rewriter, loc, adaptor.getBias());
    rewriter.replaceOpWithNewOp<qk::GemmOp>(
        op, op.getType(), a, adaptor.getWeight(), Value(), Value(), Value(),
        Value(), bias, Value(), Value(), Value(), Value(), Value(), Value(),
        Value(), Value(), QuantSchemeAttr(), QuantSchemeAttr(),
        QuantSchemeAttr(), qk::TileAttr(), qk::GemvAttr(), qk::WgmmaAttr(),
        op.getLabelAttr());
    return success();
  }
};

struct QuantizedLinearLowering : OpConversionPattern<QuantizedLinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(QuantizedLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getActivation() != Activation::None)
      return rewriter.notifyMatchFailure(
          op, "a fused activation on a quantized linear has no kernel");
    if (adaptor.getInputZeroPoints())
      return rewriter.notifyMatchFailure(
          op, "input zero points must be folded into int_bias");
    QuantSchemeAttr wScheme = op.getWeightScheme();
    QuantSchemeAttr kernelScheme = stripped(wScheme);
    auto storedWeight = op.getWeight().getDefiningOp<WeightOp>();
    if (wScheme.getStorage().isInteger(4) &&
        wScheme.getPacking() == Packing::Int4x8Offset && storedWeight) {
      // A stored compressed-tensors weight: qopt-bundle writes its words
      // as the int4 pairs the kernels read.
      kernelScheme = QuantSchemeAttr::get(
          op.getContext(), wScheme.getStorage(), wScheme.getGranularity(),
          wScheme.getSymmetry(), wScheme.getMode(), ElementsAttr(),
          ElementsAttr(), Packing::Int4x2);
    } else if (wScheme.getStorage().isInteger(4) &&
               wScheme.getPacking() != Packing::Int4x2) {
      return rewriter.notifyMatchFailure(
          op, "int4 weights must be packed int4x2 (or be stored "
              "compressed-tensors words) for the GEMM kernels");
    }
    Location loc = op.getLoc();
    ArrayRef<int64_t> wShape = op.getWeight().getType().getShape();
    QuantSchemeAttr inScheme = op.getInputSchemeAttr();
    Value a = adaptor.getInput(), aScales;
    if (inScheme) {
      aScales = schemeScales(rewriter, loc, inScheme, adaptor.getInputScales(),
                             cast<RankedTensorType>(a.getType()).getShape());
      if (!aScales)
        return rewriter.notifyMatchFailure(op, "input scales are missing");
    } else {
      a = toBF16Rows(rewriter, loc, a);
    }
    Value bScales =
        schemeScales(rewriter, loc, wScheme, adaptor.getWeightScales(), wShape);
    Value bZps = schemeZeroPoints(rewriter, loc, wScheme,
                                  adaptor.getWeightZeroPoints(), wShape);
    if (!bScales)
      return rewriter.notifyMatchFailure(op, "weight scales are missing");
    Value bias = toF32(rewriter, loc, adaptor.getBias());
    rewriter.replaceOpWithNewOp<qk::GemmOp>(
        op, op.getType(), a, adaptor.getWeight(), aScales, bScales, bZps,
        adaptor.getIntBias(), bias, Value(), Value(), Value(), Value(), Value(),
        adaptor.getResidual(), Value(), Value(), stripped(inScheme),
        kernelScheme, QuantSchemeAttr(), qk::TileAttr(), qk::GemvAttr(),
        qk::WgmmaAttr(), op.getLabelAttr());
    return success();
  }
};

struct RopeLowering : OpConversionPattern<RopeOp> {
  RopeLowering(MLIRContext *ctx, int64_t maxPositions)
      : OpConversionPattern(ctx), maxPositions(maxPositions) {}
  LogicalResult
  matchAndRewrite(RopeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto tableType = RankedTensorType::get(
        {maxPositions, int64_t(op.getHeadDim())}, rewriter.getF32Type());
    Value table = qk::RopeTableOp::create(
        rewriter, op.getLoc(), tableType, op.getHeadDimAttr(),
        op.getThetaAttr(), op.getScalingAttr());
    rewriter.replaceOpWithNewOp<qk::RopeOp>(
        op, op.getType(), adaptor.getInput(), adaptor.getPositions(), table,
        op.getNumHeadsAttr(), op.getHeadDimAttr());
    return success();
  }
  int64_t maxPositions;
};

struct AttentionLowering : OpConversionPattern<AttentionOp> {
  AttentionLowering(MLIRContext *ctx, Type kvType, Value positions)
      : OpConversionPattern(ctx), kvType(kvType), positions(positions) {}
  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QuantSchemeAttr ks = op.getKeySchemeAttr(), vs = op.getValueSchemeAttr();
    for (QuantSchemeAttr s : {ks, vs})
      if (s &&
          !isa<PerTensorAttr, PerHeadAttr, PerTokenAttr>(s.getGranularity()))
        return rewriter.notifyMatchFailure(
            op, "KV caches are quantized per tensor, per head or per token");
    auto module = op->getParentOfType<ModuleOp>();
    std::string name = "kv" + std::to_string(op.getLayer());
    if (SymbolTable::lookupSymbolIn(module, name))
      return rewriter.notifyMatchFailure(op, "two attention ops of one layer");
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(op->getParentOfType<func::FuncOp>());
      qk::KVCacheOp::create(rewriter, loc, rewriter.getStringAttr(name),
                            op.getLayerAttr(), op.getNumKvHeadsAttr(),
                            op.getHeadDimAttr(),
                            TypeAttr::get(ks ? ks.getStorage() : kvType),
                            TypeAttr::get(vs ? vs.getStorage() : kvType),
                            stripped(ks), stripped(vs));
    }
    auto kvShape = op.getKey().getType().getShape();
    auto staticScale = [&](QuantSchemeAttr s) -> Value {
      if (!s || !s.isStatic())
        return Value();
      return schemeScales(rewriter, loc, s, Value(), kvShape);
    };
    Value kScale = staticScale(ks), vScale = staticScale(vs);
    auto cache = FlatSymbolRefAttr::get(rewriter.getContext(), name);
    qk::KVAppendOp::create(rewriter, loc, adaptor.getKey(), adaptor.getValue(),
                           positions, kScale, vScale, cache);
    double scale = op.getScaleAttr()
                       ? op.getScaleAttr().getValueAsDouble()
                       : 1.0 / std::sqrt(static_cast<double>(op.getHeadDim()));
    rewriter.replaceOpWithNewOp<qk::AttentionOp>(
        op, op.getType(), adaptor.getQuery(), positions, kScale, vScale, cache,
        op.getNumHeadsAttr(), rewriter.getF64FloatAttr(scale),
        op.getCausalAttr(), op.getSlidingWindowAttr());
    return success();
  }
  Type kvType;
  Value positions;
};

/// `mul(silu(g), u)` (either operand order) is one kernel.
struct SiluMulLowering : OpConversionPattern<MulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value gate, up;
    if (auto silu = op.getLhs().getDefiningOp<SiluOp>()) {
      gate = silu.getInput();
      up = adaptor.getRhs();
    } else if (auto silu = op.getRhs().getDefiningOp<SiluOp>()) {
      gate = silu.getInput();
      up = adaptor.getLhs();
    } else {
      rewriter.replaceOpWithNewOp<qk::MulOp>(op, op.getType(), adaptor.getLhs(),
                                             adaptor.getRhs());
      return success();
    }
    Value g = rewriter.getRemappedValue(gate);
    rewriter.replaceOpWithNewOp<qk::SiluMulOp>(op, op.getType(), g, up);
    return success();
  }
};

/// A silu whose every user is a mul it fuses into disappears with them.
struct SiluErase : OpConversionPattern<SiluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SiluOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    for (Operation *user : op->getUsers())
      if (!isa<MulOp>(user))
        return rewriter.notifyMatchFailure(op, "a silu outside silu * x");
    rewriter.eraseOp(op);
    return success();
  }
};

struct AddLowering : OpConversionPattern<AddOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<qk::AddOp>(op, op.getType(), adaptor.getLhs(),
                                           adaptor.getRhs());
    return success();
  }
};

struct PermuteChannelsLowering : OpConversionPattern<PermuteChannelsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PermuteChannelsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<qk::PermuteColumnsOp>(
        op, op.getType(), adaptor.getInput(), adaptor.getPermutation());
    return success();
  }
};

struct ObserveLowering : OpConversionPattern<ObserveOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ObserveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

} // namespace

void mlir::qopt::populateQoptToKernelPatterns(RewritePatternSet &patterns,
                                              int64_t maxPositions,
                                              Type kvCacheType,
                                              Value positions) {
  MLIRContext *ctx = patterns.getContext();
  patterns
      .add<EmbeddingLowering, RmsNormLowering, QuantizeLowering, LinearLowering,
           QuantizedLinearLowering, SiluMulLowering, SiluErase, AddLowering,
           PermuteChannelsLowering, ObserveLowering>(ctx);
  patterns.add<RopeLowering>(ctx, maxPositions);
  patterns.add<AttentionLowering>(ctx, kvCacheType, positions);
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {
struct ConvertQoptToKernelsPass
    : qopt::impl::ConvertQoptToKernelsBase<ConvertQoptToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    ModelAttr model = getModelAttr(module);
    auto fail = [&](const Twine &msg) {
      module.emitError() << "convert-qopt-to-kernels: " << msg;
      signalPassFailure();
    };
    if (!model)
      return fail("the module has no qopt.model attribute");
    int64_t positionsRows = maxPositions > 0 ? int64_t(maxPositions)
                                             : model.getMaxPositionEmbeddings();
    if (positionsRows <= 0)
      return fail("max-positions is 0 and the model has no "
                  "max_position_embeddings");
    Type kvType;
    if (kvCacheType == "bf16")
      kvType = BFloat16Type::get(ctx);
    else if (kvCacheType == "f32")
      kvType = Float32Type::get(ctx);
    else
      return fail("kv-cache-type must be bf16 or f32, got '" + kvCacheType +
                  "'");

    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    if (funcs.size() != 1)
      return fail("expected one model function, found " + Twine(funcs.size()));
    func::FuncOp func = funcs.front();
    if (func.getNumArguments() != 2 ||
        func.getArgument(1).getType() !=
            RankedTensorType::get({ShapedType::kDynamic},
                                  IntegerType::get(ctx, 32)))
      return fail("the model function must take (token ids, positions) as "
                  "tensor<?xi32>");
    // One diagnostic per op without a kernel, before anything changes.
    bool unsupported = false;
    func.walk([&](Operation *op) {
      if (isa<LayerNormOp, GeluOp, DequantizeOp, RequantizeOp, ScaleChannelsOp>(
              op)) {
        op->emitError() << "'" << op->getName()
                        << "' has no GPU kernel; lower it at graph level "
                           "before --lower-to-nvptx";
        unsupported = true;
      }
    });
    if (unsupported)
      return signalPassFailure();

    ConversionTarget target(*ctx);
    target.addLegalDialect<qk::QKDialect, arith::ArithDialect,
                           func::FuncDialect>();
    target.addIllegalDialect<QoptDialect>();
    target.addLegalOp<WeightOp, WeightStoreOp>();
    RewritePatternSet patterns(ctx);
    populateQoptToKernelPatterns(patterns, positionsRows, kvType,
                                 func.getArgument(1));
    if (failed(applyPartialConversion(func, target, std::move(patterns))))
      return signalPassFailure();

    // The greedy next token: a second result.
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    if (ret.getNumOperands() != 1)
      return fail("the model function must return the logits alone");
    OpBuilder b(ret);
    Value logits = ret.getOperand(0);
    auto next = qk::ArgmaxOp::create(
        b, ret.getLoc(), RankedTensorType::get({1}, b.getI32Type()), logits);
    ret->insertOperands(1, next.getResult());
    func.setType(
        FunctionType::get(ctx, func.getArgumentTypes(),
                          {logits.getType(), next.getResult().getType()}));
  }
};
} // namespace
