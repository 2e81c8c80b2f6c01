//===- Importer.h - Hugging Face checkpoint to qopt IR ----------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Imports a Hugging Face checkpoint directory (config.json + safetensors,
// single or sharded, + tokenizer.json) as qopt graph IR: one function
// `@forward(%ids, %positions) -> logits` with the layers unrolled and every
// weight a `qopt.weight` reference into a `qopt.weight_store`. Only tensor
// headers are read, never weight data. The importer returns a module and runs
// no passes. A checkpoint that declares a `quantization_config` imports as
// quantized IR over its stored tensors (CheckpointQuantization.h).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_IMPORTER_H
#define QOPT_FRONTEND_IMPORTER_H

#include "qopt-frontend/CheckpointQuantization.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mlir {
class MLIRContext;
namespace qopt {

struct ImportOptions {
  /// Directory the IR will be written to: recorded paths (checkpoint,
  /// tokenizer) are made relative to it so the pair can move together. Empty
  /// records absolute paths.
  std::string outputDir;
  /// How activations are imported where the checkpoint's format quantizes
  /// them in a way qopt has no scheme for (transformers' FP8).
  ImportActivations activations = ImportActivations::Dequantized;
  /// Where the re-laid tensors of a checkpoint whose format qopt cannot
  /// read as stored (AutoAWQ, GPTQ) are written (a safetensors file); empty
  /// makes importing such a checkpoint an error.
  std::string sideStorePath;
};

/// Imports the checkpoint in `checkpointDir`. On failure returns null and
/// sets `error` to one message naming the file, key or tensor at fault.
OwningOpRef<ModuleOp>
importHuggingFaceCheckpoint(MLIRContext *context,
                            const std::string &checkpointDir,
                            const ImportOptions &options, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_FRONTEND_IMPORTER_H
