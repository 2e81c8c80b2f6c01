//===- AscendW8A8.cpp - Ascend msModelSlim W8A8 checkpoints ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// msModelSlim's W8A8 (what Ascend's MindIE loads): int8 per-channel
// symmetric weights and static per-tensor int8 activations with an offset.
// Per quantized MatMul:
//   weight        int8 [n, k]
//   input_scale   [1], the model's dtype
//   input_offset  [1], the model's dtype (the activations' zero point)
//   quant_bias    int32 [n] = -input_offset * sum_k weight[n, k]
//   deq_scale     [n] = input_scale * weight_scale[n]: int64 holding the
//                 float32 bits in its low 32 bits for float16 models,
//                 float32 for bfloat16 models
// so that (x_q . weight[n] + quant_bias[n]) * deq_scale[n] is the
// dequantized product (x_q - offset) * input_scale . weight[n] *
// weight_scale[n]. config.json's quantization_config has
// "model_quant_type": "W8A8" and one entry per tensor: "W8A8" for each
// quantized tensor, "FLOAT" for the rest. input_scale is rounded to the
// model dtype, as the format stores it; deq_scale is computed from the
// rounded value, the one the loader quantizes activations with.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

#include "qopt-runtime/QuantMath.h"

#include <cstring>
#include <set>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;

namespace {
class AscendW8A8Writer : public FormatWriter {
public:
  LogicalResult addLinear(const QuantizedLinearData &d, Checkpoint &ckpt,
                          std::string &error) override;
  LogicalResult addAttention(AttentionOp op, Checkpoint &,
                             std::string &error) override {
    if (!op.getKeySchemeAttr() && !op.getValueSchemeAttr())
      return success();
    error = "layer " + std::to_string(op.getLayer()) +
            " has a quantized KV cache, which ascend-w8a8 cannot hold";
    return failure();
  }
  FailureOr<json> finish(const Checkpoint &ckpt,
                         const std::vector<std::string> &ignored,
                         std::string &error) override;

private:
  std::set<std::string> quantized; // tensor names
};
} // namespace

LogicalResult AscendW8A8Writer::addLinear(const QuantizedLinearData &d,
                                          Checkpoint &ckpt,
                                          std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "layer '" + d.name + "': " + what;
    return failure();
  };
  if (ckpt.modelDType != qrt::DType::F16 && ckpt.modelDType != qrt::DType::BF16)
    return fail("ascend-w8a8 is defined for float16 and bfloat16 models, not " +
                std::string(qrt::dtypeName(ckpt.modelDType)));
  QuantSchemeAttr w = d.weightScheme, x = d.inputScheme;
  if (!w.getStorage().isSignlessInteger(8))
    return fail("its weights are not int8 (ascend-w8a8 is int8 W8A8; FP8 "
                "and int4 have no Ascend W8A8 form)");
  auto channel = dyn_cast<PerChannelAttr>(w.getGranularity());
  if (!w.isSymmetric() || !channel || channel.getAxis() != 0)
    return fail("ascend-w8a8 needs symmetric per-channel int8 weights");
  if (!x || !x.isStatic() || !isa<PerTensorAttr>(x.getGranularity()) ||
      !x.getStorage().isSignlessInteger(8))
    return fail("ascend-w8a8 needs static per-tensor int8 activations "
                "(--smoothquant=act=static-asym or act=static-sym)");
  if (!d.bias.empty())
    return fail("has a bias, which ascend-w8a8's int32 quant_bias would "
                "round");
  if (d.inputScales.size() != 1 || d.weightScales.size() != size_t(d.out))
    return fail("its scales have the wrong size");
  int32_t offset = d.inputZeroPoints.empty() ? 0 : d.inputZeroPoints[0];
  // The input scale as the loader reads it (the model dtype).
  bool exact = true;
  std::vector<uint8_t> scaleBytes =
      floatBytes(d.inputScales, ckpt.modelDType, exact);
  uint16_t h;
  std::memcpy(&h, scaleBytes.data(), 2);
  float inputScale = ckpt.modelDType == qrt::DType::BF16
                         ? ::qnum::bf16ToFloat(h)
                         : ::qnum::halfToFloat(h);
  std::vector<uint8_t> offsetBytes =
      floatBytes({float(offset)}, ckpt.modelDType, exact);

  std::vector<int32_t> quantBias(d.out);
  const int8_t *weight = reinterpret_cast<const int8_t *>(d.weightBytes.data());
  for (int64_t n = 0; n < d.out; ++n) {
    int64_t sum = 0;
    for (int64_t k = 0; k < d.in; ++k)
      sum += weight[n * d.in + k];
    quantBias[n] = static_cast<int32_t>(-int64_t(offset) * sum);
  }
  std::vector<uint8_t> biasBytes(quantBias.size() * 4);
  std::memcpy(biasBytes.data(), quantBias.data(), biasBytes.size());

  std::vector<float> deq(d.out);
  for (int64_t n = 0; n < d.out; ++n)
    deq[n] = inputScale * d.weightScales[n];
  std::vector<uint8_t> deqBytes;
  qrt::DType deqType = qrt::DType::F32;
  if (ckpt.modelDType == qrt::DType::F16) {
    deqType = qrt::DType::I64;
    deqBytes.resize(deq.size() * 8);
    for (size_t n = 0; n < deq.size(); ++n) {
      uint32_t bits;
      std::memcpy(&bits, &deq[n], 4);
      uint64_t word = bits;
      std::memcpy(deqBytes.data() + 8 * n, &word, 8);
    }
  } else {
    deqBytes = floatBytes(deq, qrt::DType::F32, exact);
  }

  ckpt.addBytes(d.name + ".weight", qrt::DType::I8, {d.out, d.in},
                d.weightBytes);
  ckpt.addBytes(d.name + ".input_scale", ckpt.modelDType, {1},
                std::move(scaleBytes));
  ckpt.addBytes(d.name + ".input_offset", ckpt.modelDType, {1},
                std::move(offsetBytes));
  ckpt.addBytes(d.name + ".quant_bias", qrt::DType::I32, {d.out},
                std::move(biasBytes));
  ckpt.addBytes(d.name + ".deq_scale", deqType, {d.out}, std::move(deqBytes));
  for (const char *t : {".weight", ".input_scale", ".input_offset",
                        ".quant_bias", ".deq_scale"})
    quantized.insert(d.name + t);
  return success();
}

FailureOr<json> AscendW8A8Writer::finish(const Checkpoint &ckpt,
                                         const std::vector<std::string> &,
                                         std::string &error) {
  if (quantized.empty()) {
    error = "the model has no quantized linear layer: nothing for "
            "ascend-w8a8 to describe (export a W8A8 model)";
    return failure();
  }
  llvm::json::Object q{{"model_quant_type", "W8A8"}};
  for (const qrt::TensorData &t : ckpt.tensors)
    q[t.name] = quantized.count(t.name) ? "W8A8" : "FLOAT";
  return json(std::move(q));
}

std::unique_ptr<FormatWriter> exporter::createAscendW8A8Writer() {
  return std::make_unique<AscendW8A8Writer>();
}
