//===- CodegenModelUtils.cpp - What the codegen models share --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CodegenModelUtils.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::qopt::codegen;
using mlir::qopt::PerHeadAttr;
using mlir::qopt::PerTokenAttr;
using mlir::qopt::QuantSchemeAttr;

namespace mlir::qopt::codegen::models {

//===----------------------------------------------------------------------===//
// Spec fields
//===----------------------------------------------------------------------===//

FailureOr<ElemType> elemType(Operation *op, Type t) {
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

StringRef elemName(ElemType t) {
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

StringRef scaleName(ScaleKind k) {
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

StringRef kvScaleName(KVScaleKind k) {
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

StringRef gemmKindName(GemmKind k) {
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

Type elementOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

DictionaryAttr cacheDict(MLIRContext *ctx, const KVCacheSpec &s) {
  return SpecDict(ctx)
      .add("max_seq", s.maxSeq)
      .add("num_kv_heads", s.numKvHeads)
      .add("head_dim", s.headDim)
      .add("storage", elemName(s.storage))
      .add("scales", kvScaleName(s.scales))
      .get();
}

FailureOr<KVCacheSpec> cacheSide(Operation *op, qk::KVCacheOp cache,
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

/// Records the op's small-M kernels (ascending maxM) for the bundle:
/// `qk.small_m_kernels` (symbols), `qk.small_m_launches` and
/// `qk.small_m_rows`.
void setSmallMKernels(Operation *op, gpu::GPUModuleOp module,
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

qk::LaunchAttr launchAttr(MLIRContext *ctx, const LaunchConfig &l) {
  return qk::LaunchAttr::get(ctx, DenseI64ArrayAttr::get(ctx, l.block),
                             l.gridTokenTile, l.gridPerTile, l.gridY, l.gridZ,
                             l.sharedBytes);
}

/// Records what the bundle needs and the generated kernel's launch.
LogicalResult finish(Operation *op, Operation *gpuModule, StringRef name,
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

qk::KVCacheOp cacheOf(Operation *op, FlatSymbolRefAttr name) {
  return SymbolTable::lookupNearestSymbolFrom<qk::KVCacheOp>(op, name);
}

} // namespace mlir::qopt::codegen::models
