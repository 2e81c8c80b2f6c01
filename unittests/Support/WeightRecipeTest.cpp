//===- WeightRecipeTest.cpp - Weights quantized at load -------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The recipes the runtime applies when it loads a bundle, on fresh random
// weights (the seed is printed on failure), against a float64 reference of
// the scales and the rounding.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/WeightRecipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

using namespace qrt;

namespace {

TEST(WeightRecipe, ParsesAndPrints) {
  for (const char *text :
       {"i8:channel", "i8:channel:asym", "i4:group128", "i4:group32:asym",
        "f8e4m3:block128", "f8e4m3:tensor", "f8e5m2:channel", "i8:tensor"}) {
    WeightQuantRecipe r;
    std::string error;
    ASSERT_TRUE(WeightQuantRecipe::parse(text, r, error)) << text << error;
    EXPECT_EQ(r.str(), text);
  }
  for (const char *bad :
       {"", "i8", "i2:channel", "i8:row", "i8:group", "i8:group0", "i8:groupx",
        "f8e4m3:channel:asym", "i8:channel:sym", "i8:channel:asym:x"}) {
    WeightQuantRecipe r;
    std::string error;
    EXPECT_FALSE(WeightQuantRecipe::parse(bad, r, error)) << bad;
    EXPECT_NE(error.find("weight recipe '"), std::string::npos) << error;
  }
  WeightPart p;
  EXPECT_TRUE(parseWeightPart("zero_points", p));
  EXPECT_EQ(p, WeightPart::ZeroPoints);
  EXPECT_FALSE(parseWeightPart("bias", p));
}

/// The storage value of element (r, c) as a float.
float storedValue(const QuantizedWeight &q, const WeightQuantRecipe &recipe,
                  int64_t k, int64_t r, int64_t c) {
  const std::vector<uint8_t> &d = q.qweight.data;
  switch (recipe.storage) {
  case qnum::StorageKind::Int8:
    return float(int8_t(d[r * k + c]));
  case qnum::StorageKind::Int4: {
    uint8_t byte = d[r * ((k + 1) / 2) + c / 2];
    int v = c % 2 ? byte >> 4 : byte & 15;
    return float(v >= 8 ? v - 16 : v);
  }
  case qnum::StorageKind::Float8E4M3FN:
    return qnum::e4m3fnToFloat(d[r * k + c]);
  case qnum::StorageKind::Float8E5M2:
    return qnum::e5m2ToFloat(d[r * k + c]);
  }
  return 0;
}

/// The scale group of (r, c): its row and column extent.
void groupOf(const WeightQuantRecipe &recipe, int64_t n, int64_t k, int64_t r,
             int64_t c, int64_t &r0, int64_t &r1, int64_t &c0, int64_t &c1,
             int64_t &index) {
  const qnum::Granularity &g = recipe.granularity;
  r0 = 0, r1 = n, c0 = 0, c1 = k, index = 0;
  if (g.kind == qnum::GranularityKind::PerChannel) {
    r0 = r, r1 = r + 1, index = r;
  } else if (g.kind == qnum::GranularityKind::PerGroup) {
    int64_t groups = (k + g.size - 1) / g.size;
    r0 = r, r1 = r + 1, c0 = c / g.size * g.size;
    c1 = std::min(k, c0 + g.size), index = r * groups + c / g.size;
  } else if (g.kind == qnum::GranularityKind::Block) {
    int64_t cols = (k + g.cols - 1) / g.cols;
    r0 = r / g.rows * g.rows, r1 = std::min(n, r0 + g.rows);
    c0 = c / g.cols * g.cols, c1 = std::min(k, c0 + g.cols);
    index = (r / g.rows) * cols + c / g.cols;
  }
}

void checkRecipe(const std::string &text, int64_t n, int64_t k) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("recipe " + text + ", seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(n * k);
  for (float &x : w)
    x = normal(rng) + (rng() % 7 == 0 ? 0.1f : 0.0f);
  WeightQuantRecipe recipe;
  std::string error;
  ASSERT_TRUE(WeightQuantRecipe::parse(text, recipe, error)) << error;
  QuantizedWeight q;
  ASSERT_TRUE(quantizeWeight("t", w, n, k, recipe, q, error)) << error;
  EXPECT_EQ(q.scales.shape, qnum::scaleShape(recipe.granularity, {n, k}));
  EXPECT_EQ(q.qweight.name, "t.qweight");
  std::vector<float> scales(q.scales.data.size() / 4);
  std::memcpy(scales.data(), q.scales.data.data(), q.scales.data.size());
  std::vector<int32_t> zps(q.zeroPoints.data.size() / 4);
  if (!zps.empty())
    std::memcpy(zps.data(), q.zeroPoints.data.data(), q.zeroPoints.data.size());
  EXPECT_EQ(zps.empty(), recipe.symmetric);
  bool isInt = !qnum::isFloat8(recipe.storage);
  double qmax = recipe.storage == qnum::StorageKind::Int8           ? 127
                : recipe.storage == qnum::StorageKind::Int4         ? 7
                : recipe.storage == qnum::StorageKind::Float8E4M3FN ? 448
                                                                    : 57344;
  int mismatches = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t r0, r1, c0, c1, index;
      groupOf(recipe, n, k, r, c, r0, r1, c0, c1, index);
      ASSERT_LT(index, int64_t(scales.size()));
      double lo = 0, hi = 0;
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = c0; j < c1; ++j) {
          lo = std::min(lo, double(w[i * k + j]));
          hi = std::max(hi, double(w[i * k + j]));
        }
      float s = scales[index];
      double ref = recipe.symmetric ? std::max(hi, -lo) / qmax
                                    : (hi - lo) / (2 * qmax + 1);
      ASSERT_NEAR(s, ref, 1e-6 * ref) << "scale of (" << r << ", " << c << ")";
      float v = storedValue(q, recipe, k, r, c);
      double x = w[r * k + c] / double(s);
      if (isInt) {
        // Symmetric: [-qmax, qmax]; asymmetric: [-qmax - 1, qmax].
        double zp = recipe.symmetric ? 0 : zps[index];
        double qmin = recipe.symmetric ? -qmax : -qmax - 1;
        double want = std::clamp(std::nearbyint(x + zp), qmin, qmax);
        // Float and double division may round a near-tie differently.
        double frac = std::fabs(x + zp - std::floor(x + zp) - 0.5);
        if (v != want && frac > 1e-4)
          ++mismatches;
        EXPECT_LE(std::fabs(v - want), 1.0);
      } else {
        // Float8: the value rounds to the nearest representable one.
        double err = std::fabs(v - x);
        int bits = recipe.storage == qnum::StorageKind::Float8E4M3FN ? 3 : 2;
        double tol = std::max(std::fabs(x) * std::ldexp(1.0, -bits - 1),
                              std::ldexp(1.0, -10));
        EXPECT_LE(err, tol) << "(" << r << ", " << c << ")";
        EXPECT_LE(std::fabs(v), qmax);
      }
    }
  EXPECT_EQ(mismatches, 0);
}

TEST(WeightRecipe, MatchesFloat64Reference) {
  checkRecipe("i8:channel", 24, 96);
  checkRecipe("i8:channel:asym", 24, 96);
  checkRecipe("i4:group32", 16, 128);
  checkRecipe("i4:group32:asym", 16, 128);
  checkRecipe("i4:group7", 8, 35); // an odd row: its last byte padded
  checkRecipe("f8e4m3:channel", 16, 64);
  checkRecipe("f8e4m3:block16", 40, 72);
  checkRecipe("f8e4m3:tensor", 16, 64);
}

TEST(WeightRecipe, RejectsWhatDoesNotFit) {
  WeightQuantRecipe recipe;
  std::string error;
  ASSERT_TRUE(WeightQuantRecipe::parse("i4:group32", recipe, error));
  QuantizedWeight q;
  std::vector<float> w(4 * 40, 0.5f);
  EXPECT_FALSE(quantizeWeight("t", w, 4, 40, recipe, q, error));
  EXPECT_NE(error.find("t: recipe i4:group32"), std::string::npos) << error;
  EXPECT_FALSE(quantizeWeight("t", w, 4, 30, recipe, q, error));
  EXPECT_NE(error.find("values for a [4, 30] weight"), std::string::npos);
}

TEST(WeightRecipe, RefusesNonFiniteAndIntegerSources) {
  std::vector<uint16_t> bf16 = {0x3f80, 0x7fc0};
  TensorView v;
  v.name = "w";
  v.dtype = DType::BF16;
  v.shape = {2};
  v.data = reinterpret_cast<const uint8_t *>(bf16.data());
  v.nbytes = 4;
  std::vector<float> out;
  std::string error;
  EXPECT_FALSE(weightToFloats(v, out, error));
  EXPECT_EQ(error, "tensor 'w' holds NaN at index 1");
  v.dtype = DType::I8;
  EXPECT_FALSE(weightToFloats(v, out, error));
  EXPECT_NE(error.find("must be F32, BF16 or F16"), std::string::npos);
}

} // namespace
