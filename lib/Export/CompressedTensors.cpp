//===- CompressedTensors.cpp - vLLM's compressed-tensors checkpoints ------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// compressed-tensors (what llm-compressor writes and vLLM loads): one config
// group targeting "Linear", QuantizationArgs for the weights and the input
// activations, the float linears in `ignore`. Per layer:
//   weight             int8 / float8_e4m3fn [N, K], as stored
//   weight_scale       [1] (tensor), [N, 1] (channel), [N, K / g] (group),
//                      [ceil(N / br), ceil(K / bc)] (block)
//   weight_zero_point  as weight_scale, int8 (asymmetric weights only)
//   input_scale        [1] (static activations)
//   input_zero_point   [1] int8 (static asymmetric activations)
//   self_attn.k_scale, self_attn.v_scale
//                      [1] (tensor) or [kv heads] (attn_head): static KV-cache
//                      scales, with the kv_cache_scheme
//   weight_packed      int32 [N, K / 8] (pack-quantized int4: element j of a
//                      row in bits 4 (j % 8) of word j / 8, as value + 8),
//                      with weight_shape int64 [2] = [N, K]
//   weight_zero_point  int32 [N / 8, K / g] for asymmetric int4: row 8r + i
//                      of group g in bits 4i of word (r, g), as value + 8
//                      (compressed-tensors packs zero points along N)
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

#include "qopt-runtime/QuantMath.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;
using llvm::json::Array;
using llvm::json::Object;

namespace {
class CompressedTensorsWriter : public FormatWriter {
public:
  LogicalResult addLinear(const QuantizedLinearData &d, Checkpoint &ckpt,
                          std::string &error) override;
  LogicalResult addAttention(AttentionOp op, Checkpoint &ckpt,
                             std::string &error) override;
  FailureOr<json> finish(const Checkpoint &ckpt,
                         const std::vector<std::string> &ignored,
                         std::string &error) override;

private:
  /// The scheme every layer so far has, and the first layer that set it.
  json group = nullptr, kvScheme = nullptr;
  std::string format, firstLayer;
  int64_t firstKVLayer = -1;
};
} // namespace

/// QuantizationArgs of a scheme, with the scale tensor's shape for a
/// [out, in] weight (empty for activations); fails with the reason.
static FailureOr<json> argsOf(QuantSchemeAttr scheme, bool weight, int64_t out,
                              int64_t in, std::vector<int64_t> &scaleShape,
                              std::string &error) {
  Object a;
  Type storage = scheme.getStorage();
  if (storage.isSignlessInteger(8)) {
    a["num_bits"] = 8;
    a["type"] = "int";
  } else if (isa<Float8E4M3FNType>(storage)) {
    a["num_bits"] = 8;
    a["type"] = "float";
  } else if (storage.isSignlessInteger(4) && weight) {
    a["num_bits"] = 4;
    a["type"] = "int";
  } else {
    error = "is stored as a type compressed-tensors has no format for";
    return failure();
  }
  a["symmetric"] = scheme.isSymmetric();
  a["group_size"] = nullptr;
  a["block_structure"] = nullptr;
  a["dynamic"] = scheme.isDynamic();
  a["actorder"] = nullptr;
  a["observer"] = scheme.isDynamic() ? json(nullptr) : json("minmax");
  Attribute g = scheme.getGranularity();
  if (isa<PerTensorAttr>(g)) {
    a["strategy"] = "tensor";
    scaleShape = {1};
  } else if (auto c = dyn_cast<PerChannelAttr>(g); c && weight) {
    if (c.getAxis() != 0) {
      error = "has per-channel scales along the input dimension";
      return failure();
    }
    a["strategy"] = "channel";
    scaleShape = {out, 1};
  } else if (auto p = dyn_cast<PerGroupAttr>(g); p && weight) {
    a["strategy"] = "group";
    a["group_size"] = p.getSize();
    scaleShape = {out, in / p.getSize()};
  } else if (auto b = dyn_cast<BlockAttr>(g); b && weight) {
    a["strategy"] = "block";
    a["block_structure"] = Array{b.getRows(), b.getCols()};
    scaleShape = {(out + b.getRows() - 1) / b.getRows(),
                  (in + b.getCols() - 1) / b.getCols()};
  } else if (isa<PerTokenAttr>(g) && !weight) {
    a["strategy"] = "token";
  } else {
    error = "has a granularity compressed-tensors cannot express";
    return failure();
  }
  return json(std::move(a));
}

static std::vector<uint8_t> int8Bytes(const std::vector<int32_t> &v) {
  std::vector<uint8_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    out[i] = static_cast<uint8_t>(static_cast<int8_t>(v[i]));
  return out;
}

/// weight_packed and weight_shape of an int4 layer.
static LogicalResult addPacked(const QuantizedLinearData &d, Checkpoint &ckpt,
                               std::string &error) {
  if (d.in % 8) {
    error = "layer '" + d.name +
            "': pack-quantized needs the input "
            "dimension " +
            std::to_string(d.in) + " to be a multiple of 8";
    return failure();
  }
  std::vector<uint8_t> words;
  if (d.packing == Packing::Int4x8Offset) {
    words = d.weightBytes; // already compressed-tensors' layout
  } else {
    std::vector<int32_t> packed = ::qnum::packInt4x8Offset(
        ::qnum::unpackInt4x2(d.weightBytes, size_t(d.out * d.in)));
    words.resize(packed.size() * 4);
    std::memcpy(words.data(), packed.data(), words.size());
  }
  ckpt.addBytes(d.name + ".weight_packed", qrt::DType::I32, {d.out, d.in / 8},
                std::move(words));
  int64_t shape[2] = {d.out, d.in};
  std::vector<uint8_t> shapeBytes(sizeof(shape));
  std::memcpy(shapeBytes.data(), shape, sizeof(shape));
  ckpt.addBytes(d.name + ".weight_shape", qrt::DType::I64, {2},
                std::move(shapeBytes));
  return success();
}

LogicalResult CompressedTensorsWriter::addLinear(const QuantizedLinearData &d,
                                                 Checkpoint &ckpt,
                                                 std::string &error) {
  auto fail = [&](const std::string &what) {
    error = "layer '" + d.name + "': " + what;
    return failure();
  };
  std::vector<int64_t> wShape, xShape;
  std::string why;
  FailureOr<json> w = argsOf(d.weightScheme, true, d.out, d.in, wShape, why);
  if (failed(w))
    return fail("its weight " + why);
  Object g{{"targets", Array{"Linear"}},
           {"weights", *w},
           {"input_activations", nullptr},
           {"output_activations", nullptr}};
  if (d.inputScheme) {
    FailureOr<json> x = argsOf(d.inputScheme, false, 0, 0, xShape, why);
    if (failed(x))
      return fail("its input " + why);
    g["input_activations"] = *x;
  }
  Type wStorage = d.weightScheme.getStorage();
  bool int4 = wStorage.isSignlessInteger(4);
  std::string fmt = isa<Float8E4M3FNType>(wStorage) ? "float-quantized"
                    : int4                          ? "pack-quantized"
                                                    : "int-quantized";
  json scheme(std::move(g));
  if (group.getAsNull()) {
    group = scheme;
    format = fmt;
    firstLayer = d.name;
  } else if (scheme != group) {
    return fail("its scheme differs from layer '" + firstLayer +
                "''s; qopt-export writes one compressed-tensors config "
                "group, so every quantized layer must share one scheme");
  }

  if (int4) {
    if (failed(addPacked(d, ckpt, error)))
      return failure();
  } else {
    qrt::DType storage =
        isa<Float8E4M3FNType>(wStorage) ? qrt::DType::F8_E4M3 : qrt::DType::I8;
    ckpt.addBytes(d.name + ".weight", storage, {d.out, d.in}, d.weightBytes);
  }
  if (failed(ckpt.addScales(d.name + ".weight_scale", wShape, d.weightScales,
                            d.name, error)))
    return failure();
  if (!d.weightZeroPoints.empty() && int4) {
    if (d.out % 8)
      return fail("asymmetric pack-quantized needs the output dimension " +
                  std::to_string(d.out) + " to be a multiple of 8");
    int64_t groups = wShape[1];
    std::vector<uint8_t> words(size_t(d.out / 8 * groups * 4));
    for (int64_t r = 0; r < d.out / 8; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        uint32_t word = 0;
        for (int64_t i = 0; i < 8; ++i)
          word |=
              uint32_t((d.weightZeroPoints[(8 * r + i) * groups + g] + 8) & 0xF)
              << (4 * i);
        std::memcpy(words.data() + 4 * (r * groups + g), &word, 4);
      }
    ckpt.addBytes(d.name + ".weight_zero_point", qrt::DType::I32,
                  {d.out / 8, groups}, std::move(words));
  } else if (!d.weightZeroPoints.empty()) {
    ckpt.addBytes(d.name + ".weight_zero_point", qrt::DType::I8, wShape,
                  int8Bytes(d.weightZeroPoints));
  }
  if (d.inputScheme && d.inputScheme.isStatic()) {
    if (d.inputScales.size() != 1)
      return fail("its static input has " +
                  std::to_string(d.inputScales.size()) +
                  " scales; compressed-tensors stores one per tensor");
    if (failed(ckpt.addScales(d.name + ".input_scale", {1}, d.inputScales,
                              d.name, error)))
      return failure();
    if (!d.inputScheme.isSymmetric())
      ckpt.addBytes(d.name + ".input_zero_point", qrt::DType::I8, {1},
                    int8Bytes(d.inputZeroPoints));
  }
  if (!d.bias.empty())
    ckpt.addFloat(d.name + ".bias", {d.out}, d.bias);
  return success();
}

LogicalResult CompressedTensorsWriter::addAttention(AttentionOp op,
                                                    Checkpoint &ckpt,
                                                    std::string &error) {
  QuantSchemeAttr k = op.getKeySchemeAttr(), v = op.getValueSchemeAttr();
  if (!k && !v)
    return success();
  int64_t layer = static_cast<int64_t>(op.getLayer());
  std::string name = "model.layers." + std::to_string(layer) + ".self_attn";
  auto fail = [&](const std::string &what) {
    error = "layer " + std::to_string(layer) + "'s KV cache " + what;
    return failure();
  };
  std::vector<int64_t> shape;
  auto argsOfKV = [&](QuantSchemeAttr s) -> FailureOr<json> {
    if (!s || !s.isStatic() || !s.isSymmetric())
      return failure();
    Object a{{"num_bits", 8},         {"symmetric", true},
             {"group_size", nullptr}, {"block_structure", nullptr},
             {"dynamic", false},      {"actorder", nullptr},
             {"observer", "minmax"}};
    if (s.getStorage().isSignlessInteger(8))
      a["type"] = "int";
    else if (isa<Float8E4M3FNType>(s.getStorage()))
      a["type"] = "float";
    else
      return failure();
    if (isa<PerTensorAttr>(s.getGranularity())) {
      a["strategy"] = "tensor";
      shape = {1};
    } else if (auto h = dyn_cast<PerHeadAttr>(s.getGranularity())) {
      a["strategy"] = "attn_head";
      shape = {h.getHeads()};
    } else {
      return failure();
    }
    return json(std::move(a));
  };
  FailureOr<json> ka = argsOfKV(k), va = argsOfKV(v);
  if (failed(ka) || failed(va) || *ka != *va)
    return fail("is not static, symmetric, 8-bit and per-tensor or per-head "
                "alike for keys and values, which is what compressed-tensors' "
                "kv_cache_scheme holds");
  if (kvScheme.getAsNull()) {
    kvScheme = *ka;
    firstKVLayer = layer;
  } else if (*ka != kvScheme) {
    return fail("scheme differs from layer " + std::to_string(firstKVLayer) +
                "'s; compressed-tensors has one kv_cache_scheme");
  }
  SmallVector<float> ks = k.getScaleValues(), vs = v.getScaleValues();
  if (failed(ckpt.addScales(name + ".k_scale", shape, {ks.begin(), ks.end()},
                            name, error)) ||
      failed(ckpt.addScales(name + ".v_scale", shape, {vs.begin(), vs.end()},
                            name, error)))
    return failure();
  return success();
}

FailureOr<json>
CompressedTensorsWriter::finish(const Checkpoint &,
                                const std::vector<std::string> &ignored,
                                std::string &error) {
  if (group.getAsNull()) {
    error = "the model has no quantized linear layer: nothing for "
            "compressed-tensors to describe (export a quantized model)";
    return failure();
  }
  return json(Object{{"quant_method", "compressed-tensors"},
                     {"format", format},
                     {"quantization_status", "compressed"},
                     {"config_groups", Object{{"group_0", group}}},
                     {"ignore", Array(ignored)},
                     {"kv_cache_scheme", kvScheme}});
}

std::unique_ptr<FormatWriter> exporter::createCompressedTensorsWriter() {
  return std::make_unique<CompressedTensorsWriter>();
}
