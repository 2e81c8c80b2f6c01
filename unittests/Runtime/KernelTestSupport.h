//===- KernelTestSupport.h - Random inputs and comparisons -------*- C++
//-*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the reference-kernel tests share: a fixture that draws a fresh
// std::random_device seed per test (printed with every failure) and helpers
// to compare float32 results against float64 references.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_UNITTESTS_RUNTIME_KERNELTESTSUPPORT_H
#define QOPT_UNITTESTS_RUNTIME_KERNELTESTSUPPORT_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace qopt_test {

/// A test with its own random generator, seeded from std::random_device.
class RandomTest : public ::testing::Test {
public:
  void SetUp() override {
    seed = std::random_device{}();
    rng.seed(seed);
    trace = std::make_unique<::testing::ScopedTrace>(
        __FILE__, __LINE__, "random seed " + std::to_string(seed));
  }
  void TearDown() override { trace.reset(); }

  std::vector<float> uniform(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (float &x : v)
      x = dist(rng);
    return v;
  }
  std::vector<float> normal(size_t n, float stddev = 1.0f) {
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> v(n);
    for (float &x : v)
      x = dist(rng);
    return v;
  }
  /// Integers in [lo, hi], held as floats (quantized storage values).
  std::vector<float> integers(size_t n, int lo, int hi) {
    std::uniform_int_distribution<int> dist(lo, hi);
    std::vector<float> v(n);
    for (float &x : v)
      x = static_cast<float>(dist(rng));
    return v;
  }
  int64_t pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }

  unsigned seed = 0;
  std::mt19937 rng;

private:
  std::unique_ptr<::testing::ScopedTrace> trace;
};

/// Largest |got[i] - want[i]|.
inline double maxAbsDiff(const std::vector<float> &got,
                         const std::vector<double> &want) {
  double m = 0;
  for (size_t i = 0; i < got.size(); ++i)
    m = std::max(m, std::fabs(double(got[i]) - want[i]));
  return m;
}

inline double maxAbs(const std::vector<double> &v) {
  double m = 0;
  for (double x : v)
    m = std::max(m, std::fabs(x));
  return m;
}

/// Expects |got[i] - want[i]| <= tol[i] for every i, reporting the first
/// element outside its tolerance.
inline void expectWithin(const std::vector<float> &got,
                         const std::vector<double> &want,
                         const std::vector<double> &tol,
                         const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol[i])) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                    << ", expected " << want[i] << " +- " << tol[i];
      return;
    }
}

/// Relative closeness: |got - want| <= rtol * |want| + atol per element.
inline void expectClose(const std::vector<float> &got,
                        const std::vector<double> &want, double rtol,
                        double atol, const std::string &what) {
  std::vector<double> tol(want.size());
  for (size_t i = 0; i < want.size(); ++i)
    tol[i] = rtol * std::fabs(want[i]) + atol;
  expectWithin(got, want, tol, what);
}

/// Bit-exact equality (+0 and -0 compare equal).
inline void expectExact(const std::vector<float> &got,
                        const std::vector<float> &want,
                        const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i])) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                    << ", expected exactly " << want[i];
      return;
    }
}

} // namespace qopt_test

#endif // QOPT_UNITTESTS_RUNTIME_KERNELTESTSUPPORT_H
