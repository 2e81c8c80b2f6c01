//===- HfFp8.cpp - transformers' FP8 checkpoints --------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// transformers' own FP8 format (FineGrainedFP8Config, `quant_method` "fp8"):
// each converted linear has `weight` float8_e4m3fn [N, K] and
// `weight_scale_inv` float32 [ceil(N / bn), ceil(K / bk)] with
// W = weight x weight_scale_inv per (bn, bk) = `weight_block_size` block.
// `modules_to_not_convert` lists modules left in the model's dtype (a module
// whose name contains an entry). Activations are `activation_scheme`
// "dynamic": quantized at run time in groups of 128 along K, which qopt has
// no scheme for; they import as ImportActivations says.
//
//===----------------------------------------------------------------------===//

#include "QuantizedFormats.h"

#include "qopt-runtime/Safetensors.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {
class HfFp8 : public CheckpointQuantization {
public:
  HfFp8(int64_t blockN, int64_t blockK, std::vector<std::string> notConverted,
        ImportActivations activations)
      : blockN(blockN), blockK(blockK), notConverted(std::move(notConverted)),
        activations(activations) {}

  std::string name() const override { return "transformers fp8"; }

  bool isQuantized(const CheckpointLinear &linear) const override {
    for (const std::string &m : notConverted)
      if (linear.prefix.find(m) != std::string::npos)
        return false;
    return linear.role != LinearRole::LMHead;
  }

  LogicalResult check(const qrt::TensorStore &store,
                      const CheckpointLinear &linear,
                      std::vector<std::string> &used,
                      std::string &error) const override {
    auto expect = [&](const std::string &name, qrt::DType dtype,
                      std::vector<int64_t> shape) {
      const qrt::TensorView *v = store.find(name);
      if (!v) {
        error = "transformers fp8 checkpoint is missing tensor '" + name + "'";
        return false;
      }
      if (v->dtype != dtype || v->shape != shape) {
        error = "tensor '" + name + "' is " + qrt::dtypeName(v->dtype) + " " +
                ::qnum::shapeToString(v->shape) + "; transformers fp8 with " +
                "weight_block_size [" + std::to_string(blockN) + ", " +
                std::to_string(blockK) + "] stores " + qrt::dtypeName(dtype) +
                " " + ::qnum::shapeToString(shape);
        return false;
      }
      used.push_back(name);
      return true;
    };
    if (!expect(linear.prefix + ".weight", qrt::DType::F8_E4M3,
                {linear.out, linear.in}) ||
        !expect(linear.prefix + ".weight_scale_inv", qrt::DType::F32,
                scaleShape(linear)))
      return failure();
    return success();
  }

  Value build(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
              FlatSymbolRefAttr relaid, Value x, Value bias,
              const CheckpointLinear &linear) const override {
    MLIRContext *ctx = b.getContext();
    Type f8 = b.getType<Float8E4M3FNType>();
    Value w = formats::storedWeight(
        b, loc, store, linear.prefix + ".weight",
        RankedTensorType::get({linear.out, linear.in}, f8));
    Value s = formats::storedWeight(
        b, loc, store, linear.prefix + ".weight_scale_inv",
        RankedTensorType::get(scaleShape(linear), b.getF32Type()));
    auto weightScheme = QuantSchemeAttr::get(
        ctx, f8, BlockAttr::get(ctx, blockN, blockK), Symmetry::Symmetric,
        ScaleMode::Static, ElementsAttr(), ElementsAttr(), Packing::None);
    QuantSchemeAttr inputScheme;
    Value input = x, inputScales;
    if (activations == ImportActivations::PerToken) {
      inputScheme = QuantSchemeAttr::get(
          ctx, f8, PerTokenAttr::get(ctx), Symmetry::Symmetric,
          ScaleMode::Dynamic, ElementsAttr(), ElementsAttr(), Packing::None);
      auto xType = cast<RankedTensorType>(x.getType());
      auto q = QuantizeOp::create(
          b, loc, RankedTensorType::get(xType.getShape(), f8),
          RankedTensorType::get(xType.getShape().drop_back(), b.getF32Type()),
          Type(), x, inputScheme);
      input = q.getOutput();
      inputScales = q.getScales();
    }
    auto outType = RankedTensorType::get({ShapedType::kDynamic, linear.out},
                                         b.getF32Type());
    return QuantizedLinearOp::create(
        b, loc, outType, input, w, bias, /*int_bias=*/Value(), inputScales,
        /*input_zero_points=*/Value(), s, /*weight_zero_points=*/Value(),
        /*residual=*/Value(), inputScheme, weightScheme,
        ActivationAttr::get(ctx, Activation::None),
        LinearRoleAttr::get(ctx, linear.role), b.getStringAttr(linear.prefix));
  }

private:
  std::vector<int64_t> scaleShape(const CheckpointLinear &linear) const {
    return {(linear.out + blockN - 1) / blockN,
            (linear.in + blockK - 1) / blockK};
  }

  int64_t blockN, blockK;
  std::vector<std::string> notConverted;
  ImportActivations activations;
};
} // namespace

std::unique_ptr<CheckpointQuantization>
formats::parseHfFp8(const llvm::json::Object &q, ImportActivations activations,
                    const std::string &where, std::string &error) {
  const llvm::json::Value *scheme = q.get("activation_scheme");
  if (scheme && scheme->getAsString() != std::optional<StringRef>("dynamic")) {
    error = where + ".activation_scheme is " + dump(*scheme) +
            "; qopt-import reads transformers fp8 with \"dynamic\" "
            "activations";
    return nullptr;
  }
  const llvm::json::Array *block = q.getArray("weight_block_size");
  std::optional<int64_t> rows, cols;
  if (block && block->size() == 2) {
    rows = (*block)[0].getAsInteger();
    cols = (*block)[1].getAsInteger();
  }
  if (!rows || !cols || *rows <= 0 || *cols <= 0) {
    error = where + ".weight_block_size must be two positive integers [rows, "
                    "cols] (per-tensor transformers fp8 is not read)";
    return nullptr;
  }
  const llvm::json::Value *fmt = q.get("scale_fmt");
  if (fmt && !fmt->getAsNull() &&
      fmt->getAsString() != std::optional<StringRef>("float")) {
    error = where + ".scale_fmt is " + dump(*fmt) +
            "; qopt-import reads \"float\" scales";
    return nullptr;
  }
  std::vector<std::string> notConverted;
  const llvm::json::Value *skip = q.get("modules_to_not_convert");
  if (skip && !skip->getAsNull()) {
    const llvm::json::Array *list = skip->getAsArray();
    if (!list) {
      error = where + ".modules_to_not_convert must be null or a list of "
                      "module names";
      return nullptr;
    }
    for (const llvm::json::Value &m : *list) {
      std::optional<StringRef> name = m.getAsString();
      if (!name) {
        error =
            where + ".modules_to_not_convert has a non-string entry " + dump(m);
        return nullptr;
      }
      notConverted.push_back(name->str());
    }
  }
  return std::make_unique<HfFp8>(*rows, *cols, std::move(notConverted),
                                 activations);
}

Value formats::storedWeight(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
                            const std::string &name, Type type) {
  return WeightOp::create(b, loc, type, store, b.getStringAttr(name),
                          PackingAttr());
}
