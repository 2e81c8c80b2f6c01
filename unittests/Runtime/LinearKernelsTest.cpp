//===- LinearKernelsTest.cpp - Float and quantized linear kernels ---------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Calls kernels::linear and kernels::quantizedLinear directly on fresh random
// inputs. Integer layers must match an int64 accumulation bit for bit; float
// ones a float64 reference within float32 rounding. Each test also checks
// that the result is far from a plausible wrong answer.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"

#include "qopt-runtime/Kernels.h"

#include <cmath>

using namespace qrt::kernels;
using namespace qopt_test;
using qnum::Granularity;
using qnum::StorageKind;
using qnum::TensorScheme;

namespace {

using LinearKernelsTest = RandomTest;

TensorScheme scheme(StorageKind kind, bool symmetric, Granularity g,
                    std::vector<float> scales) {
  TensorScheme s;
  s.kind = kind;
  s.symmetric = symmetric;
  s.granularity = g;
  s.scales = std::move(scales);
  return s;
}

/// Values that float8 e4m3 represents exactly.
std::vector<float> toE4M3(std::vector<float> v) {
  for (float &x : v)
    x = qnum::e4m3fnToFloat(qnum::floatToE4M3FN(x));
  return v;
}

TEST_F(LinearKernelsTest, LinearWithBias) {
  // n > 64 so that several threads take column blocks.
  int64_t m = 5, n = 130, k = 33;
  std::vector<float> x = normal(m * k), w = normal(n * k, 0.3f);
  std::vector<float> bias = uniform(n, -2, 2);
  std::vector<double> want(m * n), tol(m * n), noBias(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double acc = 0, mag = 0;
      for (int64_t i = 0; i < k; ++i) {
        acc += double(x[r * k + i]) * w[c * k + i];
        mag += std::fabs(double(x[r * k + i]) * w[c * k + i]);
      }
      want[r * n + c] = acc + bias[c];
      noBias[r * n + c] = acc;
      tol[r * n + c] = 1e-5 * (mag + std::fabs(bias[c]));
    }
  for (unsigned threads : {1u, 4u}) {
    std::vector<float> y(m * n);
    linear(x.data(), w.data(), bias.data(), y.data(), m, n, k, threads);
    expectWithin(y, want, tol, "linear, threads " + std::to_string(threads));
    EXPECT_GT(maxAbsDiff(y, noBias), 0.1);
  }
  std::vector<float> y(m * n);
  linear(x.data(), w.data(), nullptr, y.data(), m, n, k, 2);
  expectWithin(y, noBias, tol, "linear without bias");
}

/// An int8 W8A8 layer: symmetric per-token inputs, per-channel weights.
/// Rows and columns >= `big` hold large same-sign values, so that their
/// accumulators exceed 2^24 (where a float32 accumulator would round).
struct W8A8 {
  int64_t m = 4, n = 6, k = 1536;
  std::vector<float> x, w, sx, sw;
  TensorScheme tx, tw;

  explicit W8A8(RandomTest &t) {
    x = t.integers(m * k, -127, 127);
    w = t.integers(n * k, -127, 127);
    for (int64_t r = 2; r < m; ++r)
      for (int64_t i = 0; i < k; ++i)
        x[r * k + i] = static_cast<float>(t.pick(100, 127));
    for (int64_t c = 3; c < n; ++c)
      for (int64_t i = 0; i < k; ++i)
        w[c * k + i] = static_cast<float>(t.pick(100, 127));
    sx = t.uniform(m, 1e-3f, 5e-2f);
    sw = t.uniform(n, 1e-3f, 5e-2f);
    tx = scheme(StorageKind::Int8, true, Granularity::perToken(), sx);
    tw = scheme(StorageKind::Int8, true, Granularity::perChannel(0), sw);
  }
  QuantizedLinearArgs args() const {
    QuantizedLinearArgs a;
    a.x = x.data();
    a.w = w.data();
    a.m = m;
    a.n = n;
    a.k = k;
    a.weightScheme = tw;
    a.inputScheme = &tx;
    return a;
  }
  int64_t acc(int64_t r, int64_t c) const {
    int64_t s = 0;
    for (int64_t i = 0; i < k; ++i)
      s += int64_t(x[r * k + i]) * int64_t(w[c * k + i]);
    return s;
  }
  /// The int32 accumulator (plus `intBias`) times the two scales, in float32.
  float exact(int64_t r, int64_t c, const int32_t *intBias) const {
    int64_t a = acc(r, c) + (intBias ? intBias[c] : 0);
    return static_cast<float>(a) * (sx[r] * sw[c]);
  }
};

TEST_F(LinearKernelsTest, W8A8PerTokenPerChannelIsExact) {
  W8A8 l(*this);
  ASSERT_GT(l.acc(3, 5), int64_t(1) << 24);
  std::vector<float> y(l.m * l.n), want(l.m * l.n);
  quantizedLinear(l.args(), y.data(), 3);
  int wrongIfFloat = 0;
  for (int64_t r = 0; r < l.m; ++r)
    for (int64_t c = 0; c < l.n; ++c) {
      want[r * l.n + c] = l.exact(r, c, nullptr);
      // A float32 accumulator, summing in order, rounds the large ones.
      float f = 0;
      for (int64_t i = 0; i < l.k; ++i)
        f += l.x[r * l.k + i] * l.w[c * l.k + i];
      if (f * (l.sx[r] * l.sw[c]) != want[r * l.n + c])
        ++wrongIfFloat;
    }
  expectExact(y, want, "W8A8");
  EXPECT_GT(wrongIfFloat, 0);
}

TEST_F(LinearKernelsTest, W8A8FoldedIntBias) {
  W8A8 l(*this);
  std::vector<int32_t> intBias(l.n);
  for (int32_t &b : intBias)
    b = static_cast<int32_t>(pick(-50000, 50000));
  intBias[0] = 40000;
  QuantizedLinearArgs a = l.args();
  a.intBias = intBias.data();
  std::vector<float> y(l.m * l.n), want(l.m * l.n);
  quantizedLinear(a, y.data(), 2);
  for (int64_t r = 0; r < l.m; ++r)
    for (int64_t c = 0; c < l.n; ++c)
      want[r * l.n + c] = l.exact(r, c, intBias.data());
  expectExact(y, want, "W8A8 with int_bias");
  // Without the bias column 0 is off by 40000 * sx * sw.
  EXPECT_NE(y[0], l.exact(0, 0, nullptr));
}

TEST_F(LinearKernelsTest, W8A8SiluResidualEpilogue) {
  W8A8 l(*this);
  std::vector<float> bias = uniform(l.n, -1, 1);
  std::vector<float> residual = normal(l.m * l.n, 2.0f);
  QuantizedLinearArgs a = l.args();
  a.bias = bias.data();
  a.activation = Activation::Silu;
  a.residual = residual.data();
  std::vector<float> y(l.m * l.n);
  quantizedLinear(a, y.data(), 2);
  std::vector<double> want(l.m * l.n), tol(l.m * l.n), noRes(l.m * l.n),
      noAct(l.m * l.n);
  for (int64_t r = 0; r < l.m; ++r)
    for (int64_t c = 0; c < l.n; ++c) {
      size_t i = r * l.n + c;
      double u = l.exact(r, c, nullptr) + double(bias[c]);
      double s = u / (1 + std::exp(-u));
      want[i] = s + residual[i];
      noRes[i] = s;
      noAct[i] = u + residual[i];
      tol[i] = 1e-5 * (std::fabs(u) + std::fabs(residual[i]));
    }
  expectWithin(y, want, tol, "silu + residual epilogue");
  EXPECT_GT(maxAbsDiff(y, noRes), 0.1);
  EXPECT_GT(maxAbsDiff(y, noAct), 0.1);
}

TEST_F(LinearKernelsTest, Fp8E4M3PerChannel) {
  int64_t m = 5, n = 9, k = 96;
  std::vector<float> x = toE4M3(uniform(m * k, -300, 300));
  std::vector<float> w = toE4M3(uniform(n * k, -300, 300));
  std::vector<float> sx = uniform(m, 1e-3f, 1e-2f);
  std::vector<float> sw = uniform(n, 1e-3f, 1e-2f);
  TensorScheme tx =
      scheme(StorageKind::Float8E4M3FN, true, Granularity::perToken(), sx);
  QuantizedLinearArgs a;
  a.x = x.data();
  a.w = w.data();
  a.m = m;
  a.n = n;
  a.k = k;
  a.weightScheme =
      scheme(StorageKind::Float8E4M3FN, true, Granularity::perChannel(0), sw);
  a.inputScheme = &tx;
  std::vector<float> y(m * n);
  quantizedLinear(a, y.data(), 2);
  std::vector<double> want(m * n), tol(m * n), unscaled(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double acc = 0, mag = 0;
      for (int64_t i = 0; i < k; ++i) {
        acc += double(x[r * k + i]) * w[c * k + i];
        mag += std::fabs(double(x[r * k + i]) * w[c * k + i]);
      }
      double s = double(sx[r]) * sw[c];
      want[r * n + c] = acc * s;
      unscaled[r * n + c] = acc * sw[c];
      tol[r * n + c] = 1e-5 * mag * s;
    }
  expectWithin(y, want, tol, "fp8 e4m3 per-channel");
  EXPECT_GT(maxAbsDiff(y, unscaled), 10 * maxAbs(want) * 1e-2);
}

TEST_F(LinearKernelsTest, Fp8BlockWeightsWithPartialKBlock) {
  // 128x128 weight blocks; K = 2 * 128 + 44 and N = 128 + 8 leave partial
  // blocks in both directions.
  int64_t m = 3, n = 136, k = 300, blk = 128;
  int64_t kBlocks = (k + blk - 1) / blk, nBlocks = (n + blk - 1) / blk;
  Granularity g = Granularity::block(blk, blk);
  ASSERT_EQ(qnum::numScales(g, {n, k}), nBlocks * kBlocks);
  std::vector<float> x = toE4M3(uniform(m * k, -100, 100));
  std::vector<float> w = toE4M3(uniform(n * k, -100, 100));
  std::vector<float> sx = uniform(m, 1e-3f, 1e-2f);
  std::vector<float> sw = uniform(nBlocks * kBlocks, 1e-3f, 1e-1f);
  TensorScheme tx =
      scheme(StorageKind::Float8E4M3FN, true, Granularity::perToken(), sx);
  QuantizedLinearArgs a;
  a.x = x.data();
  a.w = w.data();
  a.m = m;
  a.n = n;
  a.k = k;
  a.weightScheme = scheme(StorageKind::Float8E4M3FN, true, g, sw);
  a.inputScheme = &tx;
  std::vector<float> y(m * n);
  quantizedLinear(a, y.data(), 2);
  std::vector<double> want(m * n), tol(m * n), oneScale(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double sum = 0, mag = 0, first = 0;
      for (int64_t kb = 0; kb < kBlocks; ++kb) {
        double acc = 0, accMag = 0;
        for (int64_t i = kb * blk; i < std::min(k, (kb + 1) * blk); ++i) {
          acc += double(x[r * k + i]) * w[c * k + i];
          accMag += std::fabs(double(x[r * k + i]) * w[c * k + i]);
        }
        double s = double(sx[r]) * sw[(c / blk) * kBlocks + kb];
        sum += acc * s;
        mag += accMag * s;
        first += acc * double(sx[r]) * sw[(c / blk) * kBlocks];
      }
      want[r * n + c] = sum;
      oneScale[r * n + c] = first;
      tol[r * n + c] = 1e-5 * mag;
    }
  expectWithin(y, want, tol, "fp8 128x128 blocks");
  // One scale per row of blocks (the first K-block's) is far off.
  EXPECT_GT(maxAbsDiff(y, oneScale), 1e-2 * maxAbs(want));
}

TEST_F(LinearKernelsTest, W4A16PerGroupAsymmetric) {
  int64_t m = 5, n = 10, k = 96, group = 32, groups = k / group;
  Granularity g = Granularity::perGroup(1, group);
  ASSERT_EQ(qnum::numScales(g, {n, k}), n * groups);
  qnum::StorageRange range = qnum::storageRange(StorageKind::Int4, false);
  int lo = static_cast<int>(range.min), hi = static_cast<int>(range.max);
  std::vector<float> w = integers(n * k, lo, hi);
  std::vector<float> x = normal(m * k);
  TensorScheme tw =
      scheme(StorageKind::Int4, false, g, uniform(n * groups, 1e-2f, 1e-1f));
  tw.zeroPoints.resize(n * groups);
  for (int32_t &z : tw.zeroPoints)
    z = static_cast<int32_t>(pick(lo, hi));
  tw.zeroPoints[0] = hi; // at least one large zero point
  QuantizedLinearArgs a;
  a.x = x.data();
  a.w = w.data();
  a.m = m;
  a.n = n;
  a.k = k;
  a.weightScheme = tw;
  std::vector<float> y(m * n);
  quantizedLinear(a, y.data(), 2);
  // w = (q - zero_point) * scale in float32, then a float64 GEMM.
  std::vector<double> want(m * n), tol(m * n), noZero(m * n);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < n; ++c) {
      double acc = 0, mag = 0, accNoZero = 0;
      for (int64_t i = 0; i < k; ++i) {
        int64_t s = c * groups + i / group;
        float q = w[c * k + i];
        float wd = (q - static_cast<float>(tw.zeroPoints[s])) * tw.scales[s];
        acc += double(x[r * k + i]) * wd;
        mag += std::fabs(double(x[r * k + i]) * wd);
        accNoZero += double(x[r * k + i]) * double(q * tw.scales[s]);
      }
      want[r * n + c] = acc;
      noZero[r * n + c] = accNoZero;
      tol[r * n + c] = 1e-5 * mag;
    }
  expectWithin(y, want, tol, "W4A16 per-group asymmetric");
  EXPECT_GT(maxAbsDiff(y, noZero), 0.1);
}

} // namespace
