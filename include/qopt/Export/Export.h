//===- Export.h - Quantized qopt IR to other tools' checkpoints -*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writes a quantized model as a Hugging Face checkpoint directory that
// another tool loads with the same numbers: config.json with the format's
// `quantization_config`, sharded safetensors with an index, and the
// tokenizer files of the checkpoint the model was imported from. The stored
// tensors are qopt's own (quantized values, scales, zero points), re-laid
// out as the format wants them, never re-quantized; a scheme the format
// cannot express is an error naming the layer.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_EXPORT_EXPORT_H
#define QOPT_EXPORT_EXPORT_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir {
namespace qopt {

enum class ExportFormat {
  /// vLLM / llm-compressor's compressed-tensors (int-quantized,
  /// float-quantized, pack-quantized).
  CompressedTensors,
  /// transformers' own FP8 (`quant_method` "fp8", block scales).
  HfFp8,
  /// Ascend msModelSlim's W8A8 (quant_bias, deq_scale).
  AscendW8A8,
  /// vLLM's kv_cache_scales.json (one file).
  KVCacheScales,
  /// llama.cpp's single-file GGUF (Q8_0, Q4_0, F16 / BF16 / F32).
  GGUF,
};

/// The dtype float matrices are written in, where the format chooses (GGUF).
enum class ExportFloatType { Model, F16, BF16, F32 };

/// The dtype scales are written in.
enum class ExportScaleType {
  /// float32: qopt's own scales, exactly (loaders such as vLLM keep scales
  /// in float32).
  Float32,
  /// The model's dtype (config.json's), as the format's reference writer
  /// does; a layer whose scales are not exact in it is an error.
  ModelDType,
};

struct ExportOptions {
  ExportFormat format = ExportFormat::CompressedTensors;
  ExportScaleType scales = ExportScaleType::Float32;
  /// Largest shard in bytes (a tensor larger than this gets a shard alone).
  uint64_t maxShardBytes = 5000000000ull;
  ExportFloatType floats = ExportFloatType::Model;
};

/// Writes `module` into the directory `dir`, which must not exist yet: the
/// files go to a temporary directory beside it, renamed to `dir` only when
/// complete. A one-file format (GGUF, kv_cache_scales.json) writes the file
/// `dir` instead, through a temporary file renamed over it when complete. On
/// failure nothing is left behind and `error` names the problem.
LogicalResult exportCheckpoint(ModuleOp module, const ExportOptions &options,
                               StringRef dir, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_EXPORT_EXPORT_H
