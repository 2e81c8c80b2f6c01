//===- AWQTest.cpp - AWQ scale and clip searches --------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every randomized test draws a fresh seed (printed on failure). The
// searches must never do worse than RTN on the loss they minimize.
//
//===----------------------------------------------------------------------===//

#include "WeightQuantTestUtils.h"
#include "qopt/Support/WeightQuant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace qnum;
using namespace qnum::wqtest;

namespace {

//===----------------------------------------------------------------------===//
// AWQ
//===----------------------------------------------------------------------===//

struct AWQSetup {
  int64_t k = 64, t = 512;
  std::vector<double> x, h;
  std::vector<float> xScale;
  AWQSetup(std::mt19937 &rng, int64_t k) : k(k) {
    // Three outlier channels, 50x larger.
    x = correlatedActivations(rng, t, k, {2, k / 2, k - 3}, 50.0);
    h = gram(x, t, k);
    xScale.resize(k);
    for (int64_t j = 0; j < k; ++j) {
      double ss = 0.0;
      for (int64_t r = 0; r < t; ++r)
        ss += x[r * k + j] * x[r * k + j];
      xScale[j] = float(std::sqrt(ss / t));
    }
  }
};

TEST(WeightQuantAWQ, ScalesNeverWorseThanRTN) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t k = 64;
  AWQSetup s(rng, k);
  std::vector<int64_t> ns{48, 16, 16};
  std::vector<std::vector<float>> ws;
  for (int64_t n : ns)
    ws.push_back(randomWeights(rng, n, k));
  std::vector<const float *> ptrs{ws[0].data(), ws[1].data(), ws[2].data()};
  for (WeightQuantConfig cfg :
       {WeightQuantConfig{StorageKind::Int4, true, 16},
        WeightQuantConfig{StorageKind::Int4, false, 0},
        WeightQuantConfig{StorageKind::Int8, true, 0},
        WeightQuantConfig{StorageKind::Float8E4M3FN, true, 32}}) {
    SCOPED_TRACE(std::string(storageName(cfg.kind)) +
                 (cfg.symmetric ? " sym" : " asym") + " group " +
                 std::to_string(cfg.groupSize));
    double best = -1, rtn = -1;
    std::vector<float> scales = awqSearchScales(ptrs, ns, k, s.h.data(),
                                                s.xScale, cfg, 20, &best, &rtn);
    ASSERT_EQ(int64_t(scales.size()), k);
    EXPECT_LE(best, rtn);
    // rtnLoss is the loss of plain RTN.
    double direct = 0.0;
    for (size_t i = 0; i < ws.size(); ++i) {
      std::vector<float> dq =
          quantizeRTN(ws[i].data(), ns[i], k, cfg).dequantize();
      direct += hessianLoss(ws[i].data(), dq.data(), ns[i], k, s.h.data());
    }
    EXPECT_EQ(rtn, direct);
    // bestLoss is the loss of the returned scales, measured on activations.
    double measured = 0.0;
    for (size_t i = 0; i < ws.size(); ++i) {
      int64_t n = ns[i];
      std::vector<float> scaled(ws[i]);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j)
          scaled[r * k + j] *= scales[j];
      std::vector<float> dq =
          quantizeRTN(scaled.data(), n, k, cfg).dequantize();
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j)
          dq[r * k + j] /= scales[j];
      measured += directLoss(s.x, s.t, ws[i].data(), dq.data(), n, k);
    }
    EXPECT_NEAR(measured, best, 1e-9 * best);
  }
}

TEST(WeightQuantAWQ, ClipNeverWorseThanRTN) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t k = 64, n = 40;
  AWQSetup s(rng, k);
  std::vector<float> w = randomWeights(rng, n, k);
  // A few large weights, which clipping helps.
  std::uniform_int_distribution<int64_t> any(0, n * k - 1);
  for (int i = 0; i < 20; ++i)
    w[any(rng)] *= 8.0f;
  for (WeightQuantConfig cfg :
       {WeightQuantConfig{StorageKind::Int4, true, 0},
        WeightQuantConfig{StorageKind::Int4, false, 0},
        WeightQuantConfig{StorageKind::Int4, true, 16},
        WeightQuantConfig{StorageKind::Int4, false, 32},
        WeightQuantConfig{StorageKind::Int8, true, 0}}) {
    SCOPED_TRACE(std::string(storageName(cfg.kind)) +
                 (cfg.symmetric ? " sym" : " asym") + " group " +
                 std::to_string(cfg.groupSize));
    int64_t groups = numGroups(cfg, k), gs = k / groups;
    std::vector<float> clip = awqSearchClip(w.data(), n, k, s.h.data(), cfg);
    ASSERT_EQ(int64_t(clip.size()), n * groups);
    for (float c : clip) {
      EXPECT_GE(c, 0.5f);
      EXPECT_LE(c, 1.0f);
      double steps = (1.0 - c) * 20;
      EXPECT_NEAR(steps, std::round(steps), 1e-4);
    }
    std::vector<float> plain = quantizeRTN(w.data(), n, k, cfg).dequantize();
    std::vector<float> clipped =
        quantizeRTN(w.data(), n, k, cfg, clip.data()).dequantize();
    // Per (row, group), on the group's diagonal block of H.
    double plainTotal = 0.0, clippedTotal = 0.0;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        double lp = 0.0, lc = 0.0;
        for (int64_t i = g * gs; i < (g + 1) * gs; ++i)
          for (int64_t j = g * gs; j < (g + 1) * gs; ++j) {
            double hij = s.h[i * k + j];
            lp += (double(w[r * k + i]) - plain[r * k + i]) * hij *
                  (double(w[r * k + j]) - plain[r * k + j]);
            lc += (double(w[r * k + i]) - clipped[r * k + i]) * hij *
                  (double(w[r * k + j]) - clipped[r * k + j]);
          }
        EXPECT_LE(lc, lp * (1 + 1e-9) + 1e-300)
            << "row " << r << " group " << g;
        plainTotal += lp;
        clippedTotal += lc;
      }
    EXPECT_LE(clippedTotal, plainTotal);
    if (groups == 1) {
      // Per-channel: the block is all of H, so the full loss improves too.
      EXPECT_LE(hessianLoss(w.data(), clipped.data(), n, k, s.h.data()),
                hessianLoss(w.data(), plain.data(), n, k, s.h.data()) *
                    (1 + 1e-12));
    }
  }
  WeightQuantConfig bad{StorageKind::Int4, true, 7};
  EXPECT_TRUE(awqSearchClip(w.data(), n, k, s.h.data(), bad).empty());
}

} // namespace
