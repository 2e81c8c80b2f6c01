//===- GroupQuantizer.h - One group's quantization --------------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What RTN, GPTQ and AWQ share: a storage kind's quantization through
// QuantMath's primitives, the [min, max] / absmax of a group accumulated like
// computeDynamicParams, and the quantization of one group.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_SUPPORT_GROUPQUANTIZER_H
#define QOPT_LIB_SUPPORT_GROUPQUANTIZER_H

#include "qopt/Support/WeightQuant.h"

#include <algorithm>
#include <cmath>

namespace qnum {
namespace detail {

/// One storage kind's quantization, through QuantMath's primitives.
struct Quantizer {
  StorageKind kind;
  bool symmetric;
  bool fp8;
  int32_t qmin, qmax;
  double rangeMax;

  explicit Quantizer(const WeightQuantConfig &cfg)
      : kind(cfg.kind), symmetric(cfg.symmetric), fp8(isFloat8(cfg.kind)) {
    StorageRange r = storageRange(cfg.kind, cfg.symmetric);
    qmin = static_cast<int32_t>(r.min);
    qmax = static_cast<int32_t>(r.max);
    rangeMax = r.max;
  }

  /// The parameters for values whose [min, max] (started at 0) and absmax
  /// are given, exactly as computeDynamicParams derives them, after
  /// multiplying them by `clip`.
  AffineParams params(float lo, float hi, float absmax, float clip) const {
    if (clip != 1.0f) {
      lo *= clip;
      hi *= clip;
      absmax *= clip;
    }
    if (symmetric || fp8)
      return {symmetricScale(absmax, rangeMax), 0};
    return asymmetricParams(lo, hi, qmin, qmax);
  }

  /// The storage value of `x` (as quantizeTensor stores it), and in `dq` its
  /// dequantized value (as dequantizeTensor computes it).
  float quantize(float x, const AffineParams &p, float &dq) const {
    if (fp8) {
      uint8_t bits = quantizeFloat8(x, p.scale, kind);
      float v = kind == StorageKind::Float8E4M3FN ? e4m3fnToFloat(bits)
                                                  : e5m2ToFloat(bits);
      dq = v * p.scale;
      return v;
    }
    int32_t q = quantizeInt(x, p.scale, p.zeroPoint, qmin, qmax);
    dq = dequantizeInt(q, p.scale, p.zeroPoint);
    return static_cast<float>(q);
  }
};

/// [min, max] and absmax of values, accumulated like computeDynamicParams.
struct RangeAcc {
  float lo = 0.0f, hi = 0.0f, absmax = 0.0f;
  void add(float x) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    absmax = std::max(absmax, std::fabs(x));
  }
};

/// Quantizes `len` values of one group with clip ratio `clip`; writes the
/// storage values to `q` and the dequantized ones to `dq` (either may be
/// null).
inline AffineParams quantizeGroup(const Quantizer &quant, const float *x,
                                  int64_t len, float clip, float *q,
                                  float *dq) {
  RangeAcc acc;
  for (int64_t j = 0; j < len; ++j)
    acc.add(x[j]);
  AffineParams p = quant.params(acc.lo, acc.hi, acc.absmax, clip);
  for (int64_t j = 0; j < len; ++j) {
    float d;
    float v = quant.quantize(x[j], p, d);
    if (q)
      q[j] = v;
    if (dq)
      dq[j] = d;
  }
  return p;
}

} // namespace detail
} // namespace qnum

#endif // QOPT_LIB_SUPPORT_GROUPQUANTIZER_H
