//===- KVCacheScales.cpp - vLLM's kv_cache_scales.json --------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// vLLM's static KV-cache scales file:
//   {"model_type": "llama",
//    "kv_cache": {"dtype": "float8_e4m3fn",
//                 "scaling_factor": {"0": {"0": s0, "1": s1, ...}}}}
// one scaling factor per tensor-parallel rank ("0": qopt's models are not
// sharded) per layer, used for both keys and values; per-KV-head caches give
// a list of one factor per head instead. Keys and values must therefore
// share their scales: a layer whose key and value scales differ is refused
// (a shared factor would re-round the cache). The linear layers' schemes do
// not matter.
//
//===----------------------------------------------------------------------===//

#include "ExportInternal.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::exporter;
using json = llvm::json::Value;

namespace {
class KVCacheScalesWriter : public FormatWriter {
public:
  bool writesFile() const override { return true; }
  LogicalResult addLinear(const QuantizedLinearData &, Checkpoint &,
                          std::string &) override {
    return success();
  }
  LogicalResult addAttention(AttentionOp op, Checkpoint &,
                             std::string &error) override;
  LogicalResult writeFile(Checkpoint &, const SourceCheckpoint &source,
                          StringRef path, std::string &error) override;

private:
  llvm::json::Object factors; // layer -> factor or list
  std::string dtype;
  int64_t firstLayer = -1;
};
} // namespace

LogicalResult KVCacheScalesWriter::addAttention(AttentionOp op, Checkpoint &,
                                                std::string &error) {
  int64_t layer = static_cast<int64_t>(op.getLayer());
  auto fail = [&](const std::string &what) {
    error = "layer " + std::to_string(layer) + "'s KV cache " + what;
    return failure();
  };
  QuantSchemeAttr k = op.getKeySchemeAttr(), v = op.getValueSchemeAttr();
  if (!k || !v)
    return fail("is not quantized; kv_cache_scales.json holds the scales of "
                "a quantized cache (--kv-cache=dtype=f8E4M3FN "
                "granularity=tensor)");
  if (!k.isStatic() || !v.isStatic() || !k.isSymmetric() || !v.isSymmetric())
    return fail("has dynamic or asymmetric scales; kv_cache_scales.json "
                "holds static symmetric ones");
  bool perHead = isa<PerHeadAttr>(k.getGranularity());
  if (k.getGranularity() != v.getGranularity() ||
      (!perHead && !isa<PerTensorAttr>(k.getGranularity())))
    return fail("is not per tensor or per head alike for keys and values");
  if (k.getStorage() != v.getStorage())
    return fail("stores keys and values as different types");
  std::string type = isa<Float8E4M3FNType>(k.getStorage()) ? "float8_e4m3fn"
                     : k.getStorage().isSignlessInteger(8) ? "int8"
                                                           : "";
  if (type.empty())
    return fail("is stored as a type kv_cache_scales.json has no name for");
  if (dtype.empty()) {
    dtype = type;
    firstLayer = layer;
  } else if (type != dtype) {
    return fail("is " + type + " where layer " + std::to_string(firstLayer) +
                "'s is " + dtype + "; kv_cache_scales.json has one dtype");
  }
  SmallVector<float> ks = k.getScaleValues(), vs = v.getScaleValues();
  if (ks != vs)
    return fail(llvm::formatv("has key scale {0} and value scale {1}; vLLM's "
                              "kv_cache_scales.json has one factor for both",
                              ks.empty() ? 0.0f : ks[0],
                              vs.empty() ? 0.0f : vs[0])
                    .str());
  std::string key = std::to_string(layer);
  if (perHead)
    factors[key] = llvm::json::Array(ks);
  else
    factors[key] = ks[0];
  return success();
}

LogicalResult KVCacheScalesWriter::writeFile(Checkpoint &,
                                             const SourceCheckpoint &source,
                                             StringRef path,
                                             std::string &error) {
  if (dtype.empty()) {
    error = "the model has no attention with a quantized KV cache";
    return failure();
  }
  llvm::json::Object file{
      {"kv_cache",
       llvm::json::Object{
           {"dtype", dtype},
           {"scaling_factor", llvm::json::Object{{"0", std::move(factors)}}}}}};
  if (std::optional<StringRef> type = source.config.getString("model_type"))
    file["model_type"] = *type;
  return writeJsonFile(path.str(), json(std::move(file)), error);
}

std::unique_ptr<FormatWriter> exporter::createKVCacheScalesWriter() {
  return std::make_unique<KVCacheScalesWriter>();
}
