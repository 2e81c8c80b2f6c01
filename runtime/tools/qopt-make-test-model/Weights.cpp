//===- Weights.cpp - Deterministic random test-model weights --------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TestModelInternal.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

using namespace qrt;
using namespace qtest;
using namespace qtest::detail;

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

static uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static uint64_t fnv1a64(const std::string &s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

namespace qtest {
namespace detail {

void generateChunk(uint64_t seed, const TestTensor &t, uint64_t chunk,
                   uint64_t begin, uint64_t end, float *out) {
  uint64_t tensorSeed = splitmix64(seed ^ fnv1a64(t.name));
  std::mt19937_64 rng(splitmix64(tensorSeed + chunk));
  double mean = t.init == TestTensor::Init::Norm ? 1.0 : 0.0;
  double stddev = t.init == TestTensor::Init::Norm ? 0.1 : 0.02;
  const double twoPi = 6.283185307179586476925286766559;
  uint64_t first = chunk * kChunkElements;
  for (uint64_t i = first; i < end; i += 2) {
    // u1 in (0, 1], u2 in [0, 1).
    double u1 = static_cast<double>((rng() >> 11) + 1) * 0x1.0p-53;
    double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    if (i + 1 < begin)
      continue;
    double r = std::sqrt(-2.0 * std::log(u1));
    double a = twoPi * u2;
    if (i >= begin)
      out[i - begin] = static_cast<float>(mean + stddev * r * std::cos(a));
    if (i + 1 >= begin && i + 1 < end)
      out[i + 1 - begin] = static_cast<float>(mean + stddev * r * std::sin(a));
  }
}

} // namespace detail
} // namespace qtest

void qtest::generateTestTensor(uint64_t seed, const TestTensor &tensor,
                               uint64_t begin, uint64_t end, float *out) {
  end = std::min(end, tensor.numElements());
  for (uint64_t pos = begin; pos < end;) {
    uint64_t chunk = pos / kChunkElements;
    uint64_t stop = std::min(end, (chunk + 1) * kChunkElements);
    generateChunk(seed, tensor, chunk, pos, stop, out + (pos - begin));
    pos = stop;
  }
}

namespace qtest {
namespace detail {

void storeAs(DType dtype, const float *src, size_t n, uint8_t *dst) {
  for (size_t i = 0; i < n; ++i) {
    if (dtype == DType::F32) {
      uint32_t u;
      std::memcpy(&u, &src[i], 4);
      for (int b = 0; b < 4; ++b)
        dst[4 * i + b] = static_cast<uint8_t>(u >> (8 * b));
      continue;
    }
    uint16_t v =
        dtype == DType::BF16 ? floatToBF16(src[i]) : floatToHalf(src[i]);
    dst[2 * i] = static_cast<uint8_t>(v);
    dst[2 * i + 1] = static_cast<uint8_t>(v >> 8);
  }
}

} // namespace detail
} // namespace qtest
