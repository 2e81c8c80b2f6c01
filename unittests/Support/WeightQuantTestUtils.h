//===- WeightQuantTestUtils.h - Shared helpers of the tests -----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Random weights and calibration activations for the RTN, GPTQ and AWQ
// tests, and the direct loss ||X W^T - X Wq^T||_F^2 they check against.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_UNITTESTS_SUPPORT_WEIGHTQUANTTESTUTILS_H
#define QOPT_UNITTESTS_SUPPORT_WEIGHTQUANTTESTUTILS_H

#include "qopt/Support/WeightQuant.h"

#include <cmath>
#include <random>
#include <vector>

namespace qnum {
namespace wqtest {

inline unsigned freshSeed() { return std::random_device{}(); }

inline std::vector<float> randomWeights(std::mt19937 &rng, int64_t n, int64_t k,
                                        float sigma = 0.05f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> w(static_cast<size_t>(n * k));
  for (float &x : w)
    x = dist(rng);
  return w;
}

/// Calibration activations X [t, k] with correlated channels: X = Z M with
/// M = I + a random mixing, and per-channel magnitudes spread over
/// 2 * `decades` decades. Channels in `outliers` are multiplied by
/// `outlierGain`.
inline std::vector<double>
correlatedActivations(std::mt19937 &rng, int64_t t, int64_t k,
                      const std::vector<int64_t> &outliers = {},
                      double outlierGain = 1.0, double decades = 1.0) {
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> mag(-1.0, 1.0);
  std::vector<double> m(static_cast<size_t>(k * k));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      m[i * k + j] = (i == j ? 1.0 : 0.0) + 0.4 * nd(rng);
  std::vector<double> gain(static_cast<size_t>(k));
  for (double &g : gain)
    g = std::pow(10.0, decades * mag(rng));
  for (int64_t o : outliers)
    gain[o] *= outlierGain;
  std::vector<double> z(static_cast<size_t>(t * k));
  for (double &v : z)
    v = nd(rng);
  std::vector<double> x(static_cast<size_t>(t * k), 0.0);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        x[r * k + j] += z[r * k + i] * m[i * k + j];
  for (int64_t r = 0; r < t; ++r)
    for (int64_t j = 0; j < k; ++j)
      x[r * k + j] *= gain[j];
  return x;
}

inline std::vector<double> gram(const std::vector<double> &x, int64_t t,
                                int64_t k) {
  std::vector<double> h(static_cast<size_t>(k * k), 0.0);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += x[r * k + i] * x[r * k + j];
  return h;
}

/// ||X W^T - X Wq^T||_F^2 in float64.
inline double directLoss(const std::vector<double> &x, int64_t t,
                         const float *w, const float *wq, int64_t n,
                         int64_t k) {
  double loss = 0.0;
  for (int64_t r = 0; r < t; ++r)
    for (int64_t o = 0; o < n; ++o) {
      double y = 0.0;
      for (int64_t j = 0; j < k; ++j)
        y += x[r * k + j] * (double(w[o * k + j]) - double(wq[o * k + j]));
      loss += y * y;
    }
  return loss;
}

} // namespace wqtest
} // namespace qnum

#endif // QOPT_UNITTESTS_SUPPORT_WEIGHTQUANTTESTUTILS_H
