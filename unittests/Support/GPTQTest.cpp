//===- GPTQTest.cpp - GPTQ weight quantization ----------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every randomized test draws a fresh seed (printed on failure). GPTQ is
// checked against a textbook unblocked float64 GPTQ written here (explicit
// Gauss-Jordan inverse and OBS downdates).
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
// GPTQ
//===----------------------------------------------------------------------===//

/// Textbook GPTQ in float64: explicit inverse of the dampened Hessian by
/// Gauss-Jordan, then column by column: quantize, spread the scaled error
/// over the remaining columns, and remove the column from the inverse with
/// the OBS rank-1 downdate. A group's parameters come from the current
/// (error-updated) weights of all its columns when the first of them is
/// reached.
struct RefResult {
  std::vector<float> q, scales, dq;
  std::vector<int32_t> zeroPoints;
};

std::vector<double> gaussJordanInverse(std::vector<double> a, int64_t k) {
  std::vector<double> inv(static_cast<size_t>(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i)
    inv[i * k + i] = 1.0;
  for (int64_t c = 0; c < k; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < k; ++r)
      if (std::fabs(a[r * k + c]) > std::fabs(a[piv * k + c]))
        piv = r;
    for (int64_t j = 0; j < k; ++j) {
      std::swap(a[c * k + j], a[piv * k + j]);
      std::swap(inv[c * k + j], inv[piv * k + j]);
    }
    double d = a[c * k + c];
    for (int64_t j = 0; j < k; ++j) {
      a[c * k + j] /= d;
      inv[c * k + j] /= d;
    }
    for (int64_t r = 0; r < k; ++r) {
      if (r == c)
        continue;
      double f = a[r * k + c];
      if (f == 0.0)
        continue;
      for (int64_t j = 0; j < k; ++j) {
        a[r * k + j] -= f * a[c * k + j];
        inv[r * k + j] -= f * inv[c * k + j];
      }
    }
  }
  return inv;
}

RefResult referenceGPTQ(const std::vector<float> &w, int64_t n, int64_t k,
                        const std::vector<double> &h0,
                        const WeightQuantConfig &cfg, double dampening,
                        bool actOrder) {
  std::vector<double> h = h0;
  std::vector<double> wd(w.begin(), w.end());
  for (int64_t j = 0; j < k; ++j)
    if (h[j * k + j] == 0.0) {
      h[j * k + j] = 1.0;
      for (int64_t r = 0; r < n; ++r)
        wd[r * k + j] = 0.0;
    }
  std::vector<int64_t> perm(static_cast<size_t>(k));
  std::iota(perm.begin(), perm.end(), 0);
  if (actOrder)
    std::sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      double da = h[a * k + a], db = h[b * k + b];
      return da != db ? da > db : a < b; // stable
    });
  // Permute W's columns and H.
  std::vector<double> wp(wd.size()), hp(h.size());
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < k; ++j)
      wp[r * k + j] = wd[r * k + perm[j]];
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      hp[i * k + j] = h[perm[i] * k + perm[j]];
  double mean = 0.0;
  for (int64_t i = 0; i < k; ++i)
    mean += hp[i * k + i];
  mean /= k;
  for (int64_t i = 0; i < k; ++i)
    hp[i * k + i] += dampening * mean;
  std::vector<double> hinv = gaussJordanInverse(hp, k);

  StorageRange range = storageRange(cfg.kind, cfg.symmetric);
  int32_t qmin = int32_t(range.min), qmax = int32_t(range.max);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  std::vector<int64_t> pos(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j)
    pos[perm[j]] = j;
  RefResult res;
  res.q.assign(n * k, 0.0f);
  res.dq.assign(n * k, 0.0f);
  res.scales.assign(n * groups, 0.0f);
  if (!cfg.symmetric)
    res.zeroPoints.assign(n * groups, 0);
  std::vector<bool> seen(groups, false);
  for (int64_t j = 0; j < k; ++j) {
    int64_t g = perm[j] / gs;
    if (!seen[g]) {
      seen[g] = true;
      for (int64_t r = 0; r < n; ++r) {
        float lo = 0.0f, hi = 0.0f, am = 0.0f;
        for (int64_t c = g * gs; c < (g + 1) * gs; ++c) {
          float v = float(wp[r * k + pos[c]]);
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          am = std::max(am, std::fabs(v));
        }
        if (cfg.symmetric) {
          res.scales[r * groups + g] = symmetricScale(am, qmax);
        } else {
          AffineParams p = asymmetricParams(lo, hi, qmin, qmax);
          res.scales[r * groups + g] = p.scale;
          res.zeroPoints[r * groups + g] = p.zeroPoint;
        }
      }
    }
    double d = hinv[j * k + j];
    for (int64_t r = 0; r < n; ++r) {
      float scale = res.scales[r * groups + g];
      int32_t zp = cfg.symmetric ? 0 : res.zeroPoints[r * groups + g];
      int32_t q = quantizeInt(float(wp[r * k + j]), scale, zp, qmin, qmax);
      float dq = dequantizeInt(q, scale, zp);
      res.q[r * k + perm[j]] = float(q);
      res.dq[r * k + perm[j]] = dq;
      double err = (wp[r * k + j] - double(dq)) / d;
      for (int64_t c = j + 1; c < k; ++c)
        wp[r * k + c] -= err * hinv[j * k + c];
    }
    // OBS downdate: Hinv <- Hinv - Hinv[:, j] Hinv[j, :] / Hinv[j, j].
    for (int64_t a = j + 1; a < k; ++a) {
      double f = hinv[a * k + j] / d;
      for (int64_t b = j + 1; b < k; ++b)
        hinv[a * k + b] -= f * hinv[j * k + b];
    }
  }
  return res;
}

struct GPTQCase {
  StorageKind kind;
  bool symmetric;
  int64_t groupSize;
  bool actOrder;
};

std::string caseName(const GPTQCase &c) {
  return std::string(storageName(c.kind)) + (c.symmetric ? " sym" : " asym") +
         " group " + std::to_string(c.groupSize) +
         (c.actOrder ? " act-order" : "");
}

/// Runs GPTQ and the reference on one case and checks that they agree up to
/// a few rounding ties.
void compareWithReference(std::mt19937 &rng, const GPTQCase &c, int64_t n,
                          int64_t k, int64_t blockSize) {
  SCOPED_TRACE(caseName(c) + " n " + std::to_string(n) + " k " +
               std::to_string(k) + " block " + std::to_string(blockSize));
  const int64_t t = 256;
  std::vector<double> x = correlatedActivations(rng, t, k);
  std::vector<double> h = gram(x, t, k);
  std::vector<float> w = randomWeights(rng, n, k);
  WeightQuantConfig cfg{c.kind, c.symmetric, c.groupSize};
  GPTQOptions opts;
  opts.blockSize = blockSize;
  opts.actOrder = c.actOrder;
  QuantizedWeight qw;
  std::string error;
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, h.data(), cfg, opts, qw, error))
      << error;
  RefResult ref = referenceGPTQ(w, n, k, h, cfg, opts.dampening, opts.actOrder);
  int64_t groups = numGroups(cfg, k), gs = k / groups;
  std::vector<float> dq = qw.dequantize();
  int64_t mismatches = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < k; ++j) {
      int64_t i = r * k + j;
      if (qw.q[i] != ref.q[i])
        ++mismatches;
      float step = std::max(qw.scales[r * groups + j / gs],
                            ref.scales[r * groups + j / gs]);
      EXPECT_LE(std::fabs(dq[i] - ref.dq[i]), step * 1.0001f)
          << "row " << r << " column " << j;
    }
  EXPECT_LE(mismatches * 100, n * k) << mismatches << " mismatching values";
  for (size_t i = 0; i < ref.scales.size(); ++i)
    EXPECT_NEAR(qw.scales[i], ref.scales[i], 1e-5 * ref.scales[i]);
  if (!c.symmetric) {
    int64_t zpMismatches = 0;
    for (size_t i = 0; i < ref.zeroPoints.size(); ++i)
      zpMismatches += qw.zeroPoints[i] != ref.zeroPoints[i];
    EXPECT_LE(zpMismatches * 100, int64_t(ref.zeroPoints.size()));
  } else {
    EXPECT_TRUE(qw.zeroPoints.empty());
  }
}

TEST(WeightQuantGPTQ, MatchesReference) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const GPTQCase cases[] = {
      {StorageKind::Int4, true, 8, false},
      {StorageKind::Int4, false, 8, false},
      {StorageKind::Int8, true, 8, false},
      {StorageKind::Int4, true, 0, false},
      {StorageKind::Int4, false, 0, false},
      {StorageKind::Int8, true, 0, false},
      {StorageKind::Int4, true, 0, true},
      {StorageKind::Int4, false, 0, true},
      {StorageKind::Int8, true, 0, true},
      {StorageKind::Int8, false, 0, true},
  };
  for (const GPTQCase &c : cases)
    compareWithReference(rng, c, 8, 32, 128);
}

TEST(WeightQuantGPTQ, MatchesReferenceAcrossBlocks) {
  // Several blocks (lazy batch updates), blocks not aligned with groups, and
  // static groups with act-order (group parameters fixed from weights that
  // still have pending block updates).
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const GPTQCase cases[] = {
      {StorageKind::Int4, true, 16, false},
      {StorageKind::Int4, false, 32, false},
      {StorageKind::Int4, true, 16, true},
      {StorageKind::Int4, false, 32, true},
      {StorageKind::Int8, true, 0, true},
  };
  for (const GPTQCase &c : cases)
    for (int64_t bs : {7, 24, 64})
      compareWithReference(rng, c, 21, 96, bs);
}

TEST(WeightQuantGPTQ, BeatsRTN) {
  // On 8 x 32 weights GPTQ loses to RTN about once in a few hundred draws
  // (small groups saturate after the error updates); 64 x 128 is enough for
  // the comparison to be reliable.
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 64, k = 128, t = 256;
  std::vector<double> x = correlatedActivations(rng, t, k);
  std::vector<double> h = gram(x, t, k);
  std::vector<float> w = randomWeights(rng, n, k);
  for (const GPTQCase &c :
       {GPTQCase{StorageKind::Int4, true, 8, false},
        GPTQCase{StorageKind::Int4, false, 8, false},
        GPTQCase{StorageKind::Int8, true, 8, false},
        GPTQCase{StorageKind::Int4, true, 32, false},
        GPTQCase{StorageKind::Int4, false, 0, true},
        GPTQCase{StorageKind::Int8, true, 0, false},
        GPTQCase{StorageKind::Int8, false, 0, true},
        GPTQCase{StorageKind::Float8E4M3FN, true, 0, false}}) {
    SCOPED_TRACE(caseName(c));
    WeightQuantConfig cfg{c.kind, c.symmetric, c.groupSize};
    GPTQOptions opts;
    opts.actOrder = c.actOrder;
    opts.blockSize = 32;
    QuantizedWeight qw;
    std::string error;
    ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, h.data(), cfg, opts, qw, error))
        << error;
    std::vector<float> dq = qw.dequantize();
    std::vector<float> rtn = quantizeRTN(w.data(), n, k, cfg).dequantize();
    double gptqLoss = hessianLoss(w.data(), dq.data(), n, k, h.data());
    double rtnLoss = hessianLoss(w.data(), rtn.data(), n, k, h.data());
    EXPECT_LT(gptqLoss, rtnLoss);
    EXPECT_NEAR(gptqLoss, directLoss(x, t, w.data(), dq.data(), n, k),
                1e-9 * gptqLoss);
  }
}

TEST(WeightQuantGPTQ, ThreadsAndSharedFactor) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  // Large enough for several threads and several Cholesky panels.
  const int64_t n = 200, k = 320, t = 400;
  std::vector<double> x = correlatedActivations(rng, t, k);
  std::vector<double> h = gram(x, t, k);
  std::vector<float> w = randomWeights(rng, n, k);
  WeightQuantConfig cfg{StorageKind::Int4, false, 64};
  GPTQOptions one, four;
  one.threads = 1;
  one.actOrder = four.actOrder = true;
  four.threads = 4;
  QuantizedWeight a, b, c;
  std::string error;
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, h.data(), cfg, one, a, error));
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, h.data(), cfg, four, b, error));
  EXPECT_EQ(a.q, b.q);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.zeroPoints, b.zeroPoints);
  GPTQFactor f1, f4;
  ASSERT_TRUE(factorGPTQHessian(h.data(), k, one, f1, error));
  ASSERT_TRUE(factorGPTQHessian(h.data(), k, four, f4, error));
  EXPECT_EQ(f1.u, f4.u);
  EXPECT_EQ(f1.perm, f4.perm);
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, f4, cfg, one, c, error));
  EXPECT_EQ(a.q, c.q);

  // U^T U is the inverse of the dampened, permuted Hessian.
  std::vector<double> hp(k * k);
  double mean = 0.0;
  for (int64_t i = 0; i < k; ++i)
    mean += h[i * k + i];
  mean /= k;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      hp[i * k + j] = h[f1.perm[i] * k + f1.perm[j]] +
                      (i == j ? one.dampening * mean : 0.0);
  // (U^T U) Hp = I, checked on a few columns.
  for (int64_t col : {int64_t(0), k / 3, k - 1}) {
    std::vector<double> y(k, 0.0), z(k, 0.0);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = i; j < k; ++j)
        y[i] += f1.u[i * k + j] * hp[j * k + col];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j <= i; ++j)
        z[i] += f1.u[j * k + i] * y[j];
    for (int64_t i = 0; i < k; ++i)
      EXPECT_NEAR(z[i], i == col ? 1.0 : 0.0, 1e-8) << i << ", " << col;
  }
}

TEST(WeightQuant, ThreadCountInvariance) {
  // Large enough that every parallel loop (Cholesky panels and trailing
  // updates, triangular inverse, GPTQ sweep, losses, AWQ searches) really
  // runs on several threads; results must be bit-identical to one thread.
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 96, k = 768, rank = 24;
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<double> a(k * rank);
  for (double &v : a)
    v = nd(rng);
  std::vector<double> h(k * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double v = i == j ? 0.5 : 0.0;
      for (int64_t m = 0; m < rank; ++m)
        v += a[i * rank + m] * a[j * rank + m];
      h[i * k + j] = h[j * k + i] = v;
    }
  std::vector<float> w = randomWeights(rng, n, k);
  WeightQuantConfig cfg{StorageKind::Int4, true, 128};
  GPTQOptions one, many;
  one.threads = 1;
  many.threads = 3;
  one.actOrder = many.actOrder = true;
  GPTQFactor f1, f3;
  std::string error;
  ASSERT_TRUE(factorGPTQHessian(h.data(), k, one, f1, error)) << error;
  ASSERT_TRUE(factorGPTQHessian(h.data(), k, many, f3, error)) << error;
  EXPECT_TRUE(f1.u == f3.u);
  QuantizedWeight q1, q3;
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, f1, cfg, one, q1, error));
  ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, f1, cfg, many, q3, error));
  EXPECT_TRUE(q1.q == q3.q);
  EXPECT_TRUE(q1.scales == q3.scales);
  std::vector<float> dq = q1.dequantize();
  EXPECT_EQ(hessianLoss(w.data(), dq.data(), n, k, h.data(), 1),
            hessianLoss(w.data(), dq.data(), n, k, h.data(), 3));
  std::vector<float> xScale(k);
  std::uniform_real_distribution<float> mag(0.1f, 3.0f);
  for (float &x : xScale)
    x = mag(rng);
  double best1, rtn1, best3, rtn3;
  std::vector<float> s1 = awqSearchScales({w.data()}, {n}, k, h.data(), xScale,
                                          cfg, 4, &best1, &rtn1, 1);
  std::vector<float> s3 = awqSearchScales({w.data()}, {n}, k, h.data(), xScale,
                                          cfg, 4, &best3, &rtn3, 3);
  EXPECT_TRUE(s1 == s3);
  EXPECT_EQ(best1, best3);
  EXPECT_EQ(rtn1, rtn3);
  EXPECT_TRUE(awqSearchClip(w.data(), n, k, h.data(), cfg, 4, 0.5, 1) ==
              awqSearchClip(w.data(), n, k, h.data(), cfg, 4, 0.5, 3));
}

TEST(WeightQuantGPTQ, DeadInputsAndErrors) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  const int64_t n = 6, k = 24, t = 64;
  std::vector<double> x = correlatedActivations(rng, t, k);
  for (int64_t r = 0; r < t; ++r)
    x[r * k + 5] = x[r * k + 17] = 0.0;
  std::vector<double> h = gram(x, t, k);
  std::vector<float> w = randomWeights(rng, n, k);
  for (bool actOrder : {false, true}) {
    WeightQuantConfig cfg{StorageKind::Int4, false, 8};
    GPTQOptions opts;
    opts.actOrder = actOrder;
    QuantizedWeight qw;
    std::string error;
    ASSERT_TRUE(quantizeGPTQ(w.data(), n, k, h.data(), cfg, opts, qw, error))
        << error;
    std::vector<float> dq = qw.dequantize();
    for (int64_t r = 0; r < n; ++r) {
      EXPECT_EQ(dq[r * k + 5], 0.0f);
      EXPECT_EQ(dq[r * k + 17], 0.0f);
    }
    RefResult ref = referenceGPTQ(w, n, k, h, cfg, opts.dampening, actOrder);
    int64_t mismatches = 0;
    for (size_t i = 0; i < ref.q.size(); ++i)
      mismatches += qw.q[i] != ref.q[i];
    EXPECT_LE(mismatches * 100, n * k);
  }

  // Not positive definite, even after dampening.
  std::vector<double> neg(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    neg[i * k + i] = i == 3 ? -1.0 : 1.0;
  QuantizedWeight qw;
  std::string error;
  WeightQuantConfig cfg;
  EXPECT_FALSE(quantizeGPTQ(w.data(), n, k, neg.data(), cfg, {}, qw, error));
  EXPECT_EQ(error,
            "the Hessian is not positive definite after dampening (at input "
            "3)");
  GPTQOptions badBlock;
  badBlock.blockSize = 0;
  EXPECT_FALSE(
      quantizeGPTQ(w.data(), n, k, h.data(), cfg, badBlock, qw, error));
  EXPECT_EQ(error, "GPTQ block size must be positive, got 0");
}

} // namespace
