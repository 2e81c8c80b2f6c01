//===- AtLoadWeights.h - Weights quantized when a bundle loads --*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A weight pass run with `at-load` writes no quantized data: it writes an
// at-load store, a small JSON file (`SYMBOL-HASH16.at-load.json`, named by
// its content like the safetensors side stores) that says how each of its
// tensors is computed from the float checkpoint: the source tensor, the
// per-channel factors a smoothing pass multiplied it by, and a
// calibration-free recipe (qrt::WeightQuantRecipe). The IR references its
// tensors with `qopt.weight` ops as for any store.
//
//   {"format": "qopt-at-load-weights", "version": 1,
//    "tensors": {"l0.q.qweight": {"store": "ckpt",
//                                 "tensor": "model.layers.0...q_proj.weight",
//                                 "scale_channels": [{"store": "smooth",
//                                   "tensor": "l0.q.smooth", "axis": 1}],
//                                 "recipe": "i8:channel", "part": "qweight"},
//                ...}}
//
// WeightReader computes such a tensor when it is read (the CPU executor, the
// passes after, qopt-bundle without --weights-at-load); qopt-bundle
// --weights-at-load instead writes the description into the bundle and the
// runtime computes it from the checkpoint while loading, with the same code
// (runtime/include/qopt-runtime/WeightRecipe.h).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_ATLOADWEIGHTS_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_ATLOADWEIGHTS_H

#include "qopt-runtime/Safetensors.h"
#include "qopt-runtime/WeightRecipe.h"

#include "mlir/IR/Value.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
namespace qopt {

/// The file-name suffix of an at-load store.
inline constexpr llvm::StringLiteral kAtLoadStoreSuffix = ".at-load.json";
inline bool isAtLoadStorePath(llvm::StringRef path) {
  return path.ends_with(kAtLoadStoreSuffix);
}

/// Per-channel factors multiplied into a source weight.
struct AtLoadScale {
  std::string store, tensor;
  int64_t axis = 1;
};

/// How one tensor of an at-load store is computed.
struct AtLoadTensor {
  /// The float source tensor (a checkpoint's).
  std::string store, tensor;
  /// Applied in order, each qrt::kernels::scaleChannels in float32.
  std::vector<AtLoadScale> scales;
  qrt::WeightQuantRecipe recipe;
  qrt::WeightPart part = qrt::WeightPart::QWeight;

  /// Equal for the parts of one quantized weight.
  std::string sourceKey() const;
};

/// Describes the float weight expression `weight` (a `qopt.weight`, under
/// `qopt.scale_channels` by plain weights) as a source; fails with `error`
/// for expressions the runtime cannot compute at load.
LogicalResult describeAtLoadSource(Value weight, AtLoadTensor &out,
                                   std::string &error);

/// Reads a tensor of another store (for sources and factors); null with
/// `error` set when it is missing.
using TensorLookup = llvm::function_ref<const qrt::TensorView *(
    const std::string &store, const std::string &tensor, std::string &error)>;

/// An opened at-load store: the descriptions, and the tensors computed so
/// far (views stay valid while the store lives).
class AtLoadStore {
public:
  static std::unique_ptr<AtLoadStore> open(const std::string &path,
                                           std::string &error);
  /// The description of tensor `name`, or null.
  const AtLoadTensor *find(const std::string &name) const;
  /// Computes tensor `name` (and the other parts of its weight) from the
  /// stores `lookup` reads; null with `error` set on failure.
  const qrt::TensorView *materialize(const std::string &name,
                                     TensorLookup lookup, std::string &error);

private:
  std::string path;
  std::map<std::string, AtLoadTensor> tensors;
  std::map<std::string, qrt::QuantizedWeight> computed; // by sourceKey
  std::map<std::string, qrt::TensorView> views;         // by tensor name
};

/// Computes the float source of `t` ([n, k] float32) through `lookup`.
LogicalResult evaluateAtLoadSource(const AtLoadTensor &t, TensorLookup lookup,
                                   std::vector<float> &out,
                                   std::vector<int64_t> &shape,
                                   std::string &error);

/// Writes the store file of `tensors` into `directory` as
/// `name-HASH16.at-load.json` (atomically; kept as it is when a file of that
/// name exists). Sets `fileName`, and `created` when this call wrote it.
LogicalResult
writeAtLoadStore(const std::string &directory, const std::string &name,
                 const std::map<std::string, AtLoadTensor> &tensors,
                 std::string &fileName, bool &created, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_ATLOADWEIGHTS_H
