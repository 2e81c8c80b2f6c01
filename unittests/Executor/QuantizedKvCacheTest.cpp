//===- QuantizedKvCacheTest.cpp - The executor's attention and KV cache ---===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// qopt.attention through the CPU executor on fresh random inputs against a
// float64 reference written from the op's documented semantics: a quantized
// KV cache (dynamic per-token int8, static per-head fp8) and a sliding
// window shorter than the sequence, in one forward and one token at a time.
//
//===----------------------------------------------------------------------===//

#include "QuantTestSupport.h"

using namespace mlir;
using namespace qopt_test;

namespace {

//===----------------------------------------------------------------------===//
// Quantized KV cache
//===----------------------------------------------------------------------===//

class QuantizedKvCache : public QuantizedLinear {
protected:
  enum class Cache { Float, Int8PerTokenDynamic, Fp8PerHeadStatic };
  /// Embedding [8, 8] -> float q/k/v projections -> attention with a
  /// quantized cache (head_dim 4) and a sliding window of `window` positions
  /// (0: none), returned as the logits.
  void run(int heads, int kvHeads, Cache cache, int window = 0);
};

void QuantizedKvCache::run(int heads, int kvHeads, Cache cache, int window) {
  constexpr int kHidden = 8, kD = 4, kTokens = 6;
  const int qDim = heads * kD, kvDim = kvHeads * kD;
  // Values on a 1/16 grid, small enough that every projection is exact in
  // float32: the executor quantizes exactly the keys and values computed here.
  std::uniform_int_distribution<int> xGrid(-24, 24), wGrid(-12, 12);
  auto grid = [&](std::uniform_int_distribution<int> &d, int count) {
    std::vector<float> v(count);
    for (float &e : v)
      e = d(rng) / 16.0f;
    return v;
  };
  std::vector<float> embed = grid(xGrid, kVocab * kHidden),
                     wq = grid(wGrid, qDim * kHidden),
                     wk = grid(wGrid, kvDim * kHidden),
                     wv = grid(wGrid, kvDim * kHidden);
  auto project = [&](const std::vector<float> &w, int out, int id) {
    std::vector<float> r(out);
    for (int o = 0; o < out; ++o) {
      double acc = 0;
      for (int c = 0; c < kHidden; ++c)
        acc += double(embed[id * kHidden + c]) * w[o * kHidden + c];
      r[o] = static_cast<float>(acc); // exact
    }
    return r;
  };

  // Static per-head fp8 scales from each head's absmax over the vocabulary,
  // times a random factor (some values saturate at 448).
  std::uniform_real_distribution<float> factor(0.7f, 1.5f);
  std::vector<float> kScales(kvHeads), vScales(kvHeads);
  for (int h = 0; h < kvHeads; ++h) {
    float kMax = 0, vMax = 0;
    for (int id = 0; id < kVocab; ++id) {
      std::vector<float> k = project(wk, kvDim, id), v = project(wv, kvDim, id);
      for (int c = h * kD; c < (h + 1) * kD; ++c) {
        kMax = std::max(kMax, std::fabs(k[c]));
        vMax = std::max(vMax, std::fabs(v[c]));
      }
    }
    kScales[h] = symScale(kMax * factor(rng), 448);
    vScales[h] = symScale(vMax * factor(rng), 448);
  }
  // What the cache holds for one key or value row (reference).
  auto dequantized = [&](const std::vector<float> &row,
                         const std::vector<float> &headScales) {
    std::vector<double> out(row.size());
    if (cache == Cache::Int8PerTokenDynamic) {
      std::vector<int32_t> q(row.size());
      float s = quantizeRowInt8(row.data(), row.size(), q.data());
      for (size_t c = 0; c < row.size(); ++c)
        out[c] = q[c] * double(s);
    } else {
      for (size_t c = 0; c < row.size(); ++c) {
        float s = headScales[c / kD];
        out[c] = quantFp8(row[c], s) * s;
      }
    }
    return out;
  };

  ASSERT_TRUE(writeStore(
      {qrt::TensorData::fromFloats("embed", {kVocab, kHidden}, embed),
       qrt::TensorData::fromFloats("wq", {qDim, kHidden}, wq),
       qrt::TensorData::fromFloats("wk", {kvDim, kHidden}, wk),
       qrt::TensorData::fromFloats("wv", {kvDim, kHidden}, wv)}));
  std::string kScheme, vScheme;
  if (cache == Cache::Int8PerTokenDynamic) {
    kScheme = vScheme = "#qopt.scheme<i8, #qopt.per_token, sym, dynamic>";
  } else if (cache == Cache::Fp8PerHeadStatic) {
    auto perHead = [&](const std::vector<float> &s) {
      return "#qopt.scheme<f8E4M3FN, #qopt.per_head<axis = 1, heads = " +
             std::to_string(kvHeads) + ">, sym, static, scales = dense<" +
             f32List(s) + "> : tensor<" + std::to_string(kvHeads) + "xf32>>";
    };
    kScheme = perHead(kScales);
    vScheme = perHead(vScales);
  }
  std::string q = std::to_string(qDim), kv = std::to_string(kvDim);
  std::string qT = "tensor<?x" + q + "xf32>", kvT = "tensor<?x" + kv + "xf32>";
  std::string func =
      "func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> " + qT +
      " {\n"
      "  %e = qopt.weight @s[\"embed\"] : tensor<8x8xf32>\n"
      "  %h = qopt.embedding %e[%ids] : (tensor<8x8xf32>, tensor<?xi32>) -> "
      "tensor<?x8xf32>\n"
      "  %wq = qopt.weight @s[\"wq\"] : tensor<" +
      q +
      "x8xf32>\n"
      "  %wk = qopt.weight @s[\"wk\"] : tensor<" +
      kv +
      "x8xf32>\n"
      "  %wv = qopt.weight @s[\"wv\"] : tensor<" +
      kv +
      "x8xf32>\n"
      "  %q = qopt.linear %h, %wq : (tensor<?x8xf32>, tensor<" +
      q + "x8xf32>) -> " + qT +
      "\n"
      "  %k = qopt.linear %h, %wk : (tensor<?x8xf32>, tensor<" +
      kv + "x8xf32>) -> " + kvT +
      "\n"
      "  %v = qopt.linear %h, %wv : (tensor<?x8xf32>, tensor<" +
      kv + "x8xf32>) -> " + kvT +
      "\n"
      "  %o = qopt.attention %q, %k, %v {layer = 0, num_heads = " +
      std::to_string(heads) + ", num_kv_heads = " + std::to_string(kvHeads) +
      ", head_dim = 4" +
      (cache == Cache::Float
           ? std::string()
           : ", key_scheme = " + kScheme + ", value_scheme = " + vScheme) +
      (window > 0 ? ", sliding_window = " + std::to_string(window)
                  : std::string()) +
      "} : (" + qT + ", " + kvT + ", " + kvT + ") -> " + qT +
      "\n"
      "  return %o : " +
      qT +
      "\n"
      "}\n";
  std::string error;
  auto exec = compile(func, error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(kTokens);

  // Reference: causal softmax attention in float64 over the dequantized
  // cache, a query at position i seeing positions (i - window, i];
  // `quantK` / `quantV` off and `win` 0 give the references that prove each
  // quantization and the window matter.
  bool quantized = cache != Cache::Float;
  auto reference = [&](bool quantK, bool quantV, int win,
                       std::vector<double> &out,
                       std::vector<double> &magnitude) {
    std::vector<std::vector<double>> keys, values, queries;
    for (int32_t id : ids) {
      std::vector<float> k = project(wk, kvDim, id), v = project(wv, kvDim, id),
                         qr = project(wq, qDim, id);
      keys.push_back(quantK ? dequantized(k, kScales)
                            : std::vector<double>(k.begin(), k.end()));
      values.push_back(quantV ? dequantized(v, vScales)
                              : std::vector<double>(v.begin(), v.end()));
      queries.emplace_back(qr.begin(), qr.end());
    }
    out.assign(kTokens * qDim, 0.0);
    magnitude.assign(kTokens * qDim, 0.0);
    int group = heads / kvHeads;
    for (int i = 0; i < kTokens; ++i)
      for (int h = 0; h < heads; ++h) {
        int kvh = h / group;
        int first = win > 0 ? std::max(0, i - win + 1) : 0;
        std::vector<double> p(i + 1);
        double m = -INFINITY, sum = 0;
        for (int j = first; j <= i; ++j) {
          double dot = 0;
          for (int c = 0; c < kD; ++c)
            dot += queries[i][h * kD + c] * keys[j][kvh * kD + c];
          p[j] = dot / std::sqrt(double(kD));
          m = std::max(m, p[j]);
        }
        for (int j = first; j <= i; ++j)
          sum += p[j] = std::exp(p[j] - m);
        for (int c = 0; c < kD; ++c)
          for (int j = first; j <= i; ++j) {
            double term = p[j] / sum * values[j][kvh * kD + c];
            out[i * qDim + h * kD + c] += term;
            magnitude[i * qDim + h * kD + c] += std::fabs(term);
          }
      }
  };
  std::vector<double> ref, magnitude, floatK, floatV, noWindow, unused;
  reference(quantized, quantized, window, ref, magnitude);
  reference(false, quantized, window, floatK, unused);
  reference(quantized, false, window, floatV, unused);
  reference(quantized, quantized, 0, noWindow, unused);

  auto check = [&](const std::vector<float> &y, const char *how) {
    ASSERT_EQ(y.size(), ref.size()) << how;
    double fromFloatK = 0, fromFloatV = 0, fromNoWindow = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      double t = tol(magnitude[i]);
      EXPECT_NEAR(y[i], ref[i], t)
          << how << ": token " << i / qDim << " column " << i % qDim;
      fromFloatK = std::max(fromFloatK, std::fabs(y[i] - floatK[i]) / t);
      fromFloatV = std::max(fromFloatV, std::fabs(y[i] - floatV[i]) / t);
      fromNoWindow = std::max(fromNoWindow, std::fabs(y[i] - noWindow[i]) / t);
    }
    if (quantized) {
      EXPECT_GT(fromFloatK, 10.0) << how << ": quantizing keys should show";
      EXPECT_GT(fromFloatV, 10.0) << how << ": quantizing values should show";
    }
    if (window > 0)
      EXPECT_GT(fromNoWindow, 10.0) << how << ": the window should show";
  };

  // All tokens in one forward.
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  check(y, "one forward");

  // One token at a time on a fresh cache.
  exec->resetCache();
  std::vector<float> steps;
  for (int t = 0; t < kTokens; ++t) {
    std::vector<float> yt;
    ASSERT_TRUE(exec->forward({ids[t]}, t, yt, error)) << error;
    ASSERT_EQ(yt.size(), size_t(qDim));
    steps.insert(steps.end(), yt.begin(), yt.end());
  }
  EXPECT_EQ(exec->cachedPositions(), kTokens);
  check(steps, "incremental");
}

TEST_F(QuantizedKvCache, Int8PerTokenDynamicGqa) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/2, /*kvHeads=*/1, Cache::Int8PerTokenDynamic);
}

TEST_F(QuantizedKvCache, Int8PerTokenDynamicTwoKvHeads) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/4, /*kvHeads=*/2, Cache::Int8PerTokenDynamic);
}

TEST_F(QuantizedKvCache, Fp8PerHeadStaticGqa) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/2, /*kvHeads=*/1, Cache::Fp8PerHeadStatic);
}

TEST_F(QuantizedKvCache, Fp8PerHeadStaticTwoKvHeads) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/4, /*kvHeads=*/2, Cache::Fp8PerHeadStatic);
}

TEST_F(QuantizedKvCache, SlidingWindowShorterThanTheSequence) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/4, /*kvHeads=*/2, Cache::Float, /*window=*/3);
}

TEST_F(QuantizedKvCache, SlidingWindowOverAnInt8Cache) {
  SCOPED_TRACE(seedTrace());
  run(/*heads=*/2, /*kvHeads=*/1, Cache::Int8PerTokenDynamic, /*window=*/2);
}

} // namespace
