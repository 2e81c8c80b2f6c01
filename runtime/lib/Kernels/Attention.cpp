//===- Attention.cpp - Attention over a KV cache --------------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/Kernels.h"
#include "qopt-runtime/Parallel.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

using namespace qrt;

void kernels::appendToCache(std::vector<float> &cache, const float *x,
                            int64_t rows, int64_t cols,
                            const qnum::TensorScheme *scheme) {
  int64_t count = rows * cols;
  if (!scheme) {
    cache.insert(cache.end(), x, x + count);
    return;
  }
  std::vector<int64_t> shape = {rows, cols};
  qnum::TensorScheme ts = *scheme;
  if (ts.dynamic)
    qnum::computeDynamicParams(x, shape, ts);
  std::vector<float> q(count), deq(count);
  qnum::quantizeTensor(x, shape, ts, q.data());
  qnum::dequantizeTensor(q.data(), shape, ts, deq.data());
  cache.insert(cache.end(), deq.begin(), deq.end());
}

void kernels::attention(const float *q, int64_t n, int64_t start,
                        const float *keys, const float *values, int64_t total,
                        const AttentionShape &shape, float *out,
                        unsigned threads) {
  int64_t heads = shape.numHeads, d = shape.headDim;
  int64_t qDim = heads * d, kvDim = shape.numKvHeads * d;
  int64_t group = heads / shape.numKvHeads;
  // Heads are split over threads; each runs single-threaded sgemms.
  parallelFor(heads, threads, [&](int64_t hb, int64_t he) {
    std::vector<float> scores(n * total);
    for (int64_t h = hb; h < he; ++h) {
      int64_t kvh = h / group;
      // scores [n, total] = Q_h [n, d] K_kvh [total, d]^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, total, d,
                  shape.scale, q + h * d, qDim, keys + kvh * d, kvDim, 0.0f,
                  scores.data(), total);
      for (int64_t i = 0; i < n; ++i) {
        float *row = scores.data() + i * total;
        int64_t pos = start + i;
        int64_t limit = shape.causal ? pos + 1 : total;
        int64_t first = 0;
        if (shape.causal && shape.slidingWindow > 0)
          first = std::max<int64_t>(0, pos - shape.slidingWindow + 1);
        float m = -INFINITY;
        for (int64_t j = first; j < limit; ++j)
          m = std::max(m, row[j]);
        float sum = 0;
        for (int64_t j = first; j < limit; ++j) {
          row[j] = std::exp(row[j] - m);
          sum += row[j];
        }
        float invSum = 1.0f / sum;
        for (int64_t j = first; j < limit; ++j)
          row[j] *= invSum;
        std::fill(row, row + first, 0.0f);
        std::fill(row + limit, row + total, 0.0f);
      }
      // out_h [n, d] = P [n, total] V_kvh [total, d]
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, total, 1.0f,
                  scores.data(), total, values + kvh * d, kvDim, 0.0f,
                  out + h * d, qDim);
    }
  });
}
