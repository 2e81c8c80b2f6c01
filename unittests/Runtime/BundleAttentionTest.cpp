//===- BundleAttentionTest.cpp - RoPE + KV append and attention -----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A bundle of two kernels, rope_kv_append then attention, run on the CPU
// backend for a prefill of 5 tokens and a decode step, with bf16, i8
// per-token (dynamic) and e4m3 per-head (static) caches, grouped-query
// heads, and causal, sliding-window and non-causal attention. Each kernel
// is checked against float64: the rotated queries and cache rows against
// RoPE of the inputs, the attention output against softmax attention over
// the cache as it holds the keys and values.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

#include <algorithm>

using namespace qrt;
using namespace qrt::test;

namespace {

constexpr int64_t NH = 4, NKV = 2, D = 8, QW = NH * D, KW = NKV * D;
constexpr int64_t MaxPos = 16;

struct Config {
  std::string storage, scales; // of keys and values alike
  bool causal = true;
  int64_t window = 0;
};

/// The cos / sin table: row p holds cos(p f_i) for i < D / 2, then sin.
std::vector<float> ropeTable() {
  std::vector<float> t(MaxPos * D);
  for (int64_t p = 0; p < MaxPos; ++p)
    for (int64_t i = 0; i < D / 2; ++i) {
      double f = std::pow(10000.0, -2.0 * i / D);
      t[p * D + i] = static_cast<float>(std::cos(p * f));
      t[p * D + D / 2 + i] = static_cast<float>(std::sin(p * f));
    }
  return t;
}

/// RoPE of one row of `heads` heads in float64, with the table's values.
std::vector<double> rotate(const float *x, int64_t heads, int64_t p,
                           const std::vector<float> &table) {
  std::vector<double> y(heads * D);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < D / 2; ++i) {
      double c = table[p * D + i], s = table[p * D + D / 2 + i];
      double x1 = x[h * D + i], x2 = x[h * D + i + D / 2];
      y[h * D + i] = x1 * c - x2 * s;
      y[h * D + i + D / 2] = x2 * c + x1 * s;
    }
  return y;
}

json kvSpec(const Config &c) {
  return {{"max_seq", 32},
          {"num_kv_heads", NKV},
          {"head_dim", D},
          {"storage", c.storage},
          {"scales", c.scales}};
}

class AttentionBundle {
public:
  explicit AttentionBundle(const Config &c) : config(c) {
    table = ropeTable();
    BundleBuilder bb(8, 16, MaxPos);
    bb.kvCache("kv0", NKV, D, c.storage, c.scales, c.storage, c.scales);
    bb.arena("q", "f32", {-1, QW});
    bb.arena("k", "f32", {-1, KW});
    bb.arena("v", "f32", {-1, KW});
    bb.arena("q_rot", "f32", {-1, QW});
    bb.arena("out", "f32", {-1, QW});
    bb.weightF32("rope", {MaxPos, D}, table);
    bool perHead = c.scales == "per_head";
    if (perHead) {
      headScales = {0.02f, 0.05f};
      bb.weightF32("ks", {NKV}, headScales);
      bb.weightF32("vs", {NKV}, headScales);
    }
    bool perToken = c.scales == "per_token";
    std::vector<std::string> ropeArgs = {"q", "k", "v", "positions", "rope"};
    if (perHead)
      ropeArgs.insert(ropeArgs.end(), {"ks", "vs"});
    ropeArgs.insert(ropeArgs.end(), {"q_rot", "kv0.k", "kv0.v"});
    if (perToken)
      ropeArgs.insert(ropeArgs.end(), {"kv0.k_scales", "kv0.v_scales"});
    bb.kernel("k_rope", "rope_kv_append",
              {{"max_tokens", 8},
               {"num_heads", NH},
               {"num_kv_heads", NKV},
               {"head_dim", D},
               {"max_positions", MaxPos},
               {"keys", kvSpec(c)},
               {"values", kvSpec(c)}},
              ropeArgs);
    std::vector<std::string> attnArgs = {"q_rot", "positions", "kv0.k",
                                         "kv0.v"};
    if (perHead)
      attnArgs.insert(attnArgs.end(), {"ks", "vs"});
    if (perToken)
      attnArgs.insert(attnArgs.end(), {"kv0.k_scales", "kv0.v_scales"});
    attnArgs.push_back("out");
    bb.kernel("k_attn", "attention",
              {{"max_tokens", 8},
               {"num_heads", NH},
               {"num_kv_heads", NKV},
               {"head_dim", D},
               {"causal", c.causal},
               {"scale", 1.0 / std::sqrt(double(D))},
               {"sliding_window", c.window},
               {"keys", kvSpec(c)},
               {"values", kvSpec(c)},
               {"out_type", "f32"}},
              attnArgs);
    loaded = loadCpu(bb.write(), 12);
  }

  /// One step of m rows at positions start..: random q, k, v; checks both
  /// kernels against float64.
  void step(int64_t m, int64_t start, Sequence sequence, Random &rnd) {
    std::vector<float> q = rnd.uniform(m * QW, -2, 2);
    std::vector<float> k = rnd.uniform(m * KW, -2, 2);
    std::vector<float> v = rnd.uniform(m * KW, -2, 2);
    Backend &b = *loaded.backend;
    write(b, "q", bytesOfF32(q));
    write(b, "k", bytesOfF32(k));
    write(b, "v", bytesOfF32(v));
    ASSERT_TRUE(runStep(b, m, start, sequence));
    std::vector<float> qRot = f32Of(read(b, "q_rot", m));
    std::vector<float> out = f32Of(read(b, "out", m));
    int64_t rows = start + m;
    std::vector<double> keys = cache("kv0.k", rows),
                        values = cache("kv0.v", rows);
    for (int64_t r = 0; r < m; ++r) {
      int64_t p = start + r;
      std::vector<double> qr = rotate(q.data() + r * QW, NH, p, table);
      for (int64_t i = 0; i < QW; ++i)
        ASSERT_NEAR(qRot[r * QW + i], qr[i], 1e-5) << "q row " << r;
      checkCacheRow(rotate(k.data() + r * KW, NKV, p, table), keys, p, "keys");
      std::vector<double> vr(v.begin() + r * KW, v.begin() + (r + 1) * KW);
      checkCacheRow(vr, values, p, "values");
    }
    // Attention over the cache as stored, from the rotated queries.
    int64_t last = start + m - 1;
    for (int64_t r = 0; r < m; ++r) {
      int64_t p = start + r;
      int64_t lo = 0, hi = config.causal ? p : last;
      if (config.causal && config.window > 0)
        lo = std::max<int64_t>(0, p - config.window + 1);
      for (int64_t h = 0; h < NH; ++h) {
        int64_t kvh = h / (NH / NKV);
        std::vector<double> s;
        double best = -1e300;
        for (int64_t j = lo; j <= hi; ++j) {
          double dot = 0;
          for (int64_t c = 0; c < D; ++c)
            dot +=
                double(qRot[r * QW + h * D + c]) * keys[j * KW + kvh * D + c];
          s.push_back(dot / std::sqrt(double(D)));
          best = std::max(best, s.back());
        }
        double sum = 0;
        for (double &x : s)
          sum += (x = std::exp(x - best));
        for (int64_t c = 0; c < D; ++c) {
          double o = 0;
          for (int64_t j = lo; j <= hi; ++j)
            o += s[j - lo] * values[j * KW + kvh * D + c];
          ASSERT_NEAR(out[r * QW + h * D + c], o / sum, 2e-5)
              << "row " << r << " head " << h << " dim " << c;
        }
      }
    }
  }

  /// Rows [0, rows) of a cache, dequantized (float64).
  std::vector<double> cache(const std::string &name, int64_t rows) {
    Backend &b = *loaded.backend;
    std::vector<uint8_t> bytes = read(b, name, rows);
    std::vector<double> out(rows * KW);
    std::vector<float> scales;
    if (config.scales == "per_token")
      scales = f32Of(read(b, name + "_scales", rows));
    std::vector<double> stored;
    if (config.storage == "bf16") {
      std::vector<float> f = bf16Of(bytes);
      stored.assign(f.begin(), f.end());
    } else if (config.storage == "f32") {
      std::vector<float> f = f32Of(bytes);
      stored.assign(f.begin(), f.end());
    } else if (config.storage == "i8") {
      std::vector<int32_t> q = i8Of(bytes);
      stored.assign(q.begin(), q.end());
    } else {
      std::vector<float> f = e4m3Of(bytes);
      stored.assign(f.begin(), f.end());
    }
    for (int64_t p = 0; p < rows; ++p)
      for (int64_t i = 0; i < KW; ++i) {
        int64_t e = p * KW + i;
        double x = stored[e];
        if (config.scales == "per_token")
          x *= scales[p];
        else if (config.scales == "per_head")
          x *= headScales[i / D];
        out[e] = x;
      }
    return out;
  }

  /// The stored row p holds `want` (float64) within its storage's rounding.
  void checkCacheRow(const std::vector<double> &want,
                     const std::vector<double> &cache, int64_t p,
                     const char *what) {
    double absmax = 0;
    for (double x : want)
      absmax = std::max(absmax, std::fabs(x));
    for (int64_t i = 0; i < KW; ++i) {
      double got = cache[p * KW + i], x = want[i];
      double tol;
      if (config.storage == "f32")
        tol = 1e-6 * std::fabs(x) + 1e-7;
      else if (config.storage == "bf16")
        tol = std::fabs(x) / 256 + 1e-6;
      else if (config.storage == "i8") // half a step of absmax / 127
        tol = (0.5 + 1e-3) * absmax / 127;
      else // e4m3: 2^-4 of the value, or a subnormal step
        tol = std::fabs(x) / 16 + headScales[i / D] / 512;
      ASSERT_NEAR(got, x, tol) << what << " row " << p << " element " << i;
    }
  }

  Config config;
  std::vector<float> table, headScales = {1.0f, 1.0f};
  Loaded loaded;
};

void prefillThenDecode(const Config &c, uint64_t seed) {
  AttentionBundle a(c);
  ASSERT_TRUE(a.loaded.backend);
  Random rnd(seed);
  a.step(5, 0, Sequence::Prefill, rnd);
  if (::testing::Test::HasFatalFailure())
    return;
  a.step(1, 5, Sequence::Decode, rnd);
  if (::testing::Test::HasFatalFailure())
    return;
  a.step(1, 6, Sequence::Decode, rnd);
}

TEST(BundleAttention, Bf16Cache) { prefillThenDecode({"bf16", "none"}, 21); }

TEST(BundleAttention, Int8PerTokenCache) {
  prefillThenDecode({"i8", "per_token"}, 22);
}

TEST(BundleAttention, E4M3PerHeadCache) {
  prefillThenDecode({"f8e4m3", "per_head"}, 23);
}

TEST(BundleAttention, SlidingWindow) {
  prefillThenDecode({"bf16", "none", true, 3}, 24);
}

TEST(BundleAttention, NonCausal) {
  AttentionBundle a({"f32", "none", false});
  ASSERT_TRUE(a.loaded.backend);
  Random rnd(25);
  a.step(5, 0, Sequence::Prefill, rnd);
}

TEST(BundleAttention, PerTokenScalesOfTheCache) {
  // The scale of each cached row is max |x| / 127 over all its KV heads.
  AttentionBundle a({"i8", "per_token"});
  ASSERT_TRUE(a.loaded.backend);
  Random rnd(26);
  std::vector<float> k = rnd.uniform(2 * KW, -1, 1),
                     v = rnd.uniform(2 * KW, -3, 3);
  k[KW + 3] = 7.5f; // row 1's maximum
  Backend &b = *a.loaded.backend;
  write(b, "q", bytesOfF32(rnd.uniform(2 * QW, -1, 1)));
  write(b, "k", bytesOfF32(k));
  write(b, "v", bytesOfF32(v));
  ASSERT_TRUE(runStep(b, 2));
  std::vector<float> vs = f32Of(read(b, "kv0.v_scales", 2));
  std::vector<float> ks = f32Of(read(b, "kv0.k_scales", 2));
  for (int64_t r = 0; r < 2; ++r) {
    float absmax = 0;
    for (int64_t i = 0; i < KW; ++i)
      absmax = std::max(absmax, std::fabs(v[r * KW + i]));
    EXPECT_EQ(vs[r], absmax / 127.0f) << r;
  }
  // RoPE keeps the norm of each pair, so 7.5 bounds row 1's keys.
  EXPECT_LE(ks[1], 7.5f * std::sqrt(2.0f) / 127.0f);
  EXPECT_GT(ks[1], 0.0f);
}

} // namespace
