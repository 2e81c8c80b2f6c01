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

#include "qopt-runtime/Safetensors.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/AtLoadWeights.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassInstrumentation.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace qrt {
class TensorStore;
struct TensorView;
} // namespace qrt

namespace mlir {
namespace qopt {

/// Rewrites `module`'s relative weight-store paths (and the qopt.model
/// attribute's checkpoint and tokenizer) from being relative to `from` to
/// being relative to `to`. Paths are combined lexically: symbolic links are
/// kept, not resolved.
void rebaseWeightStorePaths(ModuleOp module, const std::string &from,
                            const std::string &to);

/// The module attribute (a string) naming the directory where weight-writing
/// passes put their side stores when their `weights-out` option is empty.
/// `qopt-set-weights-output{dir=DIR}` sets it; the qopt driver runs that
/// with FILE.weights for `-o FILE` before the user's pipeline, and
/// `qopt-set-weights-output` (which removes it) after it. Embedders set it
/// the same way, or give the passes `weights-out`.
inline constexpr llvm::StringLiteral kWeightsOutputAttrName =
    "qopt.weights_output";

/// The module attribute (an array of strings) listing the absolute paths of
/// the side-store files that passes created during the current run. Files
/// are named by a hash of their content, so a store a run computes may exist
/// already (shared with an earlier output); such files are not listed, and
/// are never deleted. WeightOutputCleanup deletes the listed files when the
/// run fails; `qopt-set-weights-output` without `dir` removes the attribute.
inline constexpr llvm::StringLiteral kCreatedWeightFilesAttrName =
    "qopt.created_weight_files";

/// A pass instrumentation that deletes the side-store files a run created
/// when a pass of the run fails, so that a failed run leaves the weights
/// directory as it was. Add it to the PassManager that runs weight-writing
/// passes. What it saw is kept in a Record that the caller may share, to
/// delete the files when the run fails after the pipeline (e.g. when writing
/// the output IR fails).
class WeightOutputCleanup : public PassInstrumentation {
public:
  struct Record {
    /// Deletes every file recorded (and each directory that becomes empty).
    void removeFiles();
    void add(ModuleOp module);

  private:
    std::mutex mutex;
    std::set<std::string> files;
  };

  explicit WeightOutputCleanup(
      std::shared_ptr<Record> record = std::make_shared<Record>())
      : record(std::move(record)) {}

  void runAfterPass(Pass *pass, Operation *op) override;
  void runAfterPassFailed(Pass *pass, Operation *op) override;

private:
  std::shared_ptr<Record> record;
};

/// Writes the file `path` through `write`: into a temporary in the same
/// directory, renamed over `path` only when `write` succeeded and every byte
/// was written, so a run that fails or is killed leaves the previous file as
/// it was (and `qopt m.mlir -o m.mlir` never truncates the input it reads).
/// "-" (stdout) and other paths under /dev/ are written directly. On failure
/// sets `error` when there is more to say than what `write` reported.
LogicalResult writeOutputFile(StringRef path,
                              function_ref<LogicalResult(raw_ostream &)> write,
                              std::string &error);

/// Creates a new, empty directory `PATH.tmp-XXXXXX` beside `path` (the same
/// file system, so that renaming it to `path` once complete is atomic) and
/// sets `tmp` to it; on failure sets `error`.
LogicalResult createDirectoryBeside(StringRef path, std::string &tmp,
                                    std::string &error);

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
  /// or dtype disagrees with the IR. A stored shape may differ from the IR's
  /// by dimensions of size 1 (other tools' [N, 1] scales for [N]).
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
  /// Reads an i32 weight (zero points, int_bias), stored as I32 or I8, its
  /// shape as evaluate allows.
  LogicalResult readInt32(WeightOp op, std::vector<int32_t> &out,
                          std::string &error);
  /// The stored tensor `op` names, as it is in its file (dtype, shape and
  /// bytes; packed int4 is U8 with half the innermost size), or null with
  /// `error` set.
  const qrt::TensorView *view(WeightOp op, std::string &error) {
    return lookup(op, error);
  }
  /// Releases the resident pages of every tensor `value` reads.
  void release(Value value);
  /// The bytes of every tensor `value` reads that this reader can find (for
  /// reading them ahead); tensors it cannot find are left out.
  struct PageSpan {
    const uint8_t *data;
    size_t size;
  };
  void pageSpans(Value value, std::vector<PageSpan> &spans);

  /// How `op`'s tensor is computed when its store is an at-load store
  /// (AtLoadWeights.h), else null.
  const AtLoadTensor *atLoadTensor(WeightOp op) const;
  /// The file store `symbol` resolves to ("" when it is not declared).
  std::string storePath(StringRef symbol) const;
  /// The tensor `name` of store `symbol` (computed for at-load stores), or
  /// null with `error` set.
  const qrt::TensorView *find(const std::string &symbol,
                              const std::string &name, std::string &error);

private:
  WeightReader() = default;
  const qrt::TensorView *lookup(WeightOp op, std::string &error);
  std::map<std::string, std::unique_ptr<qrt::TensorStore>> stores;
  std::map<std::string, std::unique_ptr<AtLoadStore>> atLoadStores;
  std::map<std::string, std::string> paths;
};

/// Writes tensors into a new side store of a module: shards
/// `SYMBOL-HASH16.safetensors` and an index
/// `SYMBOL-HASH16.safetensors.index.json`, each named by the hash of its
/// content, written to a temporary and renamed when complete. A file that
/// exists already holds the same bytes and is kept as it is, so no run
/// overwrites a file that another IR references, and two models written to
/// one directory do not collide.
/// A full shard is written on a background thread while the next one fills.
class WeightWriter {
public:
  /// Prepares a store named after `name` (e.g. "smooth", "rtn"; the store
  /// symbol is `@name`, or `@name_N` when taken) in `directory` (a pass's
  /// `weights-out` option, referenced from the IR by its absolute path).
  /// When `directory` is empty, the store goes to the module's
  /// kWeightsOutputAttrName directory and is referenced relative to
  /// moduleDirectory(module), so later passes of the pipeline read it, and
  /// qopt-rebase-weight-stores makes it relative to the output. Fails when
  /// neither is set.
  ///
  /// With `atLoad`, the store is an at-load store (AtLoadWeights.h): its
  /// tensors are described with addAtLoad, not written.
  static std::unique_ptr<WeightWriter>
  create(ModuleOp module, const std::string &directory, const std::string &name,
         std::string &error, bool atLoad = false);
  /// Removes the files it created unless finish() succeeded.
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

  /// Adds tensor `name` of an at-load store: how the runtime computes it.
  LogicalResult addAtLoad(const std::string &name, const AtLoadTensor &tensor,
                          std::string &error);
  bool isAtLoad() const { return atLoad; }

  /// Builds `qopt.weight @store[name] : type` at the builder's insertion
  /// point (the store op is created on first use).
  Value reference(OpBuilder &b, Location loc, const std::string &name,
                  RankedTensorType type, Packing packing = Packing::None);

  /// Writes the last shard and the index, points the store op at the index,
  /// and lists the files it created in the module's
  /// kCreatedWeightFilesAttrName. Must be called for the store to be kept.
  LogicalResult finish(std::string &error);

private:
  WeightWriter() = default;
  LogicalResult add(qrt::TensorData &&tensor, std::string &error);
  LogicalResult flush(std::string &error);
  /// Waits for the shard being written, if any; fails with its error.
  LogicalResult waitForShard(std::string &error);

  ModuleOp module;
  WeightStoreOp storeOp;
  std::string symbol, directory, irDirectory, name;
  std::vector<qrt::TensorData> pending;
  size_t pendingBytes = 0;
  uint64_t totalBytes = 0;
  std::map<std::string, std::string> weightMap;
  std::vector<std::string> written;
  bool finished = false;
  bool atLoad = false;
  std::map<std::string, AtLoadTensor> atLoadTensors;
  /// The shard being written in the background, and its outcome.
  std::vector<qrt::TensorData> writing;
  qrt::ContentNamedFile writtenShard;
  std::thread writer;
  bool writeFailed = false;
  std::string writeError;
};

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
