//===- RTN.cpp - Round-to-nearest weight quantization ---------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "GroupQuantizer.h"
#include "qopt-runtime/Parallel.h"
#include "qopt/Support/WeightQuant.h"

using namespace qnum;
using namespace qnum::detail;

std::string qnum::checkWeightQuantConfig(const WeightQuantConfig &cfg,
                                         int64_t n, int64_t k) {
  if (n < 0 || k <= 0)
    return "invalid weight shape [" + std::to_string(n) + ", " +
           std::to_string(k) + "]";
  if (cfg.groupSize < 0)
    return "group size must be non-negative, got " +
           std::to_string(cfg.groupSize);
  if (cfg.groupSize > 0 && k % cfg.groupSize != 0)
    return "group size " + std::to_string(cfg.groupSize) +
           " does not divide the input dimension " + std::to_string(k);
  if (!cfg.symmetric && isFloat8(cfg.kind))
    return std::string("asymmetric quantization is not supported for ") +
           storageName(cfg.kind) + " storage";
  return {};
}

int64_t qnum::numGroups(const WeightQuantConfig &cfg, int64_t k) {
  return cfg.groupSize > 0 ? k / cfg.groupSize : 1;
}

/// Rows per parallel task for rows of `k` elements (about 64K elements).
static int64_t rowGrain(int64_t k) {
  return std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(k, 1));
}

std::vector<float> QuantizedWeight::dequantize(int threads) const {
  std::vector<float> w(static_cast<size_t>(n * k));
  if (n == 0 || k == 0)
    return w;
  int64_t groups = static_cast<int64_t>(scales.size()) / n;
  if (groups <= 0 || k % groups != 0 || q.size() != w.size())
    return {};
  int64_t gs = k / groups;
  bool hasZp = !zeroPoints.empty();
  // Float8 storage values are the float8 values themselves, integer ones
  // integers: (q - zp) * scale covers both when zp is 0 (dequantizeInt is
  // exactly float(q - zp) * scale).
  qrt::parallelForChunks(
      n, rowGrain(k), 4.0 * double(k), threads, [&](int64_t rb, int64_t re) {
        for (int64_t r = rb; r < re; ++r) {
          for (int64_t g = 0; g < groups; ++g) {
            float scale = scales[r * groups + g];
            int32_t zp = hasZp ? zeroPoints[r * groups + g] : 0;
            const float *qr = q.data() + r * k + g * gs;
            float *wr = w.data() + r * k + g * gs;
            if (!hasZp) {
              for (int64_t j = 0; j < gs; ++j)
                wr[j] = qr[j] * scale;
            } else {
              for (int64_t j = 0; j < gs; ++j)
                wr[j] = dequantizeInt(static_cast<int32_t>(qr[j]), scale, zp);
            }
          }
        }
      });
  return w;
}

QuantizedWeight qnum::quantizeRTN(const float *w, int64_t n, int64_t k,
                                  const WeightQuantConfig &cfg,
                                  const float *clip, int threads) {
  QuantizedWeight out;
  if (!checkWeightQuantConfig(cfg, n, k).empty())
    return out;
  Quantizer quant(cfg);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  bool asym = !cfg.symmetric && !quant.fp8;
  out.allocate(n, k, groups, asym);
  qrt::parallelForChunks(
      n, rowGrain(k), 16.0 * double(k), threads, [&](int64_t rb, int64_t re) {
        for (int64_t r = rb; r < re; ++r) {
          for (int64_t g = 0; g < groups; ++g) {
            int64_t s = r * groups + g;
            AffineParams p = quantizeGroup(
                quant, w + r * k + g * gs, gs, clip ? clip[s] : 1.0f,
                out.q.data() + r * k + g * gs, nullptr);
            out.scales[s] = p.scale;
            if (asym)
              out.zeroPoints[s] = p.zeroPoint;
          }
        }
      });
  return out;
}
