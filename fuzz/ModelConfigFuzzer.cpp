//===- ModelConfigFuzzer.cpp - Fuzz the config.json reader ----------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds each input as config.json text to qrt::ModelConfig::fromJson and
// checks what a successful parse promises to the importer: a supported
// model type and dtype, positive sizes, num_attention_heads a multiple of
// num_key_value_heads, an even head_dim, complete rope scaling parameters.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/ModelConfig.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

static void check(bool cond, const char *what) {
  if (!cond) {
    std::fprintf(stderr, "ModelConfigFuzzer: invariant violated: %s\n", what);
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::string error;
  std::optional<qrt::ModelConfig> config =
      qrt::ModelConfig::fromJson(text, "config.json", error);
  if (!config) {
    check(!error.empty(), "failed parse without an error message");
    return 0;
  }
  const qrt::ModelConfig &c = *config;
  check(c.modelType == "llama" || c.modelType == "mistral" ||
            c.modelType == "qwen2",
        "unsupported model_type accepted");
  check(c.hiddenSize > 0 && c.numLayers > 0 && c.numHeads > 0 &&
            c.numKvHeads > 0 && c.intermediateSize > 0 && c.vocabSize > 0,
        "non-positive size accepted");
  check(c.numHeads % c.numKvHeads == 0,
        "num_attention_heads not a multiple of num_key_value_heads");
  check(c.headDim > 0 && c.headDim % 2 == 0, "bad head_dim accepted");
  check(c.maxPositionEmbeddings >= 0, "negative max_position_embeddings");
  check(c.rmsNormEps > 0 && c.ropeTheta > 0, "non-positive eps or theta");
  check(c.slidingWindow >= 0, "negative sliding_window");
  check(c.dtype == "bfloat16" || c.dtype == "float16" || c.dtype == "float32",
        "unsupported dtype accepted");
  if (c.ropeScaling == qrt::RopeScaling::Linear)
    check(c.ropeFactor > 0, "linear rope scaling without a factor");
  if (c.ropeScaling == qrt::RopeScaling::Llama3)
    check(c.ropeFactor > 0 && c.ropeLowFreqFactor > 0 &&
              c.ropeHighFreqFactor > 0 && c.ropeOriginalMaxPosition > 0,
          "incomplete llama3 rope scaling accepted");
  return 0;
}
