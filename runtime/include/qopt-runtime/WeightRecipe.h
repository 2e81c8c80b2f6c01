//===- WeightRecipe.h - Weights computed from a checkpoint at load -*- C++ -*-//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A weight quantized at load: a float tensor of a Hugging Face checkpoint,
// optionally multiplied by per-channel factors (a smoothing pass's), then
// quantized by a calibration-free recipe (round to nearest with scales from
// the weight itself). The compiler's weight passes and the runtime's loader
// share this code, so a weight quantized when a bundle is loaded has the
// bytes the pass would have written.
//
// Recipe text: STORAGE:GRANULARITY[:asym]
//   STORAGE      i8, i4 (two a byte, the low nibble first), f8e4m3, f8e5m2
//   GRANULARITY  channel (one scale per output row), groupG (G input columns
//                a scale), blockB (B x B tiles), tensor
// e.g. "i8:channel", "i4:group128", "i4:group128:asym", "f8e4m3:block128".
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_WEIGHTRECIPE_H
#define QOPT_RUNTIME_WEIGHTRECIPE_H

#include "qopt-runtime/QuantMath.h"
#include "qopt-runtime/Safetensors.h"

#include <string>
#include <vector>

namespace qrt {

/// How a [n, k] weight is quantized.
struct WeightQuantRecipe {
  qnum::StorageKind storage = qnum::StorageKind::Int8;
  qnum::Granularity granularity = qnum::Granularity::perChannel(0);
  bool symmetric = true;

  /// Parses the recipe text (file comment); false with `error` naming the
  /// problem.
  static bool parse(const std::string &text, WeightQuantRecipe &out,
                    std::string &error);
  std::string str() const;
  /// "" when the recipe applies to a [n, k] weight, else why not.
  std::string check(int64_t n, int64_t k) const;
  /// The TensorScheme (without values) quantizeTensor takes.
  qnum::TensorScheme tensorScheme() const;
};

/// Which tensor of a quantized weight a buffer holds.
enum class WeightPart {
  Copy,       ///< the checkpoint tensor itself, unchanged
  QWeight,    ///< the storage values (I8, F8_*, or U8 with two int4 a byte)
  Scales,     ///< F32, qnum::scaleShape of the granularity
  ZeroPoints, ///< I32, the same shape (asymmetric recipes)
};
const char *weightPartName(WeightPart part);
bool parseWeightPart(const std::string &name, WeightPart &out);

/// The three tensors of a quantized weight.
struct QuantizedWeight {
  TensorData qweight, scales, zeroPoints;
  TensorData &part(WeightPart p) {
    return p == WeightPart::Scales       ? scales
           : p == WeightPart::ZeroPoints ? zeroPoints
                                         : qweight;
  }
};

/// Storage values (one float per element, as quantizeTensor gives them)
/// encoded as stored: I8, F8_E4M3 / F8_E5M2, or U8 with two int4 a byte
/// along the last axis (rows packed independently; `shape` is the logical
/// one, the tensor's last dimension becomes ceil(cols / 2)).
TensorData encodeStorage(std::string name, std::vector<int64_t> shape,
                         const std::vector<float> &values,
                         qnum::StorageKind storage);

/// Converts a float tensor (F32, BF16, F16) to float32 in parallel; false
/// with `error` for other dtypes or values that are not finite.
bool weightToFloats(const TensorView &view, std::vector<float> &out,
                    std::string &error);

/// Quantizes `w` ([n, k] float32, row-major) by `recipe`: scales from the
/// weight (computeDynamicParams), round to nearest (quantizeTensor), then
/// encoded. The tensors are named NAME.qweight, NAME.scales and
/// NAME.zero_points. False with `error` when the recipe does not apply.
bool quantizeWeight(const std::string &name, const std::vector<float> &w,
                    int64_t n, int64_t k, const WeightQuantRecipe &recipe,
                    QuantizedWeight &out, std::string &error);

} // namespace qrt

#endif // QOPT_RUNTIME_WEIGHTRECIPE_H
