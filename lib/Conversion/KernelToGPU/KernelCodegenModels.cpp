//===- KernelCodegenModels.cpp - qk ops write their kernels ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The external models of KernelCodegenOpInterface: each derives its op's
// kernel spec, records the spec and the kernel's parameters on the op for
// the bundle, and calls the family's builder.
//
//===----------------------------------------------------------------------===//

#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
namespace qk = mlir::qopt::kernel;
using mlir::qopt::BlockAttr;
using mlir::qopt::PerChannelAttr;
using mlir::qopt::PerGroupAttr;
using mlir::qopt::PerHeadAttr;
using mlir::qopt::PerTensorAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;

#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.cpp.inc"

//===----------------------------------------------------------------------===//
// Spec fields
//===----------------------------------------------------------------------===//

static FailureOr<ElemType> elemType(Operation *op, Type t) {
  if (t.isF32())
    return ElemType::F32;
  if (t.isBF16())
    return ElemType::BF16;
  if (t.isF16())
    return ElemType::F16;
  if (t.isSignlessInteger(8))
    return ElemType::I8;
  if (isa<Float8E4M3FNType>(t))
    return ElemType::F8E4M3;
  if (t.isInteger(4))
    return ElemType::I4x2;
  if (t.isSignlessInteger(32))
    return ElemType::I32;
  return op->emitOpError() << "no kernel reads or writes " << t;
}

static StringRef elemName(ElemType t) {
  switch (t) {
  case ElemType::F32:
    return "f32";
  case ElemType::BF16:
    return "bf16";
  case ElemType::F16:
    return "f16";
  case ElemType::I8:
    return "i8";
  case ElemType::F8E4M3:
    return "f8e4m3";
  case ElemType::I4x2:
    return "i4x2";
  case ElemType::I32:
    return "i32";
  }
  return "?";
}

static StringRef scaleName(ScaleKind k) {
  switch (k) {
  case ScaleKind::None:
    return "none";
  case ScaleKind::PerTensor:
    return "per_tensor";
  case ScaleKind::PerToken:
    return "per_token";
  case ScaleKind::PerChannel:
    return "per_channel";
  case ScaleKind::PerGroup:
    return "per_group";
  case ScaleKind::Block:
    return "block";
  }
  return "?";
}

static StringRef kvScaleName(KVScaleKind k) {
  switch (k) {
  case KVScaleKind::None:
    return "none";
  case KVScaleKind::PerTensor:
    return "per_tensor";
  case KVScaleKind::PerHead:
    return "per_head";
  case KVScaleKind::PerToken:
    return "per_token";
  }
  return "?";
}

static StringRef gemmKindName(GemmKind k) {
  switch (k) {
  case GemmKind::BF16:
    return "bf16";
  case GemmKind::S8:
    return "s8";
  case GemmKind::E4M3:
    return "e4m3";
  case GemmKind::W8A16:
    return "w8a16";
  case GemmKind::W4A16:
    return "w4a16";
  }
  return "?";
}

static Type elementOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

namespace {
/// Builds the `qk.spec` dictionary field by field.
class SpecDict {
public:
  explicit SpecDict(MLIRContext *ctx) : b(ctx) {}
  SpecDict &add(StringRef name, int64_t v) {
    attrs.emplace_back(b.getStringAttr(name), b.getI64IntegerAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, double v) {
    attrs.emplace_back(b.getStringAttr(name), b.getF64FloatAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, bool v) {
    attrs.emplace_back(b.getStringAttr(name), b.getBoolAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, StringRef v) {
    attrs.emplace_back(b.getStringAttr(name), b.getStringAttr(v));
    return *this;
  }
  SpecDict &add(StringRef name, DictionaryAttr v) {
    attrs.emplace_back(b.getStringAttr(name), v);
    return *this;
  }
  DictionaryAttr get() { return b.getDictionaryAttr(attrs); }

private:
  Builder b;
  SmallVector<NamedAttribute> attrs;
};

/// The parameters of a kernel, as the bundle names them.
class Params {
public:
  explicit Params(Operation *op) : op(op) {}
  void operand(Value v) {
    for (OpOperand &use : op->getOpOperands())
      if (use.get() == v) {
        names.push_back("operand:" + std::to_string(use.getOperandNumber()));
        return;
      }
    llvm_unreachable("not an operand of the op");
  }
  void optional(Value v) {
    if (v)
      operand(v);
  }
  void result(unsigned i) { names.push_back("result:" + std::to_string(i)); }
  void cache(StringRef which) { names.push_back(("cache:" + which).str()); }
  ArrayAttr get() {
    Builder b(op->getContext());
    SmallVector<Attribute> attrs;
    for (const std::string &n : names)
      attrs.push_back(b.getStringAttr(n));
    return b.getArrayAttr(attrs);
  }

private:
  Operation *op;
  std::vector<std::string> names;
};
} // namespace

static DictionaryAttr cacheDict(MLIRContext *ctx, const KVCacheSpec &s) {
  return SpecDict(ctx)
      .add("max_seq", s.maxSeq)
      .add("num_kv_heads", s.numKvHeads)
      .add("head_dim", s.headDim)
      .add("storage", elemName(s.storage))
      .add("scales", kvScaleName(s.scales))
      .get();
}

static FailureOr<KVCacheSpec> cacheSide(Operation *op, qk::KVCacheOp cache,
                                        Type storage, QuantSchemeAttr scheme,
                                        int64_t maxSeq) {
  KVCacheSpec s;
  s.maxSeq = maxSeq;
  s.numKvHeads = cache.getNumKvHeads();
  s.headDim = cache.getHeadDim();
  FailureOr<ElemType> e = elemType(op, storage);
  if (failed(e))
    return failure();
  s.storage = *e;
  if (scheme) {
    Attribute g = scheme.getGranularity();
    s.scales = isa<PerTokenAttr>(g)  ? KVScaleKind::PerToken
               : isa<PerHeadAttr>(g) ? KVScaleKind::PerHead
                                     : KVScaleKind::PerTensor;
  }
  return s;
}

/// A kernel of the op for launches of at most `maxM` tokens.
struct SmallMKernel {
  int64_t maxM;
  std::string name;
  LaunchConfig launch;
};

static qk::LaunchAttr launchAttr(MLIRContext *ctx, const LaunchConfig &l);

/// Records the op's small-M kernels (ascending maxM) for the bundle:
/// `qk.small_m_kernels` (symbols), `qk.small_m_launches` and
/// `qk.small_m_rows`.
static void setSmallMKernels(Operation *op, gpu::GPUModuleOp module,
                             ArrayRef<SmallMKernel> variants) {
  MLIRContext *ctx = op->getContext();
  SmallVector<Attribute> kernels, launches;
  SmallVector<int64_t> rows;
  for (const SmallMKernel &v : variants) {
    kernels.push_back(SymbolRefAttr::get(
        module.getNameAttr(), {FlatSymbolRefAttr::get(ctx, v.name)}));
    launches.push_back(launchAttr(ctx, v.launch));
    rows.push_back(v.maxM);
  }
  op->setAttr("qk.small_m_kernels", ArrayAttr::get(ctx, kernels));
  op->setAttr("qk.small_m_launches", ArrayAttr::get(ctx, launches));
  op->setAttr("qk.small_m_rows", DenseI64ArrayAttr::get(ctx, rows));
}

static qk::LaunchAttr launchAttr(MLIRContext *ctx, const LaunchConfig &l) {
  return qk::LaunchAttr::get(ctx, DenseI64ArrayAttr::get(ctx, l.block),
                             l.gridTokenTile, l.gridPerTile, l.gridY, l.gridZ,
                             l.sharedBytes);
}

/// Records what the bundle needs and the generated kernel's launch.
static LogicalResult finish(Operation *op, Operation *gpuModule, StringRef name,
                            DictionaryAttr spec, Params &params,
                            FailureOr<LaunchConfig> launch) {
  if (failed(launch))
    return failure();
  MLIRContext *ctx = op->getContext();
  op->setAttr("qk.spec", spec);
  op->setAttr("qk.params", params.get());
  auto module = cast<gpu::GPUModuleOp>(gpuModule);
  op->setAttr("qk.kernel",
              SymbolRefAttr::get(module.getNameAttr(),
                                 {FlatSymbolRefAttr::get(ctx, name)}));
  op->setAttr("qk.launch", launchAttr(ctx, *launch));
  return success();
}

static qk::KVCacheOp cacheOf(Operation *op, FlatSymbolRefAttr name) {
  return SymbolTable::lookupNearestSymbolFrom<qk::KVCacheOp>(op, name);
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

namespace {
template <typename Op, typename Derived>
struct ModelBase : KernelCodegenOpInterface::ExternalModel<Derived, Op> {};

struct GemmModel : ModelBase<qk::GemmOp, GemmModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::GemmOp>(raw);
    GemmSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.n = op.getN();
    s.k = op.getK();
    Type a = elementOf(op.getA()), b = elementOf(op.getB());
    if (a.isBF16() && b.isBF16())
      s.kind = GemmKind::BF16;
    else if (a.isSignlessInteger(8) && b.isSignlessInteger(8))
      s.kind = GemmKind::S8;
    else if (isa<Float8E4M3FNType>(a) && isa<Float8E4M3FNType>(b))
      s.kind = GemmKind::E4M3;
    else if (a.isBF16() && b.isSignlessInteger(8))
      s.kind = GemmKind::W8A16;
    else if (a.isBF16() && b.isInteger(4))
      s.kind = GemmKind::W4A16;
    else
      return op.emitOpError() << "no GEMM kernel for " << a << " x " << b;
    if (QuantSchemeAttr as = op.getASchemeAttr())
      s.aScale = isa<PerTokenAttr>(as.getGranularity()) ? ScaleKind::PerToken
                                                        : ScaleKind::PerTensor;
    if (QuantSchemeAttr bs = op.getBSchemeAttr()) {
      Attribute g = bs.getGranularity();
      if (isa<PerTensorAttr>(g)) {
        s.bScale = ScaleKind::PerTensor;
      } else if (isa<PerChannelAttr>(g)) {
        s.bScale = ScaleKind::PerChannel;
      } else if (auto group = dyn_cast<PerGroupAttr>(g)) {
        s.bScale = ScaleKind::PerGroup;
        s.groupSize = group.getSize();
      } else if (auto block = dyn_cast<BlockAttr>(g)) {
        s.bScale = ScaleKind::Block;
        s.blockN = block.getRows();
        s.blockK = block.getCols();
      } else {
        return op.emitOpError("no GEMM kernel for this weight granularity");
      }
    }
    s.bZeroPoints = static_cast<bool>(op.getBZeroPoints());
    s.intBias = static_cast<bool>(op.getIntBias());
    s.bias = static_cast<bool>(op.getBias());
    s.gated = static_cast<bool>(op.getUp());
    s.residual = static_cast<bool>(op.getResidual());
    FailureOr<ElemType> out = elemType(op, elementOf(op.getResult()));
    if (failed(out))
      return failure();
    s.outType = *out;
    if (QuantSchemeAttr os = op.getOutSchemeAttr())
      s.outAsymmetric = !os.isSymmetric();
    qk::TileAttr tile = op.getTileAttr();
    if (!tile)
      return op.emitOpError("has no tile (run --qk-select-tiles)");
    s.tile = {tile.getBm(),     tile.getBn(),     tile.getBk(),
              tile.getWarpsM(), tile.getWarpsN(), tile.getStages()};

    MLIRContext *ctx = op.getContext();
    DictionaryAttr tileDict = SpecDict(ctx)
                                  .add("bm", s.tile.bm)
                                  .add("bn", s.tile.bn)
                                  .add("bk", s.tile.bk)
                                  .add("warps_m", s.tile.warpsM)
                                  .add("warps_n", s.tile.warpsN)
                                  .add("stages", s.tile.stages)
                                  .get();
    DictionaryAttr spec = SpecDict(ctx)
                              .add("kind", gemmKindName(s.kind))
                              .add("max_tokens", s.maxTokens)
                              .add("n", s.n)
                              .add("k", s.k)
                              .add("a_scale", scaleName(s.aScale))
                              .add("b_scale", scaleName(s.bScale))
                              .add("group_size", s.groupSize)
                              .add("block_n", s.blockN)
                              .add("block_k", s.blockK)
                              .add("b_zero_points", s.bZeroPoints)
                              .add("int_bias", s.intBias)
                              .add("bias", s.bias)
                              .add("gated", s.gated)
                              .add("residual", s.residual)
                              .add("out_type", elemName(s.outType))
                              .add("out_asymmetric", s.outAsymmetric)
                              .add("tile", tileDict)
                              .get();
    Params p(op);
    p.operand(op.getA());
    p.optional(op.getAScales());
    p.operand(op.getB());
    p.optional(op.getBScales());
    p.optional(op.getBZeroPoints());
    p.optional(op.getIntBias());
    p.optional(op.getBias());
    if (op.getUp()) {
      p.operand(op.getUp());
      p.optional(op.getUpScales());
      p.optional(op.getUpZeroPoints());
      p.optional(op.getUpIntBias());
      p.optional(op.getUpBias());
    }
    p.optional(op.getResidual());
    p.optional(op.getOutScale());
    p.optional(op.getOutZeroPoint());
    p.result(0);
    auto module = cast<gpu::GPUModuleOp>(gpuModule);
    if (failed(finish(op, gpuModule, name, spec, p,
                      buildGemmKernel(module, s, options.chip, op.getLoc()))))
      return failure();
    qk::GemvAttr gemv = op.getGemvAttr();
    if (!gemv)
      return success();
    // One weight-streaming kernel per row count, recorded in order.
    SmallVector<SmallMKernel> variants;
    for (int64_t rows : gemv.getRows()) {
      if (rows > s.maxTokens)
        break;
      std::string gemvName = name.str() + "_gemv" + std::to_string(rows);
      FailureOr<LaunchConfig> launch = buildGemvKernel(
          module, s, GemvShape{rows, gemv.getWarps(), gemv.getKSplit()},
          gemvName, options.chip, op.getLoc());
      if (failed(launch))
        return failure();
      variants.push_back({rows, gemvName, *launch});
    }
    setSmallMKernels(op, module, variants);
    return success();
  }
};

/// The output stage shared by rms_norm and quantize.
struct RowQuant {
  ElemType outType = ElemType::F32;
  bool dynamicPerToken = false, staticScale = false, asymmetric = false;
};

static FailureOr<RowQuant> rowQuant(Operation *op, Value result,
                                    QuantSchemeAttr scheme) {
  RowQuant q;
  FailureOr<ElemType> out = elemType(op, elementOf(result));
  if (failed(out))
    return failure();
  q.outType = *out;
  if (scheme) {
    q.dynamicPerToken = scheme.isDynamic();
    q.staticScale = scheme.isStatic();
    q.asymmetric = !scheme.isSymmetric();
  }
  return q;
}

struct RmsNormModel : ModelBase<qk::RmsNormOp, RmsNormModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::RmsNormOp>(raw);
    FailureOr<RowQuant> q = rowQuant(op, op.getResult(), op.getOutSchemeAttr());
    FailureOr<ElemType> w = elemType(op, elementOf(op.getWeight()));
    if (failed(q) || failed(w))
      return failure();
    RmsNormSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.hidden = cast<ShapedType>(op.getInput().getType()).getDimSize(1);
    s.epsilon = op.getEpsilon().convertToDouble();
    s.weightType = *w;
    s.outType = q->outType;
    s.dynamicPerToken = q->dynamicPerToken;
    s.staticScale = q->staticScale;
    s.staticAsymmetric = q->asymmetric;
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("hidden", s.hidden)
                              .add("epsilon", s.epsilon)
                              .add("weight_type", elemName(s.weightType))
                              .add("out_type", elemName(s.outType))
                              .add("dynamic_per_token", s.dynamicPerToken)
                              .add("static_scale", s.staticScale)
                              .add("static_asymmetric", s.staticAsymmetric)
                              .get();
    Params p(op);
    p.operand(op.getInput());
    p.operand(op.getWeight());
    p.optional(op.getOutScale());
    p.optional(op.getOutZeroPoint());
    p.result(0);
    if (op.getScales())
      p.result(1);
    return finish(op, gpuModule, name, spec, p,
                  buildRmsNormKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                     options.chip, op.getLoc()));
  }
};

struct QuantizeModel : ModelBase<qk::QuantizeOp, QuantizeModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::QuantizeOp>(raw);
    FailureOr<RowQuant> q = rowQuant(op, op.getResult(), op.getSchemeAttr());
    if (failed(q))
      return failure();
    QuantizeSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.hidden = cast<ShapedType>(op.getInput().getType()).getDimSize(1);
    s.outType = q->outType;
    s.dynamicPerToken = q->dynamicPerToken;
    s.staticAsymmetric = q->asymmetric;
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("hidden", s.hidden)
                              .add("out_type", elemName(s.outType))
                              .add("dynamic_per_token", s.dynamicPerToken)
                              .add("static_asymmetric", s.staticAsymmetric)
                              .get();
    Params p(op);
    p.operand(op.getInput());
    p.optional(op.getScale());
    p.optional(op.getZeroPoint());
    p.result(0);
    if (op.getScales())
      p.result(1);
    return finish(op, gpuModule, name, spec, p,
                  buildQuantizeKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                      options.chip, op.getLoc()));
  }
};

struct EmbeddingModel : ModelBase<qk::EmbeddingOp, EmbeddingModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::EmbeddingOp>(raw);
    auto table = cast<ShapedType>(op.getTable().getType());
    FailureOr<ElemType> t = elemType(op, table.getElementType());
    if (failed(t))
      return failure();
    if (!elementOf(op.getResult()).isF32())
      return op.emitOpError("the embedding kernel writes f32");
    EmbeddingSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.vocab = table.getDimSize(0);
    s.hidden = table.getDimSize(1);
    s.tableType = *t;
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("vocab", s.vocab)
                              .add("hidden", s.hidden)
                              .add("table_type", elemName(s.tableType))
                              .get();
    Params p(op);
    p.operand(op.getTable());
    p.operand(op.getIds());
    p.result(0);
    return finish(op, gpuModule, name, spec, p,
                  buildEmbeddingKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                       options.chip, op.getLoc()));
  }
};

struct RopeKVAppendModel : ModelBase<qk::RopeKVAppendOp, RopeKVAppendModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::RopeKVAppendOp>(raw);
    qk::KVCacheOp cache = cacheOf(op, op.getCacheAttr());
    FailureOr<KVCacheSpec> keys =
        cacheSide(op, cache, cache.getKeyType(), cache.getKeySchemeAttr(),
                  options.maxSeq);
    FailureOr<KVCacheSpec> values =
        cacheSide(op, cache, cache.getValueType(), cache.getValueSchemeAttr(),
                  options.maxSeq);
    if (failed(keys) || failed(values))
      return failure();
    RopeAppendSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.numHeads = op.getNumHeads();
    s.numKvHeads = cache.getNumKvHeads();
    s.headDim = cache.getHeadDim();
    s.maxPositions = cast<ShapedType>(op.getTable().getType()).getDimSize(0);
    s.keys = *keys;
    s.values = *values;
    MLIRContext *ctx = op.getContext();
    DictionaryAttr spec = SpecDict(ctx)
                              .add("max_tokens", s.maxTokens)
                              .add("num_heads", s.numHeads)
                              .add("num_kv_heads", s.numKvHeads)
                              .add("head_dim", s.headDim)
                              .add("max_positions", s.maxPositions)
                              .add("keys", cacheDict(ctx, s.keys))
                              .add("values", cacheDict(ctx, s.values))
                              .get();
    Params p(op);
    p.operand(op.getQuery());
    p.operand(op.getKey());
    p.operand(op.getValue());
    p.operand(op.getPositions());
    p.operand(op.getTable());
    p.optional(op.getKeyScale());
    p.optional(op.getValueScale());
    p.result(0);
    p.cache("k");
    p.cache("v");
    if (s.keys.scales == KVScaleKind::PerToken)
      p.cache("k_scales");
    if (s.values.scales == KVScaleKind::PerToken)
      p.cache("v_scales");
    return finish(op, gpuModule, name, spec, p,
                  buildRopeAppendKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                        options.chip, op.getLoc()));
  }
};

struct AttentionModel : ModelBase<qk::AttentionOp, AttentionModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::AttentionOp>(raw);
    qk::KVCacheOp cache = cacheOf(op, op.getCacheAttr());
    FailureOr<KVCacheSpec> keys =
        cacheSide(op, cache, cache.getKeyType(), cache.getKeySchemeAttr(),
                  options.maxSeq);
    FailureOr<KVCacheSpec> values =
        cacheSide(op, cache, cache.getValueType(), cache.getValueSchemeAttr(),
                  options.maxSeq);
    FailureOr<ElemType> out = elemType(op, elementOf(op.getResult()));
    if (failed(keys) || failed(values) || failed(out))
      return failure();
    AttentionSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.warps = options.attentionWarps;
    s.numHeads = op.getNumHeads();
    s.numKvHeads = cache.getNumKvHeads();
    s.headDim = cache.getHeadDim();
    s.causal = op.getCausal();
    s.scale = op.getScale().convertToDouble();
    s.slidingWindow = op.getSlidingWindow().value_or(0);
    s.keys = *keys;
    s.values = *values;
    s.outType = *out;
    MLIRContext *ctx = op.getContext();
    DictionaryAttr spec = SpecDict(ctx)
                              .add("max_tokens", s.maxTokens)
                              .add("num_heads", s.numHeads)
                              .add("num_kv_heads", s.numKvHeads)
                              .add("head_dim", s.headDim)
                              .add("causal", s.causal)
                              .add("scale", s.scale)
                              .add("sliding_window", s.slidingWindow)
                              .add("keys", cacheDict(ctx, s.keys))
                              .add("values", cacheDict(ctx, s.values))
                              .add("out_type", elemName(s.outType))
                              .get();
    Params p(op);
    p.operand(op.getQuery());
    p.operand(op.getPositions());
    p.cache("k");
    p.cache("v");
    if (s.keys.scales == KVScaleKind::PerToken)
      p.cache("k_scales");
    else
      p.optional(op.getKeyScales());
    if (s.values.scales == KVScaleKind::PerToken)
      p.cache("v_scales");
    else
      p.optional(op.getValueScales());
    p.result(0);
    auto module = cast<gpu::GPUModuleOp>(gpuModule);
    if (failed(
            finish(op, gpuModule, name, spec, p,
                   buildAttentionKernel(module, s, options.chip, op.getLoc()))))
      return failure();
    if (options.attentionSplits <= 1)
      return success();
    // One-row launches: the keys split across a cluster (flash-decoding).
    s.splits = options.attentionSplits;
    s.name = name.str() + "_split" + std::to_string(s.splits);
    FailureOr<LaunchConfig> launch =
        buildAttentionKernel(module, s, options.chip, op.getLoc());
    if (failed(launch))
      return failure();
    setSmallMKernels(op, module, {{1, s.name, *launch}});
    return success();
  }
};

template <typename Op, ElementwiseKind Kind>
struct ElementwiseModel : ModelBase<Op, ElementwiseModel<Op, Kind>> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<Op>(raw);
    FailureOr<ElemType> out = elemType(op, elementOf(op.getResult()));
    if (failed(out))
      return failure();
    ElementwiseSpec s;
    s.name = name.str();
    s.kind = Kind;
    s.maxTokens = options.maxTokens;
    s.features = cast<ShapedType>(op.getLhs().getType()).getDimSize(1);
    s.outType = *out;
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("features", s.features)
                              .add("out_type", elemName(s.outType))
                              .get();
    Params p(op);
    p.operand(op.getLhs());
    p.operand(op.getRhs());
    p.result(0);
    return finish(op, gpuModule, name, spec, p,
                  buildElementwiseKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                         options.chip, op.getLoc()));
  }
};

struct PermuteColumnsModel
    : ModelBase<qk::PermuteColumnsOp, PermuteColumnsModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::PermuteColumnsOp>(raw);
    FailureOr<ElemType> in = elemType(op, elementOf(op.getInput()));
    FailureOr<ElemType> out = elemType(op, elementOf(op.getResult()));
    if (failed(in) || failed(out))
      return failure();
    PermuteColumnsSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.features = cast<ShapedType>(op.getInput().getType()).getDimSize(1);
    s.inType = *in;
    s.outType = *out;
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("features", s.features)
                              .add("in_type", elemName(s.inType))
                              .add("out_type", elemName(s.outType))
                              .get();
    Params p(op);
    p.operand(op.getInput());
    p.operand(op.getPermutation());
    p.result(0);
    return finish(op, gpuModule, name, spec, p,
                  buildPermuteColumnsKernel(cast<gpu::GPUModuleOp>(gpuModule),
                                            s, options.chip, op.getLoc()));
  }
};

struct ArgmaxModel : ModelBase<qk::ArgmaxOp, ArgmaxModel> {
  LogicalResult generateKernel(Operation *raw, Operation *gpuModule,
                               StringRef name,
                               const CodegenOptions &options) const {
    auto op = cast<qk::ArgmaxOp>(raw);
    ArgmaxSpec s;
    s.name = name.str();
    s.maxTokens = options.maxTokens;
    s.vocab = cast<ShapedType>(op.getLogits().getType()).getDimSize(1);
    DictionaryAttr spec = SpecDict(op.getContext())
                              .add("max_tokens", s.maxTokens)
                              .add("vocab", s.vocab)
                              .get();
    Params p(op);
    p.operand(op.getLogits());
    p.result(0);
    return finish(op, gpuModule, name, spec, p,
                  buildArgmaxKernel(cast<gpu::GPUModuleOp>(gpuModule), s,
                                    options.chip, op.getLoc()));
  }
};

/// Ops whose kernels exist only fused: an error that says which pass fuses.
template <typename Op> struct UnfusedModel : ModelBase<Op, UnfusedModel<Op>> {
  LogicalResult generateKernel(Operation *op, Operation *, StringRef,
                               const CodegenOptions &) const {
    return op->emitOpError()
           << "has no kernel of its own; --qk-fuse-rope-kv-append fuses "
              "RoPE with the KV-cache append";
  }
};
} // namespace

void mlir::qopt::codegen::registerKernelCodegenInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, qk::QKDialect *) {
    qk::GemmOp::attachInterface<GemmModel>(*ctx);
    qk::RmsNormOp::attachInterface<RmsNormModel>(*ctx);
    qk::QuantizeOp::attachInterface<QuantizeModel>(*ctx);
    qk::EmbeddingOp::attachInterface<EmbeddingModel>(*ctx);
    qk::RopeKVAppendOp::attachInterface<RopeKVAppendModel>(*ctx);
    qk::AttentionOp::attachInterface<AttentionModel>(*ctx);
    qk::AddOp::attachInterface<
        ElementwiseModel<qk::AddOp, ElementwiseKind::Add>>(*ctx);
    qk::MulOp::attachInterface<
        ElementwiseModel<qk::MulOp, ElementwiseKind::Mul>>(*ctx);
    qk::SiluMulOp::attachInterface<
        ElementwiseModel<qk::SiluMulOp, ElementwiseKind::SiluMul>>(*ctx);
    qk::ArgmaxOp::attachInterface<ArgmaxModel>(*ctx);
    qk::PermuteColumnsOp::attachInterface<PermuteColumnsModel>(*ctx);
    qk::RopeOp::attachInterface<UnfusedModel<qk::RopeOp>>(*ctx);
    qk::KVAppendOp::attachInterface<UnfusedModel<qk::KVAppendOp>>(*ctx);
  });
}
