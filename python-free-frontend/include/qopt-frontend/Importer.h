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
// no passes.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_IMPORTER_H
#define QOPT_FRONTEND_IMPORTER_H

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
