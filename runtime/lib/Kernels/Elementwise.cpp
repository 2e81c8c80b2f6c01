//===- Elementwise.cpp - Embedding, normalization, elementwise kernels ----===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Parallel.h"

#include <algorithm>
#include <cmath>

using namespace qrt;

bool kernels::embedding(const float *table, int64_t rows, int64_t hidden,
                        const int32_t *ids, int64_t n, float *out,
                        std::string &error) {
  for (int64_t t = 0; t < n; ++t) {
    int32_t id = ids[t];
    if (id < 0 || id >= rows) {
      error = "token id " + std::to_string(id) +
              " is out of range for an embedding table of " +
              std::to_string(rows) + " rows";
      return false;
    }
    std::copy_n(table + int64_t(id) * hidden, hidden, out + t * hidden);
  }
  return true;
}

void kernels::rmsNorm(const float *x, const float *w, int64_t rows,
                      int64_t hidden, float eps, float *out, unsigned threads) {
  parallelFor(rows, threads, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const float *xr = x + row * hidden;
      double ss = 0;
      for (int64_t c = 0; c < hidden; ++c)
        ss += double(xr[c]) * xr[c];
      float var = static_cast<float>(ss / hidden);
      float inv = 1.0f / std::sqrt(var + eps);
      for (int64_t c = 0; c < hidden; ++c)
        out[row * hidden + c] = w[c] * (xr[c] * inv);
    }
  });
}

void kernels::layerNorm(const float *x, const float *w, const float *bias,
                        int64_t rows, int64_t hidden, double eps, float *out) {
  for (int64_t row = 0; row < rows; ++row) {
    const float *xr = x + row * hidden;
    double mean = 0, var = 0;
    for (int64_t c = 0; c < hidden; ++c)
      mean += xr[c];
    mean /= hidden;
    for (int64_t c = 0; c < hidden; ++c)
      var += (xr[c] - mean) * (xr[c] - mean);
    var /= hidden;
    double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < hidden; ++c)
      out[row * hidden + c] = static_cast<float>((xr[c] - mean) * inv) * w[c] +
                              (bias ? bias[c] : 0.0f);
  }
}

void kernels::silu(const float *x, int64_t n, float *out, unsigned threads) {
  parallelFor(n, threads, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      out[i] = x[i] / (1.0f + std::exp(-x[i]));
  });
}

void kernels::gelu(const float *x, int64_t n, bool approximate, float *out) {
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    double r = approximate ? 0.5 * v *
                                 (1 + std::tanh(std::sqrt(2 / M_PI) *
                                                (v + 0.044715 * v * v * v)))
                           : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    out[i] = static_cast<float>(r);
  }
}

void kernels::mul(const float *a, const float *b, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a[i] * b[i];
}

void kernels::add(const float *a, const float *b, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a[i] + b[i];
}

void kernels::scaleChannels(float *x, const std::vector<int64_t> &shape,
                            const float *scales, int64_t axis) {
  int64_t n = shape[axis], inner = 1, total = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  for (int64_t d : shape)
    total *= d;
  if (total == 0)
    return;
  // Row r of `inner` elements is multiplied by scales[r % n].
  int64_t rows = total / inner;
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / inner);
  parallelForChunks(rows, grain, 2.0 * double(inner), 0,
                    [&](int64_t rb, int64_t re) {
                      for (int64_t r = rb; r < re; ++r) {
                        float f = scales[r % n];
                        float *p = x + r * inner;
                        for (int64_t i = 0; i < inner; ++i)
                          p[i] *= f;
                      }
                    });
}

bool kernels::checkPermutation(const int32_t *perm, int64_t n,
                               std::string &error) {
  std::vector<bool> seen(size_t(n), false);
  for (int64_t j = 0; j < n; ++j) {
    int32_t p = perm[j];
    if (p < 0 || p >= n) {
      error = "permutation[" + std::to_string(j) + "] is " + std::to_string(p) +
              ", outside [0, " + std::to_string(n) + ")";
      return false;
    }
    if (seen[size_t(p)]) {
      error = "permutation[" + std::to_string(j) + "] repeats channel " +
              std::to_string(p);
      return false;
    }
    seen[size_t(p)] = true;
  }
  return true;
}

void kernels::permuteChannels(const float *x, int64_t rows, int64_t cols,
                              const int32_t *perm, float *out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * cols;
    float *o = out + r * cols;
    for (int64_t j = 0; j < cols; ++j)
      o[j] = xr[perm[j]];
  }
}
