//===- GranularityTest.cpp - Scale layouts of each granularity ------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/QuantMath.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace qnum;

namespace {

using Shape = std::vector<int64_t>;

TEST(Granularity, ScaleShapes) {
  Shape w = {1024, 384};
  EXPECT_EQ(scaleShape(Granularity::perTensor(), w), Shape{});
  EXPECT_EQ(scaleShape(Granularity::perChannel(0), w), Shape{1024});
  EXPECT_EQ(scaleShape(Granularity::perChannel(1), w), Shape{384});
  EXPECT_EQ(scaleShape(Granularity::perGroup(1, 128), w), (Shape{1024, 3}));
  EXPECT_EQ(scaleShape(Granularity::block(128, 128), w), (Shape{8, 3}));
  EXPECT_EQ(scaleShape(Granularity::block(128, 100), w), (Shape{8, 4}));
  EXPECT_EQ(scaleShape(Granularity::perHead(1, 2), Shape{kDynamicDim, 128}),
            Shape{2});
  EXPECT_EQ(scaleShape(Granularity::perToken(), Shape{kDynamicDim, 384}),
            Shape{kDynamicDim});
  EXPECT_EQ(scaleShape(Granularity::perToken(), Shape{4, 7, 384}),
            (Shape{4, 7}));
  EXPECT_EQ(numScales(Granularity::perToken(), Shape{kDynamicDim, 384}),
            kDynamicDim);
  EXPECT_EQ(numScales(Granularity::perGroup(1, 128), w), 3072);
}

TEST(Granularity, Errors) {
  EXPECT_EQ(checkGranularity(Granularity::perGroup(1, 100), {1024, 384}),
            "group size 100 does not divide axis 1 of size 384");
  EXPECT_EQ(checkGranularity(Granularity::perChannel(2), {4, 4}),
            "per-channel axis 2 is out of range for a tensor of rank 2");
  EXPECT_EQ(checkGranularity(Granularity::perHead(1, 5), {3, 128}),
            "axis 1 of size 128 does not split into 5 heads");
  EXPECT_EQ(checkGranularity(Granularity::block(128, 128), {384}),
            "block granularity needs a tensor of rank >= 2, got rank 1");
  EXPECT_EQ(checkGranularity(Granularity::perGroup(1, 0), {4, 4}),
            "group size must be positive, got 0");
  // Dynamic sizes cannot be checked statically and are accepted.
  EXPECT_EQ(checkGranularity(Granularity::perGroup(0, 100), {kDynamicDim, 4}),
            "");
}

/// Reference: for each granularity, elements share a scale exactly when the
/// defining relation holds. Checked on random shapes and index pairs.
TEST(Granularity, ScaleIndexPartitionsElements) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> small(1, 4);
  for (int iter = 0; iter < 50; ++iter) {
    int64_t rows = small(rng) * 4, cols = small(rng) * 8;
    Shape shape = {rows, cols};
    std::vector<Granularity> gs = {
        Granularity::perTensor(),    Granularity::perChannel(0),
        Granularity::perChannel(1),  Granularity::perToken(),
        Granularity::perGroup(1, 4), Granularity::perGroup(0, 2),
        Granularity::perHead(1, 2),  Granularity::block(2, 4),
        Granularity::block(3, 5)};
    for (const Granularity &g : gs) {
      ASSERT_EQ(checkGranularity(g, shape), "");
      int64_t n = numScales(g, shape);
      std::set<int64_t> used;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          int64_t s = scaleIndex(g, shape, {r, c});
          ASSERT_GE(s, 0);
          ASSERT_LT(s, n);
          used.insert(s);
          // Compare with the element's defining coordinates.
          int64_t s2;
          switch (g.kind) {
          case GranularityKind::PerTensor:
            s2 = 0;
            break;
          case GranularityKind::PerChannel:
            s2 = g.axis == 0 ? r : c;
            break;
          case GranularityKind::PerToken:
            s2 = r;
            break;
          case GranularityKind::PerGroup:
            s2 = g.axis == 1 ? r * (cols / g.size) + c / g.size
                             : (r / g.size) * cols + c;
            break;
          case GranularityKind::PerHead:
            s2 = c / (cols / g.size);
            break;
          case GranularityKind::Block:
            s2 = (r / g.rows) * ((cols + g.cols - 1) / g.cols) + c / g.cols;
            break;
          }
          ASSERT_EQ(s, s2);
        }
      EXPECT_EQ(static_cast<int64_t>(used.size()), n);
    }
  }
}

} // namespace

// forEachScaleRun visits every element once, in order, in runs that share
// the scale index forEachScaleIndex gives each element.
TEST(Granularity, ScaleRunsMatchScaleIndices) {
  struct Case {
    qnum::Granularity g;
    std::vector<int64_t> shape;
  };
  std::vector<Case> cases = {
      {qnum::Granularity::perTensor(), {3, 8}},
      {qnum::Granularity::perTensor(), {}},
      {qnum::Granularity::perChannel(0), {5, 12}},
      {qnum::Granularity::perChannel(1), {5, 12}},
      {qnum::Granularity::perChannel(1), {2, 3, 4}},
      {qnum::Granularity::perToken(), {2, 3, 8}},
      {qnum::Granularity::perGroup(1, 4), {6, 16}},
      {qnum::Granularity::perGroup(0, 2), {6, 16}},
      {qnum::Granularity::perHead(1, 4), {3, 16}},
      {qnum::Granularity::perHead(0, 2), {4, 6}},
      {qnum::Granularity::block(2, 4), {6, 16}},
      {qnum::Granularity::block(4, 8), {7, 12}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(qnum::shapeToString(c.shape));
    std::vector<int64_t> expected;
    qnum::forEachScaleIndex(c.g, c.shape,
                            [&](int64_t, int64_t s) { expected.push_back(s); });
    std::vector<int64_t> got;
    int64_t next = 0;
    qnum::forEachScaleRun(c.g, c.shape, [&](int64_t b, int64_t e, int64_t s) {
      EXPECT_EQ(b, next);
      EXPECT_LT(b, e);
      for (int64_t i = b; i < e; ++i)
        got.push_back(s);
      next = e;
    });
    EXPECT_EQ(got, expected);
  }
}
