//===- ModelConfig.h - Hugging Face config.json ----------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The architecture hyper-parameters of a Hugging Face causal LM checkpoint
// (model_type llama, mistral or qwen2), read from config.json. Both the older
// top-level `rope_theta` / `torch_dtype` keys and the newer `rope_parameters`
// / `dtype` keys are understood, with transformers 5's precedence (a
// non-empty `rope_scaling` over `rope_parameters`, the chosen object's
// `rope_theta` over the top-level one); keys that precedence would ignore must
// agree with the ones it keeps. Pure C++.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_MODELCONFIG_H
#define QOPT_FRONTEND_MODELCONFIG_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qrt {

enum class RopeScaling { None, Linear, Llama3 };

/// A checkpoint tensor's Hugging Face name and shape.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

struct ModelConfig {
  std::string modelType; // "llama", "mistral" or "qwen2"
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t intermediateSize = 0;
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;
  double ropeTheta = 10000.0;
  RopeScaling ropeScaling = RopeScaling::None;
  double ropeFactor = 1.0;
  double ropeLowFreqFactor = 0.0;
  double ropeHighFreqFactor = 0.0;
  int64_t ropeOriginalMaxPosition = 0;
  bool tieWordEmbeddings = false;
  /// Biases on q/k/v projections (Qwen2 always; Llama with attention_bias).
  bool qkvBias = false;
  /// Bias on the output projection (Llama with attention_bias).
  bool oBias = false;
  /// Biases on gate/up/down (mlp_bias).
  bool mlpBias = false;
  /// Sliding-window attention size (Mistral; Qwen2 with use_sliding_window),
  /// 0 when absent.
  int64_t slidingWindow = 0;
  /// Which layers use the window (empty: all of them).
  std::vector<bool> slidingLayers;
  std::string dtype = "float32"; // "bfloat16", "float16" or "float32"
  int64_t bosTokenId = -1;
  int64_t eosTokenId = -1;

  /// The sliding window of layer `layer`, 0 when it attends to everything.
  int64_t slidingWindowOfLayer(int64_t layer) const;

  /// Every tensor a checkpoint of this config holds, with its shape, in the
  /// order of a PyTorch state dict (the importer checks them, the test-model
  /// generator writes them).
  std::vector<TensorSpec> checkpointTensors() const;

  /// Reads `path` (a config.json). On failure returns nullopt and sets
  /// `error` to one message naming the file and the key.
  static std::optional<ModelConfig> fromFile(const std::string &path,
                                             std::string &error);
  /// Parses config text; `origin` names it in messages.
  static std::optional<ModelConfig> fromJson(const std::string &text,
                                             const std::string &origin,
                                             std::string &error);
};

} // namespace qrt

#endif // QOPT_FRONTEND_MODELCONFIG_H
