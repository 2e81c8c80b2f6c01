//===- ObserverStats.h - Calibration statistics of observers ----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What calibration records at a `qopt.observe`: per-channel absmax / min /
// max, |x| histograms for the percentile and mse observers, and the Hessian
// X^T X of linear inputs. Plain C++ over float buffers.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_EXECUTOR_OBSERVERSTATS_H
#define QOPT_EXECUTOR_OBSERVERSTATS_H

#include <cstdint>
#include <vector>

namespace mlir {
namespace qopt {

/// Per-channel statistics of the values an observer saw: over all tokens
/// (every index but the innermost), for each channel of the innermost axis.
struct ObservedStats {
  std::vector<float> absmax, min, max;
  int64_t numTokens = 0;
  /// Per-channel histograms of |x| (kHistogramBins bins over [0,
  /// histogramRange[c])), for the percentile and mse observers.
  static constexpr int kHistogramBins = 512;
  std::vector<uint32_t> histogram;
  std::vector<float> histogramRange;
  /// X^T X, channels x channels, with CpuExecutorOptions::collectHessians.
  std::vector<double> hessian;
};

/// The per-channel clipping threshold an observer's rule gives: the
/// `percentile`-th percentile of |x| (mse = false), or the threshold that
/// minimizes the int8 quantization error of the channel's values
/// (mse = true); never above absmax. Needs the histogram.
std::vector<float> clippedAbsmax(const ObservedStats &stats, bool mse,
                                 double percentile);

/// Adds `rows` x `cols` values (channels innermost) to `stats`: min / max /
/// absmax always, the |x| histograms with `histogram`, X^T X (in double)
/// with `hessian`.
void accumulateStats(ObservedStats &stats, const float *x, int64_t rows,
                     int64_t cols, bool histogram, bool hessian);

} // namespace qopt
} // namespace mlir

#endif // QOPT_EXECUTOR_OBSERVERSTATS_H
