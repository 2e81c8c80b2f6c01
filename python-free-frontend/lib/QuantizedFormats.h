//===- QuantizedFormats.h - The pre-quantized formats' parsers --*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One parser per format, each in its own file: it reads the format's
// `quantization_config` object and returns the format, or null with `error`
// naming the field (`where` is the object's place, for messages).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_LIB_QUANTIZEDFORMATS_H
#define QOPT_FRONTEND_LIB_QUANTIZEDFORMATS_H

#include "qopt-frontend/CheckpointQuantization.h"

#include "llvm/Support/JSON.h"

namespace mlir::qopt::formats {

/// transformers' FP8 (`quant_method` "fp8", FineGrainedFP8Config).
std::unique_ptr<CheckpointQuantization>
parseHfFp8(const llvm::json::Object &config, ImportActivations activations,
           const std::string &where, std::string &error);

/// vLLM / llm-compressor's compressed-tensors (`quant_method`
/// "compressed-tensors").
std::unique_ptr<CheckpointQuantization>
parseCompressedTensors(const llvm::json::Object &config,
                       const std::string &where, std::string &error);

/// A JSON value as it is written (strings quoted), for messages.
std::string dump(const llvm::json::Value &value);

/// `qopt.weight @store[name]` of type `type`.
Value storedWeight(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
                   const std::string &name, Type type);

} // namespace mlir::qopt::formats

#endif // QOPT_FRONTEND_LIB_QUANTIZEDFORMATS_H
