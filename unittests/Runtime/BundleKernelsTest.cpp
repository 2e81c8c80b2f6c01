//===- BundleKernelsTest.cpp - The CPU backend's other kernels ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// rms_norm (float, dynamic and static quantized outputs), quantize,
// embedding and the elementwise kernels, RoPE + KV append and attention
// over bf16, i8 per-token and e4m3 per-head caches across a prefill and a
// decode step, argmax and next_token, permute_columns, and a small model
// end to end: each on random inputs against a float64 reference of the
// contract.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

#include <algorithm>

using namespace qrt;
using namespace qrt::test;

namespace {

constexpr int64_t M = 5, H = 64;

std::vector<double> rmsNormRef(const std::vector<float> &x,
                               const std::vector<float> &w, double eps) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r * H < x.size(); ++r) {
    double ss = 0;
    for (int64_t c = 0; c < H; ++c)
      ss += double(x[r * H + c]) * x[r * H + c];
    double inv = 1.0 / std::sqrt(ss / H + eps);
    for (int64_t c = 0; c < H; ++c)
      y[r * H + c] = x[r * H + c] * inv * w[c];
  }
  return y;
}

json normSpec(const std::string &weightType, const std::string &outType,
              bool dynamic, bool stat, bool asym) {
  return {{"max_tokens", 8},      {"hidden", H},
          {"epsilon", 1e-5},      {"weight_type", weightType},
          {"out_type", outType},  {"dynamic_per_token", dynamic},
          {"static_scale", stat}, {"static_asymmetric", asym}};
}

TEST(BundleKernels, RmsNormDynamicPerToken) {
  Random rnd(11);
  std::vector<float> x = rnd.uniform(M * H, -3, 3);
  std::fill(x.begin() + 2 * H, x.begin() + 3 * H, 0.0f); // a zero row
  std::vector<float> w = rnd.bf16(H, 0.5, 1.5);
  std::vector<double> ref = rmsNormRef(x, w, 1e-5);
  for (const char *outType : {"i8", "f8e4m3"}) {
    bool fp8 = std::string(outType) == "f8e4m3";
    BundleBuilder bb;
    bb.arena("x", "f32", {-1, H});
    bb.weight("w", "bf16", {H}, bytesOfBF16(w));
    bb.arena("q", outType, {-1, H});
    bb.arena("s", "f32", {-1});
    bb.kernel("k_norm", "rms_norm",
              normSpec("bf16", outType, true, false, false),
              {"x", "w", "q", "s"});
    Loaded l = loadCpu(bb.write());
    ASSERT_TRUE(l.backend);
    write(*l.backend, "x", bytesOfF32(x));
    ASSERT_TRUE(runStep(*l.backend, M));
    std::vector<uint8_t> qb = read(*l.backend, "q", M);
    std::vector<float> scales = f32Of(read(*l.backend, "s", M));
    double qmax = fp8 ? 448 : 127;
    for (int64_t r = 0; r < M; ++r) {
      double absmax = 0;
      for (int64_t c = 0; c < H; ++c)
        absmax = std::max(absmax, std::fabs(ref[r * H + c]));
      if (absmax == 0)
        ASSERT_EQ(scales[r], 1.0f) << "a zero row has scale 1";
      else
        ASSERT_NEAR(scales[r], absmax / qmax, 1e-5 * absmax / qmax) << r;
      for (int64_t c = 0; c < H; ++c) {
        double want = ref[r * H + c] / scales[r];
        if (fp8) {
          float got = e4m3Of(qb)[r * H + c];
          ASSERT_NEAR(got, want, std::fabs(want) / 16 + 1.0 / 512) << r << c;
        } else {
          int32_t got = i8Of(qb)[r * H + c];
          ASSERT_LE(std::fabs(got - want), 0.5 + 1e-3) << r << ", " << c;
          ASSERT_LE(std::abs(got), 127);
        }
      }
    }
  }
}

TEST(BundleKernels, RmsNormFloatAndStaticOutputs) {
  Random rnd(12);
  std::vector<float> x = rnd.uniform(M * H, -3, 3),
                     w = rnd.uniform(H, 0.5, 1.5);
  std::vector<double> ref = rmsNormRef(x, w, 1e-5);
  BundleBuilder bb;
  bb.arena("x", "f32", {-1, H});
  bb.weightF32("w", {H}, w);
  bb.weightF32("scale", {1}, {0.02f});
  bb.weight("zp", "i32", {1}, bytesOfI32({-7}));
  bb.arena("yb", "bf16", {-1, H});
  bb.arena("yq", "i8", {-1, H});
  bb.kernel("k_norm_bf16", "rms_norm",
            normSpec("f32", "bf16", false, false, false), {"x", "w", "yb"});
  bb.kernel("k_norm_i8", "rms_norm", normSpec("f32", "i8", false, true, true),
            {"x", "w", "scale", "zp", "yq"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "x", bytesOfF32(x));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> yb = bf16Of(read(*l.backend, "yb", M));
  std::vector<int32_t> yq = i8Of(read(*l.backend, "yq", M));
  for (int64_t i = 0; i < M * H; ++i) {
    ASSERT_NEAR(yb[i], ref[i], std::fabs(ref[i]) / 256 + 1e-6) << i;
    double q = std::min(127.0, std::max(-128.0, ref[i] / 0.02 - 7));
    ASSERT_LE(std::fabs(yq[i] - q), 0.5 + 1e-3) << i;
  }
}

TEST(BundleKernels, Quantize) {
  Random rnd(13);
  std::vector<float> x = rnd.uniform(M * H, -4, 4);
  BundleBuilder bb;
  bb.arena("x", "f32", {-1, H});
  bb.weightF32("scale", {1}, {0.03f});
  bb.arena("q8", "i8", {-1, H});
  bb.arena("qd", "i8", {-1, H});
  bb.arena("qs", "f32", {-1});
  bb.arena("b", "bf16", {-1, H});
  auto spec = [](const char *out, bool dynamic) {
    return json{{"max_tokens", 8},
                {"hidden", H},
                {"out_type", out},
                {"dynamic_per_token", dynamic},
                {"static_asymmetric", false}};
  };
  bb.kernel("k_static", "quantize", spec("i8", false), {"x", "scale", "q8"});
  bb.kernel("k_dynamic", "quantize", spec("i8", true), {"x", "qd", "qs"});
  bb.kernel("k_bf16", "quantize", spec("bf16", false), {"x", "b"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "x", bytesOfF32(x));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<int32_t> q8 = i8Of(read(*l.backend, "q8", M));
  std::vector<int32_t> qd = i8Of(read(*l.backend, "qd", M));
  std::vector<float> qs = f32Of(read(*l.backend, "qs", M));
  std::vector<float> b = bf16Of(read(*l.backend, "b", M));
  for (int64_t r = 0; r < M; ++r) {
    float absmax = 0;
    for (int64_t c = 0; c < H; ++c)
      absmax = std::max(absmax, std::fabs(x[r * H + c]));
    // The contract's float32 scale (absmax / 127, correctly rounded).
    ASSERT_EQ(qs[r], absmax / 127.0f) << r;
    for (int64_t c = 0; c < H; ++c) {
      int64_t i = r * H + c;
      double want = std::min(127.0, std::max(-127.0, x[i] / 0.03));
      ASSERT_LE(std::fabs(q8[i] - want), 0.5) << i;
      ASSERT_EQ(q8[i], qnum::quantizeInt(x[i], 0.03f, 0, -127, 127)) << i;
      ASSERT_LE(std::fabs(qd[i] - x[i] / double(qs[r])), 0.5 + 1e-4) << i;
      ASSERT_NEAR(b[i], x[i], std::fabs(x[i]) / 256) << i;
      ASSERT_EQ(floatToBF16(b[i]), floatToBF16(x[i])) << i;
    }
  }
}

TEST(BundleKernels, EmbeddingAndElementwise) {
  Random rnd(14);
  constexpr int64_t V = 16;
  std::vector<float> table = rnd.bf16(V * H, -1, 1);
  std::vector<float> rhs = rnd.uniform(M * H, -2, 2);
  BundleBuilder bb(8, V);
  bb.weight("table", "bf16", {V, H}, bytesOfBF16(table));
  bb.arena("e", "f32", {-1, H});
  bb.arena("rhs", "f32", {-1, H});
  bb.arena("sum", "f32", {-1, H});
  bb.arena("prod", "f32", {-1, H});
  bb.arena("act", "bf16", {-1, H});
  auto spec = [](const char *out) {
    return json{{"max_tokens", 8}, {"features", H}, {"out_type", out}};
  };
  bb.kernel(
      "k_embed", "embedding",
      {{"max_tokens", 8}, {"vocab", V}, {"hidden", H}, {"table_type", "bf16"}},
      {"table", "tokens", "e"});
  bb.kernel("k_add", "add", spec("f32"), {"e", "rhs", "sum"});
  bb.kernel("k_mul", "mul", spec("f32"), {"sum", "rhs", "prod"});
  bb.kernel("k_silu_mul", "silu_mul", spec("bf16"), {"prod", "rhs", "act"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "rhs", bytesOfF32(rhs));
  std::vector<int32_t> ids = {3, 15, 0, 3, 9}, positions = {0, 1, 2, 3, 4};
  std::string error;
  ASSERT_TRUE(l.backend->step(ids.data(), positions.data(), M,
                              Sequence::Prefill, error))
      << error;
  std::vector<float> e = f32Of(read(*l.backend, "e", M));
  std::vector<float> sum = f32Of(read(*l.backend, "sum", M));
  std::vector<float> prod = f32Of(read(*l.backend, "prod", M));
  std::vector<float> act = bf16Of(read(*l.backend, "act", M));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < H; ++c) {
      int64_t i = r * H + c;
      double te = table[ids[r] * H + c];
      ASSERT_EQ(e[i], te) << i;
      double s = te + rhs[i];
      ASSERT_NEAR(sum[i], s, 1e-6 * std::fabs(s) + 1e-7) << i;
      double p = double(sum[i]) * rhs[i];
      ASSERT_NEAR(prod[i], p, 1e-6 * std::fabs(p) + 1e-7) << i;
      double a = silu(prod[i]) * rhs[i];
      ASSERT_NEAR(act[i], a, std::fabs(a) / 256 + 1e-6) << i;
    }
  // An id outside the vocabulary is refused before any kernel runs.
  ids[1] = 16;
  EXPECT_FALSE(l.backend->step(ids.data(), positions.data(), M,
                               Sequence::Prefill, error));
  EXPECT_EQ(error, "token 16 (row 1 of the step) is outside the vocabulary "
                   "[0, 16)");
}

TEST(BundleKernels, ArgmaxAndNextToken) {
  constexpr int64_t V = 16;
  for (bool deviceArgmax : {true, false}) {
    BundleBuilder bb(8, V);
    // A kernel that leaves the logits as they are (0 + logits).
    bb.arena("zero", "f32", {-1, V});
    bb.kernel("k_add", "add",
              {{"max_tokens", 8}, {"features", V}, {"out_type", "f32"}},
              {"zero", "logits", "logits"});
    if (deviceArgmax) {
      bb.arena("next", "i32", {1});
      bb.manifest["outputs"]["next_token"] = "next";
      bb.kernel("k_argmax", "argmax", {{"max_tokens", 8}, {"vocab", V}},
                {"logits", "next"});
    }
    Loaded l = loadCpu(bb.write());
    ASSERT_TRUE(l.backend);
    Random rnd(15);
    std::vector<float> logits = rnd.uniform(3 * V, -1, 1);
    // The last row: two equal maxima, at 6 and 11: the lower index wins.
    logits[2 * V + 6] = logits[2 * V + 11] = 5.0f;
    logits[0 * V + 1] = 9.0f; // not the last row
    write(*l.backend, "logits", bytesOfF32(logits));
    ASSERT_TRUE(runStep(*l.backend, 3));
    int32_t next = -1;
    std::string error;
    ASSERT_TRUE(l.backend->nextToken(next, error)) << error;
    EXPECT_EQ(next, 6);
    std::vector<float> rows;
    ASSERT_TRUE(l.backend->logits(1, 3, rows, error)) << error;
    EXPECT_EQ(rows, std::vector<float>(logits.begin() + V, logits.end()));
    EXPECT_FALSE(l.backend->logits(2, 4, rows, error));
    EXPECT_EQ(error, "logits rows [2, 4) are not rows of the last step (3 "
                     "rows)");
  }
}

TEST(BundleKernels, PermuteColumns) {
  Random rnd(16);
  std::vector<int32_t> perm(H);
  for (int64_t c = 0; c < H; ++c)
    perm[c] = int32_t(c);
  std::shuffle(perm.begin(), perm.end(), rnd.rng);
  std::vector<float> x = rnd.uniform(M * H, -4, 4);
  auto build = [&](const std::vector<int32_t> &p) {
    BundleBuilder bb(8, 16);
    bb.weight("perm", "i32", {H}, bytesOfI32(p));
    bb.arena("x", "f32", {-1, H});
    bb.arena("xf", "f32", {-1, H});
    bb.arena("xb", "bf16", {-1, H});
    auto spec = [](const char *in, const char *out) {
      return json{{"max_tokens", 8},
                  {"features", H},
                  {"in_type", in},
                  {"out_type", out}};
    };
    bb.kernel("k_perm", "permute_columns", spec("f32", "f32"),
              {"x", "perm", "xf"});
    bb.kernel("k_perm_bf16", "permute_columns", spec("f32", "bf16"),
              {"x", "perm", "xb"});
    return bb.write();
  };
  Loaded l = loadCpu(build(perm));
  ASSERT_TRUE(l.backend);
  write(*l.backend, "x", bytesOfF32(x));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> xf = f32Of(read(*l.backend, "xf", M));
  std::vector<float> xb = bf16Of(read(*l.backend, "xb", M));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < H; ++j) {
      double want = x[r * H + perm[j]];
      ASSERT_EQ(xf[r * H + j], want) << r << " " << j;
      ASSERT_NEAR(xb[r * H + j], want, std::fabs(want) / 256) << r << " " << j;
    }
  // A stored perm that repeats a channel is refused when the bundle loads.
  std::vector<int32_t> bad = perm;
  bad[5] = bad[9];
  std::string dir = build(bad), error;
  EXPECT_FALSE(Bundle::load(dir, error));
  EXPECT_NE(error.find("tensor 'perm' (perm of kernel k_perm): "
                       "permutation[9] repeats channel " +
                       std::to_string(bad[9])),
            std::string::npos)
      << error;
}

TEST(BundleKernels, SmallModelEndToEnd) {
  // embedding -> rms_norm (to bf16) -> bf16 lm_head GEMM -> argmax.
  constexpr int64_t V = 16;
  Random rnd(16);
  std::vector<float> table = rnd.bf16(V * H, -1, 1), w = rnd.bf16(H, 0.5, 1.5);
  std::vector<float> head = rnd.bf16(V * H, -1, 1);
  BundleBuilder bb(8, V);
  bb.weight("table", "bf16", {V, H}, bytesOfBF16(table));
  bb.weight("norm", "bf16", {H}, bytesOfBF16(w));
  bb.weight("head", "bf16", {V, H}, bytesOfBF16(head));
  bb.arena("h", "f32", {-1, H});
  bb.arena("n", "bf16", {-1, H});
  bb.arena("next", "i32", {1});
  bb.manifest["outputs"]["next_token"] = "next";
  bb.kernel(
      "k_embed", "embedding",
      {{"max_tokens", 8}, {"vocab", V}, {"hidden", H}, {"table_type", "bf16"}},
      {"table", "tokens", "h"});
  bb.kernel("k_norm", "rms_norm", normSpec("bf16", "bf16", false, false, false),
            {"h", "norm", "n"});
  json gemm = {{"kind", "bf16"},
               {"max_tokens", 8},
               {"n", V},
               {"k", H},
               {"a_scale", "none"},
               {"b_scale", "none"},
               {"group_size", 0},
               {"block_n", 0},
               {"block_k", 0},
               {"b_zero_points", false},
               {"int_bias", false},
               {"bias", false},
               {"gated", false},
               {"residual", false},
               {"out_type", "f32"},
               {"out_asymmetric", false},
               {"tile", defaultTile()}};
  bb.kernel("k_head", "gemm", gemm, {"n", "head", "logits"});
  bb.kernel("k_argmax", "argmax", {{"max_tokens", 8}, {"vocab", V}},
            {"logits", "next"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  std::vector<int32_t> ids = {1, 7, 7, 12}, positions = {0, 1, 2, 3};
  std::string error;
  ASSERT_TRUE(l.backend->step(ids.data(), positions.data(), 4,
                              Sequence::Prefill, error))
      << error;
  std::vector<float> logits;
  ASSERT_TRUE(l.backend->logits(0, 4, logits, error)) << error;
  int32_t next = -1;
  ASSERT_TRUE(l.backend->nextToken(next, error)) << error;
  for (int64_t r = 0; r < 4; ++r) {
    std::vector<float> x(table.begin() + ids[r] * H,
                         table.begin() + (ids[r] + 1) * H);
    std::vector<double> n = rmsNormRef(x, w, 1e-5);
    int64_t best = 0;
    std::vector<double> ref(V);
    for (int64_t v = 0; v < V; ++v) {
      double s = 0, g = 0;
      for (int64_t c = 0; c < H; ++c) {
        s += n[c] * head[v * H + c];
        g += std::fabs(n[c] * head[v * H + c]);
      }
      ref[v] = s;
      // The normalized row is stored as bf16: 2^-8 of each term.
      ASSERT_NEAR(logits[r * V + v], s, g / 128 + 1e-5) << r << ", " << v;
      if (logits[r * V + v] > logits[r * V + best])
        best = v;
    }
    if (r == 3)
      EXPECT_EQ(next, best);
  }
}

} // namespace
