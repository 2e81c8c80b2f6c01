//===- Spec.cpp - Test-model presets, validation and config.json ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModelInternal.h"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace qrt;
using namespace qtest;
using json = nlohmann::json;

/// Largest accepted dimension: keeps every size computation far from
/// overflow.
static constexpr int64_t kMaxDim = int64_t(1) << 24;

//===----------------------------------------------------------------------===//
// Presets and validation
//===----------------------------------------------------------------------===//

bool qtest::applyTestModelPreset(const std::string &preset, TestModelSpec &spec,
                                 std::string &error) {
  if (preset == "tiny") {
    spec.hiddenSize = 64;
    spec.numLayers = 2;
    spec.numHeads = 4;
    spec.numKvHeads = 2;
    spec.headDim = 0;
    spec.intermediateSize = 128;
    spec.vocabSize = 512;
    spec.maxPositionEmbeddings = 2048;
    spec.rmsNormEps = spec.modelType == "qwen2" ? 1e-6 : 1e-5;
    spec.ropeTheta = 10000.0;
    spec.llama3RopeScaling = false;
    return true;
  }
  if (preset == "llama3-8b") {
    // Meta-Llama-3.1-8B.
    spec.hiddenSize = 4096;
    spec.numLayers = 32;
    spec.numHeads = 32;
    spec.numKvHeads = 8;
    spec.headDim = 128;
    spec.intermediateSize = 14336;
    spec.vocabSize = 128256;
    spec.maxPositionEmbeddings = 131072;
    spec.rmsNormEps = 1e-5;
    spec.ropeTheta = 500000.0;
    spec.llama3RopeScaling = true;
    spec.ropeFactor = 8.0;
    spec.ropeLowFreqFactor = 1.0;
    spec.ropeHighFreqFactor = 4.0;
    spec.ropeOriginalMaxPosition = 8192;
    return true;
  }
  if (preset == "qwen2-0.5b") {
    // Qwen2.5-0.5B.
    spec.hiddenSize = 896;
    spec.numLayers = 24;
    spec.numHeads = 14;
    spec.numKvHeads = 2;
    spec.headDim = 64;
    spec.intermediateSize = 4864;
    spec.vocabSize = 151936;
    spec.maxPositionEmbeddings = 32768;
    spec.rmsNormEps = 1e-6;
    spec.ropeTheta = 1000000.0;
    spec.llama3RopeScaling = false;
    spec.tieWordEmbeddings = true;
    return true;
  }
  error =
      "unknown preset '" + preset + "'; expected tiny, llama3-8b or qwen2-0.5b";
  return false;
}

bool qtest::validateTestModelSpec(const TestModelSpec &s, std::string &error) {
  auto fail = [&](const std::string &msg) {
    error = msg;
    return false;
  };
  if (s.modelType != "llama" && s.modelType != "mistral" &&
      s.modelType != "qwen2")
    return fail("unsupported architecture '" + s.modelType +
                "'; expected llama, mistral or qwen2");
  const std::pair<const char *, int64_t> dims[] = {
      {"hidden", s.hiddenSize},
      {"layers", s.numLayers},
      {"heads", s.numHeads},
      {"kv-heads", s.numKvHeads},
      {"intermediate", s.intermediateSize},
      {"vocab", s.vocabSize},
      {"max-positions", s.maxPositionEmbeddings}};
  for (const auto &[name, value] : dims) {
    if (value <= 0)
      return fail(std::string("--") + name + " must be positive (got " +
                  std::to_string(value) + ")");
    if (value > kMaxDim)
      return fail(std::string("--") + name + " " + std::to_string(value) +
                  " is too large (at most " + std::to_string(kMaxDim) + ")");
  }
  if (s.headDim < 0 || s.headDim > kMaxDim)
    return fail("--head-dim " + std::to_string(s.headDim) + " is out of range");
  if (s.headDim == 0 && s.hiddenSize % s.numHeads != 0)
    return fail("--hidden " + std::to_string(s.hiddenSize) +
                " is not divisible by --heads " + std::to_string(s.numHeads) +
                " (pass --head-dim to set the head size explicitly)");
  if (s.numHeads % s.numKvHeads != 0)
    return fail("--heads " + std::to_string(s.numHeads) +
                " is not a multiple of --kv-heads " +
                std::to_string(s.numKvHeads));
  int64_t headDim = s.effectiveHeadDim();
  if (headDim % 2 != 0)
    return fail("head dimension " + std::to_string(headDim) +
                " must be even for rotary embeddings");
  if (s.numHeads * headDim > kMaxDim)
    return fail("--heads x head dimension is too large");
  if (s.dtype != DType::BF16 && s.dtype != DType::F16 && s.dtype != DType::F32)
    return fail("unsupported dtype; expected bf16, f16 or f32");
  if (s.shardSizeBytes == 0)
    return fail("--shard-size-mb must be positive");
  if (s.slidingWindow < 0)
    return fail("sliding window must not be negative");
  if (!(s.rmsNormEps > 0) || !(s.ropeTheta > 0))
    return fail("rms_norm_eps and rope_theta must be positive");
  // The total must stay representable (and plausible): 2^50 bytes is 1 PiB.
  double total = 0;
  for (const TestTensor &t : testModelTensors(s))
    total += static_cast<double>(t.numElements());
  if (total * dtypeSize(s.dtype) > std::ldexp(1.0, 50))
    return fail("the model would exceed 1 PiB of weights");
  return true;
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

uint64_t TestTensor::numElements() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<uint64_t>(d);
  return n;
}

ModelConfig TestModelSpec::toModelConfig() const {
  ModelConfig c;
  c.modelType = modelType;
  c.hiddenSize = hiddenSize;
  c.numLayers = numLayers;
  c.numHeads = numHeads;
  c.numKvHeads = numKvHeads;
  c.headDim = effectiveHeadDim();
  c.intermediateSize = intermediateSize;
  c.vocabSize = vocabSize;
  c.tieWordEmbeddings = tieWordEmbeddings;
  // Generated llama / mistral configs say attention_bias: false; Qwen2
  // checkpoints carry q/k/v biases.
  c.qkvBias = modelType == "qwen2";
  return c;
}

std::vector<TestTensor> qtest::testModelTensors(const TestModelSpec &s) {
  std::vector<TestTensor> out;
  for (TensorSpec &t : s.toModelConfig().checkpointTensors()) {
    // Norm weights start around 1, everything else around 0.
    bool norm = t.name.size() >= 11 &&
                t.name.compare(t.name.size() - 11, 11, "norm.weight") == 0;
    out.push_back({std::move(t.name), std::move(t.shape),
                   norm ? TestTensor::Init::Norm : TestTensor::Init::Normal});
  }
  return out;
}

//===----------------------------------------------------------------------===//
// config.json
//===----------------------------------------------------------------------===//

static const char *torchDtypeName(DType dtype) {
  switch (dtype) {
  case DType::BF16:
    return "bfloat16";
  case DType::F16:
    return "float16";
  default:
    return "float32";
  }
}

std::string qtest::testModelConfigJson(const TestModelSpec &s,
                                       const TestTokenizer &tokenizer) {
  // transformers writes config.json with sorted keys; so does json.
  json c;
  bool qwen = s.modelType == "qwen2", mistral = s.modelType == "mistral";
  c["architectures"] = {qwen      ? "Qwen2ForCausalLM"
                        : mistral ? "MistralForCausalLM"
                                  : "LlamaForCausalLM"};
  c["model_type"] = s.modelType;
  c["hidden_size"] = s.hiddenSize;
  c["num_hidden_layers"] = s.numLayers;
  c["num_attention_heads"] = s.numHeads;
  c["num_key_value_heads"] = s.numKvHeads;
  c["head_dim"] = s.effectiveHeadDim();
  c["intermediate_size"] = s.intermediateSize;
  c["vocab_size"] = s.vocabSize;
  c["max_position_embeddings"] = s.maxPositionEmbeddings;
  c["rms_norm_eps"] = s.rmsNormEps;
  c["hidden_act"] = "silu";
  c["initializer_range"] = 0.02;
  c["attention_dropout"] = 0.0;
  c["tie_word_embeddings"] = s.tieWordEmbeddings;
  c["use_cache"] = true;
  c["bos_token_id"] = tokenizer.bosId;
  c["eos_token_id"] = tokenizer.eosId;
  if (!qwen)
    c["attention_bias"] = false; // Qwen2 has q/k/v biases without the key
  if (s.modelType == "llama") {
    c["mlp_bias"] = false;
    c["pretraining_tp"] = 1;
  }
  if (qwen || mistral) {
    if (s.slidingWindow > 0)
      c["sliding_window"] = s.slidingWindow;
    else
      c["sliding_window"] = nullptr;
  }
  if (qwen) {
    c["use_sliding_window"] = s.slidingWindow > 0;
    c["max_window_layers"] = s.numLayers;
  }
  json rope = json::object();
  if (s.llama3RopeScaling) {
    rope["rope_type"] = "llama3";
    rope["factor"] = s.ropeFactor;
    rope["low_freq_factor"] = s.ropeLowFreqFactor;
    rope["high_freq_factor"] = s.ropeHighFreqFactor;
    rope["original_max_position_embeddings"] = s.ropeOriginalMaxPosition;
  }
  if (s.oldStyleConfig) {
    c["rope_theta"] = s.ropeTheta;
    c["rope_scaling"] = s.llama3RopeScaling ? rope : json(nullptr);
    c["torch_dtype"] = torchDtypeName(s.dtype);
    c["transformers_version"] = "4.46.0";
  } else {
    rope["rope_theta"] = s.ropeTheta;
    if (!s.llama3RopeScaling)
      rope["rope_type"] = "default";
    c["rope_parameters"] = rope;
    c["dtype"] = torchDtypeName(s.dtype);
    c["transformers_version"] = "5.0.0";
  }
  return c.dump(2) + "\n";
}
