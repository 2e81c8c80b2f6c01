//===- WeightIO.h - Weight reading and writing for passes -------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Passes that compute new weights (smoothing, RTN, AWQ, GPTQ, zero-point
// folding) read the module's weight stores and write what they compute into
// a side store: a sharded safetensors checkpoint that a new
// `qopt.weight_store` names, so the IR text stays small. Reading is lazy and
// streaming (one tensor at a time, its pages released afterwards), writing
// flushes a shard whenever enough bytes are buffered.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_WEIGHTIO_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_WEIGHTIO_H

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace qfe {
class TensorStore;
struct TensorData;
} // namespace qfe

namespace mlir {
namespace qopt {

/// Rewrites `module`'s relative weight-store paths (and the qopt.model
/// attribute's checkpoint and tokenizer) from being relative to `from` to
/// being relative to `to`, except the side stores this process wrote.
void rebaseWeightStorePaths(ModuleOp module, const std::string &from,
                            const std::string &to);

/// Where weight-writing passes put their side stores when their
/// `weights-out` option is empty: `directory` on disk, referenced from the IR
/// as `irDirectory` (relative to the output IR file). The qopt driver sets it
/// from `-o`; embedders may set it too.
void setDefaultWeightsOutput(const std::string &directory,
                             const std::string &irDirectory);

/// Deletes every side store this process finished writing (its shards and
/// index, and the weights directory when it becomes empty). The qopt driver
/// calls it when a pipeline fails, so a failed run leaves no output behind.
void removeWrittenStores();

/// The directory a module's relative weight-store paths resolve against: the
/// directory of the file the module was parsed from (its location), or "."
/// when it did not come from a file.
std::string moduleDirectory(ModuleOp module);

/// Reads weights of a module: plain `qopt.weight` ops, and float weight
/// expressions built from them with `qopt.scale_channels`.
class WeightReader {
public:
  /// Opens every `qopt.weight_store` of `module`, resolving relative paths
  /// against `baseDir` (default: moduleDirectory(module)). On failure
  /// returns null and sets `error`.
  static std::unique_ptr<WeightReader> open(ModuleOp module, std::string &error,
                                            const std::string &baseDir = "");
  ~WeightReader();

  /// True when `value` is a float tensor this reader can evaluate.
  static bool isWeightExpression(Value value);
  /// Evaluates the float weight expression `value` to float32 (row-major).
  /// Fails with a message naming the tensor when it is missing or its shape
  /// or dtype disagrees with the IR.
  LogicalResult evaluate(Value value, std::vector<float> &out,
                         std::string &error);
  /// Reads a storage weight (i8, float8, packed i4) as its storage values,
  /// one float per logical element.
  LogicalResult readStorage(WeightOp op, std::vector<float> &out,
                            std::string &error);
  /// Reads tensor `name` of store `store` as float32 (any float dtype), with
  /// its shape.
  LogicalResult readTensor(StringRef store, StringRef name,
                           std::vector<float> &out, std::vector<int64_t> &shape,
                           std::string &error);
  /// Reads an i32 weight (zero points, int_bias).
  LogicalResult readInt32(WeightOp op, std::vector<int32_t> &out,
                          std::string &error);
  /// Releases the resident pages of every tensor `value` reads.
  void release(Value value);
  /// The bytes of every tensor `value` reads that this reader can find (for
  /// reading them ahead); tensors it cannot find are left out.
  struct PageSpan {
    const uint8_t *data;
    size_t size;
  };
  void pageSpans(Value value, std::vector<PageSpan> &spans);

private:
  WeightReader() = default;
  const struct TensorLookup *lookup(WeightOp op, std::string &error);
  std::map<std::string, std::unique_ptr<qfe::TensorStore>> stores;
};

/// Writes tensors into a new side store of a module. A full shard is written
/// on a background thread while the next one fills.
class WeightWriter {
public:
  /// Prepares a store named after `name` (e.g. "smooth", "rtn") in
  /// `directory` (a pass's `weights-out` option; empty selects the default of
  /// setDefaultWeightsOutput). Fails when neither is set.
  static std::unique_ptr<WeightWriter> create(ModuleOp module,
                                              const std::string &directory,
                                              const std::string &name,
                                              std::string &error);
  /// Removes the shards written so far unless finish() succeeded.
  ~WeightWriter();

  /// Adds a float32 tensor (or int32, or raw bytes with a dtype).
  LogicalResult addFloat(const std::string &name, std::vector<int64_t> shape,
                         const std::vector<float> &values, std::string &error);
  LogicalResult addInt32(const std::string &name, std::vector<int64_t> shape,
                         const std::vector<int32_t> &values,
                         std::string &error);
  /// Adds storage values (one float per logical element) encoded in the
  /// store's format for `storage` (i8, f8E4M3FN, f8E5M2, or i4 packed with
  /// `packing`).
  LogicalResult addStorage(const std::string &name, std::vector<int64_t> shape,
                           const std::vector<float> &values, Type storage,
                           Packing packing, std::string &error);

  /// Builds `qopt.weight @store[name] : type` at the builder's insertion
  /// point (the store op is created on first use).
  Value reference(OpBuilder &b, Location loc, const std::string &name,
                  RankedTensorType type, Packing packing = Packing::None);

  /// Writes the last shard and the index. Must be called for the store to be
  /// kept.
  LogicalResult finish(std::string &error);

private:
  WeightWriter() = default;
  LogicalResult add(qfe::TensorData &&tensor, std::string &error);
  LogicalResult flush(std::string &error);
  /// Waits for the shard being written, if any; fails with its error.
  LogicalResult waitForShard(std::string &error);

  ModuleOp module;
  WeightStoreOp storeOp;
  std::string symbol, directory, irDirectory, name;
  std::vector<qfe::TensorData> pending;
  size_t pendingBytes = 0;
  uint64_t totalBytes = 0;
  std::map<std::string, std::string> weightMap;
  std::vector<std::string> written;
  int shard = 0;
  bool finished = false;
  /// The shard being written in the background, and its outcome.
  std::vector<qfe::TensorData> writing;
  std::thread writer;
  bool writeFailed = false;
  std::string writeError;
};

/// The semantics of qopt.scale_channels, in place: multiplies the row-major
/// tensor `x` of `shape` by `scales[i]` along `axis`. Shared by weight
/// evaluation and the CPU executor.
void scaleAlongAxis(float *x, ArrayRef<int64_t> shape, const float *scales,
                    int64_t axis);

/// The calibration statistics of `value`: those of the `qopt.observe` that
/// defines it, or null.
ActStatsAttr findStats(Value value);

/// Reads the Hessian X^T X that calibration recorded for the statistics
/// `stats` (a tensor of the module's `@calib` store) as a [k, k] double
/// matrix. Fails with a message that says to run qopt-calibrate when there is
/// none.
LogicalResult readHessian(ActStatsAttr stats, WeightReader &reader,
                          std::vector<double> &hessian, int64_t &k,
                          std::string &error);

/// Reads an elements attribute of statistics as floats.
std::vector<float> statValues(ElementsAttr attr);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_WEIGHTIO_H
