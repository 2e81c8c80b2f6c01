//===- AWQ.cpp - Activation-aware weight quantization ---------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The AWQ scale and clip searches with the Hessian as the objective.
//
//===----------------------------------------------------------------------===//

#include "DenseLinearAlgebra.h"
#include "GroupQuantizer.h"
#include "qopt-runtime/Parallel.h"
#include "qopt/Support/WeightQuant.h"

#include <cmath>
#include <limits>

using namespace qnum;
using namespace qnum::detail;

std::vector<float> qnum::awqSearchScales(const std::vector<const float *> &ws,
                                         const std::vector<int64_t> &ns,
                                         int64_t k, const double *h,
                                         const std::vector<float> &xScale,
                                         const WeightQuantConfig &cfg, int grid,
                                         double *bestLoss, double *rtnLoss,
                                         int threads) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (bestLoss)
    *bestLoss = kNaN;
  if (rtnLoss)
    *rtnLoss = kNaN;
  if (ws.empty() || ws.size() != ns.size() || !h || grid < 1 ||
      xScale.size() != static_cast<size_t>(k))
    return {};
  for (size_t i = 0; i < ws.size(); ++i)
    if (!ws[i] || !checkWeightQuantConfig(cfg, ns[i], k).empty())
      return {};

  Quantizer quant(cfg);
  int64_t gs = k / numGroups(cfg, k);
  std::vector<float> best(static_cast<size_t>(k), 1.0f), s(best);
  double bestL = std::numeric_limits<double>::infinity(), rtnL = kNaN;
  for (int a = 0; a < grid; ++a) {
    double alpha = static_cast<double>(a) / grid;
    double smax = 0.0, smin = std::numeric_limits<double>::infinity();
    std::vector<double> sd(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      float x = xScale[j] > 1e-5f ? xScale[j] : 1e-5f;
      sd[j] = std::pow(static_cast<double>(x), alpha);
      smax = std::max(smax, sd[j]);
      smin = std::min(smin, sd[j]);
    }
    double norm = std::sqrt(smax * smin);
    for (int64_t j = 0; j < k; ++j)
      s[j] = static_cast<float>(sd[j] / norm);
    // hessianLoss(W, dequant(RTN(W diag(s))) diag(s)^-1, H), with the
    // quantization done row by row inside the parallel tasks (the same
    // values as quantizeRTN + dequantize, the same sums as hessianLoss).
    double loss = 0.0;
    for (size_t i = 0; i < ws.size(); ++i) {
      int64_t n = ns[i];
      const float *w = ws[i];
      int t = qrt::threadsFor(threads, 0.5 * double(n) * double(k) * double(k));
      int64_t taskRows = rowsPerTask(n, t, 64);
      std::vector<double> rowLoss(static_cast<size_t>(n));
      qrt::parallelForEach((n + taskRows - 1) / taskRows, t, [&](int64_t task) {
        int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
        thread_local std::vector<float> scaled, dq;
        thread_local std::vector<double> d;
        scaled.resize(static_cast<size_t>(k));
        dq.resize(static_cast<size_t>(k));
        d.resize(static_cast<size_t>(rows * k));
        for (int64_t r = 0; r < rows; ++r) {
          const float *wr = w + (r0 + r) * k;
          for (int64_t j = 0; j < k; ++j)
            scaled[j] = wr[j] * s[j];
          for (int64_t g = 0; g < k; g += gs)
            quantizeGroup(quant, scaled.data() + g, gs, 1.0f, nullptr,
                          dq.data() + g);
          for (int64_t j = 0; j < k; ++j)
            d[r * k + j] =
                static_cast<double>(wr[j]) - static_cast<double>(dq[j] / s[j]);
        }
        quadForms(d.data(), k, rows, h, k, k, rowLoss.data() + r0);
      });
      double total = 0.0;
      for (double l : rowLoss)
        total += l;
      loss += total;
    }
    if (a == 0)
      rtnL = loss;
    if (loss < bestL) {
      bestL = loss;
      best = s;
    }
  }
  if (bestLoss)
    *bestLoss = std::isfinite(bestL) ? bestL : rtnL;
  if (rtnLoss)
    *rtnLoss = rtnL;
  return best;
}

std::vector<float> qnum::awqSearchClip(const float *w, int64_t n, int64_t k,
                                       const double *h,
                                       const WeightQuantConfig &cfg, int steps,
                                       double minRatio, int threads) {
  if (!w || !h || !checkWeightQuantConfig(cfg, n, k).empty())
    return {};
  Quantizer quant(cfg);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  std::vector<float> ratios{1.0f};
  for (int st = 1; steps > 0 && st <= steps; ++st) {
    double r = 1.0 - static_cast<double>(st) / steps;
    if (r < minRatio - 1e-12 || !(r > 0.0))
      break;
    ratios.push_back(static_cast<float>(r));
  }
  std::vector<float> clip(static_cast<size_t>(n * groups), 1.0f);
  int t = qrt::threadsFor(threads, double(ratios.size()) * double(n) *
                                       double(k) * double(gs) / 2);
  const int64_t taskRows = rowsPerTask(n, t, 32);
  int64_t tasks = (n + taskRows - 1) / taskRows;
  qrt::parallelForEach(tasks, t, [&](int64_t task) {
    int64_t r0 = task * taskRows, rows = std::min(taskRows, n - r0);
    std::vector<float> dq(static_cast<size_t>(gs));
    std::vector<double> d(static_cast<size_t>(rows * k));
    std::vector<double> best(static_cast<size_t>(rows * groups),
                             std::numeric_limits<double>::infinity());
    std::vector<double> loss(static_cast<size_t>(rows));
    for (float ratio : ratios) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g = 0; g < groups; ++g) {
          const float *x = w + (r0 + r) * k + g * gs;
          quantizeGroup(quant, x, gs, ratio, nullptr, dq.data());
          double *dr = d.data() + r * k + g * gs;
          for (int64_t j = 0; j < gs; ++j)
            dr[j] = static_cast<double>(x[j]) - static_cast<double>(dq[j]);
        }
      }
      for (int64_t g = 0; g < groups; ++g) {
        quadForms(d.data() + g * gs, k, rows, h + g * gs * (k + 1), k, gs,
                  loss.data());
        for (int64_t r = 0; r < rows; ++r) {
          if (loss[r] < best[r * groups + g]) {
            best[r * groups + g] = loss[r];
            clip[(r0 + r) * groups + g] = ratio;
          }
        }
      }
    }
  });
  return clip;
}
