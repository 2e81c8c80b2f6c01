//===- BundleGemmTest.cpp - The CPU backend's GEMM against float64 --------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Each test builds a one-kernel bundle (the GEMM's A in an arena buffer
// written before the step, B and its scales as weights), runs it on the
// CPU backend and compares the output with a float64 reference of the
// spec's arithmetic; where the contract fixes the float32 operations
// exactly (s8: float(acc + int_bias) * (sa * sb), then bias and residual),
// with that computation too, bit for bit.
//
//===----------------------------------------------------------------------===//

#include "BundleTestSupport.h"

using namespace qrt;
using namespace qrt::test;

namespace {

constexpr int64_t M = 5, N = 40, K = 48;

json gemmSpec(const std::string &kind, json overrides = json::object()) {
  return test::gemmSpec(kind, N, K, std::move(overrides));
}

/// |y - ref| within `rel` of the sum of the magnitudes `mag` (plus `abs`).
void expectNear(const std::vector<float> &y, const std::vector<double> &ref,
                const std::vector<double> &mag, double rel, double abs = 1e-6) {
  ASSERT_EQ(y.size(), ref.size());
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], ref[i], rel * mag[i] + abs) << "element " << i;
}

TEST(BundleGemm, Bf16WithBias) {
  Random rnd(1);
  std::vector<float> a = rnd.bf16(M * K, -2, 2), b = rnd.bf16(N * K, -1, 1);
  std::vector<float> bias = rnd.uniform(N, -1, 1);
  for (const char *outType : {"f32", "bf16"}) {
    BundleBuilder bb;
    bb.arena("a", "bf16", {-1, K});
    bb.weight("b", "bf16", {N, K}, bytesOfBF16(b));
    bb.weightF32("bias", {N}, bias);
    bb.arena("y", outType, {-1, N});
    bb.kernel("k_gemm", "gemm",
              gemmSpec("bf16", {{"bias", true}, {"out_type", outType}}),
              {"a", "b", "bias", "y"});
    Loaded l = loadCpu(bb.write());
    ASSERT_TRUE(l.backend);
    write(*l.backend, "a", bytesOfBF16(a));
    ASSERT_TRUE(runStep(*l.backend, M));
    std::vector<uint8_t> out = read(*l.backend, "y", M);
    bool bf16 = std::string(outType) == "bf16";
    std::vector<float> y = bf16 ? bf16Of(out) : f32Of(out);
    std::vector<double> ref(M * N), mag(M * N);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t c = 0; c < N; ++c) {
        double s = bias[c], g = std::fabs(bias[c]);
        for (int64_t k = 0; k < K; ++k) {
          s += double(a[r * K + k]) * b[c * K + k];
          g += std::fabs(double(a[r * K + k]) * b[c * K + k]);
        }
        ref[r * N + c] = s;
        // float32 sums, then (bf16) rounding to nearest: half an ulp is at
        // most 2^-8 of the value.
        mag[r * N + c] = 1e-5 * g + (bf16 ? std::fabs(s) / 256 : 0.0);
      }
    expectNear(y, ref, mag, 1.0);
  }
}

/// The s8 reference of the contract, in the float32 operations it names.
std::vector<float>
s8Exact(const std::vector<int32_t> &a, const std::vector<int32_t> &b,
        const std::vector<float> &sa, const std::vector<float> &sb,
        const std::vector<int32_t> &ib, const std::vector<float> &bias,
        const std::vector<float> &res) {
  std::vector<float> y(M * N);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += int64_t(a[r * K + k]) * b[c * K + k];
      float v = static_cast<float>(acc + ib[c]) * (sa[r] * sb[c]);
      v += bias[c];
      v += res[r * N + c];
      y[r * N + c] = v;
    }
  return y;
}

TEST(BundleGemm, S8PerTokenWithIntBiasExact) {
  Random rnd(2);
  std::vector<int32_t> a = rnd.ints(M * K, -128, 127),
                       b = rnd.ints(N * K, -127, 127);
  std::vector<int32_t> ib = rnd.ints(N, -5000, 5000);
  std::vector<float> sa = rnd.uniform(M, 0.001f, 0.02f);
  std::vector<float> sb = rnd.uniform(N, 0.001f, 0.02f);
  std::vector<float> bias = rnd.uniform(N, -1, 1);
  std::vector<float> res = rnd.uniform(M * N, -1, 1);
  std::vector<float> saPadded = sa;
  saPadded.resize(8, 0.0f);

  for (bool quantOut : {false, true}) {
    BundleBuilder bb;
    bb.arena("a", "i8", {-1, K});
    bb.arena("sa", "f32", {-1});
    bb.weight("b", "i8", {N, K}, bytesOfI8(b));
    bb.weightF32("sb", {N}, sb);
    bb.weight("ib", "i32", {N}, bytesOfI32(ib));
    bb.weightF32("bias", {N}, bias);
    bb.arena("res", "f32", {-1, N});
    std::vector<std::string> args = {"a", "sa", "b", "sb", "ib", "bias", "res"};
    json over = {{"a_scale", "per_token"},
                 {"b_scale", "per_channel"},
                 {"int_bias", true},
                 {"bias", true},
                 {"residual", true}};
    float outScale = 0.05f;
    int32_t outZp = 3;
    if (quantOut) {
      bb.weightF32("os", {1}, {outScale});
      bb.weight("oz", "i32", {1}, bytesOfI32({outZp}));
      args.insert(args.end(), {"os", "oz"});
      over["out_type"] = "i8";
      over["out_asymmetric"] = true;
    }
    bb.arena("y", quantOut ? "i8" : "f32", {-1, N});
    args.push_back("y");
    bb.kernel("k_gemm", "gemm", gemmSpec("s8", over), args);
    Loaded l = loadCpu(bb.write());
    ASSERT_TRUE(l.backend);
    write(*l.backend, "a", bytesOfI8(a));
    write(*l.backend, "sa", bytesOfF32(sa));
    write(*l.backend, "res", bytesOfF32(res));
    ASSERT_TRUE(runStep(*l.backend, M));
    std::vector<float> exact = s8Exact(a, b, sa, sb, ib, bias, res);
    std::vector<uint8_t> out = read(*l.backend, "y", M);
    for (int64_t i = 0; i < M * N; ++i) {
      int64_t r = i / N, c = i % N;
      double ref = res[i] + bias[c];
      for (int64_t k = 0; k < K; ++k)
        ref += double(a[r * K + k]) * b[c * K + k] * sa[r] * sb[c];
      ref += double(ib[c]) * sa[r] * sb[c];
      if (!quantOut) {
        float y = f32Of(out)[i];
        ASSERT_EQ(y, exact[i]) << "element " << i;
        ASSERT_NEAR(y, ref, 1e-4 * (1 + std::fabs(ref))) << "element " << i;
      } else {
        int32_t q = i8Of(out)[i];
        ASSERT_EQ(q, qnum::quantizeInt(exact[i], outScale, outZp, -128, 127))
            << "element " << i;
        double qr = std::min(
            127.0, std::max(-128.0, std::nearbyint(ref / outScale) + outZp));
        ASSERT_LE(std::fabs(q - qr), 1.0) << "element " << i;
      }
    }
  }
}

TEST(BundleGemm, E4M3BlockScales) {
  Random rnd(3);
  std::vector<float> a = rnd.e4m3(M * K, -8, 8), b = rnd.e4m3(N * K, -2, 2);
  std::vector<float> sa = rnd.uniform(M, 0.01f, 0.1f);
  // Blocks of 16 x 16: 40 rows of B make 3 row blocks (the last partial).
  std::vector<float> sb = rnd.uniform(3 * 3, 0.01f, 0.1f);
  BundleBuilder bb;
  bb.arena("a", "f8e4m3", {-1, K});
  bb.arena("sa", "f32", {-1});
  bb.weight("b", "f8e4m3", {N, K}, bytesOfE4M3(b));
  bb.weightF32("sb", {3, 3}, sb);
  bb.arena("y", "f32", {-1, N});
  bb.kernel("k_gemm", "gemm",
            gemmSpec("e4m3", {{"a_scale", "per_token"},
                              {"b_scale", "block"},
                              {"block_n", 16},
                              {"block_k", 16}}),
            {"a", "sa", "b", "sb", "y"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "a", bytesOfE4M3(a));
  write(*l.backend, "sa", bytesOfF32(sa));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> y = f32Of(read(*l.backend, "y", M));
  std::vector<double> ref(M * N), mag(M * N);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      double s = 0, g = 0;
      for (int64_t kb = 0; kb < 3; ++kb) {
        double acc = 0, accMag = 0;
        for (int64_t k = kb * 16; k < kb * 16 + 16; ++k) {
          acc += double(a[r * K + k]) * b[c * K + k];
          accMag += std::fabs(double(a[r * K + k]) * b[c * K + k]);
        }
        s += acc * sb[(c / 16) * 3 + kb];
        g += accMag * sb[(c / 16) * 3 + kb];
      }
      ref[r * N + c] = sa[r] * s;
      mag[r * N + c] = sa[r] * g;
    }
  expectNear(y, ref, mag, 1e-5);
}

TEST(BundleGemm, E4M3PerChannelStaticE4M3Output) {
  Random rnd(4);
  std::vector<float> a = rnd.e4m3(M * K, -8, 8), b = rnd.e4m3(N * K, -2, 2);
  std::vector<float> sb = rnd.uniform(N, 0.01f, 0.1f);
  float sa = 0.05f, outScale = 0.01f;
  BundleBuilder bb;
  bb.arena("a", "f8e4m3", {-1, K});
  bb.weightF32("sa", {1}, {sa});
  bb.weight("b", "f8e4m3", {N, K}, bytesOfE4M3(b));
  bb.weightF32("sb", {N}, sb);
  bb.weightF32("os", {1}, {outScale});
  bb.arena("y", "f8e4m3", {-1, N});
  bb.kernel("k_gemm", "gemm",
            gemmSpec("e4m3", {{"a_scale", "per_tensor"},
                              {"b_scale", "per_channel"},
                              {"out_type", "f8e4m3"}}),
            {"a", "sa", "b", "sb", "os", "y"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "a", bytesOfE4M3(a));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> y = e4m3Of(read(*l.backend, "y", M));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += double(a[r * K + k]) * b[c * K + k];
      double ref =
          std::min(448.0, std::max(-448.0, acc * sa * sb[c] / outScale));
      // e4m3 keeps 3 mantissa bits: within 2^-4 of the value (one step of
      // 2^-9 near zero), plus the float32 rounding before it.
      double tol = std::max(std::fabs(ref) / 16, 1.0 / 512) * 1.001;
      ASSERT_NEAR(y[r * N + c], ref, tol) << r << ", " << c;
    }
}

TEST(BundleGemm, W8A16PerChannel) {
  Random rnd(5);
  std::vector<float> a = rnd.bf16(M * K, -2, 2);
  std::vector<int32_t> q = rnd.ints(N * K, -127, 127);
  std::vector<float> sb = rnd.uniform(N, 0.001f, 0.01f);
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, K});
  bb.weight("b", "i8", {N, K}, bytesOfI8(q));
  bb.weightF32("sb", {N}, sb);
  bb.arena("y", "f32", {-1, N});
  bb.kernel("k_gemm", "gemm", gemmSpec("w8a16", {{"b_scale", "per_channel"}}),
            {"a", "b", "sb", "y"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "a", bytesOfBF16(a));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> y = f32Of(read(*l.backend, "y", M));
  std::vector<double> ref(M * N), mag(M * N);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      double s = 0, g = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += double(a[r * K + k]) * q[c * K + k];
        g += std::fabs(double(a[r * K + k]) * q[c * K + k]);
      }
      ref[r * N + c] = s * sb[c];
      mag[r * N + c] = g * sb[c];
    }
  expectNear(y, ref, mag, 1e-5);
}

TEST(BundleGemm, W4A16AsymmetricGroups) {
  Random rnd(6);
  constexpr int64_t G = 16, groups = K / G;
  std::vector<float> a = rnd.bf16(M * K, -2, 2);
  std::vector<int32_t> q = rnd.ints(N * K, -8, 7);
  std::vector<int32_t> zp = rnd.ints(N * groups, -8, 7);
  std::vector<float> sb = rnd.uniform(N * groups, 0.01f, 0.1f);
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, K});
  bb.weight("b", "i4x2", {N, K}, bytesOfI4(q, K));
  bb.weightF32("sb", {N, groups}, sb);
  bb.weight("zp", "i32", {N, groups}, bytesOfI32(zp));
  bb.arena("y", "f32", {-1, N});
  bb.kernel("k_gemm", "gemm",
            gemmSpec("w4a16", {{"b_scale", "per_group"},
                               {"group_size", G},
                               {"b_zero_points", true}}),
            {"a", "b", "sb", "zp", "y"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "a", bytesOfBF16(a));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> y = f32Of(read(*l.backend, "y", M));
  std::vector<double> ref(M * N), mag(M * N);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      double s = 0, g = 0;
      for (int64_t grp = 0; grp < groups; ++grp) {
        double acc = 0, accMag = 0;
        int32_t z = zp[c * groups + grp];
        for (int64_t k = grp * G; k < (grp + 1) * G; ++k) {
          acc += double(a[r * K + k]) * (q[c * K + k] - z);
          accMag += std::fabs(double(a[r * K + k]) * (q[c * K + k] - z));
        }
        s += acc * sb[c * groups + grp];
        g += accMag * sb[c * groups + grp];
      }
      ref[r * N + c] = s;
      mag[r * N + c] = g;
    }
  expectNear(y, ref, mag, 1e-5);
}

TEST(BundleGemm, GatedWithBiasAndResidualToBf16) {
  Random rnd(7);
  std::vector<float> a = rnd.bf16(M * K, -1, 1);
  std::vector<int32_t> qg = rnd.ints(N * K, -127, 127),
                       qu = rnd.ints(N * K, -127, 127);
  std::vector<float> sg = rnd.uniform(N, 0.001f, 0.01f);
  std::vector<float> su = rnd.uniform(N, 0.001f, 0.01f);
  std::vector<float> bg = rnd.uniform(N, -0.5, 0.5),
                     bu = rnd.uniform(N, -0.5, 0.5);
  std::vector<float> res = rnd.uniform(M * N, -1, 1);
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, K});
  bb.weight("bg", "i8", {N, K}, bytesOfI8(qg));
  bb.weightF32("sg", {N}, sg);
  bb.weightF32("biasg", {N}, bg);
  bb.weight("bu", "i8", {N, K}, bytesOfI8(qu));
  bb.weightF32("su", {N}, su);
  bb.weightF32("biasu", {N}, bu);
  bb.arena("res", "f32", {-1, N});
  bb.arena("y", "bf16", {-1, N});
  bb.kernel("k_mlp", "gemm",
            gemmSpec("w8a16", {{"b_scale", "per_channel"},
                               {"bias", true},
                               {"gated", true},
                               {"residual", true},
                               {"out_type", "bf16"}}),
            {"a", "bg", "sg", "biasg", "bu", "su", "biasu", "res", "y"});
  Loaded l = loadCpu(bb.write());
  ASSERT_TRUE(l.backend);
  write(*l.backend, "a", bytesOfBF16(a));
  write(*l.backend, "res", bytesOfF32(res));
  ASSERT_TRUE(runStep(*l.backend, M));
  std::vector<float> y = bf16Of(read(*l.backend, "y", M));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < N; ++c) {
      double g = bg[c], u = bu[c];
      for (int64_t k = 0; k < K; ++k) {
        g += double(a[r * K + k]) * qg[c * K + k] * sg[c];
        u += double(a[r * K + k]) * qu[c * K + k] * su[c];
      }
      double ref = silu(g) * u + res[r * N + c];
      ASSERT_NEAR(y[r * N + c], ref, std::fabs(ref) / 256 + 1e-4)
          << r << ", " << c;
    }
}

/// The CPU backend is the GPU's oracle: its sums must not depend on how many
/// threads share the work (wide and ragged N, every float kind).
TEST(BundleGemm, SameBitsForAnyThreadCount) {
  constexpr int64_t m = 7, n = 1000, k = 96;
  Random rnd(8);
  std::vector<float> a = rnd.bf16(m * k, -2, 2), b = rnd.bf16(n * k, -1, 1);
  BundleBuilder bb;
  bb.arena("a", "bf16", {-1, k});
  bb.weight("b", "bf16", {n, k}, bytesOfBF16(b));
  bb.arena("y", "f32", {-1, n});
  bb.kernel("k_gemm", "gemm", test::gemmSpec("bf16", n, k), {"a", "b", "y"});
  std::string dir = bb.write();
  std::vector<uint8_t> first;
  for (unsigned threads : {1u, 2u, 3u, 7u, 16u}) {
    Loaded l = loadCpu(dir, 16, threads);
    ASSERT_TRUE(l.backend);
    write(*l.backend, "a", bytesOfBF16(a));
    ASSERT_TRUE(runStep(*l.backend, m));
    std::vector<uint8_t> y = read(*l.backend, "y", m);
    if (first.empty())
      first = y;
    else
      ASSERT_EQ(y, first) << threads << " threads";
  }
}

} // namespace
