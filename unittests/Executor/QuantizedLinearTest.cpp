//===- QuantizedLinearTest.cpp - The executor's quantized_linear ----------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Runs tiny models through the CPU executor on fresh random inputs and
// compares every logit with a float64 reference written here from the
// documented semantics (QoptOps.td, QoptAttrs.td), not from the executor:
//
//  * qopt.quantized_linear: W8A8 int8 with dynamic per-token activations,
//    W8A8 int8 with a static asymmetric input whose zero point is folded into
//    int_bias, FP8 with 2-D block weight scales, W4A16 per-group asymmetric
//    int4 (int4x2 packing), and the silu + residual epilogue;
//
// (The quantized KV cache is tested in QuantizedKvCacheTest.cpp.)
//
// The input activation of every model is an embedding row, so the values the
// executor quantizes are exactly the ones the reference quantizes. Where the
// scheme's arithmetic is float32 (x / scale, absmax / qmax, the int8
// epilogue), the reference evaluates the same float32 operations; everything
// else is float64. Each test also checks that the result is measurably far
// from the unquantized one, so that it cannot pass on a float computation.
//
//===----------------------------------------------------------------------===//

#include "QuantTestSupport.h"

using namespace mlir;
using namespace qopt_test;

namespace {

//===----------------------------------------------------------------------===//
// quantized_linear
//===----------------------------------------------------------------------===//

TEST_F(QuantizedLinear, W8A8DynamicPerTokenInt8) {
  SCOPED_TRACE(seedTrace());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> i8(-127, 127);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  // Row 0 stays zero: its scale must be 1 (not 0 / 127), its output the bias.
  std::vector<float> embed(kVocab * kIn, 0.0f), ws(kOut), b(kOut);
  for (int i = kIn; i < kVocab * kIn; ++i)
    embed[i] = normal(rng);
  std::vector<uint8_t> wBytes(kOut * kIn);
  std::vector<int32_t> wq(kOut * kIn);
  for (int i = 0; i < kOut * kIn; ++i) {
    wq[i] = i8(rng);
    wBytes[i] = static_cast<uint8_t>(static_cast<int8_t>(wq[i]));
  }
  for (int n = 0; n < kOut; ++n) {
    ws[n] = scale(rng);
    b[n] = 0.1f * normal(rng);
  }
  ASSERT_TRUE(
      writeStore({qrt::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qrt::DType::I8, {kOut, kIn}, wBytes),
                  qrt::TensorData::fromFloats("ws", {kOut}, ws),
                  qrt::TensorData::fromFloats("b", {kOut}, b)}));
  std::string error;
  auto exec = compile(R"mlir(
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %xq, %xs = qopt.quantize %h {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
  %w = qopt.weight @s["w"] : tensor<6x16xi8>
  %ws = qopt.weight @s["ws"] : tensor<6xf32>
  %b = qopt.weight @s["b"] : tensor<6xf32>
  %y = qopt.quantized_linear %xq, %w bias(%b : tensor<6xf32>) input_scales(%xs : tensor<?xf32>) weight_scales(%ws : tensor<6xf32>) {input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x16xi8>, tensor<6x16xi8> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
                      error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(7);
  ids[2] = 0;
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);

  double farthestFromFloat = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float *x = embed.data() + ids[t] * kIn;
    int32_t xq[kIn];
    float sx = quantizeRowInt8(x, kIn, xq);
    for (int n = 0; n < kOut; ++n) {
      int64_t acc = 0;
      double unquantized = b[n];
      for (int k = 0; k < kIn; ++k) {
        acc += int64_t(xq[k]) * wq[n * kIn + k];
        unquantized += double(x[k]) * (double(wq[n * kIn + k]) * ws[n]);
      }
      ASSERT_LE(std::llabs(acc), INT32_MAX);
      float ref = int8Epilogue(acc, sx, ws[n], b[n]);
      float got = y[t * kOut + n];
      EXPECT_FLOAT_EQ(got, ref) << "token " << t << " output " << n;
      farthestFromFloat =
          std::max(farthestFromFloat,
                   std::fabs(got - unquantized) / tol(std::fabs(unquantized)));
    }
  }
  EXPECT_GT(farthestFromFloat, 10.0)
      << "the int8 activations should visibly change the result";
}

TEST_F(QuantizedLinear, W8A8StaticAsymmetricInt8FoldsZeroPointIntoIntBias) {
  SCOPED_TRACE(seedTrace());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> i8(-127, 127);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  // Activations in [-1, 3), so the zero point is far from 0 (about -64).
  std::uniform_real_distribution<float> shifted(-1.0f, 3.0f);
  std::vector<float> embed(kVocab * kIn), ws(kOut), b(kOut);
  for (float &v : embed)
    v = shifted(rng);
  std::vector<uint8_t> wBytes(kOut * kIn);
  std::vector<int32_t> wq(kOut * kIn), intBias(kOut);
  for (int i = 0; i < kOut * kIn; ++i) {
    wq[i] = i8(rng);
    wBytes[i] = static_cast<uint8_t>(static_cast<int8_t>(wq[i]));
  }
  for (int n = 0; n < kOut; ++n) {
    ws[n] = scale(rng);
    b[n] = 0.1f * normal(rng);
  }
  // Static scale and zero point from the data's range, narrowed by 5% so
  // the extreme values saturate.
  float lo = 0, hi = 0;
  for (float v : embed) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  lo *= 0.95f;
  hi *= 0.95f;
  float sx = static_cast<float>((double(hi) - lo) / 255.0);
  auto zx =
      static_cast<int32_t>(std::clamp(-128.0 - rne(lo / sx), -128.0, 127.0));
  ASSERT_NE(zx, 0);
  for (int n = 0; n < kOut; ++n) {
    int64_t sum = 0;
    for (int k = 0; k < kIn; ++k)
      sum += wq[n * kIn + k];
    intBias[n] = static_cast<int32_t>(-zx * sum);
  }
  ASSERT_TRUE(
      writeStore({qrt::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qrt::DType::I8, {kOut, kIn}, wBytes),
                  qrt::TensorData::fromFloats("ws", {kOut}, ws),
                  qrt::TensorData::fromFloats("b", {kOut}, b),
                  qrt::TensorData::fromInt32("ib", {kOut}, intBias)}));
  std::string scheme = "#qopt.scheme<i8, #qopt.per_tensor, asym, static, "
                       "scales = dense<" +
                       f32(sx) + "> : tensor<f32>, zero_points = dense<" +
                       std::to_string(zx) + "> : tensor<i32>>";
  std::string error;
  auto exec = compile(
      R"mlir(
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %xq = qopt.quantize %h {scheme = )mlir" +
          scheme + R"mlir(} : tensor<?x16xf32> -> tensor<?x16xi8>
  %w = qopt.weight @s["w"] : tensor<6x16xi8>
  %ws = qopt.weight @s["ws"] : tensor<6xf32>
  %b = qopt.weight @s["b"] : tensor<6xf32>
  %ib = qopt.weight @s["ib"] : tensor<6xi32>
  %y = qopt.quantized_linear %xq, %w bias(%b : tensor<6xf32>) int_bias(%ib : tensor<6xi32>) weight_scales(%ws : tensor<6xf32>) {input_scheme = )mlir" +
          scheme +
          R"mlir(, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x16xi8>, tensor<6x16xi8> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
      error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(8);
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);

  double farthestFromFloat = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float *x = embed.data() + ids[t] * kIn;
    int32_t xq[kIn];
    for (int k = 0; k < kIn; ++k)
      xq[k] = quantInt(x[k], sx, zx, -128, 127);
    for (int n = 0; n < kOut; ++n) {
      int64_t raw = 0, centered = 0;
      double unquantized = b[n];
      for (int k = 0; k < kIn; ++k) {
        raw += int64_t(xq[k]) * wq[n * kIn + k];
        centered += int64_t(xq[k] - zx) * wq[n * kIn + k];
        unquantized += double(x[k]) * (double(wq[n * kIn + k]) * ws[n]);
      }
      // The folding identity the kernel relies on.
      ASSERT_EQ(centered, raw + intBias[n]);
      ASSERT_LE(std::llabs(raw), INT32_MAX);
      float ref = int8Epilogue(centered, sx, ws[n], b[n]);
      float got = y[t * kOut + n];
      EXPECT_FLOAT_EQ(got, ref) << "token " << t << " output " << n;
      farthestFromFloat =
          std::max(farthestFromFloat,
                   std::fabs(got - unquantized) / tol(std::fabs(unquantized)));
    }
  }
  EXPECT_GT(farthestFromFloat, 10.0)
      << "the int8 activations should visibly change the result";
}

TEST_F(QuantizedLinear, Fp8BlockWeightsPerTokenActivations) {
  SCOPED_TRACE(seedTrace());
  constexpr int kBr = 2, kBc = 8, kRb = kOut / kBr, kCb = kIn / kBc;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> factor(0.05f, 2.0f);
  std::vector<float> embed(kVocab * kIn), w(kOut * kIn), ws(kRb * kCb);
  for (float &v : embed)
    v = normal(rng);
  // Each block has its own magnitude, so a wrong block scale shows.
  for (int rb = 0; rb < kRb; ++rb)
    for (int cb = 0; cb < kCb; ++cb) {
      float f = factor(rng), absmax = 0;
      for (int r = rb * kBr; r < (rb + 1) * kBr; ++r)
        for (int c = cb * kBc; c < (cb + 1) * kBc; ++c) {
          w[r * kIn + c] = 0.1f * f * normal(rng);
          absmax = std::max(absmax, std::fabs(w[r * kIn + c]));
        }
      ws[rb * kCb + cb] = symScale(absmax, 448);
    }
  std::vector<uint8_t> wCodes(kOut * kIn);
  std::vector<double> wq(kOut * kIn);
  for (int r = 0; r < kOut; ++r)
    for (int c = 0; c < kIn; ++c) {
      float s = ws[(r / kBr) * kCb + c / kBc];
      wCodes[r * kIn + c] = nearestE4M3Code(div32(w[r * kIn + c], s));
      wq[r * kIn + c] = e4m3Value(wCodes[r * kIn + c]);
    }
  ASSERT_TRUE(
      writeStore({qrt::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qrt::DType::F8_E4M3, {kOut, kIn}, wCodes),
                  qrt::TensorData::fromFloats("ws", {kRb, kCb}, ws)}));
  std::string error;
  auto exec = compile(R"mlir(
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %xq, %xs = qopt.quantize %h {scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xf8E4M3FN>, tensor<?xf32>
  %w = qopt.weight @s["w"] : tensor<6x16xf8E4M3FN>
  %ws = qopt.weight @s["ws"] : tensor<3x2xf32>
  %y = qopt.quantized_linear %xq, %w input_scales(%xs : tensor<?xf32>) weight_scales(%ws : tensor<3x2xf32>) {input_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<f8E4M3FN, #qopt.block<rows = 2, cols = 8>, sym, static>} : tensor<?x16xf8E4M3FN>, tensor<6x16xf8E4M3FN> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
                      error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(7);
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);

  double farthestFromFloat = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float *x = embed.data() + ids[t] * kIn;
    float absmax = 0;
    for (int k = 0; k < kIn; ++k)
      absmax = std::max(absmax, std::fabs(x[k]));
    float sx = symScale(absmax, 448);
    double xq[kIn];
    for (int k = 0; k < kIn; ++k)
      xq[k] = quantFp8(x[k], sx);
    for (int n = 0; n < kOut; ++n) {
      double ref = 0, magnitude = 0, unquantized = 0;
      for (int cb = 0; cb < kCb; ++cb) {
        double s = double(sx) * ws[(n / kBr) * kCb + cb], block = 0;
        for (int k = cb * kBc; k < (cb + 1) * kBc; ++k) {
          block += xq[k] * wq[n * kIn + k];
          magnitude += std::fabs(s * xq[k] * wq[n * kIn + k]);
          unquantized += double(x[k]) * w[n * kIn + k];
        }
        ref += s * block;
      }
      float got = y[t * kOut + n];
      EXPECT_NEAR(got, ref, tol(magnitude)) << "token " << t << " output " << n;
      farthestFromFloat = std::max(
          farthestFromFloat, std::fabs(got - unquantized) / tol(magnitude));
    }
  }
  EXPECT_GT(farthestFromFloat, 10.0)
      << "fp8 weights and activations should visibly change the result";
}

TEST_F(QuantizedLinear, W4A16PerGroupAsymmetricInt4) {
  SCOPED_TRACE(seedTrace());
  constexpr int kGroup = 8, kGroups = kIn / kGroup;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> offset(-0.15f, 0.15f);
  std::vector<float> embed(kVocab * kIn), w(kOut * kIn), b(kOut);
  std::vector<float> ws(kOut * kGroups);
  std::vector<int32_t> wz(kOut * kGroups), wq(kOut * kIn);
  for (float &v : embed)
    v = normal(rng);
  for (float &v : b)
    v = 0.1f * normal(rng);
  // Asymmetric per-group RTN of float weights (each group shifted, so its
  // zero point is far from 0).
  for (int n = 0; n < kOut; ++n)
    for (int g = 0; g < kGroups; ++g) {
      float shift = offset(rng), lo = 0, hi = 0;
      for (int k = g * kGroup; k < (g + 1) * kGroup; ++k) {
        float &v = w[n * kIn + k];
        v = 0.1f * normal(rng) + shift;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      float s = static_cast<float>((double(hi) - lo) / 15.0);
      auto zp = static_cast<int32_t>(std::clamp(-8.0 - rne(lo / s), -8.0, 7.0));
      ws[n * kGroups + g] = s;
      wz[n * kGroups + g] = zp;
      for (int k = g * kGroup; k < (g + 1) * kGroup; ++k)
        wq[n * kIn + k] = quantInt(w[n * kIn + k], s, zp, -8, 7);
    }
  // int4x2: element 2j in the low nibble of byte j, 2j+1 in the high one.
  std::vector<uint8_t> packed(kOut * kIn / 2, 0);
  for (int n = 0; n < kOut; ++n)
    for (int k = 0; k < kIn; ++k)
      packed[n * kIn / 2 + k / 2] |=
          static_cast<uint8_t>((wq[n * kIn + k] & 0xF) << (4 * (k % 2)));
  ASSERT_TRUE(
      writeStore({qrt::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qrt::DType::U8, {kOut, kIn / 2}, packed),
                  qrt::TensorData::fromFloats("ws", {kOut, kGroups}, ws),
                  qrt::TensorData::fromInt32("wz", {kOut, kGroups}, wz),
                  qrt::TensorData::fromFloats("b", {kOut}, b)}));
  std::string error;
  auto exec = compile(R"mlir(
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = qopt.weight @s["w"] {packing = #qopt<packing int4x2>} : tensor<6x16xi4>
  %ws = qopt.weight @s["ws"] : tensor<6x2xf32>
  %wz = qopt.weight @s["wz"] : tensor<6x2xi32>
  %b = qopt.weight @s["b"] : tensor<6xf32>
  %y = qopt.quantized_linear %h, %w bias(%b : tensor<6xf32>) weight_scales(%ws : tensor<6x2xf32>) weight_zero_points(%wz : tensor<6x2xi32>) {weight_scheme = #qopt.scheme<i4, #qopt.per_group<axis = 1, size = 8>, asym, static, packing = int4x2>} : tensor<?x16xf32>, tensor<6x16xi4> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
                      error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(7);
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);

  double farthestFromFloat = 0, farthestWithoutZp = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float *x = embed.data() + ids[t] * kIn;
    for (int n = 0; n < kOut; ++n) {
      double ref = b[n], magnitude = std::fabs(b[n]), unquantized = b[n],
             withoutZp = b[n];
      for (int k = 0; k < kIn; ++k) {
        int g = n * kGroups + k / kGroup;
        double term =
            double(x[k]) * ((wq[n * kIn + k] - wz[g]) * double(ws[g]));
        ref += term;
        magnitude += std::fabs(term);
        unquantized += double(x[k]) * w[n * kIn + k];
        withoutZp += double(x[k]) * (wq[n * kIn + k] * double(ws[g]));
      }
      float got = y[t * kOut + n];
      EXPECT_NEAR(got, ref, tol(magnitude)) << "token " << t << " output " << n;
      farthestFromFloat = std::max(
          farthestFromFloat, std::fabs(got - unquantized) / tol(magnitude));
      farthestWithoutZp = std::max(farthestWithoutZp,
                                   std::fabs(got - withoutZp) / tol(magnitude));
    }
  }
  EXPECT_GT(farthestFromFloat, 10.0)
      << "int4 weights should visibly change the result";
  EXPECT_GT(farthestWithoutZp, 10.0)
      << "the weight zero points should visibly change the result";
}

TEST_F(QuantizedLinear, SiluAndResidualEpilogue) {
  SCOPED_TRACE(seedTrace());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> i8(-127, 127);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  std::vector<float> embed(kVocab * kIn), ws(kOut), b(kOut), wr(kOut * kIn);
  for (float &v : embed)
    v = normal(rng);
  for (float &v : wr)
    v = 0.3f * normal(rng);
  std::vector<uint8_t> wBytes(kOut * kIn);
  std::vector<int32_t> wq(kOut * kIn);
  for (int i = 0; i < kOut * kIn; ++i) {
    wq[i] = i8(rng);
    wBytes[i] = static_cast<uint8_t>(static_cast<int8_t>(wq[i]));
  }
  for (int n = 0; n < kOut; ++n) {
    ws[n] = scale(rng);
    b[n] = 0.5f * normal(rng);
  }
  ASSERT_TRUE(
      writeStore({qrt::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qrt::DType::I8, {kOut, kIn}, wBytes),
                  qrt::TensorData::fromFloats("ws", {kOut}, ws),
                  qrt::TensorData::fromFloats("b", {kOut}, b),
                  qrt::TensorData::fromFloats("wr", {kOut, kIn}, wr)}));
  std::string error;
  auto exec = compile(R"mlir(
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  %e = qopt.weight @s["embed"] : tensor<8x16xf32>
  %h = qopt.embedding %e[%ids] : (tensor<8x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %wr = qopt.weight @s["wr"] : tensor<6x16xf32>
  %r = qopt.linear %h, %wr : (tensor<?x16xf32>, tensor<6x16xf32>) -> tensor<?x6xf32>
  %xq, %xs = qopt.quantize %h {scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
  %w = qopt.weight @s["w"] : tensor<6x16xi8>
  %ws = qopt.weight @s["ws"] : tensor<6xf32>
  %b = qopt.weight @s["b"] : tensor<6xf32>
  %y = qopt.quantized_linear %xq, %w bias(%b : tensor<6xf32>) input_scales(%xs : tensor<?xf32>) weight_scales(%ws : tensor<6xf32>) residual(%r : tensor<?x6xf32>) {activation = #qopt<activation silu>, input_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>, weight_scheme = #qopt.scheme<i8, #qopt.per_channel<axis = 0>, sym, static>} : tensor<?x16xi8>, tensor<6x16xi8> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}
)mlir",
                      error);
  ASSERT_TRUE(exec) << error;
  std::vector<int32_t> ids = randomIds(7);
  std::vector<float> y;
  ASSERT_TRUE(exec->forward(ids, 0, y, error)) << error;
  ASSERT_EQ(y.size(), ids.size() * kOut);

  auto silu = [](double v) { return v / (1.0 + std::exp(-v)); };
  double farthestFromFloat = 0, farthestWithoutSilu = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const float *x = embed.data() + ids[t] * kIn;
    int32_t xq[kIn];
    float sx = quantizeRowInt8(x, kIn, xq);
    for (int n = 0; n < kOut; ++n) {
      int64_t acc = 0;
      double residual = 0, residualMagnitude = 0, unquantized = b[n];
      for (int k = 0; k < kIn; ++k) {
        acc += int64_t(xq[k]) * wq[n * kIn + k];
        residual += double(x[k]) * wr[n * kIn + k];
        residualMagnitude += std::fabs(double(x[k]) * wr[n * kIn + k]);
        unquantized += double(x[k]) * (double(wq[n * kIn + k]) * ws[n]);
      }
      double pre = int8Epilogue(acc, sx, ws[n], b[n]);
      double ref = silu(pre) + residual;
      double magnitude = std::fabs(silu(pre)) + residualMagnitude;
      float got = y[t * kOut + n];
      EXPECT_NEAR(got, ref, tol(magnitude)) << "token " << t << " output " << n;
      farthestFromFloat = std::max(
          farthestFromFloat,
          std::fabs(got - (silu(unquantized) + residual)) / tol(magnitude));
      farthestWithoutSilu =
          std::max(farthestWithoutSilu,
                   std::fabs(got - (pre + residual)) / tol(magnitude));
    }
  }
  EXPECT_GT(farthestFromFloat, 10.0)
      << "the int8 activations should visibly change the result";
  EXPECT_GT(farthestWithoutSilu, 10.0) << "silu should change the result";
}

} // namespace
