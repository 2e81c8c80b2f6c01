//===- KernelOps.cpp - qk operations --------------------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using mlir::qopt::BlockAttr;
using mlir::qopt::PerGroupAttr;
using mlir::qopt::PerTensorAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;
using mlir::qopt::WeightOp;
using namespace mlir::qopt::kernel;

#include "qopt/Dialect/Kernel/IR/KernelOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "qopt/Dialect/Kernel/IR/KernelOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static RankedTensorType tensorType(Value v) {
  return v ? dyn_cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// Checks that `v` is `[tokens, features]` with a dynamic token dimension
/// and returns `features`, or -1 after reporting.
static int64_t rowsFeatures(Operation *op, Value v, StringRef what) {
  RankedTensorType t = tensorType(v);
  if (!t || t.getRank() != 2 || !t.isDynamicDim(0) || t.isDynamicDim(1)) {
    op->emitOpError() << what
                      << " must be [tokens, features] with a dynamic token "
                         "dimension and static features, got "
                      << v.getType();
    return -1;
  }
  return t.getDimSize(1);
}

static bool isOneScale(Value v) {
  RankedTensorType t = tensorType(v);
  return t && t.hasStaticShape() && t.getNumElements() == 1;
}

/// Checks the output scheme of a row-wise producer (rms_norm, quantize):
/// dynamic per-token with a scales result, or static per-tensor with its
/// scale (and zero point when asymmetric) as operands.
static LogicalResult verifyRowQuantization(Operation *op,
                                           QuantSchemeAttr scheme,
                                           Type resultElem, Value scale,
                                           Value zeroPoint, Value scales) {
  if (!scheme) {
    if (scale || zeroPoint || scales)
      return op->emitOpError(
          "has quantization operands or results but no scheme");
    if (!isa<Float32Type, BFloat16Type, Float16Type>(resultElem))
      return op->emitOpError("without a scheme must produce f32, bf16 or "
                             "f16, got ")
             << resultElem;
    return success();
  }
  if (scheme.hasInlineScales())
    return op->emitOpError("scheme must not carry inline scales at kernel "
                           "level (they are operands)");
  if (scheme.getStorage() != resultElem)
    return op->emitOpError("result element type ")
           << resultElem << " differs from the scheme's storage "
           << scheme.getStorage();
  bool perToken = isa<PerTokenAttr>(scheme.getGranularity());
  bool perTensor = isa<PerTensorAttr>(scheme.getGranularity());
  if (scheme.isDynamic()) {
    if (!perToken || !scheme.isSymmetric())
      return op->emitOpError("supports dynamic quantization per token and "
                             "symmetric only");
    if (!scales || scale || zeroPoint)
      return op->emitOpError("with a dynamic scheme yields per-row scales "
                             "and takes no scale operands");
    return success();
  }
  if (!perTensor)
    return op->emitOpError("supports static quantization per tensor only");
  if (scales || !scale || !isOneScale(scale))
    return op->emitOpError("with a static scheme takes a one-element scale "
                           "operand and yields no scales");
  if (scheme.isSymmetric() != !zeroPoint ||
      (zeroPoint && !isOneScale(zeroPoint)))
    return op->emitOpError("takes a one-element zero point exactly when its "
                           "scheme is asymmetric");
  return success();
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

static bool isCacheStorage(Type t) {
  return isa<BFloat16Type, Float32Type, Float8E4M3FNType>(t) ||
         t.isSignlessInteger(8);
}

LogicalResult KVCacheOp::verify() {
  if (getNumKvHeads() <= 0 || getHeadDim() <= 0 || getHeadDim() % 2)
    return emitOpError("needs a positive head count and an even head_dim");
  for (auto [type, scheme, what] :
       {std::tuple{getKeyType(), getKeySchemeAttr(), "key"},
        std::tuple{getValueType(), getValueSchemeAttr(), "value"}}) {
    if (!isCacheStorage(type))
      return emitOpError() << what << "_type must be bf16, f32, i8 or "
                           << "f8E4M3FN, got " << type;
    bool quantized = isa<Float8E4M3FNType>(type) || type.isSignlessInteger(8);
    if (quantized != static_cast<bool>(scheme))
      return emitOpError() << "has a " << what
                           << " scheme exactly when its storage is quantized";
    if (scheme && scheme.getStorage() != type)
      return emitOpError() << what << " scheme storage differs from " << what
                           << "_type";
    if (scheme && scheme.hasInlineScales())
      return emitOpError() << what << " scheme must not carry inline scales";
  }
  return success();
}

LogicalResult RopeTableOp::verify() {
  RankedTensorType t = getType();
  if (t.getRank() != 2 || !t.hasStaticShape() ||
      t.getDimSize(1) != int64_t(getHeadDim()) || getHeadDim() % 2)
    return emitOpError("result must be [positions, head_dim] with an even "
                       "head_dim");
  return success();
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  RankedTensorType table = tensorType(getTable());
  RankedTensorType ids = tensorType(getIds());
  if (table.getRank() != 2 || ids.getRank() != 1 || !ids.isDynamicDim(0))
    return emitOpError("takes a [vocab, hidden] table and [tokens] ids");
  int64_t hidden = rowsFeatures(*this, getResult(), "result");
  if (hidden < 0)
    return failure();
  if (hidden != table.getDimSize(1))
    return emitOpError("result features differ from the table's");
  return success();
}

LogicalResult RmsNormOp::verify() {
  int64_t hidden = rowsFeatures(*this, getInput(), "input");
  if (hidden < 0 || rowsFeatures(*this, getResult(), "result") < 0)
    return failure();
  RankedTensorType w = tensorType(getWeight());
  if (w.getRank() != 1 || w.getDimSize(0) != hidden)
    return emitOpError("weight must have one element per feature");
  if (tensorType(getResult()).getDimSize(1) != hidden)
    return emitOpError("result features differ from the input's");
  return verifyRowQuantization(*this, getOutSchemeAttr(),
                               getResult().getType().getElementType(),
                               getOutScale(), getOutZeroPoint(), getScales());
}

LogicalResult QuantizeOp::verify() {
  int64_t hidden = rowsFeatures(*this, getInput(), "input");
  if (hidden < 0 || rowsFeatures(*this, getResult(), "result") < 0)
    return failure();
  if (tensorType(getResult()).getDimSize(1) != hidden)
    return emitOpError("result features differ from the input's");
  return verifyRowQuantization(*this, getSchemeAttr(),
                               getResult().getType().getElementType(),
                               getScale(), getZeroPoint(), getScales());
}

StringRef GemmOp::getOperandLayout(unsigned index) {
  Value v = getOperation()->getOperand(index);
  if (v == getB() || v == getUp()) {
    if (tensorType(v).getElementType().isInteger(4))
      return "int4x2";
    return "weight";
  }
  RankedTensorType t = tensorType(v);
  if (t.getRank() == 2 && t.isDynamicDim(0))
    return "rows";
  return "vector";
}

/// Checks one weight of a GEMM and its scale / zero-point operands.
static LogicalResult verifyGemmWeight(GemmOp op, Value b, Value scales,
                                      Value zeroPoints, Value intBias,
                                      Value bias, StringRef what) {
  RankedTensorType bt = tensorType(b);
  int64_t k = tensorType(op.getA()).getDimSize(1);
  if (bt.getRank() != 2 || !bt.hasStaticShape() || bt.getDimSize(1) != k)
    return op.emitOpError() << what << " must be [N, K] with K = " << k;
  int64_t n = bt.getDimSize(0);
  Type elem = bt.getElementType();
  QuantSchemeAttr scheme = op.getBSchemeAttr();
  bool quantized = !isa<BFloat16Type>(elem);
  if (quantized != static_cast<bool>(scheme))
    return op.emitOpError() << "has a weight scheme exactly when " << what
                            << " is quantized (" << elem << ")";
  if (scheme) {
    if (scheme.getStorage() != elem)
      return op.emitOpError() << what << " element type differs from the "
                              << "weight scheme's storage";
    if (scheme.hasInlineScales() || !scales)
      return op.emitOpError() << what << " needs its scales as an operand";
    SmallVector<int64_t> expected = scheme.getScaleShape(bt.getShape());
    RankedTensorType st = tensorType(scales);
    bool scalar = expected.empty() && st.getNumElements() == 1;
    if (st.getShape() == ArrayRef<int64_t>(expected))
      scalar = true;
    if (!scalar) {
      InFlightDiagnostic diag = op.emitOpError()
                                << what << " scales have shape " << st
                                << ", the scheme needs ";
      if (expected.empty())
        diag << "one element";
      else
        diag << "[" << ArrayRef<int64_t>(expected) << "]";
      return diag;
    }
    if (static_cast<bool>(zeroPoints) != !scheme.isSymmetric())
      return op.emitOpError() << what << " takes zero points exactly when "
                              << "its scheme is asymmetric";
  } else if (scales || zeroPoints) {
    return op.emitOpError() << "a bf16 " << what << " takes no scales";
  }
  if (intBias && (tensorType(intBias).getRank() != 1 ||
                  tensorType(intBias).getDimSize(0) != n))
    return op.emitOpError() << what << " int_bias must be [N]";
  if (bias &&
      (tensorType(bias).getRank() != 1 || tensorType(bias).getDimSize(0) != n))
    return op.emitOpError() << what << " bias must be [N]";
  return success();
}

LogicalResult GemmOp::verify() {
  int64_t k = rowsFeatures(*this, getA(), "A");
  int64_t n = rowsFeatures(*this, getResult(), "result");
  if (k < 0 || n < 0)
    return failure();
  if (tensorType(getB()).getRank() != 2 ||
      tensorType(getB()).getDimSize(0) != n)
    return emitOpError("result features differ from the weight's rows");
  Type aElem = getA().getType().getElementType();
  QuantSchemeAttr aScheme = getASchemeAttr();
  if (isa<BFloat16Type>(aElem) == static_cast<bool>(aScheme))
    return emitOpError("has an input scheme exactly when A is quantized");
  if (aScheme) {
    if (aScheme.getStorage() != aElem || aScheme.hasInlineScales() ||
        !getAScales())
      return emitOpError("a quantized A needs a scheme of its storage type, "
                         "without inline scales, and its scales as an "
                         "operand");
    if (!aScheme.isSymmetric() && !getIntBias())
      return emitOpError("an asymmetric A needs its zero point folded into "
                         "int_bias");
    if (!isa<PerTokenAttr, PerTensorAttr>(aScheme.getGranularity()))
      return emitOpError("A is quantized per token or per tensor");
    if (getBSchemeAttr() &&
        getBSchemeAttr().getStorage() != aScheme.getStorage())
      return emitOpError("A and B of a quantized GEMM share a storage type");
  } else if (getAScales()) {
    return emitOpError("a bf16 A takes no scales");
  }
  if (failed(verifyGemmWeight(*this, getB(), getBScales(), getBZeroPoints(),
                              getIntBias(), getBias(), "B")))
    return failure();
  if (getUp()) {
    if (getUp().getType() != getB().getType())
      return emitOpError("up must have the type of B");
    if (failed(verifyGemmWeight(*this, getUp(), getUpScales(),
                                getUpZeroPoints(), getUpIntBias(), getUpBias(),
                                "up")))
      return failure();
  } else if (getUpScales() || getUpZeroPoints() || getUpIntBias() ||
             getUpBias()) {
    return emitOpError("has up operands without up");
  }
  if (getIntBias() && !(aScheme && aScheme.isInteger()))
    return emitOpError("int_bias needs an integer A");
  if (getResidual() &&
      getResidual().getType() !=
          RankedTensorType::get({ShapedType::kDynamic, n},
                                Float32Type::get(getContext())))
    return emitOpError("residual must be f32 [tokens, N]");
  Type outElem = getResult().getType().getElementType();
  if (QuantSchemeAttr out = getOutSchemeAttr()) {
    if (!out.isStatic() || !isa<PerTensorAttr>(out.getGranularity()) ||
        out.getStorage() != outElem || !getOutScale() ||
        out.hasInlineScales() || out.isSymmetric() == bool(getOutZeroPoint()))
      return emitOpError("output quantization is static per tensor, with "
                         "its scale (and zero point when asymmetric) as "
                         "operands, and the result its storage type");
  } else if (!isa<Float32Type, BFloat16Type>(outElem) || getOutScale() ||
             getOutZeroPoint()) {
    return emitOpError("without an output scheme the result is f32 or bf16");
  }
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t width = rowsFeatures(*this, getInput(), "input");
  if (width < 0)
    return failure();
  if (int64_t(getNumHeads() * getHeadDim()) != width)
    return emitOpError("input width is not num_heads * head_dim");
  if (getResult().getType() != getInput().getType())
    return emitOpError("result type differs from the input's");
  return success();
}

/// The cache a KV op names, or null after reporting.
static KVCacheOp lookupCache(Operation *op, FlatSymbolRefAttr name,
                             SymbolTableCollection &tables) {
  auto cache = tables.lookupNearestSymbolFrom<KVCacheOp>(op, name);
  if (!cache)
    op->emitOpError() << "names " << name << ", which is not a qk.kv_cache";
  return cache;
}

/// Checks the static-scale operands of a KV op against its cache's schemes.
static LogicalResult verifyCacheScales(Operation *op, KVCacheOp cache,
                                       Value keyScale, Value valueScale) {
  for (auto [scheme, scale, what] :
       {std::tuple{cache.getKeySchemeAttr(), keyScale, "key"},
        std::tuple{cache.getValueSchemeAttr(), valueScale, "value"}}) {
    bool needsOperand = scheme && scheme.isStatic();
    if (needsOperand != static_cast<bool>(scale))
      return op->emitOpError()
             << "takes a " << what << " scale exactly when the cache's " << what
             << " scheme is static";
  }
  return success();
}

LogicalResult KVAppendOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  KVCacheOp cache = lookupCache(*this, getCacheAttr(), symbolTable);
  if (!cache)
    return failure();
  int64_t width = int64_t(cache.getNumKvHeads() * cache.getHeadDim());
  if (tensorType(getKey()).getDimSize(1) != width ||
      tensorType(getValue()).getDimSize(1) != width)
    return emitOpError("keys and values must be num_kv_heads * head_dim wide");
  return verifyCacheScales(*this, cache, getKeyScale(), getValueScale());
}

LogicalResult
RopeKVAppendOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  KVCacheOp cache = lookupCache(*this, getCacheAttr(), symbolTable);
  if (!cache)
    return failure();
  int64_t width = int64_t(cache.getNumKvHeads() * cache.getHeadDim());
  if (tensorType(getKey()).getDimSize(1) != width ||
      tensorType(getValue()).getDimSize(1) != width ||
      tensorType(getQuery()).getDimSize(1) !=
          int64_t(getNumHeads() * cache.getHeadDim()) ||
      getResult().getType() != getQuery().getType())
    return emitOpError("query, key and value widths do not match the cache");
  if (tensorType(getTable()).getDimSize(1) != int64_t(cache.getHeadDim()))
    return emitOpError("rope table rows are not head_dim wide");
  return verifyCacheScales(*this, cache, getKeyScale(), getValueScale());
}

LogicalResult AttentionOp::verify() {
  if (rowsFeatures(*this, getQuery(), "query") < 0 ||
      rowsFeatures(*this, getResult(), "result") < 0)
    return failure();
  if (tensorType(getResult()).getDimSize(1) !=
      tensorType(getQuery()).getDimSize(1))
    return emitOpError("result width differs from the query's");
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError("scale must be positive");
  if (std::optional<int64_t> w = getSlidingWindow())
    if (*w <= 0 || !getCausal())
      return emitOpError("sliding_window must be positive and causal");
  Type elem = getResult().getType().getElementType();
  if (!isa<Float32Type, BFloat16Type>(elem))
    return emitOpError("result is f32 or bf16");
  return success();
}

LogicalResult
AttentionOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  KVCacheOp cache = lookupCache(*this, getCacheAttr(), symbolTable);
  if (!cache)
    return failure();
  int64_t heads = getNumHeads();
  if (heads <= 0 || heads % cache.getNumKvHeads() ||
      tensorType(getQuery()).getDimSize(1) !=
          heads * int64_t(cache.getHeadDim()))
    return emitOpError("query must be num_heads * head_dim wide with "
                       "num_heads a multiple of the cache's kv heads");
  return verifyCacheScales(*this, cache, getKeyScales(), getValueScales());
}

static LogicalResult verifyElementwise(Operation *op, Value lhs, Value rhs,
                                       Value result) {
  if (rowsFeatures(op, lhs, "lhs") < 0 ||
      rowsFeatures(op, result, "result") < 0)
    return failure();
  if (lhs.getType() != rhs.getType() ||
      tensorType(result).getShape() != tensorType(lhs).getShape())
    return op->emitOpError("operands and result must have one shape");
  if (!isa<Float32Type, BFloat16Type>(tensorType(result).getElementType()))
    return op->emitOpError("result is f32 or bf16");
  return success();
}

LogicalResult PermuteColumnsOp::verify() {
  int64_t features = rowsFeatures(*this, getInput(), "input");
  if (features < 0 || rowsFeatures(*this, getResult(), "result") < 0)
    return failure();
  if (tensorType(getResult()).getShape() != tensorType(getInput()).getShape())
    return emitOpError("input and result must have one shape");
  for (Value v : {getInput(), getResult()})
    if (!isa<Float32Type, BFloat16Type>(tensorType(v).getElementType()))
      return emitOpError("input and result are f32 or bf16");
  if (tensorType(getPermutation()).getShape() != ArrayRef<int64_t>{features})
    return emitOpError() << "permutation must be [" << features << "]";
  return success();
}

LogicalResult AddOp::verify() {
  return verifyElementwise(*this, getLhs(), getRhs(), getResult());
}
LogicalResult MulOp::verify() {
  return verifyElementwise(*this, getLhs(), getRhs(), getResult());
}
LogicalResult SiluMulOp::verify() {
  return verifyElementwise(*this, getLhs(), getRhs(), getResult());
}
