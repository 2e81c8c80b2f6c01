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

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Support/QuantMath.h"

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

  /// Parses the common options (`dtype`: i8, i4, f8E4M3FN; `granularity`:
  /// channel, group, block, tensor). Fails with a message naming the bad
  /// option.
  static FailureOr<WeightSchemeSpec> parse(MLIRContext *ctx, StringRef dtype,
                                           StringRef granularity,
                                           int64_t groupSize, int64_t blockSize,
                                           bool symmetric, StringRef packing,
                                           std::string &error);

  /// The static scheme (without values) for the weight.
  QuantSchemeAttr toAttr(MLIRContext *ctx) const;
  ::qnum::TensorScheme toTensorScheme() const;
  /// "" when the scheme applies to a weight of shape [n, k], else why not.
  std::string check(int64_t n, int64_t k) const;
};

/// The float linears a weight pass quantizes: those whose weight is a weight
/// expression, other than the LM head unless `includeLmHead`.
SmallVector<LinearOp> linearsToQuantize(ModuleOp module, bool includeLmHead);

/// The name a linear's tensors get in a side store (its label, or a
/// position-based name).
std::string tensorPrefix(LinearOp linear);

/// Writes the quantized weight `q` (storage values, [n, k]) with its
/// `scales` (and `zeroPoints` when asymmetric), shaped by the scheme's
/// granularity, and replaces `linear` by a weight-only quantized_linear.
LogicalResult replaceByQuantizedLinear(
    LinearOp linear, const WeightSchemeSpec &spec, const std::vector<float> &q,
    const std::vector<float> &scales, const std::vector<int32_t> &zeroPoints,
    WeightWriter &writer, std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_QUANTIZELINEAR_H
