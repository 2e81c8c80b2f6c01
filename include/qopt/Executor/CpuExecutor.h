//===- CpuExecutor.h - Reference execution of qopt IR on the CPU *- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Evaluates a qopt model function on the CPU in float32 with reference
// semantics. It is the oracle for every GPU kernel and the tool that measures
// accuracy. Weights are read lazily from the module's weight stores; the KV
// cache of every `qopt.attention` slot persists across calls until reset.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_EXECUTOR_CPUEXECUTOR_H
#define QOPT_EXECUTOR_CPUEXECUTOR_H

#include "qopt/Executor/ObserverStats.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace qopt {

struct CpuExecutorOptions {
  /// Directory relative weight-store paths resolve against (the IR file's).
  std::string baseDir = ".";
  /// Worker threads for GEMMs and attention; 0 uses every core.
  unsigned threads = 0;
  /// Accumulate the time spent in each kind of op (see profile()).
  bool profile = false;
  /// Record per-channel statistics at every `qopt.observe` (see
  /// observedStats()).
  bool collectStats = false;
  /// With collectStats: also accumulate X^T X (in double) at observers whose
  /// users are all linear layers (GPTQ and AWQ need it).
  bool collectHessians = false;
};

/// Reads and parses the model file `path` (or "-" for stdin) into `context`.
/// Parse errors are reported with their file locations through the
/// context's diagnostics; a file that cannot be opened sets `error`. Returns
/// null on either failure.
OwningOpRef<ModuleOp> parseModelFile(const std::string &path,
                                     MLIRContext &context, std::string &error);

/// The directory relative weight-store paths of the model file `path`
/// resolve against (CpuExecutorOptions::baseDir).
std::string modelDirectory(const std::string &path);

class CpuExecutor {
public:
  /// Prepares `module` (which must outlive the executor) for execution: finds
  /// the model function (`@forward`, or the only function), checks its
  /// signature `(ids: tensor<?xi32>, positions: tensor<?xi32>) ->
  /// tensor<?xVxf32>` and every op, and opens the weight stores. On failure
  /// returns null and sets `error`.
  static std::unique_ptr<CpuExecutor> create(ModuleOp module,
                                             const CpuExecutorOptions &options,
                                             std::string &error);
  ~CpuExecutor();

  /// Runs the model on `ids` at positions `start, start + 1, ...`, appending
  /// their keys and values to the KV cache (which must hold exactly `start`
  /// positions). On success `logits` holds ids.size() x vocabSize() values.
  bool forward(const std::vector<int32_t> &ids, int64_t start,
               std::vector<float> &logits, std::string &error);

  /// Empties the KV cache of every attention slot.
  void resetCache();
  /// Number of positions in the KV cache.
  int64_t cachedPositions() const;
  int64_t vocabSize() const;
  /// With CpuExecutorOptions::profile: seconds spent per op name, sorted by
  /// time, formatted one per line.
  std::string profile() const;
  /// With CpuExecutorOptions::collectStats: the statistics of every
  /// `qopt.observe` op that has run, accumulated over all forward calls.
  const std::map<Operation *, ObservedStats> &observedStats() const;

private:
  CpuExecutor();
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace qopt
} // namespace mlir

#endif // QOPT_EXECUTOR_CPUEXECUTOR_H
