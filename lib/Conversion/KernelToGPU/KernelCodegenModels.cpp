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

#include "CodegenModelUtils.h"
#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.h"
#include "qopt/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using namespace mlir::qopt::codegen::models;
using mlir::qopt::BlockAttr;
using mlir::qopt::PerChannelAttr;
using mlir::qopt::PerGroupAttr;
using mlir::qopt::PerHeadAttr;
using mlir::qopt::PerTensorAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;

#include "qopt/Conversion/KernelToGPU/KernelCodegenInterface.cpp.inc"

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

namespace {
template <typename Op, typename Derived>
struct ModelBase : KernelCodegenOpInterface::ExternalModel<Derived, Op> {};

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
    attachGemmCodegenModel(ctx);
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
