//===- main.cpp - A program that uses qopt's runtime without MLIR ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads a checkpoint's config, tokenizer and one weight with the runtime's
// readers and runs a reference kernel on it.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/ModelConfig.h"
#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/Tokenizer.h"

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer CHECKPOINT_DIR\n");
    return 2;
  }
  std::string dir = argv[1], error;
  std::optional<qrt::ModelConfig> config =
      qrt::ModelConfig::fromFile(dir + "/config.json", error);
  if (!config) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::printf("config: %s, %lld layers, hidden %lld\n",
              config->modelType.c_str(), (long long)config->numLayers,
              (long long)config->hiddenSize);
  std::unique_ptr<qrt::Tokenizer> tok =
      qrt::Tokenizer::fromFile(dir + "/tokenizer.json", error);
  if (!tok) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::vector<int32_t> ids = tok->encode("The Congress");
  std::printf("tokens:");
  for (int32_t id : ids)
    std::printf(" %d", id);
  std::printf("\n");
  std::unique_ptr<qrt::TensorStore> store =
      qrt::TensorStore::open(dir + "/model.safetensors.index.json", error);
  if (!store) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  const qrt::TensorView *norm = store->find("model.norm.weight");
  const qrt::TensorView *embed = store->find("model.embed_tokens.weight");
  if (!norm || !embed) {
    std::fprintf(stderr, "error: missing tensors\n");
    return 1;
  }
  int64_t h = config->hiddenSize;
  std::vector<float> table = embed->toFloat(), w = norm->toFloat();
  std::vector<float> x(ids.size() * h), y(ids.size() * h);
  if (!qrt::kernels::embedding(table.data(), embed->shape[0], h, ids.data(),
                               ids.size(), x.data(), error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  qrt::kernels::rmsNorm(x.data(), w.data(), ids.size(), h,
                        static_cast<float>(config->rmsNormEps), y.data(), 1);
  double sum = 0;
  for (float v : y)
    sum += v * v;
  std::printf("rms_norm of %zu embeddings: mean square %.3f\n", ids.size(),
              sum / y.size());
  return 0;
}
