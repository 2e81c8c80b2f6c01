//===- RTNTest.cpp - RTN weight quantization and the Hessian loss ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every randomized test draws a fresh seed (printed on failure). RTN is
// checked against QuantMath's quantizeTensor, hessianLoss against
// ||X W^T - X Wq^T||_F^2 computed directly.
//
//===----------------------------------------------------------------------===//

#include "WeightQuantTestUtils.h"
#include "qopt/Support/WeightQuant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

using namespace qnum;
using namespace qnum::wqtest;

namespace {

//===----------------------------------------------------------------------===//
// Configuration and RTN
//===----------------------------------------------------------------------===//

TEST(WeightQuantConfig, Check) {
  WeightQuantConfig cfg;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384), "");
  cfg.groupSize = 128;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384), "");
  EXPECT_EQ(numGroups(cfg, 384), 3);
  cfg.groupSize = 100;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384),
            "group size 100 does not divide the input dimension 384");
  cfg.groupSize = -1;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384),
            "group size must be non-negative, got -1");
  cfg.groupSize = 0;
  EXPECT_EQ(numGroups(cfg, 384), 1);
  cfg.kind = StorageKind::Float8E4M3FN;
  cfg.symmetric = false;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384),
            "asymmetric quantization is not supported for f8E4M3FN storage");
  cfg.kind = StorageKind::Int4;
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 384), "");
  EXPECT_EQ(checkWeightQuantConfig(cfg, 16, 0), "invalid weight shape [16, 0]");

  // Rejected configurations produce nothing.
  cfg.groupSize = 100;
  std::vector<float> w(16 * 384, 0.5f);
  EXPECT_TRUE(quantizeRTN(w.data(), 16, 384, cfg).q.empty());
  QuantizedWeight out;
  std::string error;
  std::vector<double> h(384 * 384, 0.0);
  for (int i = 0; i < 384; ++i)
    h[i * 384 + i] = 1.0;
  EXPECT_FALSE(quantizeGPTQ(w.data(), 16, 384, h.data(), cfg, {}, out, error));
  EXPECT_EQ(error, "group size 100 does not divide the input dimension 384");
}

struct RTNCase {
  StorageKind kind;
  bool symmetric;
  int64_t groupSize;
};

TEST(WeightQuantRTN, MatchesQuantizeTensor) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 24, k = 96;
  const RTNCase cases[] = {
      {StorageKind::Int8, true, 0},
      {StorageKind::Int8, true, 32},
      {StorageKind::Int4, true, 0},
      {StorageKind::Int4, true, 16},
      {StorageKind::Int4, false, 0},
      {StorageKind::Int4, false, 32},
      {StorageKind::Int8, false, 48},
      {StorageKind::Float8E4M3FN, true, 0},
      {StorageKind::Float8E4M3FN, true, 32},
  };
  for (const RTNCase &c : cases) {
    SCOPED_TRACE(std::string(storageName(c.kind)) +
                 (c.symmetric ? " sym" : " asym") + " group " +
                 std::to_string(c.groupSize));
    std::vector<float> w = randomWeights(rng, n, k);
    // Some all-positive rows, an all-zero row and a few outliers.
    for (int64_t j = 0; j < k; ++j) {
      w[3 * k + j] = std::fabs(w[3 * k + j]);
      w[5 * k + j] = 0.0f;
    }
    w[7 * k + 11] = 3.0f;
    w[9 * k + 50] = -2.0f;
    WeightQuantConfig cfg{c.kind, c.symmetric, c.groupSize};
    QuantizedWeight qw = quantizeRTN(w.data(), n, k, cfg);

    TensorScheme scheme;
    scheme.kind = c.kind;
    scheme.symmetric = c.symmetric;
    scheme.granularity = c.groupSize ? Granularity::perGroup(1, c.groupSize)
                                     : Granularity::perChannel(0);
    std::vector<int64_t> shape{n, k};
    computeDynamicParams(w.data(), shape, scheme);
    std::vector<float> q(w.size()), dq(w.size());
    quantizeTensor(w.data(), shape, scheme, q.data());
    dequantizeTensor(q.data(), shape, scheme, dq.data());

    ASSERT_EQ(qw.n, n);
    ASSERT_EQ(qw.k, k);
    ASSERT_EQ(qw.scales.size(), scheme.scales.size());
    for (size_t i = 0; i < scheme.scales.size(); ++i)
      ASSERT_EQ(qw.scales[i], scheme.scales[i]) << "scale " << i;
    if (c.symmetric) {
      EXPECT_TRUE(qw.zeroPoints.empty());
    } else {
      ASSERT_EQ(qw.zeroPoints, scheme.zeroPoints);
    }
    for (size_t i = 0; i < q.size(); ++i)
      ASSERT_EQ(qw.q[i], q[i]) << "element " << i;
    std::vector<float> mine = qw.dequantize();
    for (size_t i = 0; i < dq.size(); ++i)
      ASSERT_EQ(mine[i], dq[i]) << "element " << i;
  }
}

TEST(WeightQuantRTN, Clip) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 4, k = 64, gs = 16, groups = k / gs;
  std::vector<float> w = randomWeights(rng, n, k);
  std::uniform_real_distribution<float> ratio(0.5f, 1.0f);
  std::vector<float> clip(n * groups);
  for (float &c : clip)
    c = ratio(rng);
  for (bool sym : {true, false}) {
    WeightQuantConfig cfg{StorageKind::Int4, sym, gs};
    QuantizedWeight qw = quantizeRTN(w.data(), n, k, cfg, clip.data());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t g = 0; g < groups; ++g) {
        float lo = 0, hi = 0, am = 0;
        for (int64_t j = g * gs; j < (g + 1) * gs; ++j) {
          lo = std::min(lo, w[r * k + j]);
          hi = std::max(hi, w[r * k + j]);
          am = std::max(am, std::fabs(w[r * k + j]));
        }
        float c = clip[r * groups + g];
        float scale;
        int32_t zp = 0;
        if (sym) {
          scale = symmetricScale(am * c, 7);
        } else {
          AffineParams p = asymmetricParams(lo * c, hi * c, -8, 7);
          scale = p.scale;
          zp = p.zeroPoint;
          EXPECT_EQ(qw.zeroPoints[r * groups + g], zp);
        }
        EXPECT_EQ(qw.scales[r * groups + g], scale);
        for (int64_t j = g * gs; j < (g + 1) * gs; ++j)
          EXPECT_EQ(qw.q[r * k + j], float(quantizeInt(w[r * k + j], scale, zp,
                                                       sym ? -7 : -8, 7)));
      }
  }
}

//===----------------------------------------------------------------------===//
// hessianLoss
//===----------------------------------------------------------------------===//

TEST(WeightQuantHessianLoss, MatchesDirect) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (int64_t k : {1, 7, 33, 96}) {
    const int64_t n = 13, t = 200;
    std::vector<double> x = correlatedActivations(rng, t, k);
    std::vector<double> h = gram(x, t, k);
    std::vector<float> w = randomWeights(rng, n, k);
    WeightQuantConfig cfg{StorageKind::Int4, true, 0};
    std::vector<float> wq = quantizeRTN(w.data(), n, k, cfg).dequantize();
    double expected = directLoss(x, t, w.data(), wq.data(), n, k);
    double got = hessianLoss(w.data(), wq.data(), n, k, h.data());
    EXPECT_NEAR(got, expected, 1e-9 * expected) << "k = " << k;
    // Any thread count gives the same bits.
    EXPECT_EQ(hessianLoss(w.data(), wq.data(), n, k, h.data(), 1),
              hessianLoss(w.data(), wq.data(), n, k, h.data(), 3));
  }
}

TEST(WeightQuantRTN, ThreadCountInvariance) {
  // Large enough to be split over several threads; the results must be
  // bit-identical to one thread's.
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 1024, k = 1024;
  std::vector<float> w = randomWeights(rng, n, k);
  for (WeightQuantConfig cfg :
       {WeightQuantConfig{StorageKind::Int4, true, 128},
        WeightQuantConfig{StorageKind::Int4, false, 64},
        WeightQuantConfig{StorageKind::Int8, true, 0}}) {
    QuantizedWeight q1 = quantizeRTN(w.data(), n, k, cfg, nullptr, 1);
    QuantizedWeight q3 = quantizeRTN(w.data(), n, k, cfg, nullptr, 3);
    EXPECT_TRUE(q1.q == q3.q);
    EXPECT_TRUE(q1.scales == q3.scales);
    EXPECT_TRUE(q1.zeroPoints == q3.zeroPoints);
    std::vector<float> d1 = q1.dequantize(1), d3 = q1.dequantize(3);
    EXPECT_EQ(0, std::memcmp(d1.data(), d3.data(), d1.size() * 4));
  }
  for (Granularity g :
       {Granularity::perChannel(0), Granularity::perChannel(1),
        Granularity::perGroup(1, 128), Granularity::perGroup(0, 16),
        Granularity::block(128, 128), Granularity::perToken(),
        Granularity::perHead(0, 8), Granularity::perTensor()}) {
    for (StorageKind kind : {StorageKind::Int8, StorageKind::Float8E4M3FN}) {
      TensorScheme s1, s3;
      s1.kind = s3.kind = kind;
      s1.symmetric = s3.symmetric = kind != StorageKind::Int8;
      s1.granularity = s3.granularity = g;
      computeDynamicParams(w.data(), {n, k}, s1, 1);
      computeDynamicParams(w.data(), {n, k}, s3, 3);
      EXPECT_TRUE(s1.scales == s3.scales);
      EXPECT_TRUE(s1.zeroPoints == s3.zeroPoints);
      std::vector<float> q1(w.size()), q3(w.size()), x1(w.size()), x3(w.size());
      quantizeTensor(w.data(), {n, k}, s1, q1.data(), 1);
      quantizeTensor(w.data(), {n, k}, s1, q3.data(), 3);
      EXPECT_EQ(0, std::memcmp(q1.data(), q3.data(), q1.size() * 4));
      dequantizeTensor(q1.data(), {n, k}, s1, x1.data(), 1);
      dequantizeTensor(q1.data(), {n, k}, s1, x3.data(), 3);
      EXPECT_EQ(0, std::memcmp(x1.data(), x3.data(), x1.size() * 4));
    }
  }
}

} // namespace
