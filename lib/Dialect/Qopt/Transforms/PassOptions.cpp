//===- PassOptions.cpp - Typed options of qopt's passes -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::qopt;

using ::qnum::GranularityKind;
using ::qnum::StorageKind;

ArrayRef<OptionSpelling<StorageKind>> mlir::qopt::dtypeSpellings() {
  static const OptionSpelling<StorageKind> table[] = {
      {"i8", StorageKind::Int8, "8-bit integers"},
      {"i4", StorageKind::Int4, "4-bit integers"},
      {"f8E4M3FN", StorageKind::Float8E4M3FN, "FP8 E4M3 (no infinities)"},
      {"int8", StorageKind::Int8, "Alias of i8"},
      {"int4", StorageKind::Int4, "Alias of i4"},
      {"fp8", StorageKind::Float8E4M3FN, "Alias of f8E4M3FN"},
      {"e4m3", StorageKind::Float8E4M3FN, "Alias of f8E4M3FN"},
      {"fp8_e4m3", StorageKind::Float8E4M3FN, "Alias of f8E4M3FN"},
      {"float8_e4m3fn", StorageKind::Float8E4M3FN, "Alias of f8E4M3FN"},
  };
  return table;
}

ArrayRef<OptionSpelling<GranularityKind>> mlir::qopt::granularitySpellings() {
  static const OptionSpelling<GranularityKind> table[] = {
      {"channel", GranularityKind::PerChannel, "One scale per output channel"},
      {"group", GranularityKind::PerGroup,
       "One scale per group of input channels"},
      {"block", GranularityKind::Block, "One scale per square tile"},
      {"token", GranularityKind::PerToken, "One scale per token (dynamic)"},
      {"head", GranularityKind::PerHead, "One scale per KV head"},
      {"tensor", GranularityKind::PerTensor, "One scale per tensor"},
      {"per-channel", GranularityKind::PerChannel, "Alias of channel"},
      {"per-group", GranularityKind::PerGroup, "Alias of group"},
      {"per-block", GranularityKind::Block, "Alias of block"},
      {"per-token", GranularityKind::PerToken, "Alias of token"},
      {"per-head", GranularityKind::PerHead, "Alias of head"},
      {"per-tensor", GranularityKind::PerTensor, "Alias of tensor"},
  };
  return table;
}

ArrayRef<OptionSpelling<Packing>> mlir::qopt::packingSpellings() {
  static const OptionSpelling<Packing> table[] = {
      {"int4x2", Packing::Int4x2, "Two 4-bit values per byte"},
      {"int4x8_offset", Packing::Int4x8Offset,
       "Eight 4-bit values per int32, offset by 8 (compressed-tensors)"},
      {"pack-quantized", Packing::Int4x8Offset, "Alias of int4x8_offset"},
  };
  return table;
}

ArrayRef<OptionSpelling<ScaleMode>> mlir::qopt::scaleModeSpellings() {
  static const OptionSpelling<ScaleMode> table[] = {
      {"dynamic", ScaleMode::Dynamic, "Scales computed at run time"},
      {"static", ScaleMode::Static, "Calibrated scales"},
  };
  return table;
}

ArrayRef<OptionSpelling<Target>> mlir::qopt::targetSpellings() {
  static const OptionSpelling<Target> table[] = {
      {"sm_90a", Target::SM90a, "Hopper (H100, H200)"},
      {"sm_89", Target::SM89, "Ada (L4, L40S, RTX 40xx)"},
      {"sm_80", Target::SM80, "Ampere (A100, A10): no float8 tensor cores"},
      {"hopper", Target::SM90a, "Alias of sm_90a"},
      {"ada", Target::SM89, "Alias of sm_89"},
      {"ampere", Target::SM80, "Alias of sm_80"},
  };
  return table;
}

ArrayRef<OptionSpelling<ContractStage>> mlir::qopt::contractStageSpellings() {
  static const OptionSpelling<ContractStage> table[] = {
      {"graph", ContractStage::Graph,
       "Output of import: no quantization schemes"},
      {"quantized", ContractStage::Quantized,
       "Output of the quantization pipelines"},
  };
  return table;
}

ArrayRef<OptionSpelling<SmoothQuantActivations>>
mlir::qopt::smoothQuantActivationsSpellings() {
  static const OptionSpelling<SmoothQuantActivations> table[] = {
      {"dynamic", SmoothQuantActivations::Dynamic,
       "Dynamic per-token int8 activations"},
      {"static-sym", SmoothQuantActivations::StaticSym,
       "Calibrated per-tensor symmetric int8 activations"},
      {"static-asym", SmoothQuantActivations::StaticAsym,
       "Calibrated per-tensor asymmetric int8 activations (zero point in an "
       "int32 bias)"},
      {"per-token", SmoothQuantActivations::Dynamic, "Alias of dynamic"},
  };
  return table;
}

ArrayRef<OptionSpelling<FP8Activations>> mlir::qopt::fp8ActivationsSpellings() {
  static const OptionSpelling<FP8Activations> table[] = {
      {"token", FP8Activations::Token, "Dynamic per-token scales"},
      {"tensor-dynamic", FP8Activations::TensorDynamic,
       "One dynamic scale per call"},
      {"tensor-static", FP8Activations::TensorStatic,
       "One calibrated scale per layer"},
      {"per-token", FP8Activations::Token, "Alias of token"},
  };
  return table;
}

ArrayRef<OptionSpelling<W4A16Method>> mlir::qopt::w4a16MethodSpellings() {
  static const OptionSpelling<W4A16Method> table[] = {
      {"rtn", W4A16Method::RTN, "Round to nearest"},
      {"awq", W4A16Method::AWQ, "Activation-aware scaling and clipping"},
      {"gptq", W4A16Method::GPTQ, "GPTQ with calibration Hessians"},
  };
  return table;
}

ArrayRef<OptionSpelling<QuantPipeline>> mlir::qopt::quantPipelineSpellings() {
  static const OptionSpelling<QuantPipeline> table[] = {
      {"smoothquant", QuantPipeline::SmoothQuant, "qopt --smoothquant"},
      {"fp8", QuantPipeline::FP8, "qopt --fp8"},
      {"w8a16", QuantPipeline::W8A16, "qopt --w8a16"},
      {"w4a16", QuantPipeline::W4A16, "qopt --w4a16"},
      {"kv-cache", QuantPipeline::KVCache, "qopt --kv-cache"},
  };
  return table;
}

Type mlir::qopt::getStorageType(MLIRContext *ctx, StorageKind kind) {
  Builder b(ctx);
  switch (kind) {
  case StorageKind::Int8:
    return b.getIntegerType(8);
  case StorageKind::Int4:
    return b.getIntegerType(4);
  case StorageKind::Float8E4M3FN:
    return b.getType<Float8E4M3FNType>();
  case StorageKind::Float8E5M2:
    break;
  }
  return b.getType<Float8E5M2Type>();
}

InFlightDiagnostic mlir::qopt::emitPassError(Operation *op) {
  if (isa<ModuleOp>(op))
    return mlir::emitError(op->getLoc());
  return op->emitError();
}
