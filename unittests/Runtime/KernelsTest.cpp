//===- KernelsTest.cpp - Elementwise, RoPE and attention kernels ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Calls the reference kernels of qopt-runtime/Kernels.h directly, on fresh
// random inputs, against float64 references written here from the
// documented semantics. Tolerances allow float32 rounding only; integer and
// copy results are compared exactly. Where it is cheap, each test also checks
// that the result is far from a plausible wrong answer.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"

#include "qopt-runtime/Kernels.h"

#include <cmath>

using namespace qrt::kernels;
using namespace qopt_test;

namespace {

using KernelsTest = RandomTest;

//===----------------------------------------------------------------------===//
// Embedding, normalization, elementwise
//===----------------------------------------------------------------------===//

TEST_F(KernelsTest, EmbeddingCopiesRows) {
  int64_t rows = 17, hidden = 9, n = 23;
  std::vector<float> table = normal(rows * hidden);
  std::vector<int32_t> ids(n);
  for (int32_t &id : ids)
    id = static_cast<int32_t>(pick(0, rows - 1));
  ids[0] = 0;
  ids[1] = static_cast<int32_t>(rows - 1);
  std::vector<float> out(n * hidden, -1.0f), want(n * hidden);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < hidden; ++c)
      want[t * hidden + c] = table[ids[t] * hidden + c];
  std::string error;
  ASSERT_TRUE(
      embedding(table.data(), rows, hidden, ids.data(), n, out.data(), error))
      << error;
  expectExact(out, want, "embedding");
}

TEST_F(KernelsTest, EmbeddingRejectsOutOfRangeIds) {
  int64_t rows = 5, hidden = 3;
  std::vector<float> table = normal(rows * hidden), out(2 * hidden);
  for (int32_t bad : {int32_t(5), int32_t(-1), int32_t(1000)}) {
    std::vector<int32_t> ids = {2, bad};
    std::string error;
    EXPECT_FALSE(embedding(table.data(), rows, hidden, ids.data(), 2,
                           out.data(), error));
    EXPECT_EQ(error, "token id " + std::to_string(bad) +
                         " is out of range for an embedding table of 5 rows");
  }
}

TEST_F(KernelsTest, RmsNorm) {
  int64_t rows = 7, hidden = 48;
  // A large eps, so that leaving it out (or adding it outside the root) is
  // far outside the tolerance.
  float eps = 0.25f;
  std::vector<float> x = normal(rows * hidden, 0.7f),
                     w = uniform(hidden, -2, 2);
  std::vector<double> want(rows * hidden), noEps(rows * hidden);
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t c = 0; c < hidden; ++c)
      ss += double(x[r * hidden + c]) * x[r * hidden + c];
    double inv = 1 / std::sqrt(ss / hidden + eps);
    double invNoEps = 1 / std::sqrt(ss / hidden);
    for (int64_t c = 0; c < hidden; ++c) {
      want[r * hidden + c] = double(w[c]) * x[r * hidden + c] * inv;
      noEps[r * hidden + c] = double(w[c]) * x[r * hidden + c] * invNoEps;
    }
  }
  std::vector<float> out(rows * hidden), out3(rows * hidden);
  rmsNorm(x.data(), w.data(), rows, hidden, eps, out.data(), 1);
  expectClose(out, want, 1e-5, 1e-7, "rmsNorm");
  EXPECT_GT(maxAbsDiff(out, noEps), 1e-2);
  rmsNorm(x.data(), w.data(), rows, hidden, eps, out3.data(), 3);
  expectExact(out3, out, "rmsNorm with 3 threads");
}

TEST_F(KernelsTest, LayerNormWithAndWithoutBias) {
  int64_t rows = 6, hidden = 40;
  double eps = 0.5;
  std::vector<float> x = normal(rows * hidden, 1.0f);
  for (float &v : x)
    v += 3.0f; // a mean far from zero
  std::vector<float> w = uniform(hidden, -2, 2), b = uniform(hidden, -1, 1);
  for (bool withBias : {true, false}) {
    std::vector<double> want(rows * hidden), noEps(rows * hidden);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < hidden; ++c)
        mean += x[r * hidden + c];
      mean /= hidden;
      for (int64_t c = 0; c < hidden; ++c)
        var += (x[r * hidden + c] - mean) * (x[r * hidden + c] - mean);
      var /= hidden;
      for (int64_t c = 0; c < hidden; ++c) {
        double centered = x[r * hidden + c] - mean;
        double bias = withBias ? b[c] : 0.0;
        want[r * hidden + c] = centered / std::sqrt(var + eps) * w[c] + bias;
        noEps[r * hidden + c] = centered / std::sqrt(var) * w[c] + bias;
      }
    }
    std::vector<float> out(rows * hidden);
    layerNorm(x.data(), w.data(), withBias ? b.data() : nullptr, rows, hidden,
              eps, out.data());
    expectClose(out, want, 1e-5, 1e-6,
                withBias ? "layerNorm with bias" : "layerNorm");
    EXPECT_GT(maxAbsDiff(out, noEps), 1e-2);
  }
}

TEST_F(KernelsTest, Silu) {
  std::vector<float> x = uniform(2000, -12, 12);
  x[0] = 0.0f;
  std::vector<double> want(x.size()), identity(x.begin(), x.end());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = x[i] / (1 + std::exp(-double(x[i])));
  std::vector<float> out(x.size()), out4(x.size());
  silu(x.data(), static_cast<int64_t>(x.size()), out.data(), 1);
  expectClose(out, want, 1e-5, 1e-30, "silu");
  EXPECT_GT(maxAbsDiff(out, identity), 0.1);
  silu(x.data(), static_cast<int64_t>(x.size()), out4.data(), 4);
  expectExact(out4, out, "silu with 4 threads");
}

TEST_F(KernelsTest, GeluExactAndTanh) {
  std::vector<float> x = uniform(2000, -6, 6);
  x[0] = 0.0f;
  x[1] = -2.0f; // where erf and tanh forms differ by ~1e-3 relative
  std::vector<double> exact(x.size()), approx(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double v = x[i];
    exact[i] = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    approx[i] =
        0.5 * v *
        (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  }
  std::vector<float> outExact(x.size()), outTanh(x.size());
  gelu(x.data(), static_cast<int64_t>(x.size()), false, outExact.data());
  gelu(x.data(), static_cast<int64_t>(x.size()), true, outTanh.data());
  expectClose(outExact, exact, 1e-5, 1e-12, "gelu (erf)");
  expectClose(outTanh, approx, 1e-5, 1e-12, "gelu (tanh)");
  // The two forms are told apart: each is far from the other's reference.
  EXPECT_GT(maxAbsDiff(outExact, approx), 1e-4);
  EXPECT_GT(maxAbsDiff(outTanh, exact), 1e-4);
}

TEST_F(KernelsTest, ScaleChannelsAlongEveryAxis) {
  std::vector<int64_t> shape = {3, 5, 4};
  std::vector<float> x = normal(3 * 5 * 4);
  for (int64_t axis = 0; axis < 3; ++axis) {
    std::vector<float> s = uniform(shape[axis], 0.1f, 4.0f), got = x;
    std::vector<float> want(x.size());
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j)
        for (int64_t k = 0; k < 4; ++k) {
          int64_t idx[3] = {i, j, k};
          int64_t flat = (i * 5 + j) * 4 + k;
          want[flat] = x[flat] * s[idx[axis]];
        }
    scaleChannels(got.data(), shape, s.data(), axis);
    expectExact(got, want, "scaleChannels axis " + std::to_string(axis));
  }
}

//===----------------------------------------------------------------------===//
// Rotary position embedding
//===----------------------------------------------------------------------===//

/// Hugging Face's inverse frequencies in float64.
std::vector<double> refInvFreq(int64_t headDim, double theta,
                               const RopeScaling &s) {
  std::vector<double> inv(headDim / 2);
  for (int64_t i = 0; i < headDim / 2; ++i) {
    double f = 1 / std::pow(theta, double(2 * i) / double(headDim));
    if (s.kind == RopeScaling::Kind::Linear) {
      f /= s.factor;
    } else if (s.kind == RopeScaling::Kind::Llama3) {
      double oldLen = double(s.originalMaxPosition);
      double lowWavelen = oldLen / s.lowFreqFactor;
      double highWavelen = oldLen / s.highFreqFactor;
      double wavelen = 2 * M_PI / f;
      if (wavelen > lowWavelen) {
        f /= s.factor;
      } else if (wavelen >= highWavelen) {
        double smooth = (oldLen / wavelen - s.lowFreqFactor) /
                        (s.highFreqFactor - s.lowFreqFactor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
    inv[i] = f;
  }
  return inv;
}

/// Rotates the halves of each head by +angle (sign = 1) or -angle.
std::vector<double> refRope(const std::vector<float> &x,
                            const std::vector<int32_t> &pos, int64_t heads,
                            int64_t d, const std::vector<double> &inv,
                            double sign) {
  std::vector<double> out(x.size());
  int64_t half = d / 2;
  for (size_t t = 0; t < pos.size(); ++t)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        double a = sign * pos[t] * inv[i];
        size_t b = (t * heads + h) * d;
        double x1 = x[b + i], x2 = x[b + i + half];
        out[b + i] = x1 * std::cos(a) - x2 * std::sin(a);
        out[b + i + half] = x2 * std::cos(a) + x1 * std::sin(a);
      }
  return out;
}

void checkRope(RandomTest &test, int64_t headDim, double theta,
               const RopeScaling &scaling, const std::string &what) {
  SCOPED_TRACE(what);
  std::vector<double> wantInv = refInvFreq(headDim, theta, scaling);
  std::vector<float> inv = ropeInvFreq(headDim, theta, scaling);
  expectClose(inv, wantInv, 1e-6, 0, "ropeInvFreq");

  int64_t rows = 6, heads = 3;
  std::vector<float> x = test.normal(rows * heads * headDim);
  std::vector<int32_t> pos(rows);
  for (int32_t &p : pos)
    p = static_cast<int32_t>(test.pick(0, 15));
  pos[0] = 0;
  pos[1] = 15;
  std::vector<float> out(x.size());
  rope(x.data(), pos.data(), rows, heads, headDim, inv, out.data());
  std::vector<double> want = refRope(x, pos, heads, headDim, wantInv, 1);
  // Per pair: |x1| + |x2| bounds the output, the angle's float32 rounding
  // (about 16 * 2^-23 radians) bounds the error.
  std::vector<double> tol(x.size());
  int64_t half = headDim / 2;
  for (int64_t t = 0; t < rows * heads; ++t)
    for (int64_t i = 0; i < half; ++i) {
      size_t b = t * headDim;
      double m = std::fabs(x[b + i]) + std::fabs(x[b + i + half]);
      tol[b + i] = tol[b + i + half] = 1e-5 * m + 1e-7;
    }
  expectWithin(out, want, tol, "rope");
  // Rotating the other way is far off.
  EXPECT_GT(maxAbsDiff(out, refRope(x, pos, heads, headDim, wantInv, -1)),
            1e-2);
}

TEST_F(KernelsTest, RopePlain) {
  checkRope(*this, 16, 10000.0, RopeScaling{}, "plain");
}

TEST_F(KernelsTest, RopeLinearScaling) {
  RopeScaling s;
  s.kind = RopeScaling::Kind::Linear;
  s.factor = 4.0;
  checkRope(*this, 16, 10000.0, s, "linear");
  // Every frequency is divided by the factor.
  std::vector<float> plain = ropeInvFreq(16, 10000.0, RopeScaling{});
  std::vector<float> scaled = ropeInvFreq(16, 10000.0, s);
  for (size_t i = 0; i < plain.size(); ++i)
    EXPECT_NEAR(scaled[i], plain[i] / 4.0, 1e-6 * plain[i]);
}

TEST_F(KernelsTest, RopeLlama3Scaling) {
  RopeScaling s; // Llama 3.1's values
  s.kind = RopeScaling::Kind::Llama3;
  s.factor = 8.0;
  s.lowFreqFactor = 1.0;
  s.highFreqFactor = 4.0;
  s.originalMaxPosition = 8192;
  checkRope(*this, 128, 500000.0, s, "llama3");
  // All three regimes occur: kept, divided by the factor, interpolated.
  std::vector<float> plain = ropeInvFreq(128, 500000.0, RopeScaling{});
  std::vector<float> scaled = ropeInvFreq(128, 500000.0, s);
  int kept = 0, divided = 0, between = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    double ratio = double(scaled[i]) / plain[i];
    if (std::fabs(ratio - 1) < 1e-6)
      ++kept;
    else if (std::fabs(ratio - 1 / 8.0) < 1e-6)
      ++divided;
    else if (ratio > 1 / 8.0 && ratio < 1)
      ++between;
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(divided, 0);
  EXPECT_GT(between, 0);
  EXPECT_EQ(kept + divided + between, 64);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// float64 attention of the n queries at start.. over `total` cached rows;
/// `kvOf` maps a query head to its KV head.
template <typename KvOf>
std::vector<double> refAttention(const std::vector<float> &q, int64_t n,
                                 int64_t start, const std::vector<float> &k,
                                 const std::vector<float> &v, int64_t total,
                                 const AttentionShape &s, KvOf kvOf) {
  int64_t d = s.headDim, qDim = s.numHeads * d, kvDim = s.numKvHeads * d;
  std::vector<double> out(n * qDim, 0.0);
  for (int64_t h = 0; h < s.numHeads; ++h) {
    int64_t kvh = kvOf(h);
    for (int64_t i = 0; i < n; ++i) {
      int64_t pos = start + i;
      int64_t first = 0, limit = s.causal ? pos + 1 : total;
      if (s.causal && s.slidingWindow > 0)
        first = std::max<int64_t>(0, pos - s.slidingWindow + 1);
      std::vector<double> p(total, 0.0);
      double m = -INFINITY, sum = 0;
      for (int64_t j = first; j < limit; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < d; ++c)
          dot += double(q[i * qDim + h * d + c]) * k[j * kvDim + kvh * d + c];
        p[j] = s.scale * dot;
        m = std::max(m, p[j]);
      }
      for (int64_t j = first; j < limit; ++j)
        sum += (p[j] = std::exp(p[j] - m));
      for (int64_t j = first; j < limit; ++j)
        for (int64_t c = 0; c < d; ++c)
          out[i * qDim + h * d + c] += p[j] / sum * v[j * kvDim + kvh * d + c];
    }
  }
  return out;
}

struct AttentionCase {
  AttentionShape shape;
  std::vector<float> q, k, v;
  int64_t total;
};

AttentionCase makeAttention(RandomTest &test, int64_t heads, int64_t kvHeads,
                            int64_t total) {
  AttentionCase c;
  c.shape.numHeads = heads;
  c.shape.numKvHeads = kvHeads;
  c.shape.headDim = 16;
  c.shape.scale = 1.0f / 4.0f;
  c.total = total;
  c.q = test.normal(total * heads * 16, 1.5f);
  c.k = test.normal(total * kvHeads * 16, 1.5f);
  c.v = test.normal(total * kvHeads * 16);
  return c;
}

/// The tolerance of an attention output: float32 rounding of the scores and
/// the weighted sum, relative to the values' magnitude.
double attentionTol(const std::vector<float> &v) {
  double m = 0;
  for (float x : v)
    m = std::max(m, double(std::fabs(x)));
  return 2e-5 * m;
}

void checkAttention(RandomTest &test, int64_t heads, int64_t kvHeads,
                    const std::string &what) {
  SCOPED_TRACE(what);
  AttentionCase c = makeAttention(test, heads, kvHeads, 9);
  int64_t group = heads / kvHeads;
  for (bool causal : {true, false}) {
    c.shape.causal = causal;
    std::vector<float> out(c.total * heads * 16);
    attention(c.q.data(), c.total, 0, c.k.data(), c.v.data(), c.total, c.shape,
              out.data(), 2);
    std::vector<double> want =
        refAttention(c.q, c.total, 0, c.k, c.v, c.total, c.shape,
                     [&](int64_t h) { return h / group; });
    double tol = attentionTol(c.v);
    EXPECT_LE(maxAbsDiff(out, want), tol) << (causal ? "causal" : "full");
    // Far from the other masking, and (with grouped KV heads) from the
    // interleaved head mapping h % numKvHeads.
    AttentionShape other = c.shape;
    other.causal = !causal;
    EXPECT_GT(
        maxAbsDiff(out, refAttention(c.q, c.total, 0, c.k, c.v, c.total, other,
                                     [&](int64_t h) { return h / group; })),
        1e-2);
    if (kvHeads > 1 && group > 1)
      EXPECT_GT(maxAbsDiff(out, refAttention(
                                    c.q, c.total, 0, c.k, c.v, c.total, c.shape,
                                    [&](int64_t h) { return h % kvHeads; })),
                1e-2);
  }
}

TEST_F(KernelsTest, AttentionMha) { checkAttention(*this, 4, 4, "MHA"); }
TEST_F(KernelsTest, AttentionGqa) { checkAttention(*this, 8, 2, "GQA"); }
TEST_F(KernelsTest, AttentionMqa) { checkAttention(*this, 4, 1, "MQA"); }

TEST_F(KernelsTest, AttentionSlidingWindow) {
  AttentionCase c = makeAttention(*this, 4, 2, 13);
  c.shape.slidingWindow = 4;
  std::vector<float> out(c.total * 4 * 16);
  attention(c.q.data(), c.total, 0, c.k.data(), c.v.data(), c.total, c.shape,
            out.data(), 3);
  auto kvOf = [](int64_t h) { return h / 2; };
  std::vector<double> want =
      refAttention(c.q, c.total, 0, c.k, c.v, c.total, c.shape, kvOf);
  EXPECT_LE(maxAbsDiff(out, want), attentionTol(c.v));
  AttentionShape noWindow = c.shape;
  noWindow.slidingWindow = 0;
  EXPECT_GT(maxAbsDiff(out, refAttention(c.q, c.total, 0, c.k, c.v, c.total,
                                         noWindow, kvOf)),
            1e-2);
}

TEST_F(KernelsTest, AttentionIncrementalDecodeMatchesFullSequence) {
  int64_t heads = 8, kvHeads = 2, d = 16, total = 11, prefill = 6;
  AttentionCase c = makeAttention(*this, heads, kvHeads, total);
  int64_t qDim = heads * d;
  for (int64_t window : {int64_t(0), int64_t(5)}) {
    c.shape.slidingWindow = window;
    SCOPED_TRACE("window " + std::to_string(window));
    std::vector<float> full(total * qDim);
    attention(c.q.data(), total, 0, c.k.data(), c.v.data(), total, c.shape,
              full.data(), 2);
    std::vector<float> steps(total * qDim);
    // Prefill, then one query at a time over the cache so far (which holds
    // the new position too).
    attention(c.q.data(), prefill, 0, c.k.data(), c.v.data(), prefill, c.shape,
              steps.data(), 2);
    for (int64_t p = prefill; p < total; ++p)
      attention(c.q.data() + p * qDim, 1, p, c.k.data(), c.v.data(), p + 1,
                c.shape, steps.data() + p * qDim, 1);
    std::vector<double> fullD(full.begin(), full.end());
    EXPECT_LE(maxAbsDiff(steps, fullD), attentionTol(c.v));
    // A chunk of several new queries with start > 0.
    std::vector<float> chunk((total - prefill) * qDim);
    attention(c.q.data() + prefill * qDim, total - prefill, prefill, c.k.data(),
              c.v.data(), total, c.shape, chunk.data(), 2);
    std::vector<double> tail(full.begin() + prefill * qDim, full.end());
    EXPECT_LE(maxAbsDiff(chunk, tail), attentionTol(c.v));
    // With start = 0 the same chunk would see a different mask.
    std::vector<float> wrong((total - prefill) * qDim);
    attention(c.q.data() + prefill * qDim, total - prefill, 0, c.k.data(),
              c.v.data(), total, c.shape, wrong.data(), 2);
    EXPECT_GT(maxAbsDiff(wrong, tail), 1e-2);
  }
}

TEST_F(KernelsTest, AttentionOverInt8PerTokenCache) {
  int64_t heads = 4, kvHeads = 2, d = 16, total = 10, kvDim = kvHeads * d;
  AttentionCase c = makeAttention(*this, heads, kvHeads, total);
  qnum::TensorScheme scheme;
  scheme.kind = qnum::StorageKind::Int8;
  scheme.symmetric = true;
  scheme.granularity = qnum::Granularity::perToken();
  scheme.dynamic = true;
  // Appended in two calls (prefill, then decode rows), each row with its
  // own scale absmax / 127.
  std::vector<float> keys, values;
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 7}, {7, 8}, {8, 10}}) {
    appendToCache(keys, c.k.data() + b * kvDim, e - b, kvDim, &scheme);
    appendToCache(values, c.v.data() + b * kvDim, e - b, kvDim, &scheme);
  }
  auto quantize = [&](const std::vector<float> &x) {
    std::vector<float> out(x.size());
    for (int64_t r = 0; r < total; ++r) {
      float absmax = 0;
      for (int64_t i = 0; i < kvDim; ++i)
        absmax = std::max(absmax, std::fabs(x[r * kvDim + i]));
      float s = static_cast<float>(double(absmax) / 127.0);
      for (int64_t i = 0; i < kvDim; ++i) {
        float qv = std::nearbyint(x[r * kvDim + i] / s);
        qv = std::min(127.0f, std::max(-127.0f, qv));
        out[r * kvDim + i] = qv * s;
      }
    }
    return out;
  };
  std::vector<float> wantK = quantize(c.k), wantV = quantize(c.v);
  expectExact(keys, wantK, "quantized keys");
  expectExact(values, wantV, "quantized values");
  std::vector<float> plain;
  appendToCache(plain, c.k.data(), total, kvDim, nullptr);
  expectExact(plain, c.k, "unquantized cache");

  std::vector<float> out(total * heads * d);
  attention(c.q.data(), total, 0, keys.data(), values.data(), total, c.shape,
            out.data(), 2);
  auto kvOf = [](int64_t h) { return h / 2; };
  std::vector<double> want =
      refAttention(c.q, total, 0, wantK, wantV, total, c.shape, kvOf);
  EXPECT_LE(maxAbsDiff(out, want), attentionTol(c.v));
  // The int8 rounding is visible: far (relative to the tolerance) from
  // attention over the float cache.
  EXPECT_GT(maxAbsDiff(out, refAttention(c.q, total, 0, c.k, c.v, total,
                                         c.shape, kvOf)),
            10 * attentionTol(c.v));
}

} // namespace
