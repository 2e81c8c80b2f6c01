//===- QuantMathTest.cpp - Rounding, saturation, scales, int4 packing -----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every randomized test draws a fresh seed (printed on failure) and compares
// against float64 references written here, independently of QuantMath.cpp.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"

#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <random>

using namespace qnum;

namespace {

unsigned freshSeed() { return std::random_device{}(); }

/// float64 reference for round-half-to-even using the C library under the
/// default rounding mode.
double refRound(double x) {
  std::fesetround(FE_TONEAREST);
  return std::nearbyint(x);
}

TEST(RoundHalfToEven, Ties) {
  EXPECT_EQ(roundHalfToEven(0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(1.5), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(-0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(-1.5), -2.0);
  EXPECT_EQ(roundHalfToEven(-2.5), -2.0);
  EXPECT_EQ(roundHalfToEven(126.5), 126.0);
  EXPECT_EQ(roundHalfToEven(127.5), 128.0);
  EXPECT_EQ(roundHalfToEven(2.4999999), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5000001), 3.0);
}

TEST(RoundHalfToEven, IgnoresRoundingMode) {
  std::fesetround(FE_UPWARD);
  double r = roundHalfToEven(2.5);
  std::fesetround(FE_TONEAREST);
  EXPECT_EQ(r, 2.0);
}

TEST(RoundHalfToEven, RandomMatchesReference) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1000.0, 1000.0);
  std::uniform_int_distribution<int> ties(-2000, 2000);
  for (int i = 0; i < 100000; ++i) {
    double x = dist(rng);
    ASSERT_EQ(roundHalfToEven(x), refRound(x)) << x;
    double t = ties(rng) + 0.5; // exact halves
    ASSERT_EQ(roundHalfToEven(t), refRound(t)) << t;
  }
}

TEST(QuantizeInt, SaturatesToStorageRange) {
  StorageRange sym8 = storageRange(StorageKind::Int8, true);
  StorageRange asym8 = storageRange(StorageKind::Int8, false);
  EXPECT_EQ(sym8.min, -127);
  EXPECT_EQ(sym8.max, 127);
  EXPECT_EQ(asym8.min, -128);
  EXPECT_EQ(storageRange(StorageKind::Int4, true).min, -7);
  EXPECT_EQ(storageRange(StorageKind::Int4, false).min, -8);
  EXPECT_EQ(quantizeInt(1e9f, 0.1f, 0, -127, 127), 127);
  EXPECT_EQ(quantizeInt(-1e9f, 0.1f, 0, -127, 127), -127);
  EXPECT_EQ(quantizeInt(-1e9f, 0.1f, 0, -128, 127), -128);
  EXPECT_EQ(quantizeInt(INFINITY, 1.0f, 0, -127, 127), 127);
  EXPECT_EQ(quantizeInt(-INFINITY, 1.0f, 3, -128, 127), -128);
  EXPECT_EQ(quantizeInt(NAN, 1.0f, 3, -128, 127), 3);
  // Zero point shifts before saturation.
  EXPECT_EQ(quantizeInt(12.6f, 0.1f, 10, -128, 127), 127);
  EXPECT_EQ(quantizeInt(0.25f, 0.5f, 0, -127, 127), 0); // 0.5 -> 0
  EXPECT_EQ(quantizeInt(0.75f, 0.5f, 0, -127, 127), 2); // 1.5 -> 2
  EXPECT_EQ(quantizeInt(-0.75f, 0.5f, 0, -127, 127), -2);
}

TEST(QuantizeInt, RandomAgainstFloat64Reference) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> xs(-20.0f, 20.0f);
  std::uniform_real_distribution<float> scales(1e-3f, 0.5f);
  std::uniform_int_distribution<int> zps(-20, 20);
  int mismatches = 0;
  for (int i = 0; i < 200000; ++i) {
    float x = xs(rng), s = scales(rng);
    int zp = zps(rng);
    int32_t q = quantizeInt(x, s, zp, -128, 127);
    double exact = static_cast<double>(x) / static_cast<double>(s);
    double ref = std::min(127.0, std::max(-128.0, refRound(exact) + zp));
    if (q != static_cast<int32_t>(ref)) {
      // Only a float32 quotient that lands on the other side of a .5 tie can
      // differ from the float64 one.
      double frac = std::fabs(exact - std::floor(exact) - 0.5);
      ASSERT_LT(frac, 1e-5) << "x=" << x << " s=" << s << " zp=" << zp;
      ++mismatches;
    }
    // Inside the range the round trip error is at most half a step, plus
    // the float32 rounding of the division and of the product (one ulp of x
    // each at most).
    if (ref > -128 && ref < 127) {
      float back = dequantizeInt(q, s, zp);
      ASSERT_LE(std::fabs(static_cast<double>(back) - x),
                0.5 * s + std::fabs(x) * 0x1p-22)
          << "x=" << x << " s=" << s;
    }
  }
  EXPECT_LT(mismatches, 20);
}

TEST(Scales, SymmetricScale) {
  EXPECT_FLOAT_EQ(symmetricScale(12.7f, 127), 0.1f);
  EXPECT_EQ(symmetricScale(0.0f, 127), 1.0f);
  EXPECT_EQ(symmetricScale(NAN, 127), 1.0f);
  EXPECT_FLOAT_EQ(symmetricScale(448.0f, 448.0), 1.0f);
}

TEST(Scales, AsymmetricParamsRepresentZeroAndCoverRange) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-50.0f, 50.0f);
  for (int i = 0; i < 10000; ++i) {
    float a = dist(rng), b = dist(rng);
    float lo = std::min(a, b), hi = std::max(a, b);
    AffineParams p = asymmetricParams(lo, hi, -128, 127);
    ASSERT_GT(p.scale, 0.0f);
    ASSERT_GE(p.zeroPoint, -128);
    ASSERT_LE(p.zeroPoint, 127);
    // 0 is exactly representable.
    ASSERT_EQ(dequantizeInt(quantizeInt(0.0f, p.scale, p.zeroPoint, -128, 127),
                            p.scale, p.zeroPoint),
              0.0f);
    // The range ends quantize with at most one step of error (the zero point
    // is rounded, which can move the grid by half a step).
    for (float v : {std::min(lo, 0.0f), std::max(hi, 0.0f)}) {
      int32_t q = quantizeInt(v, p.scale, p.zeroPoint, -128, 127);
      ASSERT_LE(std::fabs(dequantizeInt(q, p.scale, p.zeroPoint) - v),
                1.0001 * p.scale)
          << "lo=" << lo << " hi=" << hi;
    }
  }
  AffineParams z = asymmetricParams(0.0f, 0.0f, -128, 127);
  EXPECT_EQ(z.scale, 1.0f);
  EXPECT_EQ(z.zeroPoint, 0);
}

TEST(Int4Packing, NibbleOrder) {
  // Element 0 in the low nibble, element 1 in the high nibble.
  std::vector<uint8_t> p = packInt4x2({1, -2, 7});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], 0xE1);
  EXPECT_EQ(p[1], 0x07);
  // compressed-tensors: +8 offset, element i at bits [4i, 4i+4).
  std::vector<int32_t> w = packInt4x8Offset({-8, -7, 0, 1, 2, 3, 4, 7});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(static_cast<uint32_t>(w[0]), 0xFCBA9810u);
}

TEST(Int4Packing, RandomRoundTrip) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> v(-8, 7);
  for (size_t n : {1u, 2u, 7u, 8u, 64u, 1000u, 4096u}) {
    std::vector<int8_t> values(n);
    for (int8_t &x : values)
      x = static_cast<int8_t>(v(rng));
    EXPECT_EQ(unpackInt4x2(packInt4x2(values), n), values);
    if (n % 8 == 0)
      EXPECT_EQ(unpackInt4x8Offset(packInt4x8Offset(values), n), values);
  }
}

/// float64 reference: the nearest of all finite fp8 values (ties to the code
/// with an even mantissa), after clamping to the finite range.
uint8_t refFp8(float x, float (*decode)(uint8_t), double maxValue) {
  double v = std::min(std::max(static_cast<double>(x), -maxValue), maxValue);
  int best = -1;
  double bestErr = INFINITY;
  for (int c = 0; c < 256; ++c) {
    double d = decode(static_cast<uint8_t>(c));
    if (!std::isfinite(d) || std::signbit(d) != std::signbit(v))
      continue;
    double err = std::fabs(d - v);
    if (err < bestErr || (err == bestErr && (c & 1) == 0 && (best & 1) == 1)) {
      best = c;
      bestErr = err;
    }
  }
  return static_cast<uint8_t>(best);
}

TEST(Float8, RandomMatchesNearestValueReference) {
  unsigned seed = freshSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> exps(-20.0f, 18.0f);
  std::uniform_int_distribution<int> sign(0, 1);
  for (int i = 0; i < 20000; ++i) {
    float x = std::exp2(exps(rng)) * (sign(rng) ? -1.0f : 1.0f);
    ASSERT_EQ(floatToE4M3FN(x), refFp8(x, e4m3fnToFloat, 448.0)) << x;
    ASSERT_EQ(floatToE5M2(x), refFp8(x, e5m2ToFloat, 57344.0)) << x;
  }
}

TEST(Float8, SpecialValues) {
  EXPECT_EQ(floatToE4M3FN(448.0f), 0x7E);
  EXPECT_EQ(floatToE4M3FN(1e6f), 0x7E);
  EXPECT_EQ(floatToE4M3FN(-INFINITY), 0xFE);
  EXPECT_EQ(floatToE5M2(INFINITY), 0x7B);
  EXPECT_EQ(e4m3fnToFloat(0x7E), 448.0f);
  EXPECT_EQ(e5m2ToFloat(0x7B), 57344.0f);
  EXPECT_TRUE(std::isnan(e4m3fnToFloat(0x7F)));
  EXPECT_EQ(e4m3fnToFloat(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e5m2ToFloat(0x01), std::ldexp(1.0f, -16));
  EXPECT_EQ(floatToE4M3FN(0.0f), 0x00);
  EXPECT_EQ(floatToE4M3FN(-0.0f), 0x80);
  // Halfway between 0 and the smallest subnormal rounds to even (zero).
  EXPECT_EQ(floatToE4M3FN(std::ldexp(1.0f, -10)), 0x00);
}

TEST(Float8, QuantizeWithScale) {
  // x / scale is clamped before conversion.
  EXPECT_EQ(quantizeFloat8(1000.0f, 2.0f, StorageKind::Float8E4M3FN), 0x7E);
  EXPECT_EQ(dequantizeFloat8(0x7E, 2.0f, StorageKind::Float8E4M3FN), 896.0f);
  EXPECT_EQ(dequantizeFloat8(floatToE5M2(3.0f), 0.5f, StorageKind::Float8E5M2),
            1.5f);
}

} // namespace
