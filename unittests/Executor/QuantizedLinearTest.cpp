//===- QuantizedLinearTest.cpp - Executor's quantized_linear and KV cache -===//
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
//  * qopt.attention with a quantized KV cache (dynamic per-token int8,
//    static per-head fp8), in one forward and one token at a time.
//
// The input activation of every model is an embedding row, so the values the
// executor quantizes are exactly the ones the reference quantizes. Where the
// scheme's arithmetic is float32 (x / scale, absmax / qmax, the int8
// epilogue), the reference evaluates the same float32 operations; everything
// else is float64. Each test also checks that the result is measurably far
// from the unquantized one, so that it cannot pass on a float computation.
//
//===----------------------------------------------------------------------===//

#include "qopt-frontend/Safetensors.h"
#include "qopt/Executor/CpuExecutor.h"
#include "qopt/InitAllDialects.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

using namespace mlir;

namespace {

constexpr int kVocab = 8, kIn = 16, kOut = 6;

//===----------------------------------------------------------------------===//
// Reference numerics
//===----------------------------------------------------------------------===//

/// Round half to even (the default floating-point environment).
double rne(double v) { return std::nearbyint(v); }

/// x / scale as the schemes evaluate it, a float32 division: the float64
/// quotient of two floats rounded to float32 is the correctly rounded float32
/// quotient.
float div32(float x, float s) {
  return static_cast<float>(double(x) / double(s));
}

/// Symmetric float32 scale absmax / qmax, or 1 for an all-zero group.
float symScale(float absmax, double qmax) {
  return absmax > 0 ? static_cast<float>(absmax / qmax) : 1.0f;
}

/// q = clamp(round_half_even(x / scale) + zp, lo, hi).
int32_t quantInt(float x, float s, int32_t zp, int32_t lo, int32_t hi) {
  double q = rne(div32(x, s)) + zp;
  return static_cast<int32_t>(std::clamp(q, double(lo), double(hi)));
}

/// The value of E4M3FN code `b` (0x7F and 0xFF are NaN and never used here).
double e4m3Value(uint8_t b) {
  int e = (b >> 3) & 15, m = b & 7;
  double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
  return (b & 0x80) ? -mag : mag;
}

/// The E4M3FN code nearest to v after saturating to [-448, 448], ties to the
/// even code (the even mantissa), by exhaustive search.
uint8_t nearestE4M3Code(double v) {
  v = std::clamp(v, -448.0, 448.0);
  int best = 0;
  double bestErr = INFINITY;
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7F) == 0x7F)
      continue;
    double err = std::fabs(e4m3Value(b) - v);
    if (err < bestErr || (err == bestErr && b % 2 == 0 && best % 2)) {
      best = b;
      bestErr = err;
    }
  }
  return static_cast<uint8_t>(best);
}

/// fp8(clamp(x / scale, -448, 448)) as a value.
double quantFp8(float x, float s) {
  return e4m3Value(nearestE4M3Code(div32(x, s)));
}

/// The documented W8A8 epilogue before bias: float(acc) * (sx * sw), then
/// + bias, each a float32 operation.
float int8Epilogue(int64_t acc, float sx, float sw, float bias) {
  float a = static_cast<float>(acc); // exact: |acc| < 2^24 in these tests
  float scaled = a * (sx * sw);
  return scaled + bias;
}

/// The tolerance for a value whose terms add up to `magnitude` in absolute
/// value: relative 1e-5, at least 1e-5 (only float32 rounding differs).
double tol(double magnitude) { return 1e-5 * std::max(1.0, magnitude); }

std::string f32(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9e", v);
  return buf;
}

std::string f32List(const std::vector<float> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + f32(v[i]);
  return s + "]";
}

qfe::TensorData bytes(std::string name, qfe::DType dtype,
                      std::vector<int64_t> shape, std::vector<uint8_t> data) {
  qfe::TensorData t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

//===----------------------------------------------------------------------===//
// Fixture
//===----------------------------------------------------------------------===//

DialectRegistry makeRegistry() {
  DialectRegistry registry;
  qopt::registerAllDialects(registry);
  return registry;
}

class QuantizedLinear : public ::testing::Test {
protected:
  QuantizedLinear()
      : seed(std::random_device{}()), rng(seed), context(makeRegistry()) {}

  void SetUp() override {
    char tmpl[] = "/tmp/qopt-qlinear-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string seedTrace() const { return "seed " + std::to_string(seed); }

  ::testing::AssertionResult
  writeStore(const std::vector<qfe::TensorData> &tensors) {
    std::string error;
    if (!qfe::writeSafetensors(dir + "/w.safetensors", tensors, {}, error))
      return ::testing::AssertionFailure() << error;
    return ::testing::AssertionSuccess();
  }

  /// Parses `func` (the model function) after a weight store @s naming the
  /// test's safetensors file, and prepares an executor for it.
  std::unique_ptr<qopt::CpuExecutor> compile(const std::string &func,
                                             std::string &error) {
    std::string source =
        "qopt.weight_store @s \"" + dir + "/w.safetensors\"\n" + func;
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module) {
      error = "cannot parse:\n" + source;
      return nullptr;
    }
    return qopt::CpuExecutor::create(*module, {}, error);
  }

  std::vector<int32_t> randomIds(int n) {
    std::uniform_int_distribution<int32_t> id(0, kVocab - 1);
    std::vector<int32_t> ids(n);
    for (int32_t &v : ids)
      v = id(rng);
    return ids;
  }

  unsigned seed;
  std::mt19937 rng;
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  std::string dir;
};

/// Dynamic symmetric per-token int8 quantization of one row (reference).
float quantizeRowInt8(const float *x, int n, int32_t *q) {
  float absmax = 0;
  for (int k = 0; k < n; ++k)
    absmax = std::max(absmax, std::fabs(x[k]));
  float s = symScale(absmax, 127);
  for (int k = 0; k < n; ++k)
    q[k] = quantInt(x[k], s, 0, -127, 127);
  return s;
}

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
      writeStore({qfe::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qfe::DType::I8, {kOut, kIn}, wBytes),
                  qfe::TensorData::fromFloats("ws", {kOut}, ws),
                  qfe::TensorData::fromFloats("b", {kOut}, b)}));
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
      writeStore({qfe::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qfe::DType::I8, {kOut, kIn}, wBytes),
                  qfe::TensorData::fromFloats("ws", {kOut}, ws),
                  qfe::TensorData::fromFloats("b", {kOut}, b),
                  qfe::TensorData::fromInt32("ib", {kOut}, intBias)}));
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
      writeStore({qfe::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qfe::DType::F8_E4M3, {kOut, kIn}, wCodes),
                  qfe::TensorData::fromFloats("ws", {kRb, kCb}, ws)}));
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
      writeStore({qfe::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qfe::DType::U8, {kOut, kIn / 2}, packed),
                  qfe::TensorData::fromFloats("ws", {kOut, kGroups}, ws),
                  qfe::TensorData::fromInt32("wz", {kOut, kGroups}, wz),
                  qfe::TensorData::fromFloats("b", {kOut}, b)}));
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
      writeStore({qfe::TensorData::fromFloats("embed", {kVocab, kIn}, embed),
                  bytes("w", qfe::DType::I8, {kOut, kIn}, wBytes),
                  qfe::TensorData::fromFloats("ws", {kOut}, ws),
                  qfe::TensorData::fromFloats("b", {kOut}, b),
                  qfe::TensorData::fromFloats("wr", {kOut, kIn}, wr)}));
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

//===----------------------------------------------------------------------===//
// Quantized KV cache
//===----------------------------------------------------------------------===//

class QuantizedKvCache : public QuantizedLinear {
protected:
  enum class Cache { Int8PerTokenDynamic, Fp8PerHeadStatic };
  /// Embedding [8, 8] -> float q/k/v projections -> attention with a
  /// quantized cache (head_dim 4), returned as the logits.
  void run(int heads, int kvHeads, Cache cache);
};

void QuantizedKvCache::run(int heads, int kvHeads, Cache cache) {
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
      {qfe::TensorData::fromFloats("embed", {kVocab, kHidden}, embed),
       qfe::TensorData::fromFloats("wq", {qDim, kHidden}, wq),
       qfe::TensorData::fromFloats("wk", {kvDim, kHidden}, wk),
       qfe::TensorData::fromFloats("wv", {kvDim, kHidden}, wv)}));
  std::string kScheme, vScheme;
  if (cache == Cache::Int8PerTokenDynamic) {
    kScheme = vScheme = "#qopt.scheme<i8, #qopt.per_token, sym, dynamic>";
  } else {
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
      ", head_dim = 4, key_scheme = " + kScheme +
      ", value_scheme = " + vScheme + "} : (" + qT + ", " + kvT + ", " + kvT +
      ") -> " + qT +
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
  // cache; `quantK` / `quantV` off give the references that prove each
  // quantization matters.
  auto reference = [&](bool quantK, bool quantV, std::vector<double> &out,
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
        std::vector<double> p(i + 1);
        double m = -INFINITY, sum = 0;
        for (int j = 0; j <= i; ++j) {
          double dot = 0;
          for (int c = 0; c < kD; ++c)
            dot += queries[i][h * kD + c] * keys[j][kvh * kD + c];
          p[j] = dot / std::sqrt(double(kD));
          m = std::max(m, p[j]);
        }
        for (int j = 0; j <= i; ++j)
          sum += p[j] = std::exp(p[j] - m);
        for (int c = 0; c < kD; ++c)
          for (int j = 0; j <= i; ++j) {
            double term = p[j] / sum * values[j][kvh * kD + c];
            out[i * qDim + h * kD + c] += term;
            magnitude[i * qDim + h * kD + c] += std::fabs(term);
          }
      }
  };
  std::vector<double> ref, magnitude, floatK, floatV, unused;
  reference(true, true, ref, magnitude);
  reference(false, true, floatK, unused);
  reference(true, false, floatV, unused);

  auto check = [&](const std::vector<float> &y, const char *how) {
    ASSERT_EQ(y.size(), ref.size()) << how;
    double fromFloatK = 0, fromFloatV = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      double t = tol(magnitude[i]);
      EXPECT_NEAR(y[i], ref[i], t)
          << how << ": token " << i / qDim << " column " << i % qDim;
      fromFloatK = std::max(fromFloatK, std::fabs(y[i] - floatK[i]) / t);
      fromFloatV = std::max(fromFloatV, std::fabs(y[i] - floatV[i]) / t);
    }
    EXPECT_GT(fromFloatK, 10.0) << how << ": quantizing keys should show";
    EXPECT_GT(fromFloatV, 10.0) << how << ": quantizing values should show";
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

} // namespace
