//===- WeightQuantTest.cpp - RTN, GPTQ and AWQ weight quantization --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every randomized test draws a fresh seed (printed on failure). RTN is
// checked against QuantMath's quantizeTensor, GPTQ against a textbook
// unblocked float64 GPTQ written here (explicit Gauss-Jordan inverse and OBS
// downdates), hessianLoss against ||X W^T - X Wq^T||_F^2 computed directly.
//
//===----------------------------------------------------------------------===//

#include "qopt/Support/WeightQuant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace qnum;

namespace {

unsigned freshSeed() { return std::random_device{}(); }

std::vector<float> randomWeights(std::mt19937 &rng, int64_t n, int64_t k,
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
std::vector<double>
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

std::vector<double> gram(const std::vector<double> &x, int64_t t, int64_t k) {
  std::vector<double> h(static_cast<size_t>(k * k), 0.0);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += x[r * k + i] * x[r * k + j];
  return h;
}

/// ||X W^T - X Wq^T||_F^2 in float64.
double directLoss(const std::vector<double> &x, int64_t t, const float *w,
                  const float *wq, int64_t n, int64_t k) {
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
