//===- QuantizeLinear.h - Shared helpers of weight quantization -*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the weight-quantization passes (RTN, AWQ, GPTQ) share: parsing their
// scheme options, choosing the layers to quantize, and replacing a float
// linear by a weight-only quantized_linear whose weight, scales and zero
// points live in a side store.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_QUANTIZELINEAR_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_QUANTIZELINEAR_H

#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/PassOptions.h"
#include "qopt/Support/WeightQuant.h"

#include <string>
#include <vector>

namespace mlir {
namespace qopt {
class WeightWriter;

/// A weight scheme chosen by pass options.
struct WeightSchemeSpec {
  Type storage;
  ::qnum::Granularity granularity;
  bool symmetric = true;
  Packing packing = Packing::None;

  /// Makes the scheme of the common options (`dtype`: i8, i4, f8E4M3FN;
  /// `granularity`: channel, group, block, tensor). Fails with a message
  /// naming the bad option.
  static FailureOr<WeightSchemeSpec>
  parse(MLIRContext *ctx, ::qnum::StorageKind dtype,
        ::qnum::GranularityKind granularity, int64_t groupSize,
        int64_t blockSize, bool symmetric, Packing packing, std::string &error);

  /// The integer schemes of GPTQ and AWQ: `dtype` i4 or i8, per-group
  /// (`groupSize` > 0) or per-channel (0).
  static FailureOr<WeightSchemeSpec>
  parseGrouped(MLIRContext *ctx, ::qnum::StorageKind dtype, int64_t groupSize,
               bool symmetric, Packing packing, std::string &error);

  /// The static scheme (without values) for the weight.
  QuantSchemeAttr toAttr(MLIRContext *ctx) const;
  ::qnum::TensorScheme toTensorScheme() const;
  /// The configuration of the RTN / GPTQ / AWQ library (per-channel or
  /// per-group schemes).
  ::qnum::WeightQuantConfig toWeightQuantConfig() const;
  /// "" when the scheme applies to a weight of shape [n, k], else why not.
  std::string check(int64_t n, int64_t k) const;
};

/// The float linears a weight pass quantizes: those whose weight is a weight
/// expression, other than the LM head unless `includeLmHead`.
SmallVector<LinearOp> linearsToQuantize(ModuleOp module, bool includeLmHead);

/// Checks that every layer of `linears` can take `spec` (and, with
/// `needHessian`, that calibration recorded a Hessian for its input) before
/// a pass writes anything. On failure sets `bad` to the first layer that
/// cannot and `error` to why.
LogicalResult checkLinearsToQuantize(ArrayRef<LinearOp> linears,
                                     const WeightSchemeSpec &spec,
                                     bool needHessian, LinearOp &bad,
                                     std::string &error);

/// Formats an option value for a diagnostic ("1.5", "1e-09").
std::string formatDouble(double value);

/// The name a linear's tensors get in a side store (its label, or a
/// position-based name).
std::string tensorPrefix(LinearLikeOpInterface linear);

/// Writes the quantized weight `q` (storage values, [n, k]) with its
/// `scales` (and `zeroPoints` when asymmetric), shaped by the scheme's
/// granularity, and replaces `linear` by a weight-only quantized_linear.
LogicalResult replaceByQuantizedLinear(
    LinearOp linear, const WeightSchemeSpec &spec, const std::vector<float> &q,
    const std::vector<float> &scales, const std::vector<int32_t> &zeroPoints,
    WeightWriter &writer, std::string &error);

/// Replaces `linear` by a weight-only quantized_linear reading the tensors
/// PREFIX.qweight, PREFIX.scales (and PREFIX.zero_points) of `writer`'s
/// store, which the caller has added.
void rewriteAsQuantizedLinear(LinearOp linear, const WeightSchemeSpec &spec,
                              WeightWriter &writer);

/// The at-load form of replaceByQuantizedLinear: describes how the runtime
/// computes the weight's tensors from the checkpoint (`writer` is an at-load
/// writer) and rewrites `linear`, reading no weight data.
LogicalResult describeAtLoadWeight(LinearOp linear,
                                   const WeightSchemeSpec &spec,
                                   WeightWriter &writer, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_QUANTIZELINEAR_H
