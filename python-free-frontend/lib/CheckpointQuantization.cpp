//===- CheckpointQuantization.cpp - Which format a checkpoint declares ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/CheckpointQuantization.h"

#include "QuantizedFormats.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace mlir;
using namespace mlir::qopt;
using json = nlohmann::json;

CheckpointQuantization::~CheckpointQuantization() = default;

FailureOr<std::unique_ptr<CheckpointQuantization>>
mlir::qopt::parseCheckpointQuantization(const std::string &configPath,
                                        ImportActivations activations,
                                        std::string &error) {
  std::ifstream in(configPath);
  json config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    error = configPath + ": not a JSON object";
    return failure();
  }
  auto it = config.find("quantization_config");
  if (it == config.end() || it->is_null())
    return std::unique_ptr<CheckpointQuantization>();
  const json &q = *it;
  std::string where = configPath + ": quantization_config";
  if (!q.is_object()) {
    error = where + " is not an object";
    return failure();
  }
  auto method = q.find("quant_method");
  if (method == q.end() || !method->is_string()) {
    error = where + " has no string quant_method";
    return failure();
  }
  std::string name = method->get<std::string>();
  std::unique_ptr<CheckpointQuantization> format;
  if (name == "fp8")
    format = formats::parseHfFp8(q, activations, where, error);
  else if (name == "compressed-tensors")
    format = formats::parseCompressedTensors(q, where, error);
  else
    error = where + ".quant_method \"" + name +
            "\" is not a format qopt-import reads (it reads \"fp8\", "
            "transformers' FP8, and \"compressed-tensors\")";
  if (!format)
    return failure();
  return format;
}
