//===- QuantTestSupport.h - Shared references of the executor tests -*- C++
//-*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The float64 / float32 reference numerics (round half to even, scales,
// E4M3FN by exhaustive search) and the fixture that compiles a tiny model
// over a temporary weight store, shared by QuantizedLinearTest and
// QuantizedKvCacheTest.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_UNITTESTS_EXECUTOR_QUANTTESTSUPPORT_H
#define QOPT_UNITTESTS_EXECUTOR_QUANTTESTSUPPORT_H

#include "qopt-runtime/Safetensors.h"
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

namespace qopt_test {
using namespace mlir;

constexpr int kVocab = 8, kIn = 16, kOut = 6;

//===----------------------------------------------------------------------===//
// Reference numerics
//===----------------------------------------------------------------------===//

/// Round half to even (the default floating-point environment).
inline double rne(double v) { return std::nearbyint(v); }

/// x / scale as the schemes evaluate it, a float32 division: the float64
/// quotient of two floats rounded to float32 is the correctly rounded float32
/// quotient.
inline float div32(float x, float s) {
  return static_cast<float>(double(x) / double(s));
}

/// Symmetric float32 scale absmax / qmax, or 1 for an all-zero group.
inline float symScale(float absmax, double qmax) {
  return absmax > 0 ? static_cast<float>(absmax / qmax) : 1.0f;
}

/// q = clamp(round_half_even(x / scale) + zp, lo, hi).
inline int32_t quantInt(float x, float s, int32_t zp, int32_t lo, int32_t hi) {
  double q = rne(div32(x, s)) + zp;
  return static_cast<int32_t>(std::clamp(q, double(lo), double(hi)));
}

/// The value of E4M3FN code `b` (0x7F and 0xFF are NaN and never used here).
inline double e4m3Value(uint8_t b) {
  int e = (b >> 3) & 15, m = b & 7;
  double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
  return (b & 0x80) ? -mag : mag;
}

/// The E4M3FN code nearest to v after saturating to [-448, 448], ties to the
/// even code (the even mantissa), by exhaustive search.
inline uint8_t nearestE4M3Code(double v) {
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
inline double quantFp8(float x, float s) {
  return e4m3Value(nearestE4M3Code(div32(x, s)));
}

/// The documented W8A8 epilogue before bias: float(acc) * (sx * sw), then
/// + bias, each a float32 operation.
inline float int8Epilogue(int64_t acc, float sx, float sw, float bias) {
  float a = static_cast<float>(acc); // exact: |acc| < 2^24 in these tests
  float scaled = a * (sx * sw);
  return scaled + bias;
}

/// The tolerance for a value whose terms add up to `magnitude` in absolute
/// value: relative 1e-5, at least 1e-5 (only float32 rounding differs).
inline double tol(double magnitude) { return 1e-5 * std::max(1.0, magnitude); }

inline std::string f32(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9e", v);
  return buf;
}

inline std::string f32List(const std::vector<float> &v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + f32(v[i]);
  return s + "]";
}

inline qrt::TensorData bytes(std::string name, qrt::DType dtype,
                             std::vector<int64_t> shape,
                             std::vector<uint8_t> data) {
  qrt::TensorData t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

//===----------------------------------------------------------------------===//
// Fixture
//===----------------------------------------------------------------------===//

inline DialectRegistry makeRegistry() {
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
  writeStore(const std::vector<qrt::TensorData> &tensors) {
    std::string error;
    if (!qrt::writeSafetensors(dir + "/w.safetensors", tensors, {}, error))
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
inline float quantizeRowInt8(const float *x, int n, int32_t *q) {
  float absmax = 0;
  for (int k = 0; k < n; ++k)
    absmax = std::max(absmax, std::fabs(x[k]));
  float s = symScale(absmax, 127);
  for (int k = 0; k < n; ++k)
    q[k] = quantInt(x[k], s, 0, -127, 127);
  return s;
}

} // namespace qopt_test

#endif // QOPT_UNITTESTS_EXECUTOR_QUANTTESTSUPPORT_H
