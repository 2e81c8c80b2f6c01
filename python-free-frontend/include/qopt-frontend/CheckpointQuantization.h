//===- CheckpointQuantization.h - Pre-quantized formats ---------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A checkpoint another tool quantized declares its format in config.json's
// `quantization_config`. Each format is a CheckpointQuantization: it names
// the tensors a linear layer has in the checkpoint, checks them, and builds
// the layer as qopt's quantized IR, reading the stored tensors as they are
// (no re-quantization). The importer asks the format about every linear
// layer; layers the format leaves unquantized (its ignore list) import as
// plain `qopt.linear`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_FRONTEND_CHECKPOINTQUANTIZATION_H
#define QOPT_FRONTEND_CHECKPOINTQUANTIZATION_H

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include "mlir/IR/Builders.h"

#include <memory>
#include <string>
#include <vector>

namespace qrt {
class TensorStore;
struct TensorData;
} // namespace qrt

namespace mlir {
namespace qopt {

/// One linear layer of a checkpoint: `prefix` names its module
/// ("model.layers.3.self_attn.q_proj"), `out` x `in` its weight.
struct CheckpointLinear {
  std::string prefix;
  int64_t out = 0, in = 0;
  LinearRole role = LinearRole::QProj;
};

/// How activations of a format whose activation scheme qopt cannot express
/// exactly are imported (transformers' FP8 quantizes activations in groups
/// of 128 along K at run time).
enum class ImportActivations {
  /// As the checkpoint's reference computes on CPU: float activations, the
  /// weights dequantized (weight-only).
  Dequantized,
  /// Dynamic per-token scales, qopt's nearest activation scheme (runs on
  /// FP8 tensor cores).
  PerToken,
};

class CheckpointQuantization {
public:
  virtual ~CheckpointQuantization();
  /// The format's name in messages ("transformers fp8").
  virtual std::string name() const = 0;
  /// Whether `linear` is stored quantized; false for modules the format
  /// leaves in the checkpoint's float dtype.
  virtual bool isQuantized(const CheckpointLinear &linear) const = 0;
  /// Checks the tensors of a quantized `linear` in `store` (names, dtypes,
  /// shapes) and appends their names to `used`; on failure sets `error`
  /// naming the tensor at fault.
  virtual LogicalResult check(const qrt::TensorStore &store,
                              const CheckpointLinear &linear,
                              std::vector<std::string> &used,
                              std::string &error) const = 0;
  /// Builds a checked quantized `linear` reading real-valued `x` [?, in]
  /// (f32) and giving [?, out] f32; its weights are `qopt.weight`s of
  /// `store`, or of `relaid` (the store of what relayout gave; null when the
  /// format does not relayOut()). `bias` is null or the float bias.
  virtual Value build(OpBuilder &b, Location loc, FlatSymbolRefAttr store,
                      FlatSymbolRefAttr relaid, Value x, Value bias,
                      const CheckpointLinear &linear) const = 0;

  /// Whether the format's tensors are re-laid out at import (AutoAWQ's and
  /// GPTQ's int32 packings, which qopt's IR cannot refer to as stored): the
  /// importer then writes what relayout gives to a side store and build()
  /// may refer to that store (compressed-tensors' packed zero points and
  /// folded input zero points too).
  virtual bool relaysOut() const { return false; }
  /// The tensors, named under the layer's prefix, that build() reads for a
  /// checked `linear`: the stored values re-laid out, never re-quantized.
  virtual LogicalResult relayout(const qrt::TensorStore &store,
                                 const CheckpointLinear &linear,
                                 std::vector<qrt::TensorData> &out,
                                 std::string &error) const {
    error = name() + " stores its tensors as qopt reads them";
    return failure();
  }

  /// Checks the KV-cache scales the format stores for decoder layer `layer`
  /// (of `kvHeads` KV heads), appending their names to `used`. The default:
  /// none.
  virtual LogicalResult checkKVCache(const qrt::TensorStore &store,
                                     int64_t layer, int64_t kvHeads,
                                     std::vector<std::string> &used,
                                     std::string &error) const {
    return success();
  }
  /// The key and value schemes of layer `layer`'s KV cache (null: float),
  /// once checkKVCache succeeded.
  virtual std::pair<QuantSchemeAttr, QuantSchemeAttr>
  kvCacheSchemes(MLIRContext *ctx, int64_t layer) const {
    return {};
  }
};

/// The format config.json (at `configPath`) declares: null when it has no
/// `quantization_config`; an error naming the field for an unknown or
/// unsupported one.
FailureOr<std::unique_ptr<CheckpointQuantization>>
parseCheckpointQuantization(const std::string &configPath,
                            ImportActivations activations, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_FRONTEND_CHECKPOINTQUANTIZATION_H
