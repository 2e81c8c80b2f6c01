//===- ObserverStats.cpp - Calibration statistics of observers ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt/Executor/ObserverStats.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

using namespace mlir::qopt;

/// Adds |x| of rows x cols values to per-channel histograms whose range
/// doubles (merging bin pairs, which is exact) whenever a value exceeds it.
static void accumulateHistogram(ObservedStats &st, const float *x, int64_t rows,
                                int64_t cols) {
  const int bins = ObservedStats::kHistogramBins;
  if (st.histogram.empty()) {
    st.histogram.assign(cols * bins, 0);
    st.histogramRange.assign(cols, 0.0f);
  }
  for (int64_t c = 0; c < cols; ++c) {
    float m = 0;
    for (int64_t r = 0; r < rows; ++r)
      m = std::max(m, std::fabs(x[r * cols + c]));
    uint32_t *h = st.histogram.data() + c * bins;
    float &range = st.histogramRange[c];
    if (range == 0.0f && m > 0.0f)
      range = std::exp2(std::ceil(std::log2(m)) + 1e-6f);
    while (m >= range && range > 0.0f) {
      for (int b = 0; b < bins / 2; ++b)
        h[b] = h[2 * b] + h[2 * b + 1];
      std::fill(h + bins / 2, h + bins, 0u);
      range *= 2;
    }
    for (int64_t r = 0; r < rows; ++r) {
      float v = std::fabs(x[r * cols + c]);
      int b = range > 0 ? static_cast<int>(v / range * bins) : 0;
      h[std::min(b, bins - 1)] += 1;
    }
  }
}

std::vector<float> mlir::qopt::clippedAbsmax(const ObservedStats &st, bool mse,
                                             double percentile) {
  const int bins = ObservedStats::kHistogramBins;
  std::vector<float> out = st.absmax;
  if (st.histogram.empty())
    return out;
  for (size_t c = 0; c < out.size(); ++c) {
    const uint32_t *h = st.histogram.data() + c * bins;
    double width = st.histogramRange[c] / bins;
    uint64_t total = 0;
    for (int b = 0; b < bins; ++b)
      total += h[b];
    if (total == 0 || width == 0)
      continue;
    double threshold = out[c];
    if (!mse) {
      double need = percentile / 100.0 * total, cum = 0;
      for (int b = 0; b < bins; ++b) {
        cum += h[b];
        if (cum >= need) {
          threshold = (b + 1) * width;
          break;
        }
      }
    } else {
      // Expected squared error of int8 (127 levels) with threshold t: values
      // above t clip, the rest round with error variance (t/127)^2 / 12.
      // Suffix sums over the bins above the threshold make it O(bins).
      std::vector<double> s0(bins + 1, 0.0), s1(bins + 1, 0.0),
          s2(bins + 1, 0.0);
      for (int b = bins - 1; b >= 0; --b) {
        double v = (b + 0.5) * width;
        s0[b] = s0[b + 1] + h[b];
        s1[b] = s1[b + 1] + h[b] * v;
        s2[b] = s2[b + 1] + h[b] * v * v;
      }
      double best = INFINITY;
      for (int tb = 1; tb <= bins; ++tb) {
        double t = tb * width, step = t / 127.0;
        double clip = s2[tb] - 2 * t * s1[tb] + t * t * s0[tb];
        double err = clip + (total - s0[tb]) * step * step / 12.0;
        if (err < best) {
          best = err;
          threshold = t;
        }
      }
    }
    out[c] = std::min<float>(out[c], static_cast<float>(threshold));
  }
  return out;
}

void mlir::qopt::accumulateStats(ObservedStats &st, const float *x,
                                 int64_t rows, int64_t cols, bool histogram,
                                 bool hessian) {
  if (st.absmax.empty()) {
    st.absmax.assign(cols, 0.0f);
    st.min.assign(cols, INFINITY);
    st.max.assign(cols, -INFINITY);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float v = x[r * cols + c];
      st.absmax[c] = std::max(st.absmax[c], std::fabs(v));
      st.min[c] = std::min(st.min[c], v);
      st.max[c] = std::max(st.max[c], v);
    }
  if (histogram)
    accumulateHistogram(st, x, rows, cols);
  if (hessian) {
    if (st.hessian.empty())
      st.hessian.assign(cols * cols, 0.0);
    std::vector<double> xd(x, x + rows * cols);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, rows, 1.0,
                xd.data(), cols, 1.0, st.hessian.data(), cols);
  }
  st.numTokens += rows;
}
