//===- CheckpointQuantization.cpp - Which format a checkpoint declares ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/CheckpointQuantization.h"

#include "PackedInt4.h"
#include "QuantizedFormats.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace mlir::qopt;

CheckpointQuantization::~CheckpointQuantization() = default;

std::string formats::dump(const llvm::json::Value &value) {
  return llvm::formatv("{0}", value).str();
}

const qrt::TensorView *
formats::expectTensor(const qrt::TensorStore &store, const std::string &name,
                      std::initializer_list<qrt::DType> dtypes,
                      const std::vector<int64_t> &shape,
                      const std::string &checkpoint, const std::string &layer,
                      std::vector<std::string> &used, std::string &error) {
  const qrt::TensorView *v = store.find(name);
  if (!v) {
    error = checkpoint + " checkpoint is missing tensor '" + name + "'";
    return nullptr;
  }
  bool dtypeOk = false;
  std::string names;
  for (qrt::DType d : dtypes) {
    dtypeOk |= v->dtype == d;
    names += std::string(names.empty() ? "" : " or ") + qrt::dtypeName(d);
  }
  if (!dtypeOk || v->shape != shape) {
    error = "tensor '" + name + "' is " + qrt::dtypeName(v->dtype) + " " +
            ::qnum::shapeToString(v->shape) + "; the " + layer +
            " layer stores " + names + " " + ::qnum::shapeToString(shape);
    return nullptr;
  }
  used.push_back(name);
  return v;
}

FailureOr<std::unique_ptr<CheckpointQuantization>>
mlir::qopt::parseCheckpointQuantization(const std::string &configPath,
                                        ImportActivations activations,
                                        std::string &error) {
  auto file = llvm::MemoryBuffer::getFile(configPath);
  if (!file) {
    error = configPath + ": cannot read: " + file.getError().message();
    return failure();
  }
  llvm::Expected<llvm::json::Value> config =
      llvm::json::parse((*file)->getBuffer());
  if (!config) {
    llvm::consumeError(config.takeError());
    error = configPath + ": not a JSON object";
    return failure();
  }
  const llvm::json::Object *root = config->getAsObject();
  if (!root) {
    error = configPath + ": not a JSON object";
    return failure();
  }
  const llvm::json::Value *qv = root->get("quantization_config");
  if (!qv || qv->getAsNull())
    return std::unique_ptr<CheckpointQuantization>();
  std::string where = configPath + ": quantization_config";
  const llvm::json::Object *q = qv->getAsObject();
  if (!q) {
    error = where + " is not an object";
    return failure();
  }
  std::optional<StringRef> method = q->getString("quant_method");
  if (!method) {
    error = where + " has no string quant_method";
    return failure();
  }
  std::string name = method->str();
  std::unique_ptr<CheckpointQuantization> format;
  if (name == "fp8")
    format = formats::parseHfFp8(*q, activations, where, error);
  else if (name == "compressed-tensors")
    format = formats::parseCompressedTensors(*q, where, error);
  else if (name == "awq")
    format = formats::parseAutoAWQ(*q, where, error);
  else if (name == "gptq")
    format = formats::parseGPTQ(*q, where, error);
  else
    error = where + ".quant_method \"" + name +
            "\" is not a format qopt-import reads (it reads \"fp8\", "
            "transformers' FP8, \"compressed-tensors\", \"awq\" (AutoAWQ "
            "GEMM) and \"gptq\")";
  if (!format)
    return failure();
  return format;
}
