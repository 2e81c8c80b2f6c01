//===- HfFp8.cpp - transformers' own FP8 checkpoints ----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// transformers' FP8 format (FineGrainedFP8Config): `quant_method` "fp8",
// `activation_scheme` "dynamic", `weight_block_size` [br, bc]; each
// converted linear has `weight` float8_e4m3fn [N, K] and `weight_scale_inv`
// float32 [ceil(N / br), ceil(K / bc)] with W = weight x weight_scale_inv.
// It holds qopt's FP8 block scheme: block weights with dynamic per-token
// activations (transformers quantizes them in groups of 128 along K at run
// time) or weight-only. Float linears other than the LM head are listed in
// `modules_to_not_convert`.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;

namespace {
class HfFp8Writer : public FormatWriter {
public:
  LogicalResult addLinear(const QuantizedLinearData &d, Checkpoint &ckpt,
                          std::string &error) override {
    auto fail = [&](const std::string &what) {
      error = "layer '" + d.name + "': " + what;
      return failure();
    };
    auto block = dyn_cast<BlockAttr>(d.weightScheme.getGranularity());
    if (!isa<Float8E4M3FNType>(d.weightScheme.getStorage()) || !block)
      return fail("transformers fp8 holds float8 (e4m3) weights with block "
                  "scales (--fp8=weights=block)");
    if (d.inputScheme && (!d.inputScheme.isDynamic() ||
                          !isa<PerTokenAttr>(d.inputScheme.getGranularity()) ||
                          !isa<Float8E4M3FNType>(d.inputScheme.getStorage())))
      return fail("transformers fp8 quantizes activations dynamically; this "
                  "layer's are static or not float8");
    if (blockRows == 0) {
      blockRows = block.getRows();
      blockCols = block.getCols();
      firstLayer = d.name;
    } else if (block.getRows() != blockRows || block.getCols() != blockCols) {
      return fail("its blocks differ from layer '" + firstLayer +
                  "''s; transformers fp8 has one weight_block_size");
    }
    ckpt.addBytes(d.name + ".weight", qrt::DType::F8_E4M3, {d.out, d.in},
                  d.weightBytes);
    // transformers reads weight_scale_inv as float32, whatever the model
    // dtype: qopt's scales, exactly.
    bool exact = true;
    ckpt.addBytes(d.name + ".weight_scale_inv", qrt::DType::F32,
                  {(d.out + blockRows - 1) / blockRows,
                   (d.in + blockCols - 1) / blockCols},
                  floatBytes(d.weightScales, qrt::DType::F32, exact));
    if (!d.bias.empty())
      ckpt.addFloat(d.name + ".bias", {d.out}, d.bias);
    return success();
  }

  LogicalResult addAttention(AttentionOp op, Checkpoint &,
                             std::string &error) override {
    if (!op.getKeySchemeAttr() && !op.getValueSchemeAttr())
      return success();
    error = "layer " + std::to_string(op.getLayer()) +
            " has a quantized KV cache, which transformers fp8 cannot hold";
    return failure();
  }

  FailureOr<json> finish(const Checkpoint &ckpt,
                         const std::vector<std::string> &ignored,
                         std::string &error) override {
    if (blockRows == 0) {
      error = "the model has no quantized linear layer: nothing for "
              "transformers fp8 to describe (export a quantized model)";
      return failure();
    }
    llvm::json::Object q{
        {"quant_method", "fp8"},
        {"activation_scheme", "dynamic"},
        {"weight_block_size", llvm::json::Array{blockRows, blockCols}}};
    std::vector<std::string> others;
    for (const std::string &name : ignored)
      if (name != "lm_head")
        others.push_back(name);
    if (!others.empty())
      q["modules_to_not_convert"] = llvm::json::Array(others);
    return json(std::move(q));
  }

private:
  int64_t blockRows = 0, blockCols = 0;
  std::string firstLayer;
};
} // namespace

std::unique_ptr<FormatWriter> exporter::createHfFp8Writer() {
  return std::make_unique<HfFp8Writer>();
}
