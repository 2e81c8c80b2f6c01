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

#include "qopt-runtime/Safetensors.h"

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

/// The tensor `name` of `store` when it is one of `dtypes` with `shape`
/// (appended to `used`); else null, with `error` naming what is wrong, as
/// `format` (what `layer` says in the message: "the pack-quantized layer")
/// stores it.
const qrt::TensorView *
expectTensor(const qrt::TensorStore &store, const std::string &name,
             std::initializer_list<qrt::DType> dtypes,
             const std::vector<int64_t> &shape, const std::string &checkpoint,
             const std::string &layer, std::vector<std::string> &used,
             std::string &error);

} // namespace mlir::qopt::formats

#endif // QOPT_FRONTEND_LIB_QUANTIZEDFORMATS_H
