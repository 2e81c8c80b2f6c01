//===- QuantizeLinear.cpp - Shared helpers of weight quantization ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/Qopt/Transforms/QuantizeLinear.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdio>

using namespace mlir;
using namespace mlir::qopt;

FailureOr<WeightSchemeSpec>
WeightSchemeSpec::parse(MLIRContext *ctx, ::qnum::StorageKind dtype,
                        ::qnum::GranularityKind granularity, int64_t groupSize,
                        int64_t blockSize, bool symmetric, Packing packing,
                        std::string &error) {
  WeightSchemeSpec spec;
  spec.storage = getStorageType(ctx, dtype);
  switch (granularity) {
  case ::qnum::GranularityKind::PerChannel:
    spec.granularity = ::qnum::Granularity::perChannel(0);
    break;
  case ::qnum::GranularityKind::PerGroup:
    if (groupSize <= 0) {
      error = "group-size must be positive, got " + std::to_string(groupSize);
      return failure();
    }
    spec.granularity = ::qnum::Granularity::perGroup(1, groupSize);
    break;
  case ::qnum::GranularityKind::Block:
    if (blockSize <= 0) {
      error = "block-size must be positive, got " + std::to_string(blockSize);
      return failure();
    }
    spec.granularity = ::qnum::Granularity::block(blockSize, blockSize);
    break;
  case ::qnum::GranularityKind::PerTensor:
    spec.granularity = ::qnum::Granularity::perTensor();
    break;
  case ::qnum::GranularityKind::PerToken:
  case ::qnum::GranularityKind::PerHead:
    error = "granularity must be channel, group, block or tensor, got '" +
            optionName(granularitySpellings(), granularity).str() + "'";
    return failure();
  }
  spec.symmetric = symmetric;
  if (!symmetric && !spec.storage.isInteger()) {
    error = "float8 weights are symmetric; symmetric=false needs i8 or i4";
    return failure();
  }
  if (spec.storage.isInteger(4)) {
    if (packing == Packing::None) {
      error = "i4 weights need packing=int4x2 or packing=int4x8_offset";
      return failure();
    }
    spec.packing = packing;
  }
  return spec;
}

FailureOr<WeightSchemeSpec>
WeightSchemeSpec::parseGrouped(MLIRContext *ctx, ::qnum::StorageKind dtype,
                               int64_t groupSize, bool symmetric,
                               Packing packing, std::string &error) {
  if (dtype != ::qnum::StorageKind::Int4 &&
      dtype != ::qnum::StorageKind::Int8) {
    error = "dtype must be i4 or i8, got '" +
            optionName(dtypeSpellings(), dtype).str() + "'";
    return failure();
  }
  if (groupSize < 0) {
    error = "group-size must be non-negative, got " + std::to_string(groupSize);
    return failure();
  }
  return parse(ctx, dtype,
               groupSize > 0 ? ::qnum::GranularityKind::PerGroup
                             : ::qnum::GranularityKind::PerChannel,
               groupSize, 0, symmetric, packing, error);
}

static GranularityAttrInterface granularityAttr(MLIRContext *ctx,
                                                const ::qnum::Granularity &g) {
  switch (g.kind) {
  case ::qnum::GranularityKind::PerChannel:
    return PerChannelAttr::get(ctx, g.axis);
  case ::qnum::GranularityKind::PerGroup:
    return PerGroupAttr::get(ctx, g.axis, g.size);
  case ::qnum::GranularityKind::Block:
    return BlockAttr::get(ctx, g.rows, g.cols);
  case ::qnum::GranularityKind::PerHead:
    return PerHeadAttr::get(ctx, g.axis, g.size);
  case ::qnum::GranularityKind::PerToken:
    return PerTokenAttr::get(ctx);
  case ::qnum::GranularityKind::PerTensor:
    break;
  }
  return PerTensorAttr::get(ctx);
}

QuantSchemeAttr WeightSchemeSpec::toAttr(MLIRContext *ctx) const {
  return QuantSchemeAttr::get(
      ctx, storage, granularityAttr(ctx, granularity),
      symmetric ? Symmetry::Symmetric : Symmetry::Asymmetric, ScaleMode::Static,
      ElementsAttr(), ElementsAttr(), packing);
}

::qnum::TensorScheme WeightSchemeSpec::toTensorScheme() const {
  ::qnum::TensorScheme ts;
  ts.kind = storage.isInteger(8)   ? ::qnum::StorageKind::Int8
            : storage.isInteger(4) ? ::qnum::StorageKind::Int4
                                   : ::qnum::StorageKind::Float8E4M3FN;
  ts.symmetric = symmetric;
  ts.granularity = granularity;
  return ts;
}

::qnum::WeightQuantConfig WeightSchemeSpec::toWeightQuantConfig() const {
  ::qnum::WeightQuantConfig cfg;
  cfg.kind = toTensorScheme().kind;
  cfg.symmetric = symmetric;
  cfg.groupSize = granularity.kind == ::qnum::GranularityKind::PerGroup
                      ? granularity.size
                      : 0;
  return cfg;
}

std::string WeightSchemeSpec::check(int64_t n, int64_t k) const {
  std::string msg = ::qnum::checkGranularity(granularity, {n, k});
  if (!msg.empty())
    return msg;
  if (packing == Packing::Int4x8Offset && k % 8 != 0)
    return "int4x8_offset packing needs an input dimension divisible by 8, "
           "got " +
           std::to_string(k);
  return "";
}

SmallVector<LinearOp> mlir::qopt::linearsToQuantize(ModuleOp module,
                                                    bool includeLmHead) {
  SmallVector<LinearOp> out;
  module.walk([&](LinearOp linear) {
    if (!includeLmHead && linear.getRole() == LinearRole::LMHead)
      return;
    if (!WeightReader::isWeightExpression(linear.getWeight()))
      return;
    out.push_back(linear);
  });
  return out;
}

LogicalResult mlir::qopt::checkLinearsToQuantize(ArrayRef<LinearOp> linears,
                                                 const WeightSchemeSpec &spec,
                                                 bool needHessian,
                                                 LinearOp &bad,
                                                 std::string &error) {
  for (LinearOp linear : linears) {
    bad = linear;
    auto w = cast<RankedTensorType>(linear.getWeight().getType());
    std::string msg = spec.check(w.getDimSize(0), w.getDimSize(1));
    if (!msg.empty()) {
      error = "cannot quantize '" + tensorPrefix(linear) + "': " + msg;
      return failure();
    }
    ActStatsAttr stats = findStats(linear.getInput());
    if (needHessian && (!stats || !stats.getHessian())) {
      error = "layer '" + tensorPrefix(linear) +
              "' has no Hessian (X^T X) for its input; run qopt-calibrate on "
              "the model first (smoothing drops Hessians: do not smooth "
              "before GPTQ or AWQ)";
      return failure();
    }
  }
  return success();
}

std::string mlir::qopt::formatDouble(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", value);
  return buf;
}

std::string mlir::qopt::tensorPrefix(LinearLikeOpInterface linear) {
  if (!linear.getLayerName().empty())
    return linear.getLayerName().str();
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "linear@" << linear.getLoc();
  return s;
}

LogicalResult mlir::qopt::replaceByQuantizedLinear(
    LinearOp linear, const WeightSchemeSpec &spec, const std::vector<float> &q,
    const std::vector<float> &scales, const std::vector<int32_t> &zeroPoints,
    WeightWriter &writer, std::string &error) {
  auto wType = cast<RankedTensorType>(linear.getWeight().getType());
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  std::vector<int64_t> sShape = ::qnum::scaleShape(spec.granularity, {n, k});
  std::string prefix = tensorPrefix(linear);
  if (failed(writer.addStorage(prefix + ".qweight", {n, k}, q, spec.storage,
                               spec.packing, error)) ||
      failed(writer.addFloat(prefix + ".scales", sShape, scales, error)))
    return failure();
  if (!spec.symmetric && failed(writer.addInt32(prefix + ".zero_points", sShape,
                                                zeroPoints, error)))
    return failure();
  rewriteAsQuantizedLinear(linear, spec, writer);
  return success();
}

void mlir::qopt::rewriteAsQuantizedLinear(LinearOp linear,
                                          const WeightSchemeSpec &spec,
                                          WeightWriter &writer) {
  MLIRContext *ctx = linear.getContext();
  auto wType = cast<RankedTensorType>(linear.getWeight().getType());
  int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
  std::vector<int64_t> sShape = ::qnum::scaleShape(spec.granularity, {n, k});
  std::string prefix = tensorPrefix(linear);
  OpBuilder b(linear);
  Location loc = linear.getLoc();
  Value qw = writer.reference(b, loc, prefix + ".qweight",
                              RankedTensorType::get({n, k}, spec.storage),
                              spec.packing);
  SmallVector<int64_t> sDims(sShape.begin(), sShape.end());
  Value sw = writer.reference(b, loc, prefix + ".scales",
                              RankedTensorType::get(sDims, b.getF32Type()));
  Value zw;
  if (!spec.symmetric)
    zw = writer.reference(b, loc, prefix + ".zero_points",
                          RankedTensorType::get(sDims, b.getI32Type()));
  auto ql = QuantizedLinearOp::create(
      b, loc, linear.getResult().getType(), linear.getInput(), qw,
      linear.getBias(), /*int_bias=*/Value(), /*input_scales=*/Value(),
      /*input_zero_points=*/Value(), sw, zw, /*residual=*/Value(),
      /*input_scheme=*/QuantSchemeAttr(), spec.toAttr(ctx),
      ActivationAttr::get(ctx, Activation::None), linear.getRoleAttr(),
      linear.getLabelAttr());
  Value oldWeight = linear.getWeight();
  linear.getResult().replaceAllUsesWith(ql.getResult());
  linear.erase();
  // Drop the float weight expression when nothing else reads it (the
  // embedding table, tied to the LM head, still does).
  SmallVector<Operation *> dead{oldWeight.getDefiningOp()};
  while (!dead.empty()) {
    Operation *op = dead.pop_back_val();
    if (!op || !op->use_empty() || !isa<WeightOp, ScaleChannelsOp>(op))
      continue;
    SmallVector<Value> operands(op->getOperands());
    op->erase();
    for (Value v : operands)
      dead.push_back(v.getDefiningOp());
  }
}

LogicalResult mlir::qopt::describeAtLoadWeight(LinearOp linear,
                                               const WeightSchemeSpec &spec,
                                               WeightWriter &writer,
                                               std::string &error) {
  AtLoadTensor t;
  if (failed(describeAtLoadSource(linear.getWeight(), t, error))) {
    error = "cannot quantize '" + tensorPrefix(linear) + "' at load: " + error;
    return failure();
  }
  if (spec.packing == Packing::Int4x8Offset) {
    error = "int4x8_offset packing is not computed at load (use int4x2)";
    return failure();
  }
  t.recipe.storage = spec.toTensorScheme().kind;
  t.recipe.granularity = spec.granularity;
  t.recipe.symmetric = spec.symmetric;
  std::string prefix = tensorPrefix(linear);
  std::vector<std::pair<std::string, qrt::WeightPart>> parts = {
      {".qweight", qrt::WeightPart::QWeight},
      {".scales", qrt::WeightPart::Scales}};
  if (!spec.symmetric)
    parts.push_back({".zero_points", qrt::WeightPart::ZeroPoints});
  for (auto &[suffix, part] : parts) {
    t.part = part;
    if (failed(writer.addAtLoad(prefix + suffix, t, error)))
      return failure();
  }
  rewriteAsQuantizedLinear(linear, spec, writer);
  return success();
}
